//! Panel selections made in the council's pages, kept in the database so an
//! outcome survives a reload and a restart. The people file and `panel.csv`
//! hold names and contact details; `purge` empties them per campaign.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::job::Outcome;
use super::public::PublicSelection;
use super::Algorithm;
use crate::db::schema::panel_selections as ps;
use crate::db::{AnyConnection, DbError};

/// How a selection was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub size: u32,
    pub seed: String,
    pub algorithm: Algorithm,
    pub household_columns: Vec<String>,
    /// For a replacement: the ids of the members who dropped out.
    #[serde(default)]
    pub dropped: Vec<String>,
    /// Key of the published pseudonyms (see `public`).
    pub pseudonym_key: String,
}

/// Where a selection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Done,
    /// The quotas cannot be met: `problem` explains which.
    Infeasible,
    /// Bad input or a solver failure: `problem` says what.
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Done => "done",
            Status::Infeasible => "infeasible",
            Status::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "running" => Status::Running,
            "done" => Status::Done,
            "infeasible" => Status::Infeasible,
            _ => Status::Failed,
        }
    }
}

/// A selection as stored.
#[derive(Debug, Clone)]
pub struct StoredSelection {
    pub id: i32,
    pub campaign: String,
    pub questionnaire: String,
    pub created_on: NaiveDate,
    pub status: Status,
    pub previous_id: Option<i32>,
    pub settings: Settings,
    pub features_csv: String,
    /// `None` once purged.
    pub people_csv: Option<String>,
    pub panel_csv: Option<String>,
    pub probabilities_csv: Option<String>,
    pub protocol: Option<String>,
    pub public_json: Option<String>,
    pub problem: Option<String>,
    /// The instance running it (while running), and its last heartbeat.
    pub runner: Option<String>,
    pub heartbeat_at: Option<NaiveDateTime>,
}

impl StoredSelection {
    pub fn public(&self) -> Option<PublicSelection> {
        self.public_json.as_deref().and_then(|j| serde_json::from_str(j).ok())
    }
}

/// A new selection, about to run.
pub struct NewSelection<'a> {
    pub campaign: &'a str,
    pub questionnaire: &'a str,
    pub previous_id: Option<i32>,
    pub settings: &'a Settings,
    pub features_csv: &'a str,
    pub people_csv: &'a str,
}

/// How a run ended.
pub enum Finished<'a> {
    Done(&'a Outcome),
    Infeasible(String),
    Failed(String),
}

type Row = (
    i32,
    String,
    String,
    NaiveDate,
    String,
    Option<i32>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<NaiveDateTime>,
);

fn from_row(r: Row) -> Result<StoredSelection, DbError> {
    let settings = serde_json::from_str(&r.6).map_err(|e| DbError::Connect(format!("panel selection {}: {e}", r.0)))?;
    Ok(StoredSelection {
        id: r.0,
        campaign: r.1,
        questionnaire: r.2,
        created_on: r.3,
        status: Status::parse(&r.4),
        previous_id: r.5,
        settings,
        features_csv: r.7,
        people_csv: r.8,
        panel_csv: r.9,
        probabilities_csv: r.10,
        protocol: r.11,
        public_json: r.12,
        problem: r.13,
        runner: r.14,
        heartbeat_at: r.15,
    })
}

macro_rules! columns {
    () => {
        (
            ps::id,
            ps::campaign,
            ps::questionnaire,
            ps::created_on,
            ps::status,
            ps::previous_id,
            ps::settings,
            ps::features_csv,
            ps::people_csv,
            ps::panel_csv,
            ps::probabilities_csv,
            ps::protocol,
            ps::public_json,
            ps::problem,
            ps::runner,
            ps::heartbeat_at,
        )
    };
}

/// Stores a selection that is about to run; returns its id.
pub fn start(conn: &mut AnyConnection, new: &NewSelection, today: NaiveDate) -> Result<i32, DbError> {
    let settings = serde_json::to_string(new.settings).expect("plain data");
    let values = (
        ps::campaign.eq(new.campaign),
        ps::questionnaire.eq(new.questionnaire),
        ps::created_on.eq(today),
        ps::status.eq(Status::Running.as_str()),
        ps::previous_id.eq(new.previous_id),
        ps::settings.eq(&settings),
        ps::features_csv.eq(new.features_csv),
        ps::people_csv.eq(Some(new.people_csv)),
    );
    // The id of this very row, even when two selections start at once.
    Ok(crate::on_backend!(conn, |c| diesel::insert_into(ps::table)
        .values(values)
        .returning(ps::id)
        .get_result::<i32>(c))?)
}

/// Records how a run ended.
pub fn finish(conn: &mut AnyConnection, id: i32, how: Finished) -> Result<(), DbError> {
    let target = ps::table.find(id);
    match how {
        Finished::Done(outcome) => {
            let selection = load(conn, id)?.ok_or_else(|| DbError::Connect(format!("panel selection {id} is gone")))?;
            let public = PublicSelection::new(
                &outcome.protocol,
                &outcome.files.probabilities_csv,
                &selection.features_csv,
                &selection.settings.pseudonym_key,
            );
            diesel::update(target)
                .set((
                    ps::status.eq(Status::Done.as_str()),
                    ps::panel_csv.eq(Some(&outcome.files.panel_csv)),
                    ps::probabilities_csv.eq(Some(&outcome.files.probabilities_csv)),
                    ps::protocol.eq(Some(&outcome.files.protocol_json)),
                    ps::public_json.eq(Some(public.to_json())),
                ))
                .execute(conn)?;
        }
        Finished::Infeasible(why) => {
            diesel::update(target)
                .set((ps::status.eq(Status::Infeasible.as_str()), ps::problem.eq(Some(why))))
                .execute(conn)?;
        }
        Finished::Failed(why) => {
            diesel::update(target)
                .set((ps::status.eq(Status::Failed.as_str()), ps::problem.eq(Some(why))))
                .execute(conn)?;
        }
    }
    Ok(())
}

pub fn load(conn: &mut AnyConnection, id: i32) -> Result<Option<StoredSelection>, DbError> {
    let row: Option<Row> = ps::table.find(id).select(columns!()).first(conn).optional()?;
    row.map(from_row).transpose()
}

/// A campaign's selections, newest first.
pub fn list(conn: &mut AnyConnection, campaign: &str) -> Result<Vec<StoredSelection>, DbError> {
    let rows: Vec<Row> =
        ps::table.filter(ps::campaign.eq(campaign)).order(ps::id.desc()).select(columns!()).load(conn)?;
    rows.into_iter().map(from_row).collect()
}

/// Empties the people files and panels (names, contact details) of a
/// campaign's selections; protocols and probabilities stay. Returns how
/// many selections held personal data.
pub fn purge(conn: &mut AnyConnection, campaign: &str) -> Result<usize, DbError> {
    Ok(diesel::update(ps::table.filter(ps::campaign.eq(campaign)).filter(ps::people_csv.is_not_null()))
        .set((ps::people_csv.eq(None::<String>), ps::panel_csv.eq(None::<String>)))
        .execute(conn)?)
}

/// A runner's heartbeat older than this means it died: another instance
/// takes the selection over.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(30);

/// Takes a running selection for `runner`: when nobody runs it, or its
/// runner's heartbeat is older than [`LEASE`]. One compare-and-set
/// statement, so of two instances only one gets it. Returns whether it did.
pub fn claim(conn: &mut AnyConnection, id: i32, runner: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let stale = now - chrono::Duration::from_std(LEASE).unwrap_or_default();
    let n = diesel::update(
        ps::table
            .find(id)
            .filter(ps::status.eq(Status::Running.as_str()))
            .filter(ps::runner.is_null().or(ps::heartbeat_at.is_null()).or(ps::heartbeat_at.lt(stale))),
    )
    .set((ps::runner.eq(Some(runner)), ps::heartbeat_at.eq(Some(now))))
    .execute(conn)?;
    Ok(n == 1)
}

/// The running selections nobody holds now (no runner, or a stale one).
pub fn unclaimed(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<Vec<i32>, DbError> {
    let stale = now - chrono::Duration::from_std(LEASE).unwrap_or_default();
    Ok(ps::table
        .filter(ps::status.eq(Status::Running.as_str()))
        .filter(ps::runner.is_null().or(ps::heartbeat_at.is_null()).or(ps::heartbeat_at.lt(stale)))
        .order(ps::id)
        .select(ps::id)
        .load(conn)?)
}

/// The runner's sign of life; false when another instance took it over.
pub fn heartbeat(conn: &mut AnyConnection, id: i32, runner: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let n = diesel::update(
        ps::table.find(id).filter(ps::status.eq(Status::Running.as_str())).filter(ps::runner.eq(runner)),
    )
    .set(ps::heartbeat_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}
