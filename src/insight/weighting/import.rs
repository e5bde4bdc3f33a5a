//! Import of population margins: the CBS *Kerncijfers wijken en buurten*
//! (the kwb CSV with `gwb_code_10`, `a_man`, `a_vrouw`, `a_00_14` … `a_65_oo`,
//! or StatLine's `WijkenEnBuurten`, `Mannen_6`, `k_15Tot25Jaar_9` …) or a
//! long CSV `area_code,age_band,gender,population`. Every row is checked;
//! nothing is returned unless the whole file is well.

use std::collections::BTreeMap;
use std::io::Read;

use super::category::{Cell, Variable};
use super::margins::Margins;
use crate::area::{AreaCode, AreaTree, Level};
use crate::csv_text::CsvText;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarginsError {
    #[error("{file}: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}: {reason} (found: {found})")]
    Header { file: String, reason: String, found: String },
    #[error("{file}, line {line}, field {field}: {reason}")]
    Row { file: String, line: u64, field: String, reason: String },
    #[error("{file}: the file holds no figures for any known area")]
    Empty { file: String },
}

/// A row left out on purpose, reported to whoever imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: u64,
    pub code: String,
    pub reason: String,
}

/// What a margins file holds, checked against the area tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginsFile {
    /// "cbs" (Kerncijfers) or "long".
    pub format: &'static str,
    /// Margins of residents aged 15 and older, per area code.
    pub areas: BTreeMap<String, Margins>,
    /// Rows without figures (CBS "." for secret or unknown).
    pub skipped: Vec<Skipped>,
    /// Rows of gemeenten with no areas loaded (a national CBS file), or of
    /// the country; not errors, only counted.
    pub elsewhere: u64,
}

const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// More residents than any buurt, wijk or gemeente has: a typing error.
const MAX_POPULATION: u64 = 20_000_000;

/// Kerncijfers columns: the kwb name, then StatLine's (whose `_N` suffix
/// changes per year and is ignored).
const CBS_CODE: [&str; 4] = ["gwb_code_10", "gwb_code", "wijkenenbuurten", "codering"];
const CBS_UNDER_15: [&str; 2] = ["a_00_14", "k_0tot15jaar"];
const CBS_AGE: [(&str, [&str; 2]); 4] = [
    ("15_24", ["a_15_24", "k_15tot25jaar"]),
    ("25_44", ["a_25_44", "k_25tot45jaar"]),
    ("45_64", ["a_45_64", "k_45tot65jaar"]),
    ("65_plus", ["a_65_oo", "k_65jaarofouder"]),
];
const CBS_GENDER: [(&str, [&str; 2]); 2] = [("man", ["a_man", "mannen"]), ("vrouw", ["a_vrouw", "vrouwen"])];
const LONG: [&str; 4] = ["area_code", "age_band", "gender", "population"];

/// A header as compared: lower case, without StatLine's numeric suffix.
fn simplify(header: &str) -> String {
    let h = header.trim().trim_start_matches('\u{feff}').to_lowercase();
    match h.rsplit_once('_') {
        Some((stem, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !h.starts_with("a_") => {
            if stem == "gwb_code" {
                h.clone()
            } else {
                stem.to_owned()
            }
        }
        _ => h,
    }
}

/// Parses a margins file; every area must be in `tree`.
pub fn parse_margins(file: &str, reader: impl Read, tree: &AreaTree) -> Result<MarginsFile, MarginsError> {
    let csv =
        CsvText::read(reader, MAX_BYTES).map_err(|reason| MarginsError::Unreadable { file: file.into(), reason })?;
    let mut rdr = csv.reader();
    let headers = rdr
        .headers()
        .map_err(|e| MarginsError::Unreadable { file: file.into(), reason: format!("cannot read the header: {e}") })?
        .clone();
    let simple: Vec<String> = headers.iter().map(simplify).collect();
    let find = |names: &[&str]| names.iter().find_map(|n| simple.iter().position(|h| h == n));
    let found = headers.iter().collect::<Vec<_>>().join(", ");
    let header_err = |reason: String| MarginsError::Header { file: file.into(), reason, found: found.clone() };
    let long = LONG.map(|c| find(&[c]));
    let mut parsed = if long[1].is_some() || long[3].is_some() {
        let [Some(code), Some(age), Some(gender), Some(population)] = long else {
            let missing: Vec<&str> = LONG.iter().zip(long).filter(|(_, p)| p.is_none()).map(|(c, _)| *c).collect();
            return Err(header_err(format!("a long margins file needs the columns {}", missing.join(", "))));
        };
        Parser::new(file, &csv, tree, "long").long(&mut rdr, [code, age, gender, population])?
    } else {
        let mut missing = Vec::new();
        let mut col = |label: &'static str, names: &[&str]| {
            let pos = find(names);
            if pos.is_none() {
                missing.push(label);
            }
            pos.unwrap_or(0)
        };
        let code = col("gwb_code_10 (or WijkenEnBuurten)", &CBS_CODE);
        let under_15 = col("a_00_14", &CBS_UNDER_15);
        let ages = CBS_AGE.map(|(_, names)| col(names[0], &names));
        let genders = CBS_GENDER.map(|(_, names)| col(names[0], &names));
        if !missing.is_empty() {
            return Err(header_err(format!(
                "no column {} (give the CBS Kerncijfers wijken en buurten, or area_code,age_band,gender,population)",
                missing.join(", ")
            )));
        }
        Parser::new(file, &csv, tree, "cbs").cbs(&mut rdr, code, under_15, ages, genders)?
    };
    if parsed.areas.is_empty() {
        return Err(MarginsError::Empty { file: file.into() });
    }
    parsed.skipped.sort_by_key(|s| s.line);
    Ok(parsed)
}

struct Parser<'a> {
    file: &'a str,
    csv: &'a CsvText,
    tree: &'a AreaTree,
    out: MarginsFile,
}

impl<'a> Parser<'a> {
    fn new(file: &'a str, csv: &'a CsvText, tree: &'a AreaTree, format: &'static str) -> Parser<'a> {
        Parser {
            file,
            csv,
            tree,
            out: MarginsFile { format, areas: BTreeMap::new(), skipped: Vec::new(), elsewhere: 0 },
        }
    }

    fn row_err(&self, line: u64, field: &str, reason: String) -> MarginsError {
        MarginsError::Row { file: self.file.into(), line, field: field.into(), reason }
    }

    /// Every record with its line; a broken record is an error.
    fn records(&self, rdr: &mut csv::Reader<&[u8]>) -> Result<Vec<(u64, csv::StringRecord)>, MarginsError> {
        let mut out = Vec::new();
        for record in rdr.records() {
            let record = record.map_err(|e| {
                let line = e.position().map(|p| self.csv.line_at(p.byte())).unwrap_or(0);
                self.row_err(line, "-", e.to_string())
            })?;
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let line = record.position().map(|p| self.csv.line_at(p.byte())).unwrap_or(0);
            out.push((line, record));
        }
        Ok(out)
    }

    /// A number of residents; None for CBS's "." (secret or unknown) or empty.
    fn population(&self, line: u64, field: &str, raw: &str) -> Result<Option<u64>, MarginsError> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "." {
            return Ok(None);
        }
        match raw.parse::<u64>() {
            Ok(n) if n <= MAX_POPULATION => Ok(Some(n)),
            Ok(n) => Err(self.row_err(line, field, format!("{n} residents is more than any area has"))),
            Err(_) => Err(self.row_err(line, field, format!("{raw:?} is not a whole number of residents (0 or more)"))),
        }
    }

    /// The area of a row: Ok(None) when it lies outside the loaded
    /// gemeenten (counted, not an error, unless `strict`).
    fn area(&mut self, line: u64, field: &str, raw: &str, strict: bool) -> Result<Option<AreaCode>, MarginsError> {
        let raw = raw.trim();
        let Ok(code) = AreaCode::parse_any(raw) else {
            if !strict && (raw.starts_with("NL") || raw.is_empty()) {
                self.out.elsewhere += 1;
                return Ok(None);
            }
            return Err(self.row_err(line, field, format!("{raw:?} is not a CBS gemeente, wijk or buurt code")));
        };
        if self.tree.get(code.as_str()).is_some() {
            return Ok(Some(code));
        }
        let mut gemeente = code.clone();
        while let Some(p) = gemeente.parent() {
            gemeente = p;
        }
        if !strict && gemeente.level() == Level::Gemeente && self.tree.get(gemeente.as_str()).is_none() {
            self.out.elsewhere += 1;
            return Ok(None);
        }
        Err(self.row_err(
            line,
            field,
            format!("{code} is not a known area (import the areas first: buurtpeil areas import)"),
        ))
    }

    fn cbs(
        mut self,
        rdr: &mut csv::Reader<&[u8]>,
        code_col: usize,
        under_15_col: usize,
        age_cols: [usize; 4],
        gender_cols: [usize; 2],
    ) -> Result<MarginsFile, MarginsError> {
        for (line, record) in self.records(rdr)? {
            let get = |i: usize| record.get(i).unwrap_or("");
            let Some(code) = self.area(line, "gwb_code", get(code_col), false)? else { continue };
            let mut figures = Vec::with_capacity(7);
            let mut secret = None;
            let cols = [under_15_col].into_iter().chain(age_cols).chain(gender_cols);
            let names = ["a_00_14"].into_iter().chain(CBS_AGE.map(|(_, n)| n[0])).chain(CBS_GENDER.map(|(_, n)| n[0]));
            for (col, name) in cols.zip(names) {
                match self.population(line, name, get(col))? {
                    Some(n) => figures.push(n),
                    None => {
                        secret.get_or_insert(name);
                        figures.push(0);
                    }
                }
            }
            if let Some(name) = secret {
                self.out.skipped.push(Skipped {
                    line,
                    code: code.to_string(),
                    reason: format!("CBS gives no figure for {name} (\".\": secret or unknown)"),
                });
                continue;
            }
            let all_ages: u64 = figures[..5].iter().sum();
            let (men, women) = (figures[5], figures[6]);
            // CBS rounds every figure to 5: allow for that, not for more.
            if all_ages.abs_diff(men + women) > 10 + all_ages / 50 {
                return Err(self.row_err(
                    line,
                    "a_man",
                    format!("men and women add up to {} but the age bands to {all_ages}", men + women),
                ));
            }
            let mut m = Margins::new();
            for ((band, _), n) in CBS_AGE.iter().zip(&figures[1..5]) {
                m.set(Variable::AgeBand.category(band).expect("a known band"), *n);
            }
            // CBS counts men and women of all ages; the survey population is
            // 15 and older, so the split by gender is carried over to it.
            let adults: u64 = figures[1..5].iter().sum();
            let adult_men =
                if men + women == 0 { 0 } else { ((men as f64) * adults as f64 / (men + women) as f64).round() as u64 };
            m.set(Variable::Gender.category("man").expect("known"), adult_men);
            m.set(Variable::Gender.category("vrouw").expect("known"), adults - adult_men.min(adults));
            if self.out.areas.insert(code.to_string(), m).is_some() {
                return Err(self.row_err(line, "gwb_code", format!("{code} appears twice")));
            }
        }
        Ok(self.out)
    }

    fn long(mut self, rdr: &mut csv::Reader<&[u8]>, cols: [usize; 4]) -> Result<MarginsFile, MarginsError> {
        let mut cells: BTreeMap<String, (u64, BTreeMap<Cell, u64>)> = BTreeMap::new();
        for (line, record) in self.records(rdr)? {
            let get = |i: usize| record.get(cols[i]).unwrap_or("").trim();
            let Some(code) = self.area(line, "area_code", get(0), true)? else { continue };
            let (band, gender) = (get(1), get(2));
            // Children are not surveyed; their rows are allowed and left out.
            if band == "0_14" {
                continue;
            }
            if Variable::AgeBand.category(band).is_none() {
                return Err(self.row_err(
                    line,
                    "age_band",
                    format!("{band:?} is not an age band (0_14, {})", Variable::AgeBand.categories().join(", ")),
                ));
            }
            let Some(cell) = Cell::parse(band, gender) else {
                return Err(self.row_err(
                    line,
                    "gender",
                    format!(
                        "{gender:?} is not a gender of the CBS figures ({})",
                        Variable::Gender.categories().join(", ")
                    ),
                ));
            };
            let Some(n) = self.population(line, "population", get(3))? else {
                return Err(self.row_err(line, "population", "is empty".into()));
            };
            let entry = cells.entry(code.to_string()).or_insert_with(|| (line, BTreeMap::new()));
            if entry.1.insert(cell, n).is_some() {
                return Err(self.row_err(line, "age_band", format!("{code} has {cell} twice")));
            }
        }
        for (code, (first_line, cells)) in cells {
            let mut m = Margins::new();
            for band in Variable::AgeBand.categories() {
                for gender in Variable::Gender.categories() {
                    let cell = Cell::parse(band, gender).expect("known categories");
                    let Some(n) = cells.get(&cell) else {
                        return Err(self.row_err(
                            first_line,
                            "age_band",
                            format!("{code} has no row for {cell}: give all 8 age bands × genders"),
                        ));
                    };
                    for c in [cell.age_band, cell.gender] {
                        m.set(c, m.get(c).unwrap_or(0) + n);
                    }
                }
            }
            self.out.areas.insert(code, m);
        }
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::parse_csv;

    fn eindhoven() -> AreaTree {
        AreaTree::new(parse_csv("e", crate::demo::EINDHOVEN_BUURTEN_CSV.as_bytes()).unwrap())
    }

    fn get(m: &Margins, variable: Variable, c: &str) -> u64 {
        m.get(variable.category(c).unwrap()).unwrap()
    }

    const KWB: &str = "gwb_code_10;gwb_code_8;regio;gm_naam;recs;gwb_code;ind_wbi;a_inw;a_man;a_vrouw;a_00_14;a_15_24;a_25_44;a_45_64;a_65_oo\r\n\
        NL00;0;Nederland;Nederland;Land;NL00;.;17942942;8917047;9025895;2730000;2280000;4660000;4800000;3472942\r\n\
        GM0772;772;Eindhoven;Eindhoven;Gemeente;GM0772;1;243730;123250;120480;35790;40600;79505;56040;31795\r\n\
        BU07721110;7721110;Binnenstad;Eindhoven;Buurt;BU07721110;1;4500;2500;2000;150;1300;2050;600;400\r\n\
        BU07721120;7721120;Bergen;Eindhoven;Buurt;BU07721120;1;1020;     .;     .;60;170;480;210;100\r\n\
        BU03630000;3630000;Burgwallen;Amsterdam;Buurt;BU03630000;1;4000;2000;2000;200;800;1500;1000;500\r\n";

    #[test]
    fn reads_the_cbs_kerncijfers_and_carries_the_gender_split_over_to_15_plus() {
        let file = parse_margins("kwb-2024.csv", KWB.as_bytes(), &eindhoven()).unwrap();
        assert_eq!(file.format, "cbs");
        assert_eq!(file.areas.keys().collect::<Vec<_>>(), ["BU07721110", "GM0772"]);
        let m = &file.areas["BU07721110"];
        assert_eq!(get(m, Variable::AgeBand, "15_24"), 1300);
        assert_eq!(get(m, Variable::AgeBand, "65_plus"), 400);
        // 4,350 residents of 15+, 2,500 of 4,500 men: 2,417 men of 15+.
        assert_eq!((get(m, Variable::Gender, "man"), get(m, Variable::Gender, "vrouw")), (2417, 1933));
        assert_eq!(m.total(Variable::AgeBand), m.total(Variable::Gender));
        assert_eq!(file.skipped.len(), 1);
        assert_eq!((file.skipped[0].line, file.skipped[0].code.as_str()), (5, "BU07721120"));
        assert!(file.skipped[0].reason.contains("a_man"), "{:?}", file.skipped[0]);
        assert_eq!(file.elsewhere, 2, "the country and Amsterdam");
    }

    #[test]
    fn reads_statline_column_names() {
        let odata = "ID,WijkenEnBuurten,Gemeentenaam_1,SoortRegio_2,Codering_3,AantalInwoners_5,Mannen_6,Vrouwen_7,k_0Tot15Jaar_8,k_15Tot25Jaar_9,k_25Tot45Jaar_10,k_45Tot65Jaar_11,k_65JaarOfOuder_12\n\
            1,BU07721130  ,Eindhoven,Buurt,BU07721130,2000,1000,1000,200,300,700,500,300\n";
        let file = parse_margins("85984NED.csv", odata.as_bytes(), &eindhoven()).unwrap();
        let m = &file.areas["BU07721130"];
        assert_eq!((get(m, Variable::AgeBand, "25_44"), get(m, Variable::Gender, "man")), (700, 900));
    }

    const LONG_OK: &str = "area_code,age_band,gender,population\n\
        BU07721110,0_14,man,80\n\
        BU07721110,15_24,man,600\nBU07721110,15_24,vrouw,700\n\
        BU07721110,25_44,man,1100\nBU07721110,25_44,vrouw,950\n\
        BU07721110,45_64,man,320\nBU07721110,45_64,vrouw,280\n\
        BU07721110,65_plus,man,180\nBU07721110,65_plus,vrouw,220\n";

    #[test]
    fn reads_a_long_file_into_margins() {
        let file = parse_margins("long.csv", LONG_OK.as_bytes(), &eindhoven()).unwrap();
        assert_eq!(file.format, "long");
        let m = &file.areas["BU07721110"];
        assert_eq!((get(m, Variable::AgeBand, "15_24"), get(m, Variable::Gender, "vrouw")), (1300, 2150));
        assert_eq!(m.total(Variable::AgeBand), 4350);
    }

    #[test]
    fn every_problem_names_file_line_and_field() {
        let tree = eindhoven();
        let err = |text: &str| parse_margins("m.csv", text.as_bytes(), &tree).unwrap_err().to_string();
        let cases = [
            (
                LONG_OK.replace("BU07721110,25_44,man", "BU07721199,25_44,man"),
                "m.csv, line 5, field area_code: BU07721199 is not a known area",
            ),
            (
                LONG_OK.replace("BU07721110,25_44,man", "BU0772111,25_44,man"),
                "line 5, field area_code: \"BU0772111\" is not a CBS",
            ),
            (LONG_OK.replace("25_44,man", "25_45,man"), "line 5, field age_band: \"25_45\" is not an age band"),
            (LONG_OK.replace("25_44,man", "25_44,x"), "line 5, field gender: \"x\" is not a gender"),
            (LONG_OK.replace(",1100", ",-3"), "line 5, field population: \"-3\" is not a whole number"),
            (LONG_OK.replace(",1100", ",12.5"), "line 5, field population: \"12.5\""),
            (LONG_OK.replace(",1100", ",99999999999"), "more than any area has"),
            (LONG_OK.replace(",1100", ","), "line 5, field population: is empty"),
            (
                LONG_OK.replace("65_plus,vrouw", "65_plus,man"),
                "line 10, field age_band: BU07721110 has 65_plus × man twice",
            ),
            (LONG_OK.replace("BU07721110,65_plus,vrouw,220\n", ""), "has no row for 65_plus × vrouw"),
            (
                "area_code,gender,population\nBU07721110,man,3\n".into(),
                "needs the columns age_band (found: area_code, gender, population)",
            ),
            ("code,inwoners\nBU07721110,3\n".into(), "no column gwb_code_10 (or WijkenEnBuurten), a_00_14, a_15_24"),
            (
                KWB.replace(";2500;2000;", ";3500;2000;"),
                "line 4, field a_man: men and women add up to 5500 but the age bands to 4500",
            ),
            (KWB.replace(";150;1300;", ";abc;1300;"), "line 4, field a_00_14: \"abc\" is not a whole number"),
            (
                KWB.replace("BU07721120;7721120", "BU07721199;7721120"),
                "line 5, field gwb_code: BU07721199 is not a known area",
            ),
            (format!("{LONG_OK}BU07721110,15_24,man,1\n"), "line 11, field age_band: BU07721110 has 15_24 × man twice"),
            ("area_code,age_band,gender,population\n".into(), "m.csv: the file holds no figures for any known area"),
            (LONG_OK.replace("area_code", "area_code\"x"), "m.csv"),
        ];
        for (text, expected) in cases {
            let got = err(&text);
            assert!(got.contains(expected), "expected {expected:?} in {got:?}");
        }
        let dup = format!(
            "{KWB}BU07721110;7721110;Binnenstad;Eindhoven;Buurt;BU07721110;1;4500;2500;2000;150;1300;2050;600;400\n"
        );
        assert!(err(&dup).contains("line 7, field gwb_code: BU07721110 appears twice"), "{}", err(&dup));
        // Binary is not a margins file, whatever its encoding.
        assert!(parse_margins("m.csv", &[0xffu8, 0xfe, 0][..], &tree).is_err());
    }
}
