-- Areas: CBS gemeente / wijk / buurt. A parent is always a coarser level.
CREATE TABLE areas (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('gemeente', 'wijk', 'buurt')),
    parent TEXT REFERENCES areas (code)
);
CREATE INDEX areas_parent ON areas (parent);

-- A published questionnaire version is immutable: the canonical JSON of the
-- definition and its SHA-256. Changing the file makes a new version.
CREATE TABLE questionnaire_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    definition TEXT NOT NULL,
    published_on DATE NOT NULL,
    UNIQUE (slug, version),
    UNIQUE (slug, content_hash)
);

-- An anonymous response: the buurt, the version, the date only, and a random
-- id. No person, invitation, IP address or time. Rows are kept in the order
-- of their key (version, buurt, date, random id), so the stored order says
-- nothing about who answered when, and new rows land on a few hot pages
-- (one per buurt and day) instead of all over the table.
CREATE TABLE responses (
    questionnaire_version_id INTEGER NOT NULL REFERENCES questionnaire_versions (id),
    buurt TEXT NOT NULL REFERENCES areas (code),
    submitted_on DATE NOT NULL,
    id BIGINT NOT NULL,
    PRIMARY KEY (questionnaire_version_id, buurt, submitted_on, id)
) WITHOUT ROWID;

-- Respondents per version, buurt and day, kept up to date in the same
-- transaction that stores the responses: counting respondents for results
-- then reads a few thousand rows instead of every response. Anything that
-- ever deletes responses must lower these counts too (tests check that they
-- agree with `responses`).
CREATE TABLE response_counts (
    questionnaire_version_id INTEGER NOT NULL,
    buurt TEXT NOT NULL,
    submitted_on DATE NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (questionnaire_version_id, buurt, submitted_on)
) WITHOUT ROWID;

-- Closed answers (scales, choices), the only ones aggregation reads. Each row
-- carries its response's key; the table is kept in aggregation order, so
-- results are one ordered scan and counting needs no join.
CREATE TABLE answers (
    questionnaire_version_id INTEGER NOT NULL,
    question_id TEXT NOT NULL,
    buurt TEXT NOT NULL,
    value INTEGER NOT NULL,
    choice TEXT NOT NULL DEFAULT '',
    submitted_on DATE NOT NULL,
    response_id BIGINT NOT NULL,
    PRIMARY KEY (questionnaire_version_id, question_id, buurt, value, choice, submitted_on, response_id),
    FOREIGN KEY (questionnaire_version_id, buurt, submitted_on, response_id)
        REFERENCES responses (questionnaire_version_id, buurt, submitted_on, id) ON DELETE CASCADE
) WITHOUT ROWID;

-- Free text lives apart, so no aggregate can ever read it.
CREATE TABLE text_answers (
    questionnaire_version_id INTEGER NOT NULL,
    buurt TEXT NOT NULL,
    submitted_on DATE NOT NULL,
    response_id BIGINT NOT NULL,
    question_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (questionnaire_version_id, buurt, submitted_on, response_id, question_id),
    FOREIGN KEY (questionnaire_version_id, buurt, submitted_on, response_id)
        REFERENCES responses (questionnaire_version_id, buurt, submitted_on, id) ON DELETE CASCADE
) WITHOUT ROWID;
