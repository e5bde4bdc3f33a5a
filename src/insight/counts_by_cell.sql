-- Closed answers counted as RawCounts::fetch counts them, and per the
-- respondent's age band and gender answers (their options; mapped to a
-- weighting cell in Rust). $1 and $2 are the ids of the age band and gender
-- questions; VERSIONS is replaced by the version ids (integers).
WITH placed AS (
    SELECT questionnaire_version_id AS v, buurt AS b, submitted_on AS d, response_id AS r,
           MAX(CASE WHEN question_id = $1 THEN choice END) AS age,
           MAX(CASE WHEN question_id = $2 THEN choice END) AS gender
    FROM answers
    WHERE questionnaire_version_id IN (VERSIONS) AND question_id IN ($1, $2)
    GROUP BY questionnaire_version_id, buurt, submitted_on, response_id
)
SELECT a.questionnaire_version_id AS version, a.question_id AS question, a.buurt AS buurt,
       a.value AS value, a.choice AS choice, a.submitted_on AS day,
       COALESCE(p.age, '') AS age, COALESCE(p.gender, '') AS gender, COUNT(*) AS n
FROM answers a
LEFT JOIN placed p
    ON p.v = a.questionnaire_version_id AND p.b = a.buurt AND p.d = a.submitted_on AND p.r = a.response_id
WHERE a.questionnaire_version_id IN (VERSIONS)
GROUP BY a.questionnaire_version_id, a.question_id, a.buurt, a.value, a.choice, a.submitted_on, p.age, p.gender
