DROP TABLE drawn_hashes;
DROP TABLE draw_selected;
DROP TABLE draws;
DROP TABLE register_people;
DROP TABLE campaigns;
