//! Who is invited, parsed once: the campaign's name, the base URL of the
//! links, and each invitee's contact fields (from the lottery's selection, or
//! from a CSV file until that is wired in).

use std::collections::HashSet;

use crate::area::{AreaCode, Level};
use crate::auth::EmailAddress;

/// One person to invite. Personal data: kept only until `purge_contacts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitee {
    /// The register's key of the person, unique within a campaign.
    pub person_key: String,
    pub name: String,
    /// Street, number and addition: `Markt 1 A`.
    pub street_line: String,
    /// `1234 AB`.
    pub postcode: String,
    pub city: String,
    pub buurt: AreaCode,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteeError {
    #[error("{0}")]
    Field(String),
    #[error("{file}, line {line}: {message}")]
    Line { file: String, line: u64, message: String },
    #[error("{file}: {message}")]
    File { file: String, message: String },
}

/// A campaign's name: 1–64 of a–z, 0–9, `-` and `_`, so it fits a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignName(String);

impl CampaignName {
    pub fn parse(raw: &str) -> Result<CampaignName, InviteeError> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(CampaignName(s.to_owned()))
        } else {
            Err(InviteeError::Field(format!(
                "campaign name {:?}: use 1 to 64 lower-case letters, digits, - or _",
                s.chars().take(70).collect::<String>()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CampaignName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the links point: `http(s)://host[:port][/prefix]`, without a query,
/// fragment or trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn parse(raw: &str) -> Result<BaseUrl, InviteeError> {
        let s = raw.trim().trim_end_matches('/');
        let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
        let ok = rest.is_some_and(|r| {
            !r.is_empty()
                && !r.starts_with('/')
                && r.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#' | b'"' | b'<' | b'>' | b'\\'))
        }) && s.len() <= 200;
        if ok {
            Ok(BaseUrl(s.to_owned()))
        } else {
            Err(InviteeError::Field(format!(
                "base URL {:?}: use http(s)://host[/path], without ? or #",
                s.chars().take(80).collect::<String>()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The personal link of a token.
    pub fn link(&self, token: &super::InviteToken) -> String {
        format!("{}/i/{}", self.0, token.as_str())
    }
}

/// A Dutch postcode, normalised to `1234 AB`.
pub fn parse_postcode(raw: &str) -> Result<String, String> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let b = s.as_bytes();
    let ok = b.len() == 6
        && b[0].is_ascii_digit()
        && b[0] != b'0'
        && b[1..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_uppercase)
        && !matches!(&s[4..], "SA" | "SD" | "SS");
    if ok {
        Ok(format!("{} {}", &s[..4], &s[4..]))
    } else {
        Err(format!("postcode {:?} is not a Dutch postcode like 1234 AB", raw.chars().take(20).collect::<String>()))
    }
}

/// A text field for a letter: trimmed, control characters made spaces,
/// never empty, at most `max` characters.
fn text_field(name: &str, raw: &str, max: usize) -> Result<String, String> {
    let s: String = raw.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return Err(format!("{name} is empty"));
    }
    if s.chars().count() > max {
        return Err(format!("{name} is longer than {max} characters"));
    }
    Ok(s)
}

impl Invitee {
    /// Checks and normalises every field.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        person_key: &str,
        name: &str,
        street_line: &str,
        postcode: &str,
        city: &str,
        buurt: &str,
        email: &str,
    ) -> Result<Invitee, String> {
        let email = match email.trim() {
            "" => None,
            e => Some(EmailAddress::parse(e).map_err(|err| format!("email: {err}"))?.as_str().to_owned()),
        };
        Ok(Invitee {
            person_key: text_field("person_key", person_key, 100)?,
            name: text_field("name", name, 100)?,
            street_line: text_field("street_line", street_line, 100)?,
            postcode: parse_postcode(postcode)?,
            city: text_field("city", city, 60)?,
            buurt: AreaCode::parse(Level::Buurt, buurt.trim()).map_err(|e| e.to_string())?,
            email,
        })
    }
}

impl Invitee {
    /// A person drawn by lot, as an invitee: the address as one line for
    /// the envelope.
    pub fn of_person(p: &crate::lottery::Person) -> Result<Invitee, String> {
        let a = &p.address;
        let street_line = format!("{} {}{}", a.street, a.house_number, a.addition);
        Invitee::parse(
            p.id.as_str(),
            &p.name,
            &street_line,
            a.postcode.as_str(),
            &a.city,
            p.buurt.as_str(),
            p.email.as_deref().unwrap_or(""),
        )
        .map_err(|e| format!("person {}: {e}", p.id.as_str()))
    }
}

/// The columns of an invitee CSV file, with their Dutch alternatives.
const COLUMNS: [(&str, &[&str]); 7] = [
    ("person_key", &["person_key", "sleutel"]),
    ("name", &["name", "naam"]),
    ("street_line", &["street_line", "adres"]),
    ("postcode", &["postcode"]),
    ("city", &["city", "woonplaats"]),
    ("buurt", &["buurt", "buurtcode"]),
    ("email", &["email", "e-mail", "emailadres"]),
];

/// Reads invitees from CSV (comma or semicolon separated, header row with
/// the column names above; `email` may be left out). Every row is checked;
/// the first problem is reported with its line.
pub fn parse_invitees_csv(file: &str, reader: impl std::io::Read) -> Result<Vec<Invitee>, InviteeError> {
    let mut raw = String::new();
    let mut reader = reader;
    std::io::Read::read_to_string(&mut reader, &mut raw).map_err(|e| InviteeError::File {
        file: file.to_owned(),
        message: format!("cannot read it as UTF-8 text: {e}"),
    })?;
    let raw = raw.trim_start_matches('\u{feff}');
    let first = raw.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
    let mut csv = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(raw.as_bytes());
    let headers: Vec<String> = csv
        .headers()
        .map_err(|e| InviteeError::File { file: file.to_owned(), message: e.to_string() })?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut index = [None; 7];
    for (i, (name, aliases)) in COLUMNS.iter().enumerate() {
        index[i] = headers.iter().position(|h| aliases.contains(&h.as_str()));
        if index[i].is_none() && *name != "email" {
            return Err(InviteeError::File { file: file.to_owned(), message: format!("no column {name}") });
        }
    }
    let mut out = Vec::new();
    let mut keys = HashSet::new();
    for record in csv.records() {
        let record = record.map_err(|e| InviteeError::File { file: file.to_owned(), message: e.to_string() })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |i: usize| index[i].and_then(|j| record.get(j)).unwrap_or("");
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let invitee = Invitee::parse(get(0), get(1), get(2), get(3), get(4), get(5), get(6))
            .map_err(|message| InviteeError::Line { file: file.to_owned(), line, message })?;
        if !keys.insert(invitee.person_key.clone()) {
            return Err(InviteeError::Line {
                file: file.to_owned(),
                line,
                message: format!("person_key {:?} appears twice", invitee.person_key),
            });
        }
        out.push(invitee);
    }
    if out.is_empty() {
        return Err(InviteeError::File { file: file.to_owned(), message: "holds no invitees".into() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields() {
        assert_eq!(parse_postcode("5611ab").unwrap(), "5611 AB");
        assert_eq!(parse_postcode(" 5611 AB ").unwrap(), "5611 AB");
        for bad in ["0611AB", "561AB", "5611 A1", "5611SS", "", "56111AB"] {
            assert!(parse_postcode(bad).is_err(), "{bad}");
        }
        assert!(CampaignName::parse("geluk-2026").is_ok());
        assert!(CampaignName::parse("Geluk 2026").is_err());
        assert!(CampaignName::parse("../x").is_err());
        assert_eq!(BaseUrl::parse("https://peil.example.nl/").unwrap().as_str(), "https://peil.example.nl");
        for bad in ["ftp://x", "https://", "https://x/?a=1", "javascript:alert(1)", "https://a b"] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_csv_with_line_numbers() {
        let good = "person_key;naam;adres;postcode;woonplaats;buurt;email\n\
                    p1;Zoë Ëlberg;Markt 1 A;5611ab;Eindhoven;BU07721110;zoe@example.nl\n\
                    p2;Jan\tJansen;Kerkstraat 2;5611 AC;Eindhoven;BU07721110;\n";
        let list = parse_invitees_csv("x.csv", good.as_bytes()).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "Zoë Ëlberg");
        assert_eq!(list[1].name, "Jan Jansen");
        assert_eq!(list[1].email, None);
        let bad = good.replace("BU07721110;zoe", "BU0772;zoe");
        let err = parse_invitees_csv("x.csv", bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("x.csv, line 2"), "{err}");
        let twice = good.replace("p2;", "p1;");
        assert!(parse_invitees_csv("x.csv", twice.as_bytes()).unwrap_err().to_string().contains("twice"));
        assert!(parse_invitees_csv("x.csv", "a,b\n".as_bytes()).unwrap_err().to_string().contains("no column"));
    }
}
