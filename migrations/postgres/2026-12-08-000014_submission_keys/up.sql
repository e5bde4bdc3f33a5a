-- Idempotency keys of submissions (the API's Idempotency-Key header): a
-- retried submission is stored once. Only a hash of the key and the day it
-- was used: nothing links it to the response it came with.
CREATE TABLE submission_keys (
    key_hash TEXT PRIMARY KEY NOT NULL,
    used_on DATE NOT NULL
);
CREATE INDEX submission_keys_used_on ON submission_keys (used_on);
