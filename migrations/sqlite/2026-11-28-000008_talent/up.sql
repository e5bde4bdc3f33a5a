-- Talent matching (issue #6). Additive: new tables only.

-- The areas (buurten or wijken) a professional works in. A verbinder sees
-- profiles and initiatives of these areas only.
CREATE TABLE user_areas (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    area TEXT NOT NULL REFERENCES areas (code),
    PRIMARY KEY (user_id, area)
);

-- A talent profile: a talentenscan response whose resident agreed to be
-- contacted. The answers (name, contact, talents) stay in
-- identified_responses, the one copy; this row holds only the profile's
-- state: the hash of the resident's private link, and when it was last
-- confirmed. Erasing the response erases the profile.
CREATE TABLE talent_profiles (
    response_id BIGINT PRIMARY KEY NOT NULL REFERENCES identified_responses (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_on DATE NOT NULL,
    confirmed_on DATE NOT NULL,
    -- Set when renewal was asked for: the profile is erased after this day
    -- unless the resident confirms it.
    renewal_due_on DATE
);

-- Initiatives, activities, clubs, social enterprises and requests for help
-- in a buurt. Lists of option values are stored space-separated.
CREATE TABLE talent_initiatives (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    buurt TEXT NOT NULL REFERENCES areas (code),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('initiatief', 'activiteit', 'club', 'sociale_onderneming', 'hulpvraag')),
    offers TEXT NOT NULL,
    skills TEXT NOT NULL,
    teaches TEXT NOT NULL,
    activities TEXT NOT NULL,
    audience TEXT NOT NULL,
    time_needed TEXT NOT NULL,
    contact TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'gepauzeerd', 'gesloten')),
    updated_on DATE NOT NULL
);
CREATE INDEX talent_initiatives_buurt ON talent_initiatives (buurt);

-- What a verbinder did with a suggestion. Goes with the profile.
CREATE TABLE talent_outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    profile_id BIGINT NOT NULL REFERENCES talent_profiles (response_id) ON DELETE CASCADE,
    initiative_id INTEGER NOT NULL REFERENCES talent_initiatives (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL CHECK (outcome IN ('benaderd', 'gematcht', 'nu_niet')),
    note TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recorded_on DATE NOT NULL
);
CREATE INDEX talent_outcomes_profile ON talent_outcomes (profile_id);
CREATE INDEX talent_outcomes_initiative ON talent_outcomes (initiative_id);
CREATE INDEX talent_outcomes_user ON talent_outcomes (user_id);

-- Matches made per buurt (of the initiative) and month: counts only, kept
-- when the profiles behind them are erased.
CREATE TABLE talent_match_tally (
    buurt TEXT NOT NULL REFERENCES areas (code),
    month TEXT NOT NULL,
    matches INTEGER NOT NULL,
    PRIMARY KEY (buurt, month)
);

-- Who looked at which profile, who was refused, and which profiles were
-- erased. Subjects are opaque ids ("profiel 123"); never names.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    at TIMESTAMP NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject);
CREATE INDEX audit_log_user ON audit_log (user_id);

-- E-mails to residents (their private link), queued in the transaction that
-- makes the profile and sent by the server. A row holds the link only until
-- it is sent: sent or given up, the row is deleted.
CREATE TABLE talent_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    profile_id BIGINT NOT NULL REFERENCES talent_profiles (response_id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_on DATE NOT NULL
);
CREATE INDEX talent_outbox_profile ON talent_outbox (profile_id);

-- A match a verbinder proposed to the resident by e-mail, with a private
-- yes/no link (SHA-256 only). Goes with the profile.
CREATE TABLE talent_proposals (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    profile_id BIGINT NOT NULL REFERENCES talent_profiles (response_id) ON DELETE CASCADE,
    initiative_id INTEGER NOT NULL REFERENCES talent_initiatives (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    proposed_on DATE NOT NULL,
    answer TEXT CHECK (answer IN ('ja', 'nee')),
    answered_on DATE
);
CREATE INDEX talent_proposals_profile ON talent_proposals (profile_id);
CREATE INDEX talent_proposals_initiative ON talent_proposals (initiative_id);
