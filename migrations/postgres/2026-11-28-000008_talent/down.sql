DROP TABLE talent_proposals;
DROP TABLE talent_outbox;
DROP TABLE audit_log;
DROP TABLE talent_match_tally;
DROP TABLE talent_outcomes;
DROP TABLE talent_initiatives;
DROP TABLE talent_profiles;
DROP TABLE user_areas;
