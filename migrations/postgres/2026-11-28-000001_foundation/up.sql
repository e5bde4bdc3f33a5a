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
    id SERIAL PRIMARY KEY,
    slug TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    definition TEXT NOT NULL,
    published_on DATE NOT NULL,
    UNIQUE (slug, version),
    UNIQUE (slug, content_hash)
);

-- An anonymous response: a random id (no submission order), the buurt, the
-- version and the date only. No person, invitation, IP address or time.
CREATE TABLE responses (
    id BIGINT PRIMARY KEY,
    questionnaire_version_id INTEGER NOT NULL REFERENCES questionnaire_versions (id),
    buurt TEXT NOT NULL REFERENCES areas (code),
    submitted_on DATE NOT NULL
);
-- Counting respondents per buurt reads this index only.
CREATE INDEX responses_version_buurt ON responses (questionnaire_version_id, buurt);

-- Closed answers (scales, choices), the only ones aggregation reads. Buurt and
-- version are repeated from the (immutable) response so results need no join.
CREATE TABLE answers (
    response_id BIGINT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    questionnaire_version_id INTEGER NOT NULL,
    buurt TEXT NOT NULL,
    question_id TEXT NOT NULL,
    choice TEXT NOT NULL DEFAULT '',
    value INTEGER NOT NULL,
    PRIMARY KEY (response_id, question_id, choice)
);
CREATE INDEX answers_aggregate ON answers (questionnaire_version_id, question_id, buurt, value, choice);

-- Free text lives apart, so no aggregate can ever read it.
CREATE TABLE text_answers (
    response_id BIGINT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id)
);
