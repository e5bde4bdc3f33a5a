-- The cell key method (docs/privacy.md): every response holds a random
-- record key, uniform in 0..2^31, never published; response_counts keeps
-- the sum of the keys per version, buurt and day beside the count, in the
-- same transaction, so results know each area's key without reading the
-- responses. Responses stored before get their keys here, at random.
ALTER TABLE responses ADD COLUMN record_key INTEGER NOT NULL DEFAULT 0;
UPDATE responses SET record_key = floor(random() * 2147483648)::integer;
ALTER TABLE response_counts ADD COLUMN key_sum BIGINT NOT NULL DEFAULT 0;
UPDATE response_counts c SET key_sum = s.key_sum
FROM (
    SELECT questionnaire_version_id, buurt, submitted_on, SUM(record_key)::bigint AS key_sum
    FROM responses GROUP BY questionnaire_version_id, buurt, submitted_on
) s
WHERE s.questionnaire_version_id = c.questionnaire_version_id
  AND s.buurt = c.buurt
  AND s.submitted_on = c.submitted_on;
