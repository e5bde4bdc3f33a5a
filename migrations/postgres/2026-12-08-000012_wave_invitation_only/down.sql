ALTER TABLE waves DROP COLUMN invitation_only;
