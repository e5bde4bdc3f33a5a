DROP TABLE text_answers;
DROP TABLE answers;
DROP TABLE responses;
DROP TABLE questionnaire_versions;
DROP TABLE areas;
