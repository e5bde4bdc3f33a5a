-- Each closed answer carries its respondent's weighting cell (age band ×
-- gender, 0–7; NULL: not placed), written with the answer, so weighted
-- results are counted in the same ordered scan as unweighted ones instead
-- of joining every answer to its response's age and gender answers.
ALTER TABLE answers ADD COLUMN cell SMALLINT;

-- Versions whose answers were stored before answers carried cells: the
-- server fills their cells once at start (from each version's own
-- weighting questions) and removes them here.
CREATE TABLE answer_cells_pending (
    questionnaire_version_id INTEGER PRIMARY KEY NOT NULL
);
INSERT INTO answer_cells_pending (questionnaire_version_id)
    SELECT DISTINCT questionnaire_version_id FROM response_counts;
