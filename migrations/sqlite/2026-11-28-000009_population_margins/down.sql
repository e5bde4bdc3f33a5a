DROP TABLE population_margins;
