DROP TABLE invitation_outbox;
DROP TABLE invitation_tokens;
DROP TABLE invitations;
