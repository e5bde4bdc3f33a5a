-- A wave can take responses by personal invitation only (docs/privacy.md):
-- then nobody can plant responses through the open link.
ALTER TABLE waves ADD COLUMN invitation_only BOOLEAN NOT NULL DEFAULT 0;
