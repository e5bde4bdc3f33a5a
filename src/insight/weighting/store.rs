//! Margins in the database, and respondents' cells counted from stored
//! answers.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::category::{Cell, Variable};
use super::import::MarginsFile;
use super::margins::{Margins, RespondentCells};
use super::placement::Placement;
use crate::db::schema::{answer_cells_pending, answers, population_margins as pm, response_counts};
use crate::db::{AnyConnection, DbError};
use crate::on_backend;
use crate::questionnaire::{Catalog, Definition};
use crate::survey::Wave;

/// Stores imported margins in one transaction: the areas in the file get
/// exactly the file's figures, other areas keep theirs. Nothing of a failed
/// import is kept. Returns how many areas were written.
pub fn save_margins(
    conn: &mut AnyConnection,
    file: &MarginsFile,
    source: &str,
    today: NaiveDate,
) -> Result<usize, DbError> {
    let rows: Vec<_> = file
        .areas
        .iter()
        .flat_map(|(area, m)| {
            m.iter().map(move |(c, n)| {
                (
                    pm::area.eq(area.as_str()),
                    pm::variable.eq(c.variable().as_str()),
                    pm::category.eq(c.as_str()),
                    pm::population.eq(n as i64),
                    pm::source.eq(source),
                    pm::imported_on.eq(today),
                )
            })
        })
        .collect();
    let codes: Vec<&str> = file.areas.keys().map(String::as_str).collect();
    conn.transaction(|conn| {
        for chunk in codes.chunks(500) {
            diesel::delete(pm::table.filter(pm::area.eq_any(chunk))).execute(conn)?;
        }
        for chunk in rows.chunks(500) {
            on_backend!(conn, |c| diesel::insert_into(pm::table).values(chunk).execute(c))?;
        }
        Ok(file.areas.len())
    })
}

/// Every area's margins. Rows were checked on the way in; one that no
/// longer parses is left out rather than taking results down.
pub fn load_margins(conn: &mut AnyConnection) -> Result<BTreeMap<String, Margins>, DbError> {
    let rows: Vec<(String, String, String, i64)> =
        pm::table.select((pm::area, pm::variable, pm::category, pm::population)).load(conn)?;
    let mut out: BTreeMap<String, Margins> = BTreeMap::new();
    for (area, variable, category, n) in rows {
        let (Some(c), Ok(n)) = (Variable::parse(&variable).and_then(|v| v.category(&category)), u64::try_from(n))
        else {
            continue;
        };
        out.entry(area).or_default().set(c, n);
    }
    Ok(out)
}

/// What results read: some versions, all their days and buurten or one
/// wave's.
struct Scope<'a> {
    version_ids: &'a [i32],
    wave: Option<&'a Wave>,
}

impl Scope<'_> {
    fn contains(&self, day: NaiveDate, buurt: &str) -> bool {
        self.wave.is_none_or(|w| w.covers(day, buurt))
    }
}

/// Every placed respondent's cell, by the response's random id (with its
/// buurt and day, which the id is unique within).
fn cells_by_response(
    conn: &mut AnyConnection,
    definition: &Definition,
    scope: &Scope,
) -> Result<HashMap<i64, (String, NaiveDate, Cell)>, DbError> {
    let mut out = HashMap::new();
    let Some(placement) = Placement::of(definition) else { return Ok(out) };
    let (age_q, gender_q) = placement.questions();
    let answers_to =
        |conn: &mut AnyConnection, question: &str| -> Result<Vec<(String, NaiveDate, i64, String)>, DbError> {
            Ok(answers::table
                .filter(answers::questionnaire_version_id.eq_any(scope.version_ids))
                .filter(answers::question_id.eq(question))
                .select((answers::buurt, answers::submitted_on, answers::response_id, answers::choice))
                .load(conn)?)
        };
    let mut ages: HashMap<i64, (String, NaiveDate, String)> = HashMap::new();
    for (buurt, day, id, choice) in answers_to(conn, age_q)? {
        if scope.contains(day, &buurt) {
            ages.insert(id, (buurt, day, choice));
        }
    }
    for (buurt, day, id, choice) in answers_to(conn, gender_q)? {
        let Some((age_buurt, age_day, a)) = ages.remove(&id) else { continue };
        if age_buurt == buurt && age_day == day {
            if let Some(cell) = placement.cell(&a, &choice) {
                out.insert(id, (buurt, day, cell));
            }
        }
    }
    Ok(out)
}

// The cells of one version's respondents while they are copied onto its
// answer rows (a temporary table, dropped in the same transaction).
diesel::table! {
    cell_fill (buurt, submitted_on, response_id) {
        buurt -> Text,
        submitted_on -> Date,
        response_id -> BigInt,
        cell -> SmallInt,
    }
}

/// Fills the respondent cell of every answer stored before answers carried
/// one (migration 000010 lists those versions), each version by its own
/// weighting questions, one version per transaction. Returns how many
/// responses were placed. Run at start, before results are read; a second
/// process doing the same writes the same cells.
pub fn fill_pending_cells(conn: &mut AnyConnection, catalog: &Catalog) -> Result<usize, DbError> {
    let pending: Vec<i32> =
        answer_cells_pending::table.select(answer_cells_pending::questionnaire_version_id).load(conn)?;
    let mut placed = 0;
    for id in pending {
        placed += conn.transaction(|conn| -> Result<usize, DbError> {
            let cells = match catalog.version_by_id(id) {
                Some(v) => cells_by_response(conn, &v.definition, &Scope { version_ids: &[id], wave: None })?,
                None => HashMap::new(),
            };
            if !cells.is_empty() {
                fill_cells(conn, id, &cells)?;
            }
            diesel::delete(answer_cells_pending::table.find(id)).execute(conn)?;
            Ok(cells.len())
        })?;
    }
    Ok(placed)
}

fn fill_cells(
    conn: &mut AnyConnection,
    version: i32,
    cells: &HashMap<i64, (String, NaiveDate, Cell)>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "CREATE TEMPORARY TABLE cell_fill (buurt TEXT NOT NULL, submitted_on DATE NOT NULL, \
         response_id BIGINT NOT NULL, cell SMALLINT NOT NULL, PRIMARY KEY (buurt, submitted_on, response_id))",
    )
    .execute(conn)?;
    let rows: Vec<_> = cells
        .iter()
        .map(|(id, (buurt, day, cell))| {
            (
                cell_fill::buurt.eq(buurt.as_str()),
                cell_fill::submitted_on.eq(*day),
                cell_fill::response_id.eq(*id),
                cell_fill::cell.eq(cell.column()),
            )
        })
        .collect();
    // 4 parameters a row: well under both databases' limits per statement.
    for chunk in rows.chunks(5000) {
        on_backend!(conn, |c| diesel::insert_into(cell_fill::table).values(chunk).execute(c))?;
    }
    // `version` is an id from the database, not input.
    diesel::sql_query(format!(
        "UPDATE answers SET cell = cell_fill.cell FROM cell_fill \
         WHERE answers.questionnaire_version_id = {version} AND answers.buurt = cell_fill.buurt \
         AND answers.submitted_on = cell_fill.submitted_on AND answers.response_id = cell_fill.response_id"
    ))
    .execute(conn)?;
    diesel::sql_query("DROP TABLE cell_fill").execute(conn)?;
    Ok(())
}

/// Respondents per buurt and cell, for the given versions (all of them or
/// those of one wave), as placed by the definition's weighting questions.
/// A respondent who skipped either question, chose an option that places
/// nobody ("zeg ik liever niet"), or answered a version without these
/// questions counts as unclassified.
pub fn respondent_cells(
    conn: &mut AnyConnection,
    definition: &Definition,
    version_ids: &[i32],
    wave: Option<&Wave>,
) -> Result<BTreeMap<String, RespondentCells>, DbError> {
    let scope = Scope { version_ids, wave };
    let mut out: BTreeMap<String, RespondentCells> = BTreeMap::new();
    let totals: Vec<(String, NaiveDate, i64)> = response_counts::table
        .filter(response_counts::questionnaire_version_id.eq_any(version_ids))
        .select((response_counts::buurt, response_counts::submitted_on, response_counts::n))
        .load(conn)?;
    for (buurt, day, n) in totals {
        if scope.contains(day, &buurt) {
            out.entry(buurt).or_default().unclassified += u64::try_from(n).unwrap_or(0);
        }
    }
    for (buurt, _, cell) in cells_by_response(conn, definition, &scope)?.into_values() {
        let entry = out.entry(buurt).or_default();
        *entry.cells.entry(cell).or_default() += 1;
        entry.unclassified = entry.unclassified.saturating_sub(1);
    }
    Ok(out)
}

/// Answers counted per buurt, question, choice, value and respondent cell
/// (None: not placed): what weighted estimates per area are computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellAnswerRow {
    pub buurt: String,
    pub question_id: String,
    /// The option, or '' for a number (see the answers table).
    pub choice: String,
    pub value: i32,
    pub cell: Option<Cell>,
    pub count: u64,
}

/// Every closed answer to the definition's questions in the given versions
/// (all, or one wave's) counted per cell, in (buurt, question, choice,
/// value, cell) order. Reads each answer row once, so it belongs in a
/// per-wave precomputation, not in a request.
pub fn answers_by_cell(
    conn: &mut AnyConnection,
    definition: &Definition,
    version_ids: &[i32],
    wave: Option<&Wave>,
) -> Result<Vec<CellAnswerRow>, DbError> {
    let scope = Scope { version_ids, wave };
    let cells = cells_by_response(conn, definition, &scope)?;
    // One question at a time (a range of the answers' key), counted as it
    // is read, so memory holds one question's rows, not the whole wave's.
    let mut counted: BTreeMap<(String, String, String, i32, Option<Cell>), u64> = BTreeMap::new();
    for question in definition.questions().filter(|q| q.kind.is_answerable() && !q.kind.is_free_text()) {
        let rows: Vec<(String, NaiveDate, i64, String, i32)> = answers::table
            .filter(answers::questionnaire_version_id.eq_any(version_ids))
            .filter(answers::question_id.eq(question.id.as_str()))
            .select((answers::buurt, answers::submitted_on, answers::response_id, answers::choice, answers::value))
            .load(conn)?;
        for (buurt, day, id, choice, value) in rows {
            if !scope.contains(day, &buurt) {
                continue;
            }
            let cell = cells.get(&id).filter(|(b, d, _)| *b == buurt && *d == day).map(|(_, _, c)| *c);
            *counted.entry((buurt, question.id.to_string(), choice, value, cell)).or_default() += 1;
        }
    }
    Ok(counted
        .into_iter()
        .map(|((buurt, question_id, choice, value, cell), count)| CellAnswerRow {
            buurt,
            question_id,
            choice,
            value,
            cell,
            count,
        })
        .collect())
}
