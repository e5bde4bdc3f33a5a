-- A resident's unfinished response, found again by the hash of the resume
-- code in their cookie or typed from the screen. It holds no person and is
-- never counted in results; it is deleted when the response is sent or after
-- the retention period (see survey::partial).
CREATE TABLE partial_responses (
    code_hash TEXT PRIMARY KEY NOT NULL,
    questionnaire_version_id INTEGER NOT NULL REFERENCES questionnaire_versions (id),
    buurt TEXT NOT NULL,
    page INTEGER NOT NULL,
    answers TEXT NOT NULL,
    consent_on DATE,
    updated_on DATE NOT NULL
);
CREATE INDEX partial_responses_updated ON partial_responses (updated_on);

-- A wave (meting): a period (both days included) in which a questionnaire
-- is open, for some buurten (none listed: all). Waves of one questionnaire never overlap in
-- time and buurt, so a response's date and buurt say which wave it belongs to.
CREATE TABLE waves (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    opens_on DATE NOT NULL,
    closes_on DATE,
    -- Closed before its last day: no more responses, today still counts.
    stopped BOOLEAN NOT NULL DEFAULT FALSE,
    created_on DATE NOT NULL,
    CHECK (closes_on IS NULL OR closes_on >= opens_on)
);
CREATE INDEX waves_slug ON waves (slug);

CREATE TABLE wave_buurten (
    wave_id INTEGER NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    buurt TEXT NOT NULL,
    PRIMARY KEY (wave_id, buurt)
) WITHOUT ROWID;

-- Responses to identified questionnaires (talent scan, panel sign-up),
-- given with consent. Kept apart from anonymous responses: no aggregate
-- reads this table.
CREATE TABLE identified_responses (
    id BIGINT PRIMARY KEY NOT NULL,
    questionnaire_version_id INTEGER NOT NULL REFERENCES questionnaire_versions (id),
    buurt TEXT NOT NULL REFERENCES areas (code),
    submitted_on DATE NOT NULL,
    consent_on DATE NOT NULL,
    answers TEXT NOT NULL
);
CREATE INDEX identified_responses_buurt ON identified_responses (buurt);

-- The designer's working copy of a questionnaire: JSON in the file format,
-- possibly not yet valid. Publishing turns it into a new immutable version.
CREATE TABLE questionnaire_drafts (
    slug TEXT PRIMARY KEY NOT NULL,
    definition TEXT NOT NULL,
    based_on_version INTEGER,
    updated_on DATE NOT NULL
);

-- Archived questionnaires take no more responses; their results remain.
CREATE TABLE questionnaire_archive (
    slug TEXT PRIMARY KEY NOT NULL,
    archived_on DATE NOT NULL
);
