-- Personal invitations (issue #4). Contact fields are personal data, kept
-- only to print, send and remind; purge_contacts blanks them (person_key
-- NULL, texts '', email NULL) and keeps the rows, so counts stay. A
-- response never points here: an invitation only records the day it was
-- used. Tokens are stored as SHA-256 hashes only.
CREATE TABLE invitations (
    id SERIAL PRIMARY KEY,
    campaign TEXT NOT NULL,
    questionnaire TEXT NOT NULL,
    base_url TEXT NOT NULL,
    person_key TEXT,
    name TEXT NOT NULL,
    street_line TEXT NOT NULL,
    postcode TEXT NOT NULL,
    city TEXT NOT NULL,
    email TEXT,
    buurt TEXT NOT NULL,
    created_on DATE NOT NULL,
    letter_on DATE,
    email_on DATE,
    used_on DATE,
    purged_on DATE,
    UNIQUE (campaign, person_key)
);
CREATE INDEX invitations_campaign_buurt ON invitations (campaign, buurt);

-- Every secret ever issued for an invitation (letter, e-mail, reminders):
-- any one that is not voided opens it, once.
CREATE TABLE invitation_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    invitation_id INTEGER NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('letter', 'email')),
    round INTEGER NOT NULL,
    issued_on DATE NOT NULL,
    voided_on DATE
);
CREATE INDEX invitation_tokens_invitation ON invitation_tokens (invitation_id);

-- The outbox: one row per message (round 0 the invitation, 1.. reminders),
-- created before it is sent; UNIQUE makes a round happen once per channel.
CREATE TABLE invitation_outbox (
    id SERIAL PRIMARY KEY,
    invitation_id INTEGER NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('letter', 'email')),
    round INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'unknown', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_on DATE NOT NULL,
    attempted_at TIMESTAMP,
    sent_on DATE,
    last_error TEXT,
    UNIQUE (invitation_id, channel, round)
);
CREATE INDEX invitation_outbox_status ON invitation_outbox (status, id);
