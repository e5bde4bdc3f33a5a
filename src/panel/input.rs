//! The Sortition Foundation file formats: `features.csv` (quotas) and the
//! people file (one row per volunteer), read with file, line and field in
//! every error.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use super::PanelError;

/// One value of a feature with its quota: at least `min` and at most `max`
/// panel members have it. `min_flex`/`max_flex` (optional columns) are read
/// and kept in the protocol; the selection itself uses `min` and `max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub value: String,
    pub min: u32,
    pub max: u32,
    pub min_flex: Option<u32>,
    pub max_flex: Option<u32>,
}

/// A feature (gender, age band, buurt, …) and the quota of each of its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    pub name: String,
    pub values: Vec<Quota>,
}

/// All features with their quotas, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Features {
    pub features: Vec<Feature>,
}

impl Features {
    /// Reads `feature,value,min,max[,min_flex,max_flex]` (header names are
    /// case-insensitive; other columns are ignored).
    pub fn parse(file: &str, reader: impl Read) -> Result<Self, PanelError> {
        let mut csv = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(reader);
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| PanelError::csv(file, 1, "", format!("cannot read the header: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_lowercase())
            .collect();
        let col = |name: &str| header.iter().position(|h| h == name);
        let need = |name: &str| {
            col(name).ok_or_else(|| {
                PanelError::csv(
                    file,
                    1,
                    name,
                    format!(
                        "the header has no column '{name}' (expected feature,value,min,max[,min_flex,max_flex]; found {})",
                        header.join(",")
                    ),
                )
            })
        };
        let (c_feature, c_value, c_min, c_max) = (need("feature")?, need("value")?, need("min")?, need("max")?);
        let (c_min_flex, c_max_flex) = (col("min_flex"), col("max_flex"));
        let mut features: Vec<Feature> = Vec::new();
        for (i, record) in csv.records().enumerate() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(i + 2, |p| p.line() as usize);
                PanelError::csv(file, line, "", format!("unreadable row: {e}"))
            })?;
            let line = record.position().map_or(i + 2, |p| p.line() as usize);
            if record.iter().all(str::is_empty) {
                continue;
            }
            let field = |c: usize, name: &str| -> Result<&str, PanelError> {
                match record.get(c) {
                    Some(v) if !v.is_empty() => Ok(v),
                    _ => Err(PanelError::csv(file, line, name, "is empty")),
                }
            };
            let number = |c: usize, name: &str| -> Result<u32, PanelError> {
                let raw = field(c, name)?;
                raw.parse::<u32>().map_err(|_| {
                    PanelError::csv(file, line, name, format!("'{raw}' is not a whole number of 0 or more"))
                })
            };
            let optional = |c: Option<usize>, name: &str| -> Result<Option<u32>, PanelError> {
                match c.and_then(|c| record.get(c)).filter(|v| !v.is_empty()) {
                    None => Ok(None),
                    Some(raw) => raw.parse::<u32>().map(Some).map_err(|_| {
                        PanelError::csv(file, line, name, format!("'{raw}' is not a whole number of 0 or more"))
                    }),
                }
            };
            let name = field(c_feature, "feature")?.to_owned();
            let value = field(c_value, "value")?.to_owned();
            let (min, max) = (number(c_min, "min")?, number(c_max, "max")?);
            if min > max {
                return Err(PanelError::csv(
                    file,
                    line,
                    "min",
                    format!("min {min} is more than max {max} for {name} = {value}"),
                ));
            }
            let (min_flex, max_flex) = (optional(c_min_flex, "min_flex")?, optional(c_max_flex, "max_flex")?);
            if min_flex.is_some_and(|f| f > min) {
                return Err(PanelError::csv(file, line, "min_flex", "min_flex must not be more than min"));
            }
            if max_flex.is_some_and(|f| f < max) {
                return Err(PanelError::csv(file, line, "max_flex", "max_flex must not be less than max"));
            }
            let feature = match features.iter_mut().position(|f| f.name == name) {
                Some(p) => &mut features[p],
                None => {
                    features.push(Feature { name: name.clone(), values: Vec::new() });
                    features.last_mut().expect("just pushed")
                }
            };
            if feature.values.iter().any(|q| q.value == value) {
                return Err(PanelError::csv(file, line, "value", format!("{name} = {value} appears twice")));
            }
            feature.values.push(Quota { value, min, max, min_flex, max_flex });
        }
        if features.is_empty() {
            return Err(PanelError::csv(file, 2, "", "the file has no features"));
        }
        Ok(Features { features })
    }

    /// Writes the same format back (with the flex columns when any is set).
    pub fn to_csv(&self) -> String {
        let flex = self.features.iter().flat_map(|f| &f.values).any(|q| q.min_flex.is_some() || q.max_flex.is_some());
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["feature", "value", "min", "max"];
        if flex {
            header.extend(["min_flex", "max_flex"]);
        }
        w.write_record(&header).expect("in memory");
        for f in &self.features {
            for q in &f.values {
                let mut row = vec![f.name.clone(), q.value.clone(), q.min.to_string(), q.max.to_string()];
                if flex {
                    let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
                    row.extend([opt(q.min_flex), opt(q.max_flex)]);
                }
                w.write_record(&row).expect("in memory");
            }
        }
        String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8 in, utf-8 out")
    }
}

/// A volunteer: their id, the index of their value for every feature (in the
/// order of [`Features::features`]) and their household key, if households
/// are used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub values: Vec<usize>,
    pub household: Option<String>,
    /// Line in the people file (1 is the header).
    pub line: usize,
}

/// The people file: volunteers and their original rows (kept to write
/// `panel.csv` with every column of the input).
#[derive(Debug, Clone)]
pub struct Pool {
    pub people: Vec<Person>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Pool {
    /// Reads a people file: a column `id_column`, one column per feature
    /// (header names compared case-insensitively) and any other columns.
    /// `household_columns`, when not empty, define households: people with
    /// the same values in all of them live together.
    pub fn parse(
        file: &str,
        reader: impl Read,
        features: &Features,
        id_column: &str,
        household_columns: &[String],
    ) -> Result<Self, PanelError> {
        let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| PanelError::csv(file, 1, "", format!("cannot read the header: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_owned())
            .collect();
        let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let missing = |name: &str, what: &str| {
            PanelError::csv(
                file,
                1,
                name,
                format!("the header has no column '{name}' ({what}); found {}", header.join(",")),
            )
        };
        let c_id = find(id_column).ok_or_else(|| missing(id_column, "the id column"))?;
        let c_features = features
            .features
            .iter()
            .map(|f| find(&f.name).ok_or_else(|| missing(&f.name, "a feature of the features file")))
            .collect::<Result<Vec<_>, _>>()?;
        let c_households = household_columns
            .iter()
            .map(|h| find(h).ok_or_else(|| missing(h, "a household column")))
            .collect::<Result<Vec<_>, _>>()?;
        let lookup: Vec<HashMap<&str, usize>> = features
            .features
            .iter()
            .map(|f| f.values.iter().enumerate().map(|(i, q)| (q.value.as_str(), i)).collect())
            .collect();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let (mut people, mut rows) = (Vec::new(), Vec::new());
        for (i, record) in csv.records().enumerate() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(i + 2, |p| p.line() as usize);
                PanelError::csv(file, line, "", format!("unreadable row: {e}"))
            })?;
            let line = record.position().map_or(i + 2, |p| p.line() as usize);
            if record.iter().all(str::is_empty) {
                continue;
            }
            let id = record.get(c_id).unwrap_or("").to_owned();
            if id.is_empty() {
                return Err(PanelError::csv(file, line, &header[c_id], "the id is empty"));
            }
            if let Some(first) = seen.insert(id.clone(), line) {
                return Err(PanelError::csv(
                    file,
                    line,
                    &header[c_id],
                    format!("id {id} also appears on line {first}"),
                ));
            }
            let mut values = Vec::with_capacity(c_features.len());
            for (f, &c) in c_features.iter().enumerate() {
                let raw = record.get(c).unwrap_or("");
                let feature = &features.features[f];
                let Some(&v) = lookup[f].get(raw) else {
                    let known: Vec<&str> = feature.values.iter().map(|q| q.value.as_str()).collect();
                    let problem = if raw.is_empty() {
                        "is empty".to_owned()
                    } else {
                        format!(
                            "'{raw}' is not a value of {} in the features file ({})",
                            feature.name,
                            known.join(", ")
                        )
                    };
                    return Err(PanelError::csv(file, line, &header[c], problem));
                };
                values.push(v);
            }
            let household = (!c_households.is_empty()).then(|| {
                let parts: Vec<String> =
                    c_households.iter().map(|&c| record.get(c).unwrap_or("").trim().to_lowercase()).collect();
                parts.join("\u{1f}")
            });
            people.push(Person { id, values, household, line });
            rows.push(record.iter().map(str::to_owned).collect());
        }
        if people.is_empty() {
            return Err(PanelError::csv(file, 2, "", "the file has no people"));
        }
        Ok(Pool { people, header, rows })
    }

    /// The rows of the given people (indices) as CSV with the original header.
    pub fn rows_csv(&self, who: &[usize]) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header).expect("in memory");
        for &i in who {
            w.write_record(&self.rows[i]).expect("in memory");
        }
        String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8 in, utf-8 out")
    }
}
