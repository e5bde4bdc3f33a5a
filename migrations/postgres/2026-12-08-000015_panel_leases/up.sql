-- Panel selections are jobs in the database (issue #15): the instance that
-- runs one holds it with a heartbeat; when the heartbeat stops (the
-- instance died) another takes it over. Starting an instance no longer
-- marks other instances' selections failed.
ALTER TABLE panel_selections ADD COLUMN runner TEXT;
ALTER TABLE panel_selections ADD COLUMN heartbeat_at TIMESTAMP;
