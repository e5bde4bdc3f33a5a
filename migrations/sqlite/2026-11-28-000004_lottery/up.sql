-- Lottery (issue #4): residents' registers per campaign, draws and their
-- protocols. Personal data lives only in register_people (and, by reference,
-- draw_selected); `buurtpeil register purge` deletes both for a campaign and
-- keeps what the protocol needs: counts and hashes.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    created_on DATE NOT NULL,
    -- SHA-256 of the canonical register (docs/lottery.md) and its size.
    register_hash TEXT NOT NULL,
    register_size INTEGER NOT NULL,
    purged_on DATE
);

CREATE TABLE register_people (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL,
    name TEXT NOT NULL,
    street TEXT NOT NULL,
    house_number INTEGER NOT NULL,
    house_addition TEXT NOT NULL,
    postcode TEXT NOT NULL,
    city TEXT NOT NULL,
    buurt TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    -- The full date when the register gives it.
    birth_date DATE,
    gender TEXT NOT NULL CHECK (gender IN ('man', 'woman', 'other', 'unknown')),
    email TEXT,
    PRIMARY KEY (campaign_id, person_id)
);

-- One draw per campaign; the protocol (JSON) holds no personal data.
CREATE TABLE draws (
    campaign_id INTEGER PRIMARY KEY NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    drawn_on DATE NOT NULL,
    selection_hash TEXT NOT NULL,
    protocol TEXT NOT NULL
);

CREATE TABLE draw_selected (
    campaign_id INTEGER NOT NULL,
    person_id TEXT NOT NULL,
    PRIMARY KEY (campaign_id, person_id),
    FOREIGN KEY (campaign_id, person_id) REFERENCES register_people (campaign_id, person_id) ON DELETE CASCADE
);

-- SHA-256(person id, 0x00, draw date) of everyone drawn: kept after a purge,
-- so people drawn recently can be left out of a later draw.
CREATE TABLE drawn_hashes (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    person_hash TEXT NOT NULL,
    drawn_on DATE NOT NULL,
    PRIMARY KEY (campaign_id, person_hash)
);
CREATE INDEX drawn_hashes_drawn_on ON drawn_hashes (drawn_on);
