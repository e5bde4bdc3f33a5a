ALTER TABLE response_counts DROP COLUMN key_sum;
ALTER TABLE responses DROP COLUMN record_key;
