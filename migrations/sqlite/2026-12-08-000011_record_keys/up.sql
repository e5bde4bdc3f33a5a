-- The cell key method (docs/privacy.md): every response holds a random
-- record key, uniform in 0..2^31, never published; response_counts keeps
-- the sum of the keys per version, buurt and day beside the count, in the
-- same transaction, so results know each area's key without reading the
-- responses. Responses stored before get their keys here, at random.
ALTER TABLE responses ADD COLUMN record_key INTEGER NOT NULL DEFAULT 0;
UPDATE responses SET record_key = abs(random() % 2147483648);
ALTER TABLE response_counts ADD COLUMN key_sum BIGINT NOT NULL DEFAULT 0;
UPDATE response_counts SET key_sum = (
    SELECT COALESCE(SUM(r.record_key), 0) FROM responses r
    WHERE r.questionnaire_version_id = response_counts.questionnaire_version_id
      AND r.buurt = response_counts.buurt
      AND r.submitted_on = response_counts.submitted_on
);
