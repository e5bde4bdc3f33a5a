DROP TABLE area_boundaries;
