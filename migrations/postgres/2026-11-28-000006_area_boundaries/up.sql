-- Buurt boundaries for the choropleth map (issue #5): one simplified
-- outline per buurt in RD New (EPSG:28992, whole metres), as the JSON
-- coordinates of a GeoJSON MultiPolygon. Imported from the CBS Wijk- en
-- Buurtkaart by `buurtpeil map import`; a new import replaces a buurt's row.
CREATE TABLE area_boundaries (
    code TEXT PRIMARY KEY NOT NULL REFERENCES areas (code),
    geometry TEXT NOT NULL
);
