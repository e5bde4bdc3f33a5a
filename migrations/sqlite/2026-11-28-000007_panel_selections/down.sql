DROP TABLE campaign_publications;
DROP TABLE panel_selections;
