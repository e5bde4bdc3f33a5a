//! The resident register: one `Person` per row of a CSV extract of the BRP
//! (basisregistratie personen), parsed once into types that cannot hold an
//! invalid value. Every row is checked and every problem reported with file,
//! line and field; nothing is returned unless all rows are sound.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::area::{AreaCode, AreaTree, Level};
use crate::auth::EmailAddress;

/// A pseudonymous person id from the register extract: 1–64 characters, no
/// control characters, no leading or trailing spaces. It orders the register
/// canonically (byte order of its UTF-8 text).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(String);

pub const MAX_PERSON_ID: usize = 64;
const MAX_TEXT: usize = 200;

impl PersonId {
    pub fn parse(raw: &str) -> Result<PersonId, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is empty".into());
        }
        if s.chars().count() > MAX_PERSON_ID || s.chars().any(char::is_control) {
            return Err(format!("is longer than {MAX_PERSON_ID} characters or holds control characters"));
        }
        Ok(PersonId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Dutch postcode, normalised to four digits and two capitals (`5611AB`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(raw: &str) -> Result<Postcode, String> {
        let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        let b = s.as_bytes();
        let ok = b.len() == 6
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[0] != b'0'
            && b[4..].iter().all(u8::is_ascii_uppercase);
        if ok {
            Ok(Postcode(s))
        } else {
            Err(format!("{raw:?} is not a Dutch postcode like 5611 AB"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a person lives. The address *key* (postcode, house number,
/// addition) identifies a dwelling for "at most one person per address".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub street: String,
    pub house_number: u32,
    /// Huisletter and huisnummertoevoeging together, normalised: upper case,
    /// without spaces, dashes or dots (`12 a`, `12-A`, `12A` are one address).
    pub addition: String,
    pub postcode: Postcode,
    pub city: String,
}

impl Address {
    /// `5611AB|12|A`: the normalised key of the dwelling.
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.postcode.as_str(), self.house_number, self.addition)
    }
}

/// Normalises a house-number addition: letters and digits only, upper case.
pub fn normalise_addition(raw: &str) -> String {
    raw.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

/// Birth as the register gives it: a full date, or only the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Birth {
    Year(i32),
    Date(NaiveDate),
}

impl Birth {
    pub fn year(self) -> i32 {
        match self {
            Birth::Year(y) => y,
            Birth::Date(d) => d.year(),
        }
    }

    /// Age in whole years on `on`. With only a year of birth the person is
    /// taken to be born on 31 December of that year, so no one too young is
    /// ever counted as old enough.
    pub fn age_on(self, on: NaiveDate) -> i32 {
        let born = match self {
            Birth::Date(d) => d,
            Birth::Year(y) => NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(NaiveDate::MAX),
        };
        let mut age = on.year() - born.year();
        if (on.month(), on.day()) < (born.month(), born.day()) {
            age -= 1;
        }
        age
    }

    /// `1980` or `1980-04-02`: the form in the canonical register.
    pub fn canonical(self) -> String {
        match self {
            Birth::Year(y) => format!("{y:04}"),
            Birth::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Man,
    Woman,
    /// X in the BRP: neither man nor woman.
    Other,
    /// O in the BRP: not known.
    Unknown,
}

impl Gender {
    pub fn parse(raw: &str) -> Result<Gender, String> {
        match raw.trim().to_lowercase().as_str() {
            "m" | "man" | "male" | "mannelijk" => Ok(Gender::Man),
            "v" | "vrouw" | "f" | "female" | "w" | "woman" | "vrouwelijk" => Ok(Gender::Woman),
            "x" | "anders" | "other" | "overig" | "divers" => Ok(Gender::Other),
            "o" | "onbekend" | "unknown" | "u" => Ok(Gender::Unknown),
            "" => Err("is empty (use M, V, X or O)".into()),
            _ => Err(format!("{raw:?} is not a gender: use M (man), V (vrouw), X (anders) or O (onbekend)")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Man => "man",
            Gender::Woman => "woman",
            Gender::Other => "other",
            Gender::Unknown => "unknown",
        }
    }
}

/// One resident of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub address: Address,
    pub buurt: AreaCode,
    pub birth: Birth,
    pub gender: Gender,
    pub email: Option<String>,
}

/// One problem in a register file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterError {
    /// 0 for problems of the whole file.
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// Every problem found in a register file, in line order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RegisterErrors {
    pub file: String,
    pub errors: Vec<RegisterError>,
}

/// At most this many problems are listed in a message; the count says the rest.
const SHOWN_ERRORS: usize = 50;

impl fmt::Display for RegisterErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(f, "{}: {} problem{} found", self.file, n, if n == 1 { "" } else { "s" })?;
        for e in self.errors.iter().take(SHOWN_ERRORS) {
            if e.line == 0 {
                write!(f, "\n  {}: {}", self.file, e.reason)?;
            } else {
                write!(f, "\n  {}, line {}, field {}: {}", self.file, e.line, e.field, e.reason)?;
            }
        }
        if n > SHOWN_ERRORS {
            write!(f, "\n  … and {} more", n - SHOWN_ERRORS)?;
        }
        Ok(())
    }
}

/// Largest register file accepted (a large city: ≈ 1 million rows of ≈ 150 bytes).
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// Accepted column names per field, compared case-insensitively after
/// trimming and ignoring `_`, `-` and spaces.
const COLUMNS: [(&str, &[&str]); 13] = [
    ("persoon_id", &["persoonid", "pseudoniem", "id", "personid", "pseudonym", "anummer"]),
    ("naam", &["naam", "name", "volledigenaam", "fullname"]),
    ("geslachtsnaam", &["geslachtsnaam", "achternaam", "surname", "lastname", "familyname"]),
    ("voorvoegsel", &["voorvoegsel", "voorvoegselgeslachtsnaam", "tussenvoegsel", "prefix"]),
    ("voornamen", &["voornamen", "voornaam", "givennames", "firstname", "firstnames", "givenname"]),
    ("straat", &["straat", "straatnaam", "street", "openbareruimtenaam"]),
    ("huisnummer", &["huisnummer", "housenumber", "number", "huisnr"]),
    ("huisletter", &["huisletter", "houseletter"]),
    ("toevoeging", &["toevoeging", "huisnummertoevoeging", "addition", "housenumberaddition", "suffix"]),
    ("postcode", &["postcode", "postalcode", "zip", "zipcode"]),
    ("woonplaats", &["woonplaats", "plaats", "city", "town", "woonplaatsnaam"]),
    ("buurtcode", &["buurtcode", "bucode", "buurt", "neighbourhoodcode", "neighborhoodcode"]),
    ("geslacht", &["geslacht", "gender", "sex", "geslachtsaanduiding"]),
];
const BIRTH_COLUMNS: [&str; 6] =
    ["geboortedatum", "birthdate", "dateofbirth", "geboortejaar", "birthyear", "yearofbirth"];
const EMAIL_COLUMNS: [&str; 4] = ["email", "emailadres", "emailaddress", "mail"];

fn simplify(header: &str) -> String {
    header.trim().chars().filter(|c| !matches!(c, '_' | '-' | ' ' | '.')).flat_map(char::to_lowercase).collect()
}

/// Parses a register extract (CSV, `,` or `;`, optional byte-order mark,
/// LF or CRLF). Columns are recognised by their common BRP names in Dutch or
/// English (see `docs/lottery.md`); other columns are ignored.
pub fn parse_register(file: &str, reader: impl Read) -> Result<Vec<Person>, RegisterErrors> {
    parse(file, reader, None)
}

/// As `parse_register`, and every buurt code must be a buurt of `tree`.
pub fn parse_register_known(file: &str, reader: impl Read, tree: &AreaTree) -> Result<Vec<Person>, RegisterErrors> {
    parse(file, reader, Some(tree))
}

fn parse(file: &str, reader: impl Read, tree: Option<&AreaTree>) -> Result<Vec<Person>, RegisterErrors> {
    let whole = |reason: String| RegisterErrors {
        file: file.into(),
        errors: vec![RegisterError { line: 0, field: "-".into(), reason }],
    };
    let mut bytes = Vec::new();
    reader.take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(|e| whole(format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(whole("the file is larger than 512 MB".into()));
    }
    // UTF-8, or Windows-1252 as Excel saves "CSV": names and streets with
    // accents, apostrophes (’) and dashes (–) must come out as written.
    let text = crate::csv_text::utf8_or_windows1252(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() { b';' } else { b',' };
    let newlines: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    let line_at = |byte: u64| newlines.partition_point(|&i| (i as u64) <= byte) as u64 + 1;

    let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| whole(format!("cannot read the header: {e}")))?.clone();
    let simple: Vec<String> = headers.iter().map(simplify).collect();
    let find = |names: &[&str]| names.iter().find_map(|n| simple.iter().position(|h| h == n));
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (field, names) in COLUMNS {
        if let Some(pos) = find(names) {
            index.insert(field, pos);
        }
    }
    let birth_col = find(&BIRTH_COLUMNS);
    let email_col = find(&EMAIL_COLUMNS);
    let found = headers.iter().collect::<Vec<_>>().join(", ");
    let mut missing = Vec::new();
    for field in ["persoon_id", "straat", "huisnummer", "postcode", "woonplaats", "buurtcode", "geslacht"] {
        if !index.contains_key(field) {
            let names = COLUMNS.iter().find(|(f, _)| *f == field).map(|(_, n)| n[..2.min(n.len())].join(" or "));
            missing.push(format!("no column {field} ({}, …)", names.unwrap_or_default()));
        }
    }
    if !index.contains_key("naam") && !index.contains_key("geslachtsnaam") {
        missing.push("no column naam (or geslachtsnaam with voornamen)".into());
    }
    if birth_col.is_none() {
        missing.push("no column geboortejaar or geboortedatum".into());
    }
    if !missing.is_empty() {
        return Err(RegisterErrors {
            file: file.into(),
            errors: missing
                .into_iter()
                .map(|m| RegisterError {
                    line: 0,
                    field: "-".into(),
                    reason: format!("the header has {m} (found: {found})"),
                })
                .collect(),
        });
    }

    let mut errors = Vec::new();
    let mut people = Vec::new();
    let mut ids: HashMap<PersonId, u64> = HashMap::new();
    let mut addresses: HashMap<String, (AreaCode, u64)> = HashMap::new();
    for record in rdr.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                errors.push(RegisterError { line, field: "-".into(), reason: format!("unreadable row: {e}") });
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        let before = errors.len();
        let mut err = |field: &str, reason: String| errors.push(RegisterError { line, field: field.into(), reason });
        let get = |field: &str| index.get(field).and_then(|&i| record.get(i)).unwrap_or("").trim();
        let header = |field: &str| index.get(field).and_then(|&i| headers.get(i)).unwrap_or(field).trim().to_owned();
        let text = |field: &str, required: bool, err: &mut dyn FnMut(&str, String)| -> String {
            let v = get(field);
            if required && v.is_empty() {
                err(&header(field), "is empty".into());
            } else if v.chars().count() > MAX_TEXT || v.chars().any(char::is_control) {
                err(&header(field), format!("is longer than {MAX_TEXT} characters or holds control characters"));
            }
            v.to_owned()
        };

        let id = PersonId::parse(get("persoon_id")).map_err(|r| err(&header("persoon_id"), r)).ok();
        let name = if index.contains_key("naam") {
            text("naam", true, &mut err)
        } else {
            let parts = [get("voornamen"), get("voorvoegsel"), get("geslachtsnaam")];
            let joined = parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(" ");
            if get("geslachtsnaam").is_empty() {
                err(&header("geslachtsnaam"), "is empty".into());
            } else if joined.chars().count() > MAX_TEXT || joined.chars().any(char::is_control) {
                err(
                    &header("geslachtsnaam"),
                    format!("the name is longer than {MAX_TEXT} characters or holds control characters"),
                );
            }
            joined
        };
        let street = text("straat", true, &mut err);
        let city = text("woonplaats", true, &mut err);
        let (number_raw, mut addition) = split_house_number(get("huisnummer"));
        let house_number = match number_raw.parse::<u32>() {
            Ok(n) if (1..=99_999).contains(&n) => Some(n),
            _ => {
                err(&header("huisnummer"), format!("{:?} is not a house number (1–99999)", get("huisnummer")));
                None
            }
        };
        addition.push_str(&normalise_addition(get("huisletter")));
        addition.push_str(&normalise_addition(get("toevoeging")));
        if addition.chars().count() > 10 {
            err(&header("toevoeging"), "the house-number addition is longer than 10 characters".into());
        }
        let postcode = Postcode::parse(get("postcode")).map_err(|r| err(&header("postcode"), r)).ok();
        let buurt = match AreaCode::parse(Level::Buurt, get("buurtcode")) {
            Ok(code) => match tree {
                Some(t) if t.buurt(code.as_str()).is_none() => {
                    err(
                        &header("buurtcode"),
                        format!("{code} is not a known buurt; import the municipality's areas first (buurtpeil areas import)"),
                    );
                    None
                }
                _ => Some(code),
            },
            Err(e) => {
                err(&header("buurtcode"), e.to_string());
                None
            }
        };
        let birth_header = birth_col.and_then(|i| headers.get(i)).unwrap_or("geboortedatum").trim().to_owned();
        let birth_raw = birth_col.and_then(|i| record.get(i)).unwrap_or("").trim();
        let birth = parse_birth(birth_raw).map_err(|r| err(&birth_header, r)).ok();
        let gender = Gender::parse(get("geslacht")).map_err(|r| err(&header("geslacht"), r)).ok();
        let email = match email_col.and_then(|i| record.get(i)).map(str::trim) {
            None | Some("") => None,
            Some(raw) => match EmailAddress::parse(raw) {
                Ok(e) => Some(e.as_str().to_owned()),
                Err(e) => {
                    let h = email_col.and_then(|i| headers.get(i)).unwrap_or("email").trim().to_owned();
                    err(&h, e.to_string());
                    None
                }
            },
        };
        if let Some(id) = &id {
            if let Some(first) = ids.get(id) {
                err(&header("persoon_id"), format!("person id {id} appears twice (first on line {first})"));
            } else {
                ids.insert(id.clone(), line);
            }
        }
        if let (Some(id), Some(house_number), Some(postcode), Some(buurt), Some(birth), Some(gender), true) =
            (id, house_number, postcode, buurt, birth, gender, errors.len() == before)
        {
            let address = Address { street, house_number, addition, postcode, city };
            match addresses.get(&address.key()) {
                Some((other, first)) if *other != buurt => {
                    errors.push(RegisterError {
                        line,
                        field: header("buurtcode"),
                        reason: format!(
                            "address {} lies in {other} on line {first} but in {buurt} here",
                            address.key().replace('|', " ")
                        ),
                    });
                    continue;
                }
                Some(_) => {}
                None => {
                    addresses.insert(address.key(), (buurt.clone(), line));
                }
            }
            people.push(Person { id, name, address, buurt, birth, gender, email });
        }
    }
    if errors.is_empty() && people.is_empty() {
        return Err(whole("the file holds no people".into()));
    }
    if !errors.is_empty() {
        return Err(RegisterErrors { file: file.into(), errors });
    }
    Ok(people)
}

/// Reads an allocation file: CSV with a buurt code and a number per row
/// (header `buurt,aantal`; also `buurtcode`/`BU_CODE` and `n`/`count`/`size`).
/// With `tree`, every code must be a known buurt.
pub fn parse_allocation(
    file: &str,
    reader: impl Read,
    tree: Option<&AreaTree>,
) -> Result<BTreeMap<String, u64>, RegisterErrors> {
    let whole = |reason: String| RegisterErrors {
        file: file.into(),
        errors: vec![RegisterError { line: 0, field: "-".into(), reason }],
    };
    let mut bytes = Vec::new();
    reader.take(16 * 1024 * 1024).read_to_end(&mut bytes).map_err(|e| whole(format!("cannot read the file: {e}")))?;
    let text = crate::csv_text::utf8_or_windows1252(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.contains(';') { b';' } else { b',' };
    let newlines: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    let line_at = |byte: u64| newlines.partition_point(|&i| (i as u64) <= byte) as u64 + 1;
    let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| whole(format!("cannot read the header: {e}")))?.clone();
    let simple: Vec<String> = headers.iter().map(simplify).collect();
    let find = |names: &[&str]| names.iter().find_map(|n| simple.iter().position(|h| h == n));
    let (Some(code_col), Some(n_col)) =
        (find(&["buurt", "buurtcode", "bucode"]), find(&["aantal", "n", "count", "size", "number"]))
    else {
        return Err(whole(format!(
            "the header must have the columns buurt and aantal (found: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        )));
    };
    let mut errors = Vec::new();
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in rdr.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                errors.push(RegisterError { line, field: "-".into(), reason: format!("unreadable row: {e}") });
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        let field = |i: usize| headers.get(i).unwrap_or("-").trim().to_owned();
        let raw_code = record.get(code_col).unwrap_or("").trim();
        let code = match AreaCode::parse(Level::Buurt, raw_code) {
            Ok(c) if tree.is_some_and(|t| t.buurt(c.as_str()).is_none()) => {
                errors.push(RegisterError {
                    line,
                    field: field(code_col),
                    reason: format!("{c} is not a known buurt"),
                });
                None
            }
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(RegisterError { line, field: field(code_col), reason: e.to_string() });
                None
            }
        };
        let raw_n = record.get(n_col).unwrap_or("").trim();
        let n = match raw_n.parse::<u64>() {
            Ok(n) if n <= 10_000_000 => Some(n),
            _ => {
                errors.push(RegisterError {
                    line,
                    field: field(n_col),
                    reason: format!("{raw_n:?} is not a whole number of people"),
                });
                None
            }
        };
        if let (Some(code), Some(n)) = (code, n) {
            if let Some(first) = seen.get(code.as_str()) {
                errors.push(RegisterError {
                    line,
                    field: field(code_col),
                    reason: format!("{code} appears twice (first on line {first})"),
                });
            } else {
                seen.insert(code.to_string(), line);
                out.insert(code.to_string(), n);
            }
        }
    }
    if errors.is_empty() && out.is_empty() {
        return Err(whole("the file names no buurten".into()));
    }
    if !errors.is_empty() {
        return Err(RegisterErrors { file: file.into(), errors });
    }
    Ok(out)
}

/// `12`, `12a`, `12-II`, `12 bis` → (`12`, normalised addition).
fn split_house_number(raw: &str) -> (&str, String) {
    let end = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    (&raw[..end], normalise_addition(&raw[end..]))
}

/// `1980`, `1980-04-02`, `19800402`, `02-04-1980` or `2-4-1980`.
fn parse_birth(raw: &str) -> Result<Birth, String> {
    let bad = || format!("{raw:?} is not a year or date of birth (use 1980, 1980-04-02 or 02-04-1980)");
    let plausible = |y: i32| (1880..=2200).contains(&y);
    if raw.is_empty() {
        return Err("is empty".into());
    }
    if raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()) {
        let y: i32 = raw.parse().map_err(|_| bad())?;
        return if plausible(y) { Ok(Birth::Year(y)) } else { Err(bad()) };
    }
    // A BRP date may have unknown parts written as 00 (e.g. 19800000).
    if raw.len() == 8 && raw.bytes().all(|b| b.is_ascii_digit()) {
        let y: i32 = raw[..4].parse().map_err(|_| bad())?;
        if !plausible(y) {
            return Err(bad());
        }
        if &raw[4..] == "0000" || &raw[6..] == "00" {
            return Ok(Birth::Year(y));
        }
        return NaiveDate::parse_from_str(raw, "%Y%m%d").map(Birth::Date).map_err(|_| bad());
    }
    for format in ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(raw, format) {
            return if plausible(d.year()) { Ok(Birth::Date(d)) } else { Err(bad()) };
        }
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub const SAMPLE: &str =
        "persoon_id,naam,straat,huisnummer,toevoeging,postcode,woonplaats,buurtcode,geboortejaar,geslacht,email\n\
        P001,Anna de Vries,Markt,1,,5611 AB,Eindhoven,BU07721110,1980,V,anna@example.nl\n\
        P002,Bram de Vries,Markt,1,,5611AB,Eindhoven,BU07721110,1982,M,\n\
        P003,Chris Jansen,Bergstraat,12,a,5611 AC,Eindhoven,BU07721120,2001,X,\n";

    #[test]
    fn reads_a_register() {
        let people = parse_register("r.csv", SAMPLE.as_bytes()).unwrap();
        assert_eq!(people.len(), 3);
        assert_eq!(people[0].address.key(), "5611AB|1|");
        assert_eq!(people[1].address.key(), people[0].address.key());
        assert_eq!(people[2].address.key(), "5611AC|12|A");
        assert_eq!(people[0].email.as_deref(), Some("anna@example.nl"));
        assert_eq!(people[2].gender, Gender::Other);
        assert_eq!(people[1].birth, Birth::Year(1982));
    }

    #[test]
    fn reads_brp_headers_semicolons_bom_and_crlf() {
        let brp = "\u{feff}Pseudoniem;Geslachtsnaam;Voorvoegsel;Voornamen;Straatnaam;Huisnummer;Huisletter;Huisnummertoevoeging;Postcode;Woonplaats;BU_CODE;Geboortedatum;Geslacht;E-mail\r\n\
            X1;Vries;de;Anna;Markt;1;b;2;5611AB;Eindhoven;BU07721110;19800402;vrouw;\r\n\
            X2;Jansen;;Chris;Markt;3;;;5611AB;Eindhoven;BU07721110;02-04-1990;anders;c@d.nl\r\n";
        let people = parse_register("brp.csv", brp.as_bytes()).unwrap();
        assert_eq!(people[0].name, "Anna de Vries");
        assert_eq!(people[0].address.key(), "5611AB|1|B2");
        assert_eq!(people[0].birth, Birth::Date(NaiveDate::from_ymd_opt(1980, 4, 2).unwrap()));
        assert_eq!(people[1].birth, Birth::Date(NaiveDate::from_ymd_opt(1990, 4, 2).unwrap()));
        assert_eq!(people[1].name, "Chris Jansen");
    }

    #[test]
    fn collects_every_problem_with_line_and_field() {
        let bad = SAMPLE
            .replace("5611 AB,Eindhoven,BU07721110,1980", "56 AB,Eindhoven,BU07721110,1980")
            .replace("2001,X", "2001,Q")
            .replace("P002", "P001")
            .replace('\n', "\r\n");
        let err = parse_register("r.csv", bad.as_bytes()).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.errors.len(), 3, "{text}");
        assert!(text.contains("r.csv, line 2, field postcode:"), "{text}");
        assert!(
            text.contains("r.csv, line 3, field persoon_id: person id P001 appears twice (first on line 2)"),
            "{text}"
        );
        assert!(text.contains("r.csv, line 4, field geslacht:"), "{text}");
        assert!(text.contains("3 problems found"), "{text}");
    }

    /// Excel on a Dutch Windows saves "CSV" as Windows-1252: € ‘ ’ – and
    /// accents are single bytes that Latin-1 would turn into control
    /// characters.
    #[test]
    fn reads_a_windows_1252_register() {
        let cp1252: &[u8] =
            b"persoon_id;naam;straat;huisnummer;postcode;woonplaats;buurtcode;geboortejaar;geslacht\r\n\
            P1;Ren\xe9e d\x92Ancona \x96 van \x91t Hof;Caf\xe9 \x80uropaplein;1;5611 AB;Eindhoven;BU07721110;1980;V\r\n\
            P2;Zo\xeb \x8aimi\x9f;\x84s-Hertogenweg;2;5611 AB;Eindhoven;BU07721110;1990;M\r\n";
        let people = parse_register("brp.csv", cp1252).unwrap();
        let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Renée d’Ancona – van ‘t Hof", "Zoë ŠimiŸ"]);
        assert_eq!(people[0].address.street, "Café €uropaplein");
        assert_eq!(people[1].address.street, "„s-Hertogenweg");
        // The same register in UTF-8 is the same register.
        let utf8 = encoding_rs::WINDOWS_1252.decode(cp1252).0.into_owned();
        assert_eq!(parse_register("brp.csv", utf8.as_bytes()).unwrap(), people);
    }

    #[test]
    fn rejects_missing_columns_empty_files_and_binary() {
        let err = parse_register("r.csv", "naam,x\nA,1\n".as_bytes()).unwrap_err().to_string();
        assert!(err.contains("no column persoon_id") && err.contains("no column buurtcode"), "{err}");
        let header = SAMPLE.lines().next().unwrap();
        assert!(parse_register("r.csv", header.as_bytes()).unwrap_err().to_string().contains("holds no people"));
        assert!(parse_register("r.csv", &[0xff, 0xfe, 0x00][..]).is_err(), "binary is no register in any encoding");
        assert!(parse_register("r.csv", "".as_bytes()).is_err());
    }

    #[test]
    fn one_address_cannot_lie_in_two_buurten() {
        let bad = SAMPLE.replace("5611AB,Eindhoven,BU07721110", "5611AB,Eindhoven,BU07721120");
        let err = parse_register("r.csv", bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("line 3, field buurtcode: address 5611AB 1  lies in BU07721110"), "{err}");
    }

    #[test]
    fn checks_buurten_against_known_areas() {
        let areas = crate::area::parse_csv("e", crate::demo::EINDHOVEN_BUURTEN_CSV.as_bytes()).unwrap();
        let tree = AreaTree::new(areas);
        assert!(parse_register_known("r.csv", SAMPLE.as_bytes(), &tree).is_ok());
        let bad = SAMPLE.replace("BU07721120", "BU07729999");
        let err = parse_register_known("r.csv", bad.as_bytes(), &tree).unwrap_err().to_string();
        assert!(err.contains("line 4, field buurtcode: BU07729999 is not a known buurt"), "{err}");
    }

    #[test]
    fn ages_are_never_overstated() {
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        assert_eq!(Birth::Year(2010).age_on(on), 15);
        assert_eq!(Birth::Year(2010).age_on(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()), 16);
        assert_eq!(Birth::Date(NaiveDate::from_ymd_opt(2010, 6, 1).unwrap()).age_on(on), 16);
        assert_eq!(Birth::Date(NaiveDate::from_ymd_opt(2010, 6, 2).unwrap()).age_on(on), 15);
        assert_eq!(parse_birth("19800000"), Ok(Birth::Year(1980)));
        assert!(parse_birth("1799").is_err() && parse_birth("1980-13-01").is_err());
    }

    #[test]
    fn reads_allocation_files() {
        let a = parse_allocation("a.csv", "buurt;aantal\r\nBU07721110;3\r\nBU07721120;0\r\n".as_bytes(), None).unwrap();
        assert_eq!(a.get("BU07721110"), Some(&3));
        let err = parse_allocation("a.csv", "buurt,aantal\nBU0772111,3\nBU07721120,-1\n".as_bytes(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2, field buurt:") && err.contains("line 3, field aantal:"), "{err}");
        assert!(parse_allocation("a.csv", "x,y\n".as_bytes(), None).is_err());
    }

    proptest! {
        #[test]
        fn any_allocation_never_panics(body in "\\PC{0,200}") {
            let _ = parse_allocation("a.csv", format!("buurt,aantal\n{body}").as_bytes(), None);
        }

        #[test]
        fn any_csv_never_panics(body in "\\PC{0,400}") {
            let _ = parse_register("p.csv", format!("{}{body}", SAMPLE).as_bytes());
            let _ = parse_register("p.csv", body.as_bytes());
        }

        #[test]
        fn any_fields_never_panic(fields in proptest::collection::vec("[^\n\r]{0,12}", 11)) {
            let row = fields.join(",");
            let _ = parse_register("p.csv", format!("{}{row}\n", SAMPLE).as_bytes());
        }

        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_register("p.csv", &bytes[..]);
        }
    }
}
