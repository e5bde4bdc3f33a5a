//! `buurtpeil panel select|replace`: read the files, run the library, write
//! the output folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use buurtpeil::db::{connect, DatabaseUrl};
use buurtpeil::panel::{self, sha256_hex, Algorithm, Features, Pool, Protocol, Seed, SelectOptions};
use buurtpeil::questionnaire::{load_catalog, load_dir};
use buurtpeil::survey::identified_responses;

#[derive(Subcommand)]
pub enum PanelCommand {
    /// Write the sign-ups of a questionnaire (e.g. panelaanmelding) as a
    /// people file for `panel select`: id, buurt, the quota answers, contact
    Volunteers {
        /// The sign-up questionnaire's short name
        #[arg(long, default_value = "panelaanmelding")]
        questionnaire: String,
        /// Where to write the people file (CSV)
        #[arg(long)]
        out: PathBuf,
    },
    /// Select a panel from the volunteers (LEXIMIN by default) and write
    /// panel.csv, probabilities.csv and protocol.json to --out
    Select {
        #[command(flatten)]
        common: Common,
        /// Panel size
        #[arg(long)]
        size: u32,
    },
    /// Choose replacements for members who dropped out, keeping the quotas
    Replace {
        #[command(flatten)]
        common: Common,
        /// protocol.json of the selection (or of the last replacement)
        #[arg(long)]
        protocol: PathBuf,
        /// Ids of the members who dropped out, comma-separated
        #[arg(long, value_delimiter = ',', required = true)]
        dropped: Vec<String>,
    },
}

#[derive(Args)]
pub struct Common {
    /// People file (CSV: an id column and one column per feature)
    #[arg(long)]
    people: PathBuf,
    /// Features file (CSV: feature,value,min,max[,min_flex,max_flex])
    #[arg(long)]
    features: PathBuf,
    /// Published seed text of the draw
    #[arg(long)]
    seed: String,
    /// leximin or legacy
    #[arg(long, default_value = "leximin")]
    algorithm: String,
    /// Columns that together identify a household (e.g. address,postcode); at most one member per household
    #[arg(long, value_delimiter = ',')]
    one_per_household: Vec<String>,
    /// Name of the id column in the people file
    #[arg(long, default_value = "id")]
    id_column: String,
    /// Output folder
    #[arg(long)]
    out: PathBuf,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot read the file", path.display()))
}

/// `panel volunteers`: the sign-ups, read from the database.
pub fn volunteers(url: &DatabaseUrl, questionnaires: &Path, slug: &str, out: &Path) -> Result<()> {
    let pool = connect(url, 1)?;
    let mut conn = pool.get()?;
    let catalog = load_catalog(&mut conn, &load_dir(questionnaires)?)?;
    let Some(current) = catalog.current(slug) else {
        anyhow::bail!("there is no questionnaire {slug:?}");
    };
    let ids: Vec<i32> = catalog.versions(slug).iter().map(|v| v.id).collect();
    let signups = identified_responses(&mut conn, &ids)?;
    let csv = panel::volunteers_csv(&current.definition, &signups);
    std::fs::write(out, csv).with_context(|| format!("{}: cannot write the people file", out.display()))?;
    let (features, _) = panel::volunteer_columns(&current.definition);
    println!(
        "{} sign-ups written to {} (features: {}); it holds names and contact details: keep it safe and delete it after the selection",
        signups.len(),
        out.display(),
        features.join(", ")
    );
    Ok(())
}

/// What `select_or_replace` does: a new selection, or replacements that
/// continue a previous one.
pub enum Run<'a> {
    Select { size: u32 },
    Replace { protocol: &'a Path, dropped: &'a [String] },
}

/// `panel select` and `panel replace`: files in, output folder out.
pub fn select_or_replace(common: &Common, run: Run<'_>) -> Result<()> {
    let started = Instant::now();
    // A replacement continues the previous selection: its household rule
    // applies unless other columns are given.
    let previous = match run {
        Run::Replace { protocol, .. } => {
            let bytes = read(protocol)?;
            Some((Protocol::parse(&protocol.display().to_string(), &bytes)?, bytes))
        }
        Run::Select { .. } => None,
    };
    let household_columns = match (&previous, common.one_per_household.is_empty()) {
        (Some((p, _)), true) => p.one_per_household.clone().unwrap_or_default(),
        _ => common.one_per_household.clone(),
    };
    let (people_bytes, features_bytes) = (read(&common.people)?, read(&common.features)?);
    let features = Features::parse(&common.features.display().to_string(), features_bytes.as_slice())?;
    let pool = Pool::parse(
        &common.people.display().to_string(),
        people_bytes.as_slice(),
        &features,
        &common.id_column,
        &household_columns,
    )?;
    let seed = Seed::parse(&common.seed)?;
    let algorithm: Algorithm = common.algorithm.parse()?;
    let households = (!household_columns.is_empty()).then_some(household_columns);
    let mut options = SelectOptions { size: 0, seed: seed.clone(), algorithm, one_per_household: households.is_some() };
    let (selection, mut protocol) = match (run, previous) {
        (Run::Select { size }, _) => {
            options.size = size;
            let selection = panel::select(&features, &pool, &options)?;
            let seconds = started.elapsed().as_secs_f64();
            let protocol =
                Protocol::new(&selection, &pool, &people_bytes, &features_bytes, size, &seed, households, seconds);
            (selection, protocol)
        }
        (Run::Replace { dropped, .. }, Some((previous, previous_bytes))) => {
            let selection = panel::replace(&features, &pool, &previous.panel, dropped, &options)?;
            let seconds = started.elapsed().as_secs_f64();
            let size = previous.panel.len() as u32;
            let mut protocol =
                Protocol::new(&selection, &pool, &people_bytes, &features_bytes, size, &seed, households, seconds);
            protocol.mode = "replacement".to_owned();
            protocol.previous_protocol_sha256 = Some(sha256_hex(&previous_bytes));
            protocol.dropped = dropped.to_vec();
            (selection, protocol)
        }
        (Run::Replace { .. }, None) => unreachable!("the protocol of a replacement is read above"),
    };
    protocol.seconds = started.elapsed().as_secs_f64();
    protocol.write(&common.out, &selection, &pool)?;
    println!(
        "{}: panel of {} written to {} ({} volunteers, {} reserves, smallest probability {:.6}{}, {:.1} s)",
        protocol.algorithm,
        selection.panel.len(),
        common.out.display(),
        selection.eligible.len(),
        selection.reserves.iter().map(|(_, r)| r.len()).sum::<usize>(),
        protocol.min_probability,
        if protocol.probabilities_estimated { ", estimated" } else { "" },
        protocol.seconds
    );
    Ok(())
}
