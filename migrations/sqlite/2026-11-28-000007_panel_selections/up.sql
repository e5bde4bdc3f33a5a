-- Panel selections made in the council's pages (issue #4): the inputs, the
-- outcome and its three files, kept so the result survives a reload and a
-- restart. Personal data (the people file and panel.csv, with names and
-- contact details) is in people_csv and panel_csv only; purging the
-- campaign empties both and keeps the protocol and the probabilities.
CREATE TABLE panel_selections (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    campaign TEXT NOT NULL,
    questionnaire TEXT NOT NULL,
    created_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'infeasible', 'failed')),
    -- The selection a replacement continues.
    previous_id INTEGER REFERENCES panel_selections (id) ON DELETE SET NULL,
    -- JSON: size, seed, algorithm, household columns, dropped ids.
    settings TEXT NOT NULL,
    features_csv TEXT NOT NULL,
    people_csv TEXT,
    panel_csv TEXT,
    probabilities_csv TEXT,
    protocol TEXT,
    -- The protocol as published: pseudonyms for ids (docs/panel.md).
    public_json TEXT,
    -- Why it did not work (infeasible quotas, bad input), worded for the clerk.
    problem TEXT
);
CREATE INDEX panel_selections_campaign ON panel_selections (campaign);
CREATE INDEX panel_selections_previous ON panel_selections (previous_id);

-- Campaigns whose protocols the council has made public.
CREATE TABLE campaign_publications (
    campaign TEXT PRIMARY KEY NOT NULL,
    published_on DATE NOT NULL
);
