//! One selection or replacement from the two input files to the three
//! output files: the one way `buurtpeil panel` and the council's pages run
//! it.

use std::time::Instant;

use super::protocol::{sha256_hex, Protocol, SelectionFiles};
use super::{replace, select, Algorithm, Features, PanelError, Pool, Seed, SelectOptions};

/// Select a new panel, or replace members of an earlier one.
#[derive(Debug, Clone)]
pub enum Task<'a> {
    Select {
        size: u32,
    },
    /// `previous`: the bytes of the protocol.json being continued.
    Replace {
        previous_name: &'a str,
        previous: &'a [u8],
        dropped: Vec<String>,
    },
}

/// The inputs of a run, as files (names are used in error messages).
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub people_name: &'a str,
    pub people: &'a [u8],
    pub features_name: &'a str,
    pub features: &'a [u8],
    pub id_column: &'a str,
    pub seed: Seed,
    pub algorithm: Algorithm,
    /// Columns that make a household; empty: no household rule (for a
    /// replacement: the previous selection's rule).
    pub household_columns: Vec<String>,
    pub task: Task<'a>,
}

/// The outcome: the files and what a summary needs.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub files: SelectionFiles,
    pub protocol: Protocol,
    /// How many volunteers could be chosen.
    pub eligible: usize,
}

pub fn run(request: &Request) -> Result<Outcome, PanelError> {
    let started = Instant::now();
    let previous = match &request.task {
        Task::Replace { previous_name, previous, .. } => Some(Protocol::parse(previous_name, previous)?),
        Task::Select { .. } => None,
    };
    // A replacement continues the previous selection: its household rule
    // applies unless other columns are given.
    let household_columns = match (&previous, request.household_columns.is_empty()) {
        (Some(p), true) => p.one_per_household.clone().unwrap_or_default(),
        _ => request.household_columns.clone(),
    };
    let features = Features::parse(request.features_name, request.features)?;
    let pool = Pool::parse(request.people_name, request.people, &features, request.id_column, &household_columns)?;
    let households = (!household_columns.is_empty()).then_some(household_columns);
    let mut options = SelectOptions {
        size: 0,
        seed: request.seed.clone(),
        algorithm: request.algorithm,
        one_per_household: households.is_some(),
    };
    let (selection, mut protocol) = match (&request.task, previous) {
        (Task::Select { size }, _) => {
            options.size = *size;
            let selection = select(&features, &pool, &options)?;
            let seconds = started.elapsed().as_secs_f64();
            let protocol = Protocol::new(
                &selection,
                &pool,
                request.people,
                request.features,
                *size,
                &request.seed,
                households,
                seconds,
            );
            (selection, protocol)
        }
        (Task::Replace { previous, dropped, .. }, Some(before)) => {
            let selection = replace(&features, &pool, &before.panel, dropped, &options)?;
            let seconds = started.elapsed().as_secs_f64();
            let size = before.panel.len() as u32;
            let mut protocol = Protocol::new(
                &selection,
                &pool,
                request.people,
                request.features,
                size,
                &request.seed,
                households,
                seconds,
            );
            protocol.mode = "replacement".to_owned();
            protocol.previous_protocol_sha256 = Some(sha256_hex(previous));
            protocol.dropped = dropped.clone();
            (selection, protocol)
        }
        (Task::Replace { .. }, None) => unreachable!("the protocol of a replacement is read above"),
    };
    protocol.seconds = started.elapsed().as_secs_f64();
    Ok(Outcome { files: protocol.files(&selection, &pool), eligible: selection.eligible.len(), protocol })
}
