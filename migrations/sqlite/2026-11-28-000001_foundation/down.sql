DROP TABLE text_answers;
DROP TABLE answers;
DROP TABLE response_counts;
DROP TABLE responses;
DROP TABLE questionnaire_versions;
DROP TABLE areas;
