//! The catalogue of initiatives, activities, clubs, social enterprises and
//! requests for help in a buurt: what they offer and what (whom) they need.
//! What they need is said in the talentenscan's own words (its option
//! values), so it can be matched to what residents answered.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::matching::{Need, Time};
use super::profile::place;
use crate::area::{AreaCode, AreaTree, Level};
use crate::db::schema::talent_initiatives as ti;
use crate::db::{AnyConnection, DbError};
use crate::i18n::Lang;
use crate::questionnaire::Definition;

pub const MAX_NAME: usize = 200;
pub const MAX_OFFERS: usize = 2000;
pub const MAX_CONTACT: usize = 300;

/// What sort of thing it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum InitiativeKind {
    Initiative,
    Activity,
    Club,
    SocialEnterprise,
    HelpRequest,
}

impl InitiativeKind {
    pub const ALL: [InitiativeKind; 5] = [
        InitiativeKind::Initiative,
        InitiativeKind::Activity,
        InitiativeKind::Club,
        InitiativeKind::SocialEnterprise,
        InitiativeKind::HelpRequest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InitiativeKind::Initiative => "initiatief",
            InitiativeKind::Activity => "activiteit",
            InitiativeKind::Club => "club",
            InitiativeKind::SocialEnterprise => "sociale_onderneming",
            InitiativeKind::HelpRequest => "hulpvraag",
        }
    }

    pub fn parse(s: &str) -> Option<InitiativeKind> {
        InitiativeKind::ALL.into_iter().find(|k| k.as_str() == s.trim().to_lowercase())
    }
}

/// Whether it is looking for people now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Status {
    Open,
    Paused,
    Closed,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Open, Status::Paused, Status::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Paused => "gepauzeerd",
            Status::Closed => "gesloten",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|k| k.as_str() == s.trim().to_lowercase())
    }
}

/// The words initiatives may use: the options of the talentenscan's
/// questions `talenten` (skills, also what one can learn), `doen_buurt`
/// (activities) and `voor_wie` (audience), with their labels.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub skills: Vec<(String, String)>,
    pub activities: Vec<(String, String)>,
    pub audience: Vec<(String, String)>,
    pub times: Vec<(String, String)>,
}

impl Vocabulary {
    /// From a version of the talentenscan, with labels in `lang`. Values
    /// without label ("anders") are left out.
    pub fn new(def: &Definition, lang: Lang) -> Vocabulary {
        let options = |id: &str| -> Vec<(String, String)> {
            def.question(id)
                .map(|q| {
                    q.kind
                        .choices()
                        .into_iter()
                        .filter(|c| c.value != crate::questionnaire::OTHER)
                        .map(|c| (c.value.clone(), c.label.get(lang).to_owned()))
                        .collect()
                })
                .unwrap_or_default()
        };
        Vocabulary {
            skills: options("talenten"),
            activities: options("doen_buurt"),
            audience: options("voor_wie"),
            times: options("tijd").into_iter().filter(|(v, _)| Time::parse(v).is_some()).collect(),
        }
    }

    /// The label of any value, for explanations; the value itself if unknown.
    pub fn label<'a>(&'a self, value: &'a str) -> &'a str {
        [&self.skills, &self.activities, &self.audience, &self.times]
            .into_iter()
            .flatten()
            .find(|(v, _)| v == value)
            .map(|(_, l)| l.as_str())
            .unwrap_or(value)
    }
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("missing")]
    Missing,
    #[error("longer than {0} characters")]
    TooLong(usize),
    #[error("unknown value {0:?}")]
    Unknown(String),
    #[error("not a buurt in your area")]
    OutsideArea,
}

impl FieldError {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (FieldError::Missing, Lang::Nl) => "Vul dit in.".into(),
            (FieldError::Missing, Lang::En) => "Fill this in.".into(),
            (FieldError::TooLong(n), Lang::Nl) => format!("Gebruik hoogstens {n} tekens."),
            (FieldError::TooLong(n), Lang::En) => format!("Use at most {n} characters."),
            (FieldError::Unknown(v), Lang::Nl) => format!("Onbekende waarde {v:?}."),
            (FieldError::Unknown(v), Lang::En) => format!("Unknown value {v:?}."),
            (FieldError::OutsideArea, Lang::Nl) => "Kies een buurt in uw eigen gebied.".into(),
            (FieldError::OutsideArea, Lang::En) => "Choose a buurt in your own area.".into(),
        }
    }
}

/// The problems of a form or a CSV row, by field name.
pub type FieldErrors = BTreeMap<&'static str, FieldError>;

/// The fields as typed (a form) or read (a CSV row); lists hold option
/// values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitiativeFields {
    pub buurt: String,
    pub name: String,
    pub kind: String,
    pub offers: String,
    pub skills: Vec<String>,
    pub teaches: Vec<String>,
    pub activities: Vec<String>,
    pub audience: Vec<String>,
    pub time: String,
    pub contact: String,
    pub status: String,
}

/// A checked initiative: every value known, every text within bounds, the
/// buurt inside the professional's area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInitiative {
    pub buurt: AreaCode,
    pub name: String,
    pub kind: InitiativeKind,
    pub offers: String,
    pub skills: BTreeSet<String>,
    pub teaches: BTreeSet<String>,
    pub activities: BTreeSet<String>,
    pub audience: BTreeSet<String>,
    pub time: Option<Time>,
    pub contact: String,
    pub status: Status,
}

fn bounded(s: &str, max: usize, required: bool) -> Result<String, FieldError> {
    let s = s.trim();
    if required && s.is_empty() {
        Err(FieldError::Missing)
    } else if s.chars().count() > max {
        Err(FieldError::TooLong(max))
    } else {
        Ok(s.chars().filter(|c| !c.is_control() || *c == '\n').collect())
    }
}

fn known(values: &[String], allowed: &[(String, String)]) -> Result<BTreeSet<String>, FieldError> {
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| {
            if allowed.iter().any(|(a, _)| a == v) {
                Ok(v.to_owned())
            } else {
                Err(FieldError::Unknown(v.chars().take(40).collect()))
            }
        })
        .collect()
}

impl NewInitiative {
    /// Checks every field; all problems at once. `in_area` says whether a
    /// buurt is one the professional may work in.
    pub fn parse(
        f: &InitiativeFields,
        vocab: &Vocabulary,
        tree: &AreaTree,
        in_area: impl Fn(&str) -> bool,
    ) -> Result<NewInitiative, FieldErrors> {
        let mut errors = FieldErrors::new();
        fn take<T>(errors: &mut FieldErrors, field: &'static str, r: Result<T, FieldError>) -> Option<T> {
            r.map_err(|e| errors.insert(field, e)).ok()
        }
        let e = &mut errors;
        let buurt = take(
            e,
            "buurt",
            buurt_of(&f.buurt, tree)
                .and_then(|b| if in_area(b.as_str()) { Ok(b) } else { Err(FieldError::OutsideArea) }),
        );
        let name = take(e, "naam", bounded(&f.name, MAX_NAME, true));
        let kind = take(
            e,
            "soort",
            InitiativeKind::parse(&f.kind).ok_or_else(|| FieldError::Unknown(f.kind.chars().take(40).collect())),
        );
        let offers = take(e, "aanbod", bounded(&f.offers, MAX_OFFERS, false));
        let skills = take(e, "talenten", known(&f.skills, &vocab.skills));
        let teaches = take(e, "leert", known(&f.teaches, &vocab.skills));
        let activities = take(e, "doen", known(&f.activities, &vocab.activities));
        let audience = take(e, "voor_wie", known(&f.audience, &vocab.audience));
        let time = take(
            e,
            "tijd",
            match f.time.trim() {
                "" => Ok(None),
                t => Time::parse(t).map(Some).ok_or_else(|| FieldError::Unknown(t.chars().take(40).collect())),
            },
        );
        let contact = take(e, "contact", bounded(&f.contact, MAX_CONTACT, false));
        let status = take(
            e,
            "status",
            match f.status.trim() {
                "" => Ok(Status::Open),
                s => Status::parse(s).ok_or_else(|| FieldError::Unknown(s.chars().take(40).collect())),
            },
        );
        if let (
            Some(buurt),
            Some(name),
            Some(kind),
            Some(offers),
            Some(skills),
            Some(teaches),
            Some(activities),
            Some(audience),
            Some(time),
            Some(contact),
            Some(status),
        ) = (buurt, name, kind, offers, skills, teaches, activities, audience, time, contact, status)
        {
            if errors.is_empty() {
                return Ok(NewInitiative {
                    buurt,
                    name,
                    kind,
                    offers,
                    skills,
                    teaches,
                    activities,
                    audience,
                    time,
                    contact,
                    status,
                });
            }
        }
        Err(errors)
    }
}

/// A buurt by code (`BU…`) or by its exact name (any case).
fn buurt_of(raw: &str, tree: &AreaTree) -> Result<AreaCode, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::Missing);
    }
    if let Ok(code) = AreaCode::parse(Level::Buurt, raw) {
        if tree.buurt(code.as_str()).is_some() {
            return Ok(code);
        }
    }
    tree.at_level(Level::Buurt)
        .find(|b| b.name.eq_ignore_ascii_case(raw))
        .map(|b| b.code.clone())
        .ok_or_else(|| FieldError::Unknown(raw.chars().take(40).collect()))
}

/// An initiative as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Initiative {
    pub id: i32,
    pub buurt: String,
    pub name: String,
    pub kind: String,
    pub offers: String,
    pub skills: Vec<String>,
    pub teaches: Vec<String>,
    pub activities: Vec<String>,
    pub audience: Vec<String>,
    pub time: String,
    pub contact: String,
    pub status: String,
    pub updated_on: NaiveDate,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn joined(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(" ")
}

impl Initiative {
    /// Its side of a match.
    pub fn need(&self, tree: &AreaTree) -> Need {
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
        Need {
            id: self.id,
            place: place(&self.buurt, tree),
            skills: set(&self.skills),
            teaches: set(&self.teaches),
            activities: set(&self.activities),
            audience: set(&self.audience),
            time: Time::parse(&self.time),
        }
    }

    /// As a form shows it.
    pub fn fields(&self) -> InitiativeFields {
        InitiativeFields {
            buurt: self.buurt.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
            offers: self.offers.clone(),
            skills: self.skills.clone(),
            teaches: self.teaches.clone(),
            activities: self.activities.clone(),
            audience: self.audience.clone(),
            time: self.time.clone(),
            contact: self.contact.clone(),
            status: self.status.clone(),
        }
    }
}

type Row = (i32, String, String, String, String, String, String, String, String, String, String, String, NaiveDate);

fn from_row(r: Row) -> Initiative {
    Initiative {
        id: r.0,
        buurt: r.1,
        name: r.2,
        kind: r.3,
        offers: r.4,
        skills: words(&r.5),
        teaches: words(&r.6),
        activities: words(&r.7),
        audience: words(&r.8),
        time: r.9,
        contact: r.10,
        status: r.11,
        updated_on: r.12,
    }
}

macro_rules! columns {
    () => {
        (
            ti::id,
            ti::buurt,
            ti::name,
            ti::kind,
            ti::offers,
            ti::skills,
            ti::teaches,
            ti::activities,
            ti::audience,
            ti::time_needed,
            ti::contact,
            ti::status,
            ti::updated_on,
        )
    };
}

/// The stored columns of a checked initiative.
macro_rules! values {
    ($n:expr, $today:expr) => {{
        let n: &NewInitiative = $n;
        (
            ti::buurt.eq(n.buurt.as_str()),
            ti::name.eq(&n.name),
            ti::kind.eq(n.kind.as_str()),
            ti::offers.eq(&n.offers),
            ti::skills.eq(joined(&n.skills)),
            ti::teaches.eq(joined(&n.teaches)),
            ti::activities.eq(joined(&n.activities)),
            ti::audience.eq(joined(&n.audience)),
            ti::time_needed.eq(n.time.map(Time::as_str).unwrap_or("")),
            ti::contact.eq(&n.contact),
            ti::status.eq(n.status.as_str()),
            ti::updated_on.eq($today),
        )
    }};
}

pub fn insert(conn: &mut AnyConnection, n: &NewInitiative, today: NaiveDate) -> Result<(), DbError> {
    diesel::insert_into(ti::table).values(values!(n, today)).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut AnyConnection, id: i32, n: &NewInitiative, today: NaiveDate) -> Result<bool, DbError> {
    Ok(diesel::update(ti::table.filter(ti::id.eq(id))).set(values!(n, today)).execute(conn)? > 0)
}

pub fn load(conn: &mut AnyConnection, id: i32) -> Result<Option<Initiative>, DbError> {
    let row: Option<Row> = ti::table.filter(ti::id.eq(id)).select(columns!()).first(conn).optional()?;
    Ok(row.map(from_row))
}

/// The initiatives of these buurten, by name.
pub fn in_buurten(conn: &mut AnyConnection, buurten: &[String]) -> Result<Vec<Initiative>, DbError> {
    let rows: Vec<Row> = ti::table
        .filter(ti::buurt.eq_any(buurten))
        .order((ti::name.asc(), ti::id.asc()))
        .select(columns!())
        .load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// A CSV import's problems: every bad row, with line and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    pub line: u64,
    pub field: String,
    pub message: String,
}

/// The columns of an import file, in the form's field names.
pub const CSV_COLUMNS: [&str; 11] =
    ["buurt", "naam", "soort", "aanbod", "talenten", "leert", "doen", "voor_wie", "tijd", "contact", "status"];
const REQUIRED_COLUMNS: [&str; 3] = ["buurt", "naam", "soort"];
/// A larger file is refused unread.
pub const MAX_IMPORT_ROWS: usize = 5000;

/// Reads a CSV file of initiatives (`,` or `;`, header row with the
/// columns of `CSV_COLUMNS`; lists separated by spaces or `|`). All rows are
/// checked; any problem means nothing is returned.
pub fn parse_csv(
    bytes: &[u8],
    vocab: &Vocabulary,
    tree: &AreaTree,
    in_area: impl Fn(&str) -> bool,
    lang: Lang,
) -> Result<Vec<NewInitiative>, Vec<ImportProblem>> {
    let problem = |line: u64, field: &str, message: String| ImportProblem { line, field: field.to_owned(), message };
    // UTF-8, or Windows-1252 as Excel saves "CSV".
    let text = crate::csv_text::utf8_or_windows1252(bytes.to_vec());
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => return Err(vec![problem(1, "", e.to_string())]),
    };
    let mut problems = Vec::new();
    for c in REQUIRED_COLUMNS {
        if !header.iter().any(|h| h == c) {
            problems.push(problem(
                1,
                c,
                format!("column missing / kolom ontbreekt; columns: {}", CSV_COLUMNS.join(",")),
            ));
        }
    }
    for h in &header {
        if !CSV_COLUMNS.contains(&h.as_str()) {
            problems.push(problem(1, h, "unknown column / onbekende kolom".into()));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if i >= MAX_IMPORT_ROWS {
            return Err(vec![problem(i as u64 + 2, "", format!("more than {MAX_IMPORT_ROWS} rows"))]);
        }
        let line = record.as_ref().ok().and_then(|r| r.position()).map(|p| p.line()).unwrap_or(i as u64 + 2);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(line, "", e.to_string()));
                continue;
            }
        };
        let get =
            |name: &str| header.iter().position(|h| h == name).and_then(|p| record.get(p)).unwrap_or("").to_owned();
        let list = |name: &str| {
            get(name)
                .split(|c: char| c.is_whitespace() || c == '|')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let fields = InitiativeFields {
            buurt: get("buurt"),
            name: get("naam"),
            kind: get("soort"),
            offers: get("aanbod"),
            skills: list("talenten"),
            teaches: list("leert"),
            activities: list("doen"),
            audience: list("voor_wie"),
            time: get("tijd"),
            contact: get("contact"),
            status: get("status"),
        };
        match NewInitiative::parse(&fields, vocab, tree, &in_area) {
            Ok(n) => out.push(n),
            Err(errors) => problems.extend(errors.into_iter().map(|(f, e)| problem(line, f, e.message(lang)))),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Stores a whole import in one transaction.
pub fn insert_all(conn: &mut AnyConnection, list: &[NewInitiative], today: NaiveDate) -> Result<usize, DbError> {
    conn.transaction(|conn| {
        for n in list {
            insert(conn, n, today)?;
        }
        Ok(list.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::Area;

    fn tree() -> AreaTree {
        let a = |code: &str, name: &str, parent: Option<&str>| Area {
            code: AreaCode::parse_any(code).unwrap(),
            name: name.into(),
            parent: parent.map(|p| AreaCode::parse_any(p).unwrap()),
        };
        AreaTree::new([
            a("GM0772", "Eindhoven", None),
            a("WK077211", "Centrum", Some("GM0772")),
            a("BU07721110", "Binnenstad", Some("WK077211")),
            a("BU07721111", "Witte Dame", Some("WK077211")),
        ])
    }

    fn vocab() -> Vocabulary {
        let v = |l: &[&str]| l.iter().map(|s| (s.to_string(), s.to_uppercase())).collect();
        Vocabulary {
            skills: v(&["koken", "tuin"]),
            activities: v(&["samen_eten"]),
            audience: v(&["ouderen", "iedereen"]),
            times: v(&["wekelijks"]),
        }
    }

    #[test]
    fn a_good_csv_reads_whole() {
        let csv = "buurt;naam;soort;talenten;voor_wie;tijd\nWitte Dame;Buurtkeuken;activiteit;koken|tuin;ouderen;wekelijks\nBU07721110;\"Moestuin; de Tuin\";club;tuin;;\n";
        let got = parse_csv(csv.as_bytes(), &vocab(), &tree(), |_| true, Lang::En).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].buurt.as_str(), "BU07721111");
        assert_eq!(got[0].time, Some(Time::Weekly));
        assert_eq!(got[1].name, "Moestuin; de Tuin");
        assert_eq!(got[1].status, Status::Open);
    }

    #[test]
    fn every_bad_row_is_named_and_nothing_is_returned() {
        let csv =
            "buurt,naam,soort,talenten\nBU07721110,Goed,club,koken\nNergens,,feest,breien\nBU07721111,Ok,club,tuin\n";
        let problems = parse_csv(csv.as_bytes(), &vocab(), &tree(), |b| b != "BU07721111", Lang::En).unwrap_err();
        let summary: Vec<(u64, &str)> = problems.iter().map(|p| (p.line, p.field.as_str())).collect();
        assert_eq!(summary, vec![(3, "buurt"), (3, "naam"), (3, "soort"), (3, "talenten"), (4, "buurt")]);
        assert!(problems[4].message.contains("own area"));
    }

    #[test]
    fn a_bad_header_or_encoding_is_refused() {
        let p = parse_csv(b"naam,wat\nx,y\n", &vocab(), &tree(), |_| true, Lang::En).unwrap_err();
        assert!(p.iter().any(|p| p.field == "buurt") && p.iter().any(|p| p.field == "wat"));
        assert!(parse_csv(&[0xff, 0xfe, 0x00], &vocab(), &tree(), |_| true, Lang::En).is_err());
        let long = format!("buurt,naam,soort\nBU07721110,{},club\n", "x".repeat(MAX_NAME + 1));
        let p = parse_csv(long.as_bytes(), &vocab(), &tree(), |_| true, Lang::En).unwrap_err();
        assert_eq!(p[0].field, "naam");
    }
}
