-- /healthz writes here (one row, a counter) to tell whether the database
-- takes writes: a full disk or a read-only database answers 503.
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY NOT NULL,
    probes BIGINT NOT NULL
);
INSERT INTO health_probe (id, probes) VALUES (1, 0);
