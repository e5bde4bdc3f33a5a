DROP TABLE questionnaire_archive;
DROP TABLE questionnaire_drafts;
DROP TABLE identified_responses;
DROP TABLE wave_buurten;
DROP TABLE waves;
DROP TABLE partial_responses;
