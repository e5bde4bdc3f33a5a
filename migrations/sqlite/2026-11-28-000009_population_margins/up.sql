-- Weighting for non-response (issue #5): residents aged 15 and older per
-- area, by age band and by gender (the margins raking adjusts respondents
-- to), from the CBS Kerncijfers wijken en buurten or a long CSV. An import
-- replaces the rows of the areas it holds, in one transaction.
CREATE TABLE population_margins (
    area TEXT NOT NULL REFERENCES areas (code) ON DELETE CASCADE,
    variable TEXT NOT NULL CHECK (variable IN ('age_band', 'gender')),
    category TEXT NOT NULL,
    population BIGINT NOT NULL CHECK (population >= 0),
    -- Where the figures came from: 'cbs', 'long' or 'demo'.
    source TEXT NOT NULL,
    imported_on DATE NOT NULL,
    PRIMARY KEY (area, variable, category)
);
