ALTER TABLE panel_selections DROP COLUMN heartbeat_at;
ALTER TABLE panel_selections DROP COLUMN runner;
