DROP TABLE answer_cells_pending;
ALTER TABLE answers DROP COLUMN cell;
