//! XLSForm import: turns an XLSForm workbook (`.xlsx`, the format of
//! KoboToolbox and ODK) into the JSON shape of the questionnaire format
//! (docs/questionnaire-format.md). The caller feeds that JSON to the ordinary
//! questionnaire parser, which checks what the format itself demands.
//!
//! This module reports, by sheet, row and column, everything in the workbook
//! that buurtpeil cannot represent, and it reports all of it at once. Nothing
//! is dropped silently: the few things that are ignored are listed in
//! docs/xlsform.md together with the reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::{Cursor, Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};

use calamine::{DataRef, Reader, Xlsx};
use serde_json::{json, Map, Value};

use super::model::personal_detail;

/// The largest workbook accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// The most rows a sheet may have, the header row included.
pub const MAX_ROWS: u32 = 2000;
/// The most non-empty cells a sheet may have.
const MAX_CELLS: usize = 100_000;
/// An `.xlsx` file is a zip archive; these bound what it may unpack to.
const MAX_ZIP_ENTRIES: usize = 1000;
const MAX_UNPACKED_BYTES: u64 = 50 * 1024 * 1024;
/// The longest `relevant` or `constraint` accepted, in characters (as long
/// as a buurtpeil condition may be).
pub const MAX_EXPRESSION_CHARS: usize = 2000;
/// How deeply parentheses and `not()` may nest in an expression; the parser
/// recurses per level, so this bounds its stack.
pub const MAX_EXPRESSION_DEPTH: usize = 32;

const SURVEY: &str = "survey";
const CHOICES: &str = "choices";
const SETTINGS: &str = "settings";

const SUPPORTED_TYPES: &str =
    "integer, range, text, select_one, select_multiple, note, acknowledge, begin_group, end_group";

/// Metadata types that ODK fills in by itself: they carry no question, so
/// their rows are skipped.
const METADATA_TYPES: &[&str] = &[
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "start-geopoint",
    "background-audio",
];

const CONSTRAINT_HELP: &str =
    "only a range is supported as a constraint, such as . >= 1 and . <= 120 (or count-selected(.) <= 3 on select_multiple)";

/// One problem in a workbook. `row` is the row number as Excel shows it (the
/// header is row 1); `sheet` and `row` are absent for problems with the file
/// as a whole, `row` for problems with a sheet as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XlsFormError {
    pub sheet: Option<String>,
    pub row: Option<u32>,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for XlsFormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.sheet, self.row, &self.column) {
            (Some(sheet), Some(row), Some(column)) => write!(f, "{sheet} row {row}, column {column}: {}", self.message),
            (Some(sheet), Some(row), None) => write!(f, "{sheet} row {row}: {}", self.message),
            (Some(sheet), None, _) => write!(f, "{sheet}: {}", self.message),
            (None, _, _) => f.write_str(&self.message),
        }
    }
}

/// Everything that stops a workbook from being imported, in the order of the
/// sheets (survey, choices, settings) and their rows. Displayed one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.file_name, .errors))]
pub struct XlsFormErrors {
    pub file_name: String,
    pub errors: Vec<XlsFormError>,
}

fn render(file_name: &str, errors: &[XlsFormError]) -> String {
    let lines: Vec<String> =
        errors.iter().map(|e| if e.sheet.is_none() { format!("{file_name}: {e}") } else { e.to_string() }).collect();
    lines.join("\n")
}

/// Reads an XLSForm workbook and returns the questionnaire in the JSON shape
/// of the questionnaire format, or every problem found.
pub fn from_xlsx(file_name: &str, bytes: &[u8]) -> Result<Value, XlsFormErrors> {
    let mut errors = Errors::default();
    let result = match read_workbook(bytes, &mut errors) {
        Some(workbook) => convert(&workbook, &mut errors),
        None => None,
    };
    match result {
        Some(value) if errors.0.is_empty() => Ok(value),
        _ => Err(XlsFormErrors { file_name: file_name.to_string(), errors: errors.sorted() }),
    }
}

// --- errors -------------------------------------------------------------------

#[derive(Default)]
struct Errors(Vec<XlsFormError>);

impl Errors {
    fn file(&mut self, message: impl Into<String>) {
        self.0.push(XlsFormError { sheet: None, row: None, column: None, message: message.into() });
    }

    fn sheet(&mut self, sheet: &str, message: impl Into<String>) {
        self.0.push(XlsFormError { sheet: Some(sheet.into()), row: None, column: None, message: message.into() });
    }

    fn row(&mut self, sheet: &str, row: u32, message: impl Into<String>) {
        self.0.push(XlsFormError { sheet: Some(sheet.into()), row: Some(row), column: None, message: message.into() });
    }

    fn cell(&mut self, sheet: &str, row: u32, column: &str, message: impl Into<String>) {
        self.0.push(XlsFormError {
            sheet: Some(sheet.into()),
            row: Some(row),
            column: Some(column.into()),
            message: message.into(),
        });
    }

    /// File problems first, then by sheet and row; the order of discovery
    /// within a row is kept.
    fn sorted(mut self) -> Vec<XlsFormError> {
        let rank = |e: &XlsFormError| match e.sheet.as_deref() {
            None => 0,
            Some(SURVEY) => 1,
            Some(CHOICES) => 2,
            Some(SETTINGS) => 3,
            Some(_) => 4,
        };
        self.0.sort_by_key(|e| (rank(e), e.row.unwrap_or(0)));
        self.0
    }
}

// --- reading the workbook -------------------------------------------------------

/// The non-empty cells of one sheet: row → column → trimmed text, or the
/// Excel error (`#REF!`) the cell holds. Rows and columns count from 0.
#[derive(Default, Debug)]
struct RawSheet {
    cells: BTreeMap<u32, BTreeMap<u32, Result<String, String>>>,
}

#[cfg(test)]
impl RawSheet {
    fn from_grid(grid: &[&[&str]]) -> RawSheet {
        let mut sheet = RawSheet::default();
        for (r, row) in grid.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                let value = value.trim();
                if !value.is_empty() {
                    sheet.cells.entry(r as u32).or_default().insert(c as u32, Ok(value.to_string()));
                }
            }
        }
        sheet
    }
}

#[derive(Default, Debug)]
struct Workbook {
    survey: Option<RawSheet>,
    choices: Option<RawSheet>,
    settings: Option<RawSheet>,
}

/// Reads the three XLSForm sheets. Returns `None` after reporting a problem
/// that stops everything (not an `.xlsx` file, too large, unreadable).
fn read_workbook(bytes: &[u8], errors: &mut Errors) -> Option<Workbook> {
    if bytes.len() > MAX_FILE_BYTES {
        errors.file(format!(
            "the file is {:.1} MB; an XLSForm workbook may be at most {} MB",
            bytes.len() as f64 / (1024.0 * 1024.0),
            MAX_FILE_BYTES / (1024 * 1024)
        ));
        return None;
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        errors.file(
            "this is an old Excel 97-2003 (.xls) file or a workbook protected with a password: \
             save it as an Excel workbook (.xlsx) without a password",
        );
        return None;
    }
    if let Err(message) = check_zip(bytes) {
        errors.file(message);
        return None;
    }
    // calamine reads data from the upload; a panic in it must not take the
    // request down with it.
    match catch_unwind(AssertUnwindSafe(|| read_sheets(bytes, errors))) {
        Ok(workbook) => workbook,
        Err(_) => {
            errors.file("the workbook could not be read: it is damaged or not an .xlsx file");
            None
        }
    }
}

/// Checks the zip container before calamine unpacks it: a readable zip, not
/// too many entries, and a real (not declared) unpacked size within bounds.
fn check_zip(bytes: &[u8]) -> Result<(), String> {
    let damaged = |e: &dyn fmt::Display| format!("the workbook is damaged and cannot be unpacked ({e})");
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| {
        "this is not an .xlsx workbook: an .xlsx file is a zip archive and this file is not one".to_string()
    })?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(format!("the workbook holds {} parts; at most {MAX_ZIP_ENTRIES} are accepted", archive.len()));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| damaged(&e))?;
        let budget = MAX_UNPACKED_BYTES - total;
        let read = std::io::copy(&mut entry.take(budget + 1), &mut std::io::sink()).map_err(|e| damaged(&e))?;
        total += read;
        if total > MAX_UNPACKED_BYTES {
            return Err(format!(
                "the workbook unpacks to more than {} MB; at most that much is accepted",
                MAX_UNPACKED_BYTES / (1024 * 1024)
            ));
        }
    }
    Ok(())
}

fn read_sheets(bytes: &[u8], errors: &mut Errors) -> Option<Workbook> {
    let mut xlsx = match Xlsx::new(Cursor::new(bytes)) {
        Ok(xlsx) => xlsx,
        Err(e) => {
            errors.file(format!("this is not an .xlsx workbook that can be read ({e})"));
            return None;
        }
    };
    let names = xlsx.sheet_names();
    let find = |wanted: &str| names.iter().find(|n| n.trim().eq_ignore_ascii_case(wanted)).cloned();
    let mut workbook = Workbook::default();
    let mut readable = true;
    for (wanted, slot) in
        [(SURVEY, &mut workbook.survey), (CHOICES, &mut workbook.choices), (SETTINGS, &mut workbook.settings)]
    {
        if let Some(name) = find(wanted) {
            *slot = read_sheet(&mut xlsx, &name, wanted, errors);
            readable &= slot.is_some();
        }
    }
    // A sheet that cannot be read (or is too large) is reported alone.
    readable.then_some(workbook)
}

/// Streams the cells of one sheet, so that a sheet claiming a million rows
/// costs no memory before it is refused.
fn read_sheet<RS: Read + Seek>(
    xlsx: &mut Xlsx<RS>,
    name: &str,
    sheet: &'static str,
    errors: &mut Errors,
) -> Option<RawSheet> {
    let mut reader = match xlsx.worksheet_cells_reader(name) {
        Ok(reader) => reader,
        Err(e) => {
            errors.sheet(sheet, format!("the sheet cannot be read ({e})"));
            return None;
        }
    };
    let mut raw = RawSheet::default();
    let mut count = 0;
    loop {
        let cell = match reader.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => {
                errors.sheet(sheet, format!("the sheet cannot be read ({e})"));
                return None;
            }
        };
        let (row, column) = cell.get_position();
        let value = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Ok(s.trim().to_string()),
            DataRef::SharedString(s) => Ok(s.trim().to_string()),
            DataRef::Int(i) => Ok(i.to_string()),
            DataRef::Float(f) => Ok(float_text(*f)),
            DataRef::Bool(b) => Ok(b.to_string()),
            DataRef::DateTime(d) => Ok(d.to_string()),
            DataRef::Error(e) => Err(e.to_string()),
        };
        if value.as_ref().is_ok_and(|v| v.is_empty()) {
            continue;
        }
        if row >= MAX_ROWS {
            errors.sheet(sheet, format!("the sheet has more than {MAX_ROWS} rows; at most {MAX_ROWS} are accepted"));
            return None;
        }
        count += 1;
        if count > MAX_CELLS {
            errors.sheet(sheet, format!("the sheet has more than {MAX_CELLS} filled cells"));
            return None;
        }
        raw.cells.entry(row).or_default().insert(column, value);
    }
    Some(raw)
}

/// A number cell as text: whole numbers without a decimal point.
fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

// --- columns --------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lang {
    Nl,
    En,
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }
}

/// What a column means. Columns are recognised by their header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Type,
    Name,
    Label(Lang),
    Hint(Lang),
    Required,
    Relevant,
    Constraint,
    Appearance,
    Parameters,
    MinLabel(Lang),
    MaxLabel(Lang),
    Unit(Lang),
    MaxLength,
    ListName,
    FormId,
    FormTitle,
    Title(Lang),
    Kind,
    Purpose(Lang),
    Intro(Lang),
    /// Accepted and not used (see docs/xlsform.md).
    Ignored,
}

impl Field {
    /// The header to name in a message when the column is absent.
    fn canonical(self) -> String {
        let lang = |base: &str, l: Lang| format!("{base}::{}", l.code());
        match self {
            Field::Type => "type".into(),
            Field::Name => "name".into(),
            Field::Label(l) => lang("label", l),
            Field::Hint(l) => lang("hint", l),
            Field::Required => "required".into(),
            Field::Relevant => "relevant".into(),
            Field::Constraint => "constraint".into(),
            Field::Appearance => "appearance".into(),
            Field::Parameters => "parameters".into(),
            Field::MinLabel(l) => lang("min_label", l),
            Field::MaxLabel(l) => lang("max_label", l),
            Field::Unit(l) => lang("unit", l),
            Field::MaxLength => "max_length".into(),
            Field::ListName => "list_name".into(),
            Field::FormId => "form_id".into(),
            Field::FormTitle => "form_title".into(),
            Field::Title(l) => lang("form_title", l),
            Field::Kind => "kind".into(),
            Field::Purpose(l) => lang("purpose", l),
            Field::Intro(l) => lang("intro", l),
            Field::Ignored => "-".into(),
        }
    }
}

/// Splits `label::Dutch (nl)` into `label` and the language part, if any.
fn split_header(header: &str) -> (String, Option<&str>) {
    match header.split_once("::") {
        Some((base, lang)) => (base.trim().to_lowercase(), Some(lang.trim())),
        None => (header.trim().to_lowercase(), None),
    }
}

/// `nl`, `Dutch (nl)`, `Nederlands (nl)`, `Dutch`; the same for English.
fn parse_lang(text: &str) -> Option<Lang> {
    let code = match (text.rfind('('), text.ends_with(')')) {
        (Some(open), true) => text[open + 1..text.len() - 1].trim().to_lowercase(),
        _ => text.trim().to_lowercase(),
    };
    match code.as_str() {
        "nl" | "dutch" | "nederlands" => Some(Lang::Nl),
        "en" | "english" | "engels" => Some(Lang::En),
        _ => None,
    }
}

/// A column that needs a language: `label::nl`, `label::English (en)`.
fn translated(header: &str, base: &str, lang: Option<&str>, field: fn(Lang) -> Field) -> Result<Field, String> {
    match lang {
        None => Err(format!(
            "give {base}::nl and {base}::en instead of {header}: buurtpeil needs every text in Dutch and English"
        )),
        Some(l) => parse_lang(l).map(field).ok_or_else(|| {
            format!("the language {l} is not supported: buurtpeil uses Dutch ({base}::nl) and English ({base}::en)")
        }),
    }
}

fn unknown_column(header: &str) -> Result<Field, String> {
    Err(format!("the column {header} is not supported by buurtpeil: remove it or leave it empty"))
}

/// KoboToolbox's own bookkeeping in the workbooks it exports: row ids and
/// generated names, never a question's content.
const KOBO_KUID: &str = "$kuid";
const KOBO_AUTONAME: &str = "$autoname";
const KOBO_AUTOVALUE: &str = "$autovalue";

fn survey_column(header: &str) -> Result<Field, String> {
    let (base, lang) = split_header(header);
    match (base.as_str(), lang) {
        ("type", None) => Ok(Field::Type),
        ("name", None) => Ok(Field::Name),
        ("label", _) => translated(header, "label", lang, Field::Label),
        ("hint", _) => translated(header, "hint", lang, Field::Hint),
        ("required", None) => Ok(Field::Required),
        ("relevant", None) => Ok(Field::Relevant),
        ("constraint", None) => Ok(Field::Constraint),
        ("appearance", None) => Ok(Field::Appearance),
        ("parameters", None) => Ok(Field::Parameters),
        ("constraint_message" | "required_message", _) => Ok(Field::Ignored),
        (KOBO_KUID | KOBO_AUTONAME, None) => Ok(Field::Ignored),
        ("min_label", _) => translated(header, "min_label", lang, Field::MinLabel),
        ("max_label", _) => translated(header, "max_label", lang, Field::MaxLabel),
        ("unit", _) => translated(header, "unit", lang, Field::Unit),
        ("max_length", None) => Ok(Field::MaxLength),
        _ => unknown_column(header),
    }
}

fn choices_column(header: &str) -> Result<Field, String> {
    let (base, lang) = split_header(header);
    match (base.as_str(), lang) {
        ("list_name" | "list name", None) => Ok(Field::ListName),
        ("name", None) => Ok(Field::Name),
        ("label", _) => translated(header, "label", lang, Field::Label),
        (KOBO_KUID | KOBO_AUTOVALUE, None) => Ok(Field::Ignored),
        _ => unknown_column(header),
    }
}

fn settings_column(header: &str) -> Result<Field, String> {
    let (base, lang) = split_header(header);
    match (base.as_str(), lang) {
        ("form_id", None) => Ok(Field::FormId),
        ("form_title", None) => Ok(Field::FormTitle),
        ("form_title" | "title", Some(_)) => translated(header, "form_title", lang, Field::Title),
        ("kind", None) => Ok(Field::Kind),
        ("purpose", _) => translated(header, "purpose", lang, Field::Purpose),
        ("intro", _) => translated(header, "intro", lang, Field::Intro),
        ("version" | "default_language" | "style" | "instance_name", None) => Ok(Field::Ignored),
        _ => unknown_column(header),
    }
}

/// `A`, `B`, …, `Z`, `AA`: how Excel names column `index` (from 0).
fn column_letter(index: u32) -> String {
    let mut n = u64::from(index) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// One data row: its number as Excel shows it and its recognised cells in
/// column order as (meaning, header as written, value).
#[derive(Debug)]
struct Row {
    number: u32,
    cells: Vec<(Field, String, String)>,
}

impl Row {
    fn get(&self, field: Field) -> Option<&str> {
        self.cells.iter().find(|(f, _, _)| *f == field).map(|(_, _, v)| v.as_str())
    }

    /// The column's header as written, or its usual name when it is absent.
    fn header(&self, field: Field) -> String {
        self.cells.iter().find(|(f, _, _)| *f == field).map(|(_, h, _)| h.clone()).unwrap_or_else(|| field.canonical())
    }
}

/// Reads the header row of a sheet and returns the data rows with their
/// cells recognised. Cells under an unsupported header are errors.
fn rows(
    sheet: &'static str,
    raw: &RawSheet,
    column: fn(&str) -> Result<Field, String>,
    errors: &mut Errors,
) -> Vec<Row> {
    let Some(header_cells) = raw.cells.get(&0) else {
        if !raw.cells.is_empty() {
            errors.row(sheet, 1, "the first row must hold the column names (such as type, name, label::nl)");
        }
        return Vec::new();
    };
    let mut columns: BTreeMap<u32, (String, Result<Field, String>)> = BTreeMap::new();
    let mut seen: HashMap<Field, String> = HashMap::new();
    for (&index, value) in header_cells {
        let (header, field) = match value {
            Ok(header) => (header.clone(), column(header)),
            Err(e) => {
                errors.cell(sheet, 1, &column_letter(index), format!("the column name is the Excel error {e}"));
                continue;
            }
        };
        if let Ok(f) = field {
            if f != Field::Ignored {
                if let Some(other) = seen.get(&f) {
                    errors.cell(sheet, 1, &header, format!("this column means the same as column {other}"));
                    continue;
                }
                seen.insert(f, header.clone());
            }
        }
        columns.insert(index, (header, field));
    }
    let mut out = Vec::new();
    for (&r, cells) in raw.cells.range(1..) {
        let number = r + 1;
        let mut row = Row { number, cells: Vec::new() };
        for (&c, value) in cells {
            let Some((header, field)) = columns.get(&c) else {
                if header_cells.contains_key(&c) {
                    continue; // a broken or repeated header, reported above
                }
                errors.cell(
                    sheet,
                    number,
                    &column_letter(c),
                    "this cell has a value but its column has no name in row 1",
                );
                continue;
            };
            let field = match field {
                Ok(Field::Ignored) => continue,
                Ok(field) => *field,
                Err(message) => {
                    errors.cell(sheet, number, header, message.clone());
                    continue;
                }
            };
            match value {
                Ok(v) => row.cells.push((field, header.clone(), v.clone())),
                Err(e) => errors.cell(sheet, number, header, format!("the cell holds the Excel error {e}")),
            }
        }
        if !row.cells.is_empty() {
            out.push(row);
        }
    }
    out
}

// --- names and values -----------------------------------------------------------

/// `[a-z][a-z0-9_]*` (or with `-` instead of `_` for slugs), at most 64.
fn is_identifier(s: &str, extra: char) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == extra)
        && s.len() <= 64
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "yes" | "true" | "true()" | "1" => Some(true),
        "no" | "false" | "false()" | "0" | "" => Some(false),
        _ => None,
    }
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return Some(i);
    }
    // Excel may store a whole number as 12.0
    match s.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(f as i64),
        _ => None,
    }
}

/// A text in both languages from two columns. Both or neither must be given;
/// with `required`, both must be.
fn local_text(
    sheet: &'static str,
    row: &Row,
    field: fn(Lang) -> Field,
    required: bool,
    what: &str,
    errors: &mut Errors,
) -> Option<Value> {
    let nl = row.get(field(Lang::Nl));
    let en = row.get(field(Lang::En));
    for (lang, name, value) in [(Lang::Nl, "Dutch", nl), (Lang::En, "English", en)] {
        let column = row.header(field(lang));
        match value {
            None if required || nl.is_some() || en.is_some() => {
                errors.cell(sheet, row.number, &column, format!("the {name} {what} is missing"))
            }
            Some(text) if text.contains("${") => errors.cell(
                sheet,
                row.number,
                &column,
                "buurtpeil does not show earlier answers in a text: remove the ${…} reference",
            ),
            _ => {}
        }
    }
    match (nl, en) {
        (Some(nl), Some(en)) => Some(json!({ "nl": nl, "en": en })),
        _ => None,
    }
}

// --- settings ---------------------------------------------------------------------

struct Settings {
    slug: String,
    kind: String,
    title: Value,
    intro: Option<Value>,
    purpose: Option<Value>,
}

const SETTINGS_NEEDED: &str =
    "add a sheet named settings with the columns form_id (the questionnaire's slug) and form_title::nl and form_title::en";

fn settings(raw: Option<&RawSheet>, errors: &mut Errors) -> Option<Settings> {
    let Some(raw) = raw else {
        errors.sheet(SETTINGS, format!("the workbook has no settings sheet: {SETTINGS_NEEDED}"));
        return None;
    };
    let rows = rows(SETTINGS, raw, settings_column, errors);
    let Some(row) = rows.first() else {
        errors.row(SETTINGS, 2, format!("the settings are missing: {SETTINGS_NEEDED}, with their values in row 2"));
        return None;
    };
    for extra in &rows[1..] {
        errors.row(SETTINGS, extra.number, "the settings are read from row 2 only; this row is not used");
    }
    if row.number != 2 {
        errors.row(SETTINGS, row.number, "the settings must be in row 2, right under the column names");
    }
    let n = row.number;
    let slug = match row.get(Field::FormId) {
        None => {
            errors.cell(SETTINGS, n, "form_id", "form_id is missing: it becomes the questionnaire's slug");
            None
        }
        Some(id) if !is_identifier(id, '-') => {
            errors.cell(
                SETTINGS,
                n,
                &row.header(Field::FormId),
                format!("the form_id {id} cannot be a slug: use lower-case letters, digits and -, starting with a letter, at most 64"),
            );
            None
        }
        Some(id) => Some(id.to_string()),
    };
    let title = match (row.get(Field::Title(Lang::Nl)), row.get(Field::Title(Lang::En)), row.get(Field::FormTitle)) {
        (Some(nl), Some(en), _) => Some(json!({ "nl": nl, "en": en })),
        (None, None, Some(both)) => Some(json!({ "nl": both, "en": both })),
        (Some(_), None, _) | (None, Some(_), _) => {
            local_text(SETTINGS, row, Field::Title, true, "title", errors);
            None
        }
        (None, None, None) => {
            errors.cell(SETTINGS, n, "form_title::nl", "the title is missing: give form_title::nl and form_title::en");
            None
        }
    };
    let kind = match row.get(Field::Kind) {
        None | Some("anonymous") => "anonymous",
        Some("identified") => "identified",
        Some(other) => {
            errors.cell(
                SETTINGS,
                n,
                &row.header(Field::Kind),
                format!("the kind {other} does not exist: use anonymous or identified"),
            );
            "anonymous"
        }
    };
    let intro = local_text(SETTINGS, row, Field::Intro, false, "intro", errors);
    let purpose = local_text(SETTINGS, row, Field::Purpose, kind == "identified", "purpose", errors);
    Some(Settings { slug: slug?, kind: kind.to_string(), title: title?, intro, purpose })
}

// --- choices -----------------------------------------------------------------------

struct Choice {
    value: String,
    nl: String,
    en: String,
}

fn choice_lists(raw: Option<&RawSheet>, errors: &mut Errors) -> HashMap<String, Vec<Choice>> {
    let mut lists: HashMap<String, Vec<Choice>> = HashMap::new();
    let mut first_row: HashMap<(String, String), u32> = HashMap::new();
    let Some(raw) = raw else {
        return lists;
    };
    for row in rows(CHOICES, raw, choices_column, errors) {
        let n = row.number;
        let list = row.get(Field::ListName);
        let value = row.get(Field::Name);
        if list.is_none() {
            errors.cell(CHOICES, n, &row.header(Field::ListName), "list_name is empty");
        }
        match value {
            None => errors.cell(CHOICES, n, &row.header(Field::Name), "name (the option's value) is empty"),
            Some("other") => errors.cell(
                CHOICES,
                n,
                &row.header(Field::Name),
                "the value other is reserved for or_other: give this option another value",
            ),
            Some(v) if !is_identifier(v, '_') => errors.cell(
                CHOICES,
                n,
                &row.header(Field::Name),
                format!("the value {v} is not allowed: use lower-case letters, digits and _, starting with a letter, at most 64"),
            ),
            Some(_) => {}
        }
        let label = local_text(CHOICES, &row, Field::Label, true, "label", errors);
        let (Some(list), Some(value)) = (list, value) else {
            continue;
        };
        let key = (list.to_string(), value.to_string());
        if let Some(first) = first_row.get(&key) {
            errors.cell(
                CHOICES,
                n,
                &row.header(Field::Name),
                format!("the value {value} appears twice in the list {list} (also in row {first})"),
            );
            continue;
        }
        first_row.insert(key, n);
        let (nl, en) = match &label {
            Some(label) => (label["nl"].as_str().unwrap_or("").into(), label["en"].as_str().unwrap_or("").into()),
            None => (String::new(), String::new()),
        };
        lists.entry(list.to_string()).or_default().push(Choice { value: value.to_string(), nl, en });
    }
    lists
}

// --- survey: types ----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum QType {
    Integer,
    Range,
    Text,
    Select { list: String, multiple: bool, other: bool },
    Note,
    Acknowledge,
}

#[derive(Debug, Clone, PartialEq)]
enum RowType {
    Question(QType),
    BeginGroup,
    EndGroup,
    Metadata,
}

fn parse_type(text: &str) -> Result<RowType, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let select = |multiple: bool, rest: &[&str]| -> Result<RowType, String> {
        let name = if multiple { "select_multiple" } else { "select_one" };
        match rest {
            [] => Err(format!("{name} needs the name of a list from the choices sheet, such as {name} woonsituatie")),
            [list] => Ok(RowType::Question(QType::Select { list: list.to_string(), multiple, other: false })),
            [list, tail] if tail.eq_ignore_ascii_case("or_other") => {
                Ok(RowType::Question(QType::Select { list: list.to_string(), multiple, other: true }))
            }
            [_, tail, ..] => Err(format!("{name} takes a list name and optionally or_other; {tail} is not understood")),
        }
    };
    match lower.as_slice() {
        ["integer"] => Ok(RowType::Question(QType::Integer)),
        ["range"] => Ok(RowType::Question(QType::Range)),
        ["text"] => Ok(RowType::Question(QType::Text)),
        ["note"] => Ok(RowType::Question(QType::Note)),
        ["acknowledge"] => Ok(RowType::Question(QType::Acknowledge)),
        ["begin_group"] | ["begin", "group"] => Ok(RowType::BeginGroup),
        ["end_group"] | ["end", "group"] => Ok(RowType::EndGroup),
        ["select_one", ..] => select(false, &words[1..]),
        ["select_multiple", ..] => select(true, &words[1..]),
        ["select", "one", ..] => select(false, &words[2..]),
        ["select", "multiple", ..] => select(true, &words[2..]),
        [t] if METADATA_TYPES.contains(t) => Ok(RowType::Metadata),
        [] => Err("the type is empty".into()),
        _ => {
            let name = match lower.as_slice() {
                [first @ ("begin" | "end"), second, ..] => format!("{first}_{second}"),
                _ => words[0].to_string(),
            };
            Err(format!("type {name} is not supported by buurtpeil (supported: {SUPPORTED_TYPES})"))
        }
    }
}

impl QType {
    fn name(&self) -> &'static str {
        match self {
            QType::Integer => "integer",
            QType::Range => "range",
            QType::Text => "text",
            QType::Select { multiple: false, .. } => "select_one",
            QType::Select { multiple: true, .. } => "select_multiple",
            QType::Note => "note",
            QType::Acknowledge => "acknowledge",
        }
    }

    /// The columns, besides type, name, label, hint and relevant, that this
    /// type uses.
    fn uses(&self, field: Field) -> bool {
        match field {
            Field::Type | Field::Name | Field::Label(_) | Field::Hint(_) | Field::Relevant | Field::Required => true,
            Field::Constraint => matches!(self, QType::Integer | QType::Range | QType::Select { multiple: true, .. }),
            Field::Appearance => true, // checked value by value
            Field::Parameters | Field::MinLabel(_) | Field::MaxLabel(_) => *self == QType::Range,
            Field::Unit(_) => *self == QType::Integer,
            Field::MaxLength => *self == QType::Text,
            _ => false,
        }
    }
}

// --- survey: conversion --------------------------------------------------------------

/// What a condition may do with a question's answer.
#[derive(Debug, Clone)]
enum AnswerKind {
    /// integer and range: compared with whole numbers.
    Number,
    Choice {
        values: Vec<String>,
        other: bool,
    },
    YesNo,
    Text,
    Statement,
    Consent,
}

struct QuestionInfo {
    page: usize,
    kind: AnswerKind,
}

struct Page {
    id: String,
    title: Option<Value>,
    show_if: Option<String>,
    questions: Vec<Map<String, Value>>,
}

/// A relevant expression, parsed during the pass over the rows and turned
/// into a condition once every question is known.
struct Pending {
    row: u32,
    column: String,
    expr: Expr,
    page: usize,
    /// `Some(index)` for a question's condition on a group page; `None` for
    /// the page's own condition.
    question: Option<usize>,
    /// The question the condition belongs to, if any.
    owner: Option<String>,
    /// Whether it is a group's relevant.
    group: bool,
}

#[derive(Default)]
struct Survey {
    pages: Vec<Page>,
    questions: HashMap<String, QuestionInfo>,
    question_rows: HashMap<String, u32>,
    page_rows: HashMap<String, u32>,
    groups: HashSet<String>,
    pending: Vec<Pending>,
    /// The page of the open group and its begin_group row.
    open_group: Option<(usize, u32)>,
    /// begin_group rows inside the open group (nested groups, an error).
    nested: u32,
}

fn convert(workbook: &Workbook, errors: &mut Errors) -> Option<Value> {
    let survey_rows = match &workbook.survey {
        Some(raw) => rows(SURVEY, raw, survey_column, errors),
        None => {
            errors.sheet(SURVEY, "the workbook has no survey sheet: add a sheet named survey with the questions");
            Vec::new()
        }
    };
    let lists = choice_lists(workbook.choices.as_ref(), errors);
    let settings = settings(workbook.settings.as_ref(), errors);
    let has_choices = workbook.choices.is_some();

    let mut survey = Survey::default();
    for row in &survey_rows {
        survey.row(row, &lists, has_choices, errors);
    }
    if let Some((page, begin)) = survey.open_group {
        errors.row(SURVEY, begin, format!("the group {} has no end_group", survey.pages[page].id));
    }
    if workbook.survey.is_some() && survey.pages.is_empty() {
        errors.sheet(SURVEY, "the survey sheet has no questions");
    }
    survey.resolve_conditions(errors);

    let settings = settings?;
    if settings.kind == "anonymous" {
        anonymous_asks_nobody(&survey.pages, errors);
    }
    let pages: Vec<Value> = survey
        .pages
        .into_iter()
        .map(|page| {
            let mut p = Map::new();
            p.insert("id".into(), page.id.into());
            if let Some(title) = page.title {
                p.insert("title".into(), title);
            }
            if let Some(show_if) = page.show_if {
                p.insert("show_if".into(), show_if.into());
            }
            p.insert("questions".into(), page.questions.into_iter().map(Value::Object).collect());
            Value::Object(p)
        })
        .collect();
    let mut out = Map::new();
    out.insert("slug".into(), settings.slug.into());
    out.insert("kind".into(), settings.kind.into());
    out.insert("title".into(), settings.title);
    if let Some(intro) = settings.intro {
        out.insert("intro".into(), intro);
    }
    if let Some(purpose) = settings.purpose {
        out.insert("purpose".into(), purpose);
    }
    out.insert("pages".into(), pages.into());
    Some(Value::Object(out))
}

/// An anonymous questionnaire may not ask for a name, e-mail address, phone
/// number or address: the same rule as the file format's, found here so the
/// workbook's author hears it with every other problem.
fn anonymous_asks_nobody(pages: &[Page], errors: &mut Errors) {
    let text = |q: &Map<String, Value>, key: &str| q.get(key).and_then(Value::as_str).map(str::to_owned);
    for q in pages.iter().flat_map(|p| &p.questions) {
        let (Some(id), Some(type_name)) = (text(q, "id"), text(q, "type")) else { continue };
        if let Some(detail) = personal_detail(&id, &type_name, text(q, "format").as_deref()) {
            errors.sheet(
                SETTINGS,
                format!(
                    "the question {id} asks for {detail}, and an anonymous questionnaire may never ask who someone \
                     is or how to reach them: set kind to identified in the settings sheet (with a purpose) or remove the question"
                ),
            );
        }
    }
}

impl Survey {
    fn row(&mut self, row: &Row, lists: &HashMap<String, Vec<Choice>>, has_choices: bool, errors: &mut Errors) {
        let n = row.number;
        let Some(type_text) = row.get(Field::Type) else {
            errors.cell(SURVEY, n, "type", "the row has no type");
            return;
        };
        let row_type = match parse_type(type_text) {
            Ok(t) => t,
            Err(message) => {
                errors.cell(SURVEY, n, &row.header(Field::Type), message);
                return;
            }
        };
        match row_type {
            RowType::Metadata => {}
            RowType::BeginGroup => self.begin_group(row, errors),
            RowType::EndGroup => self.end_group(row, errors),
            RowType::Question(q) => self.question(row, &q, lists, has_choices, errors),
        }
    }

    fn begin_group(&mut self, row: &Row, errors: &mut Errors) {
        let n = row.number;
        if self.open_group.is_some() {
            self.nested += 1;
            errors.cell(
                SURVEY,
                n,
                &row.header(Field::Type),
                "a group inside a group is not supported: every group becomes one page",
            );
            return;
        }
        for (field, header, _) in &row.cells {
            match field {
                Field::Type | Field::Name | Field::Label(_) | Field::Relevant | Field::Appearance => {}
                _ => errors.cell(SURVEY, n, header, format!("{header} is not used on a group: leave it empty")),
            }
        }
        if let Some(appearance) = row.get(Field::Appearance) {
            let unsupported: Vec<&str> = appearance.split_whitespace().filter(|a| *a != "field-list").collect();
            if !unsupported.is_empty() {
                errors.cell(
                    SURVEY,
                    n,
                    &row.header(Field::Appearance),
                    format!(
                        "the appearance {} is not supported on a group (a group is always one page, as with field-list)",
                        unsupported.join(" ")
                    ),
                );
            }
        }
        let id = self.name(row, errors).unwrap_or_else(|| format!("group_row_{n}"));
        if let Some(first) = self.page_rows.get(&id) {
            errors.cell(
                SURVEY,
                n,
                &row.header(Field::Name),
                format!("the page name {id} is already used in row {first}"),
            );
        }
        self.page_rows.insert(id.clone(), n);
        self.groups.insert(id.clone());
        let title = local_text(SURVEY, row, Field::Label, false, "label", errors);
        let page = self.pages.len();
        self.pages.push(Page { id, title, show_if: None, questions: Vec::new() });
        self.open_group = Some((page, n));
        self.condition(row, page, None, None, true, errors);
    }

    fn end_group(&mut self, row: &Row, errors: &mut Errors) {
        let n = row.number;
        for (field, header, _) in &row.cells {
            if !matches!(field, Field::Type | Field::Name) {
                errors.cell(SURVEY, n, header, format!("{header} is not used on end_group: leave it empty"));
            }
        }
        if self.nested > 0 {
            self.nested -= 1;
            return;
        }
        match self.open_group.take() {
            None => errors.cell(SURVEY, n, &row.header(Field::Type), "end_group without a begin_group before it"),
            Some((page, begin)) if self.pages[page].questions.is_empty() => {
                errors.row(SURVEY, begin, format!("the group {} has no questions", self.pages[page].id))
            }
            Some(_) => {}
        }
    }

    /// The row's name, checked as an id.
    fn name(&self, row: &Row, errors: &mut Errors) -> Option<String> {
        match row.get(Field::Name) {
            None => {
                errors.cell(SURVEY, row.number, &row.header(Field::Name), "the name is empty");
                None
            }
            Some(name) if !is_identifier(name, '_') => {
                errors.cell(
                    SURVEY,
                    row.number,
                    &row.header(Field::Name),
                    format!("the name {name} is not allowed: use lower-case letters, digits and _, starting with a letter, at most 64"),
                );
                None
            }
            Some(name) => Some(name.to_string()),
        }
    }

    /// Parses the row's relevant, if any, for later resolution.
    fn condition(
        &mut self,
        row: &Row,
        page: usize,
        question: Option<usize>,
        owner: Option<String>,
        group: bool,
        errors: &mut Errors,
    ) {
        let Some(text) = row.get(Field::Relevant) else {
            return;
        };
        let column = row.header(Field::Relevant);
        match parse_relevant(text) {
            Ok(expr) => self.pending.push(Pending { row: row.number, column, expr, page, question, owner, group }),
            Err(message) => errors.cell(SURVEY, row.number, &column, message),
        }
    }

    fn question(
        &mut self,
        row: &Row,
        qtype: &QType,
        lists: &HashMap<String, Vec<Choice>>,
        has_choices: bool,
        errors: &mut Errors,
    ) {
        let n = row.number;
        for (field, header, value) in &row.cells {
            if *field == Field::Appearance {
                let allowed = |a: &str| *qtype == QType::Text && a == "multiline";
                let unsupported: Vec<&str> = value.split_whitespace().filter(|a| !allowed(a)).collect();
                if !unsupported.is_empty() {
                    errors.cell(
                        SURVEY,
                        n,
                        header,
                        format!(
                            "the appearance {} is not supported on {} (buurtpeil supports multiline on text and field-list on groups)",
                            unsupported.join(" "),
                            qtype.name()
                        ),
                    );
                }
            } else if *field == Field::Constraint && !qtype.uses(*field) {
                errors.cell(
                    SURVEY,
                    n,
                    header,
                    format!("a constraint on {} is not supported: {CONSTRAINT_HELP}", qtype.name()),
                );
            } else if !qtype.uses(*field) {
                errors.cell(
                    SURVEY,
                    n,
                    header,
                    format!("{header} is not used for type {}: leave it empty", qtype.name()),
                );
            }
        }
        let name = self.name(row, errors);
        if let Some(name) = &name {
            if let Some(first) = self.question_rows.get(name) {
                errors.cell(
                    SURVEY,
                    n,
                    &row.header(Field::Name),
                    format!("the name {name} is already used in row {first}"),
                );
            }
            self.question_rows.insert(name.clone(), n);
        }
        let text = local_text(SURVEY, row, Field::Label, true, "label", errors);
        let help = local_text(SURVEY, row, Field::Hint, false, "hint", errors);
        let required = match row.get(Field::Required) {
            None => false,
            Some(value) => parse_bool(value).unwrap_or_else(|| {
                errors.cell(
                    SURVEY,
                    n,
                    &row.header(Field::Required),
                    format!("required is {value}; use yes or no (also true/false, true()/false(), 1/0)"),
                );
                false
            }),
        };

        let mut q = Map::new();
        q.insert("id".into(), name.clone().unwrap_or_default().into());
        q.insert("text".into(), text.unwrap_or(Value::Null));
        if let Some(help) = help {
            q.insert("help".into(), help);
        }
        if required {
            q.insert("required".into(), true.into());
        }
        let bounds = match row.get(Field::Constraint) {
            Some(text) if qtype.uses(Field::Constraint) => {
                match parse_constraint(text, matches!(qtype, QType::Select { .. })) {
                    Ok(bounds) => Some(bounds),
                    Err(message) => {
                        errors.cell(SURVEY, n, &row.header(Field::Constraint), message);
                        None
                    }
                }
            }
            _ => None,
        };
        let (type_name, kind) = match qtype {
            QType::Integer => {
                let (min, max) = bounds.as_ref().map(|b| (b.min, b.max)).unwrap_or((None, None));
                match (min, max) {
                    (Some(min), Some(max)) if min > max => errors.cell(
                        SURVEY,
                        n,
                        &row.header(Field::Constraint),
                        format!("the constraint allows no number: the minimum {min} is above the maximum {max}"),
                    ),
                    (Some(min), Some(max)) => {
                        q.insert("min".into(), min.into());
                        q.insert("max".into(), max.into());
                    }
                    _ if row.get(Field::Constraint).is_some() && bounds.is_none() => {} // reported
                    _ => errors.cell(
                        SURVEY,
                        n,
                        &row.header(Field::Constraint),
                        "an integer question needs a smallest and a largest answer: add a constraint such as . >= 0 and . <= 120",
                    ),
                }
                if let Some(unit) = local_text(SURVEY, row, Field::Unit, false, "unit", errors) {
                    q.insert("unit".into(), unit);
                }
                ("number", AnswerKind::Number)
            }
            QType::Range => {
                let (mut min, mut max) = self.range_parameters(row, errors).unwrap_or((0, 10));
                if let Some(b) = &bounds {
                    min = b.min.map_or(min, |m| m.max(min));
                    max = b.max.map_or(max, |m| m.min(max));
                }
                if min > max {
                    errors.cell(
                        SURVEY,
                        n,
                        &row.header(Field::Constraint),
                        "the range and its constraint leave no number",
                    );
                }
                q.insert("min".into(), min.into());
                q.insert("max".into(), max.into());
                for (key, field) in
                    [("min_label", Field::MinLabel as fn(Lang) -> Field), ("max_label", Field::MaxLabel)]
                {
                    if let Some(label) = local_text(SURVEY, row, field, true, key, errors) {
                        q.insert(key.into(), label);
                    }
                }
                ("scale", AnswerKind::Number)
            }
            QType::Text => {
                if let Some(value) = row.get(Field::MaxLength) {
                    match parse_int(value) {
                        Some(len) if len > 0 => {
                            q.insert("max_length".into(), len.into());
                        }
                        _ => errors.cell(
                            SURVEY,
                            n,
                            &row.header(Field::MaxLength),
                            format!("max_length is {value}; give a whole number above 0"),
                        ),
                    }
                }
                let multiline =
                    row.get(Field::Appearance).is_some_and(|a| a.split_whitespace().any(|a| a == "multiline"));
                (if multiline { "long_text" } else { "short_text" }, AnswerKind::Text)
            }
            QType::Select { list, multiple, other } => {
                let options = match lists.get(list) {
                    None if !has_choices => {
                        errors.cell(
                            SURVEY,
                            n,
                            &row.header(Field::Type),
                            format!("the list {list} is not there: the workbook has no choices sheet"),
                        );
                        &[][..]
                    }
                    None => {
                        errors.cell(
                            SURVEY,
                            n,
                            &row.header(Field::Type),
                            format!("the list {list} is not in the choices sheet (list_name is case-sensitive)"),
                        );
                        &[][..]
                    }
                    Some(options) if options.len() < 2 => {
                        errors.cell(
                            SURVEY,
                            n,
                            &row.header(Field::Type),
                            format!("the list {list} has only {} option; a question needs at least 2", options.len()),
                        );
                        &options[..]
                    }
                    Some(options) => &options[..],
                };
                let values: Vec<String> = options.iter().map(|c| c.value.clone()).collect();
                let yes_no = !multiple && !other && values.len() == 2 && values.iter().all(|v| v == "yes" || v == "no");
                if yes_no {
                    ("yes_no", AnswerKind::YesNo)
                } else {
                    let options: Vec<Value> = options
                        .iter()
                        .map(|c| json!({ "value": c.value, "label": { "nl": c.nl, "en": c.en } }))
                        .collect();
                    q.insert("options".into(), options.into());
                    if *other {
                        q.insert("other".into(), true.into());
                    }
                    if let Some(max) = bounds.as_ref().and_then(|b| b.max_choices) {
                        q.insert("max_choices".into(), max.into());
                    }
                    (
                        if *multiple { "multiple_choice" } else { "single_choice" },
                        AnswerKind::Choice { values, other: *other },
                    )
                }
            }
            QType::Note => {
                if required {
                    errors.cell(
                        SURVEY,
                        n,
                        &row.header(Field::Required),
                        "a note has no answer, so it cannot be required",
                    );
                    q.remove("required");
                }
                ("statement", AnswerKind::Statement)
            }
            QType::Acknowledge => ("consent", AnswerKind::Consent),
        };
        q.insert("type".into(), type_name.into());

        // A question in a group goes on the group's page; any other question
        // gets a page of its own, named after it, which carries its condition.
        let Some(name) = name else {
            return;
        };
        let (page, question) = match self.open_group {
            Some((page, _)) => {
                self.pages[page].questions.push(q);
                (page, Some(self.pages[page].questions.len() - 1))
            }
            None => {
                if let Some(first) = self.page_rows.get(&name) {
                    errors.cell(
                        SURVEY,
                        n,
                        &row.header(Field::Name),
                        format!(
                            "a question outside a group gets a page named after it, and the group in row {first} already has the name {name}: rename one of them"
                        ),
                    );
                }
                self.page_rows.insert(name.clone(), n);
                self.pages.push(Page { id: name.clone(), title: None, show_if: None, questions: vec![q] });
                (self.pages.len() - 1, None)
            }
        };
        self.questions.insert(name.clone(), QuestionInfo { page, kind });
        self.condition(row, page, question, Some(name), false, errors);
    }

    /// `start=0 end=10 step=1`; `None` after an error.
    fn range_parameters(&self, row: &Row, errors: &mut Errors) -> Option<(i64, i64)> {
        let text = row.get(Field::Parameters)?;
        let column = row.header(Field::Parameters);
        let mut words: Vec<String> = Vec::new();
        for piece in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
            for (i, part) in piece.split('=').enumerate() {
                if i > 0 {
                    words.push("=".into());
                }
                if !part.is_empty() {
                    words.push(part.to_string());
                }
            }
        }
        let (mut start, mut end) = (0, 10);
        let mut ok = true;
        let mut i = 0;
        while i < words.len() {
            let (key, eq, value) = (&words[i], words.get(i + 1), words.get(i + 2));
            let (Some(eq), Some(value)) = (eq, value) else {
                errors.cell(
                    SURVEY,
                    row.number,
                    &column,
                    format!("the parameters {text} are not understood: write start=0 end=10 step=1"),
                );
                return None;
            };
            if eq != "=" || value == "=" {
                errors.cell(
                    SURVEY,
                    row.number,
                    &column,
                    format!("the parameters {text} are not understood: write start=0 end=10 step=1"),
                );
                return None;
            }
            let number = parse_int(value);
            match (key.to_lowercase().as_str(), number) {
                ("start", Some(v)) => start = v,
                ("end", Some(v)) => end = v,
                ("step", Some(1)) => {}
                ("step", _) => {
                    errors.cell(
                        SURVEY,
                        row.number,
                        &column,
                        format!("step is {value}; buurtpeil supports only step=1"),
                    );
                    ok = false;
                }
                ("start" | "end", None) => {
                    errors.cell(SURVEY, row.number, &column, format!("{key} is {value}; give a whole number"));
                    ok = false;
                }
                _ => {
                    errors.cell(
                        SURVEY,
                        row.number,
                        &column,
                        format!("the parameter {key} is not supported (a range takes start, end and step)"),
                    );
                    ok = false;
                }
            }
            i += 3;
        }
        if ok && start > end {
            errors.cell(SURVEY, row.number, &column, format!("start ({start}) is above end ({end})"));
            ok = false;
        }
        ok.then_some((start, end))
    }

    /// Turns every parsed relevant into a condition, now that every question
    /// and its page are known.
    fn resolve_conditions(&mut self, errors: &mut Errors) {
        for pending in std::mem::take(&mut self.pending) {
            let mut problems = Vec::new();
            let condition = self.resolve(&pending.expr, &pending, &mut problems);
            for message in &problems {
                errors.cell(SURVEY, pending.row, &pending.column, message.clone());
            }
            if !problems.is_empty() {
                continue;
            }
            let text = condition.print(0);
            let page = &mut self.pages[pending.page];
            match pending.question {
                Some(q) => {
                    page.questions[q].insert("show_if".into(), text.into());
                }
                None => page.show_if = Some(text),
            }
        }
    }

    fn resolve(&self, expr: &Expr, at: &Pending, problems: &mut Vec<String>) -> Expr {
        match expr {
            Expr::Or(items) => Expr::Or(items.iter().map(|e| self.resolve(e, at, problems)).collect()),
            Expr::And(items) => Expr::And(items.iter().map(|e| self.resolve(e, at, problems)).collect()),
            Expr::Not(inner) => Expr::Not(Box::new(self.resolve(inner, at, problems))),
            Expr::Selected { name, value } => {
                let literal = Literal::Str(value.clone());
                match self.target(name, at) {
                    Ok(AnswerKind::Choice { .. } | AnswerKind::YesNo) => {
                        self.compare(name, "=", &literal, at, problems)
                    }
                    Ok(_) => {
                        problems.push(format!(
                            "selected() only works on select_one and select_multiple; ${{{name}}} is not one"
                        ));
                        expr.clone()
                    }
                    Err(message) => {
                        problems.push(message);
                        expr.clone()
                    }
                }
            }
            Expr::Compare { name, op, value } => self.compare(name, op, value, at, problems),
        }
    }

    /// Where the referred question is, checked against where the condition
    /// is used.
    fn target(&self, name: &str, at: &Pending) -> Result<&AnswerKind, String> {
        let Some(info) = self.questions.get(name) else {
            if self.groups.contains(name) {
                return Err(format!("${{{name}}} is a group, not a question"));
            }
            return Err(format!("${{{name}}} is not a question in this form"));
        };
        if at.owner.as_deref() == Some(name) {
            return Err(format!("${{{name}}} is the question itself: a condition can only use earlier answers"));
        }
        if info.page > at.page {
            return Err(format!("${{{name}}} comes later in the form: a condition can only use earlier answers"));
        }
        if info.page == at.page {
            let page = &self.pages[at.page];
            return Err(if at.group {
                format!(
                    "${{{name}}} is inside this group: a group's relevant can only use answers from earlier pages (groups)"
                )
            } else {
                format!(
                    "${{{name}}} is in the same group ({}): buurtpeil shows a group as one page and a condition can only use answers from earlier pages; move {name} to an earlier group",
                    page.id
                )
            });
        }
        Ok(&info.kind)
    }

    fn compare(&self, name: &str, op: &'static str, value: &Literal, at: &Pending, problems: &mut Vec<String>) -> Expr {
        let same = Expr::Compare { name: name.to_string(), op, value: value.clone() };
        let kind = match self.target(name, at) {
            Ok(kind) => kind,
            Err(message) => {
                if !problems.contains(&message) {
                    problems.push(message);
                }
                return same;
            }
        };
        if matches!(value, Literal::Str(s) if s.is_empty()) {
            problems.push(format!(
                "comparing ${{{name}}} with '' (answered or not) is not supported: compare it with a value"
            ));
            return same;
        }
        let ordered = matches!(op, ">" | ">=" | "<" | "<=");
        match kind {
            AnswerKind::Number => {
                let number = match value {
                    Literal::Int(i) => Some(*i),
                    Literal::Str(s) => s.trim().parse::<i64>().ok(),
                };
                match number {
                    Some(i) => Expr::Compare { name: name.to_string(), op, value: Literal::Int(i) },
                    None => {
                        problems.push(format!("${{{name}}} is a number: compare it with a whole number"));
                        same
                    }
                }
            }
            AnswerKind::Text => {
                problems
                    .push(format!("${{{name}}} is a text question: buurtpeil does not use free text in conditions"));
                same
            }
            AnswerKind::Statement => {
                problems.push(format!("${{{name}}} is a note: it has no answer"));
                same
            }
            _ if ordered => {
                problems.push(format!("{op} only works on integer and range questions; ${{{name}}} is not one"));
                same
            }
            AnswerKind::Choice { values, other } => {
                let text = value.text();
                let known = values.contains(&text) || (*other && text == "other");
                if !known {
                    let mut all = values.clone();
                    if *other {
                        all.push("other".into());
                    }
                    problems.push(format!("${{{name}}} has no option {text} (its options: {})", all.join(", ")));
                }
                Expr::Compare { name: name.to_string(), op, value: Literal::Str(text) }
            }
            AnswerKind::YesNo => {
                let text = value.text();
                if text != "yes" && text != "no" {
                    problems.push(format!("${{{name}}} is answered yes or no; {text} is not one of them"));
                }
                Expr::Compare { name: name.to_string(), op, value: Literal::Str(text) }
            }
            AnswerKind::Consent => {
                // ODK's acknowledge stores OK; buurtpeil's consent stores yes.
                let text = value.text();
                if text != "OK" && text != "yes" {
                    problems.push(format!("${{{name}}} is an acknowledge question: compare it with 'OK'"));
                }
                Expr::Compare { name: name.to_string(), op, value: Literal::Str("yes".into()) }
            }
        }
    }
}

// --- expressions ------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Int(i64),
}

impl Literal {
    fn text(&self) -> String {
        match self {
            Literal::Str(s) => s.clone(),
            Literal::Int(i) => i.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare { name: String, op: &'static str, value: Literal },
    Selected { name: String, value: String },
}

impl Expr {
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(_) => 1,
            Expr::And(_) => 2,
            _ => 3,
        }
    }

    /// The buurtpeil condition; parenthesised when its precedence is below
    /// `min`.
    fn print(&self, min: u8) -> String {
        let text = match self {
            // `a or (b and c)`: the parentheses are not needed, but clearer
            Expr::Or(items) => items.iter().map(|e| e.print(3)).collect::<Vec<_>>().join(" or "),
            Expr::And(items) => items.iter().map(|e| e.print(2)).collect::<Vec<_>>().join(" and "),
            Expr::Not(inner) => format!("not ({})", inner.print(0)),
            Expr::Compare { name, op, value } => match value {
                Literal::Int(i) => format!("{name} {op} {i}"),
                Literal::Str(s) => format!("{name} {op} \"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            },
            Expr::Selected { name, value } => format!("{name} = \"{value}\""),
        };
        if self.precedence() < min {
            format!("({text})")
        } else {
            text
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// `${name}`
    Ref(String),
    Str(String),
    Num(String),
    /// A function name or keyword: `selected`, `and`, `count-selected`.
    Word(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Dot,
    Other(char),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '$' if next == Some('{') => {
                let Some(len) = chars[i + 2..].iter().position(|&c| c == '}') else {
                    return Err("${ is not closed with }".into());
                };
                let name: String = chars[i + 2..i + 2 + len].iter().collect();
                let name = name.trim();
                if name.is_empty() {
                    return Err("${} names no question".into());
                }
                out.push(Tok::Ref(name.to_string()));
                i += len + 3;
            }
            '\'' | '"' => {
                let Some(len) = chars[i + 1..].iter().position(|&q| q == c) else {
                    return Err(format!("the text starting with {c} has no closing {c}"));
                };
                out.push(Tok::Str(chars[i + 1..i + 1 + len].iter().collect()));
                i += len + 2;
            }
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '=' => {
                out.push(Tok::Op("="));
                i += 1;
            }
            '!' | '<' | '>' if next == Some('=') => {
                out.push(Tok::Op(match c {
                    '!' => "!=",
                    '<' => "<=",
                    _ => ">=",
                }));
                i += 2;
            }
            '<' | '>' => {
                out.push(Tok::Op(if c == '<' { "<" } else { ">" }));
                i += 1;
            }
            '.' if !next.is_some_and(|n| n.is_ascii_digit()) => {
                out.push(Tok::Dot);
                i += 1;
            }
            c if c.is_ascii_digit() || c == '.' => {
                let len = chars[i..].iter().take_while(|c| c.is_ascii_digit() || **c == '.').count();
                out.push(Tok::Num(chars[i..i + len].iter().collect()));
                i += len;
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = chars[i..].iter().take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':')).count();
                out.push(Tok::Word(chars[i..i + len].iter().collect()));
                i += len;
            }
            c => {
                out.push(Tok::Other(c));
                i += 1;
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Parentheses and `not(` open at the current position.
    depth: usize,
}

impl Parser {
    fn new(text: &str) -> Result<Parser, String> {
        if text.chars().count() > MAX_EXPRESSION_CHARS {
            return Err(format!("the expression is longer than {MAX_EXPRESSION_CHARS} characters"));
        }
        let toks = tokenize(text)?;
        if toks.is_empty() {
            return Err("the expression is empty".into());
        }
        Ok(Parser { toks, pos: 0, depth: 0 })
    }

    /// Enters one more level of parentheses; an error past the limit.
    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_EXPRESSION_DEPTH {
            return Err(format!(
                "parentheses and not() are nested more than {MAX_EXPRESSION_DEPTH} levels deep: write the expression more simply"
            ));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Tok> {
        self.toks.get(self.pos + ahead)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        tok
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w == word)
    }

    /// What is wrong with the token at the current position.
    fn unexpected(&self) -> String {
        let followed_by_paren = self.peek_at(1) == Some(&Tok::LParen);
        match self.peek() {
            None => "the expression ends too early".into(),
            Some(Tok::Other(c @ ('+' | '-' | '*'))) => format!("arithmetic ({c}) is not supported"),
            Some(Tok::Word(w)) if w == "div" || w == "mod" => format!("arithmetic ({w}) is not supported"),
            Some(Tok::Word(w)) if followed_by_paren => format!("the function {w}() is not supported"),
            Some(Tok::Word(w)) => format!("{w} is not understood here"),
            Some(Tok::Dot) => "`.` (the answer to this question itself) is not supported here".into(),
            Some(Tok::Ref(name)) => format!("${{{name}}} is not expected here: join conditions with and / or"),
            Some(Tok::Str(s)) => format!("the value '{s}' is not expected here"),
            Some(Tok::Num(s)) => format!("the number {s} is not expected here"),
            Some(Tok::Op(op)) => format!("{op} is not expected here"),
            Some(Tok::LParen) => "( is not expected here".into(),
            Some(Tok::RParen) => ") is not expected here".into(),
            Some(Tok::Comma) => ", is not expected here".into(),
            Some(Tok::Other('|')) => "| (combining node sets) is not supported".into(),
            Some(Tok::Other(c)) => format!("the character {c} is not supported"),
        }
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), String> {
        if self.peek() == Some(&tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("{what}: {}", self.unexpected()))
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.is_word("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Or(items) })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.unary()?];
        while self.is_word("and") {
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::And(items) })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        let paren_follows = self.peek_at(1) == Some(&Tok::LParen);
        match self.peek() {
            Some(Tok::Word(w)) if w == "not" && paren_follows => {
                self.pos += 2;
                self.enter()?;
                let inner = self.or()?;
                self.expect(Tok::RParen, "not( is not closed")?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Some(Tok::Word(w)) if w == "selected" && paren_follows => {
                self.pos += 2;
                let name = match self.next() {
                    Some(Tok::Ref(name)) => name,
                    _ => return Err("selected() needs a question first, as in selected(${vraag}, 'waarde')".into()),
                };
                self.expect(Tok::Comma, "selected() needs a comma after the question")?;
                let value = match self.next() {
                    Some(Tok::Str(value)) => value,
                    _ => {
                        return Err(
                            "selected() needs an option value in quotes second, as in selected(${vraag}, 'waarde')"
                                .into(),
                        )
                    }
                };
                self.expect(Tok::RParen, "selected( is not closed")?;
                Ok(Expr::Selected { name, value })
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                self.enter()?;
                let inner = self.or()?;
                self.expect(Tok::RParen, "( is not closed")?;
                self.depth -= 1;
                Ok(inner)
            }
            Some(Tok::Ref(_) | Tok::Str(_) | Tok::Num(_)) => self.comparison(),
            Some(Tok::Other('-')) if matches!(self.peek_at(1), Some(Tok::Num(_))) => self.comparison(),
            _ => Err(self.unexpected()),
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.peek().cloned() {
            Some(Tok::Ref(name)) => {
                self.pos += 1;
                Ok(Operand::Ref(name))
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Operand::Lit(Literal::Str(s)))
            }
            Some(Tok::Num(_)) => Ok(Operand::Lit(Literal::Int(self.integer()?))),
            Some(Tok::Other('-')) if matches!(self.peek_at(1), Some(Tok::Num(_))) => {
                Ok(Operand::Lit(Literal::Int(self.integer()?)))
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A whole number, possibly negative.
    fn integer(&mut self) -> Result<i64, String> {
        let negative = self.peek() == Some(&Tok::Other('-'));
        if negative {
            self.pos += 1;
        }
        match self.next() {
            Some(Tok::Num(digits)) => {
                let text = if negative { format!("-{digits}") } else { digits };
                text.parse::<i64>()
                    .map_err(|_| format!("{text} is not a whole number; only whole numbers are supported"))
            }
            _ => {
                self.pos -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Op(op)) => *op,
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        let right = self.operand()?;
        match (left, right) {
            (Operand::Ref(name), Operand::Lit(value)) => Ok(Expr::Compare { name, op, value }),
            (Operand::Lit(value), Operand::Ref(name)) => Ok(Expr::Compare { name, op: flip(op), value }),
            (Operand::Ref(a), Operand::Ref(b)) => Err(format!(
                "comparing two questions (${{{a}}} and ${{{b}}}) is not supported: compare a question with a value"
            )),
            (Operand::Lit(_), Operand::Lit(_)) => {
                Err("comparing two values is not supported: compare a question with a value".into())
            }
        }
    }
}

enum Operand {
    Ref(String),
    Lit(Literal),
}

/// `3 < ${n}` is `${n} > 3`.
fn flip(op: &'static str) -> &'static str {
    match op {
        "<" => ">",
        "<=" => ">=",
        ">" => "<",
        ">=" => "<=",
        other => other,
    }
}

/// Parses an XLSForm `relevant` in the supported subset: comparisons of a
/// `${question}` with a value, `selected()`, `not()`, `and`, `or`, parentheses.
fn parse_relevant(text: &str) -> Result<Expr, String> {
    let mut parser = Parser::new(text)?;
    let expr = parser.or()?;
    if parser.peek().is_some() {
        return Err(parser.unexpected());
    }
    Ok(expr)
}

#[derive(Debug, Default, PartialEq)]
struct Bounds {
    min: Option<i64>,
    max: Option<i64>,
    max_choices: Option<i64>,
}

/// Parses a range constraint: `. >= 1 and . <= 120`, `. < 100`, `0 <= .`,
/// or, with `count`, `count-selected(.) <= 3`.
fn parse_constraint(text: &str, count: bool) -> Result<Bounds, String> {
    let mut parser = Parser::new(text)?;
    let mut bounds = Bounds::default();
    loop {
        constraint_term(&mut parser, count, &mut bounds)?;
        if parser.is_word("and") {
            parser.pos += 1;
        } else if parser.peek().is_none() {
            return Ok(bounds);
        } else {
            return Err(format!("{CONSTRAINT_HELP}; {}", parser.unexpected()));
        }
    }
}

fn constraint_term(parser: &mut Parser, count: bool, bounds: &mut Bounds) -> Result<(), String> {
    let fail = |parser: &Parser| format!("{CONSTRAINT_HELP}; {}", parser.unexpected());
    match parser.peek() {
        Some(Tok::LParen) => {
            parser.pos += 1;
            parser.enter()?;
            constraint_term(parser, count, bounds)?;
            parser.expect(Tok::RParen, "( is not closed")?;
            parser.depth -= 1;
            return Ok(());
        }
        Some(Tok::Dot) if !count => {
            parser.pos += 1;
            let op = constraint_op(parser).ok_or_else(|| fail(parser))?;
            let n = parser.integer()?;
            return value_bound(bounds, op, n);
        }
        Some(Tok::Num(_) | Tok::Other('-')) if !count => {
            let n = parser.integer()?;
            let op = constraint_op(parser).ok_or_else(|| fail(parser))?;
            if parser.next() != Some(Tok::Dot) {
                parser.pos -= 1;
                return Err(fail(parser));
            }
            return value_bound(bounds, flip(op), n);
        }
        Some(Tok::Word(w)) if count && w == "count-selected" => {}
        _ => return Err(fail(parser)),
    }
    parser.pos += 1;
    for tok in [Tok::LParen, Tok::Dot, Tok::RParen] {
        parser.expect(tok, "write count-selected(.) <= 3")?;
    }
    let op = constraint_op(parser).ok_or_else(|| fail(parser))?;
    let n = parser.integer()?;
    let max = match op {
        "<=" => n,
        "<" => n.checked_sub(1).ok_or_else(|| format!("{n} is too small"))?,
        _ => return Err("only a largest number of choices is supported, as in count-selected(.) <= 3".into()),
    };
    bounds.max_choices = Some(bounds.max_choices.map_or(max, |m| m.min(max)));
    Ok(())
}

fn constraint_op(parser: &mut Parser) -> Option<&'static str> {
    match parser.peek() {
        Some(Tok::Op(op)) => {
            let op = *op;
            parser.pos += 1;
            Some(op)
        }
        _ => None,
    }
}

fn value_bound(bounds: &mut Bounds, op: &str, n: i64) -> Result<(), String> {
    let overflow = || format!("{n} is too large");
    match op {
        ">=" => bounds.min = Some(bounds.min.map_or(n, |m| m.max(n))),
        ">" => {
            let n = n.checked_add(1).ok_or_else(overflow)?;
            bounds.min = Some(bounds.min.map_or(n, |m| m.max(n)));
        }
        "<=" => bounds.max = Some(bounds.max.map_or(n, |m| m.min(n))),
        "<" => {
            let n = n.checked_sub(1).ok_or_else(overflow)?;
            bounds.max = Some(bounds.max.map_or(n, |m| m.min(n)));
        }
        _ => return Err(format!("{op} is not supported in a constraint: {CONSTRAINT_HELP}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
