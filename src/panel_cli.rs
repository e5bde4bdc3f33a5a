//! `buurtpeil panel select|replace`: read the files, run the library, write
//! the output folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use buurtpeil::db::{connect, DatabaseUrl};
use buurtpeil::panel::{self, Algorithm, Request, Seed, Task};
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
    let previous = match run {
        Run::Replace { protocol, .. } => Some((protocol.display().to_string(), read(protocol)?)),
        Run::Select { .. } => None,
    };
    let task = match (run, &previous) {
        (Run::Replace { dropped, .. }, Some((previous_name, previous))) => {
            Task::Replace { previous_name, previous, dropped: dropped.to_vec() }
        }
        (Run::Select { size }, _) => Task::Select { size },
        (Run::Replace { .. }, None) => unreachable!("the protocol of a replacement is read above"),
    };
    let (people, features) = (read(&common.people)?, read(&common.features)?);
    let (people_name, features_name) = (common.people.display().to_string(), common.features.display().to_string());
    let outcome = panel::run_job(&Request {
        people_name: &people_name,
        people: &people,
        features_name: &features_name,
        features: &features,
        id_column: &common.id_column,
        seed: Seed::parse(&common.seed)?,
        algorithm: common.algorithm.parse::<Algorithm>()?,
        household_columns: common.one_per_household.clone(),
        task,
    })?;
    outcome.files.write(&common.out)?;
    let protocol = &outcome.protocol;
    println!(
        "{}: panel of {} written to {} ({} volunteers, {} reserves, smallest probability {:.6}{}, {:.1} s)",
        protocol.algorithm,
        protocol.panel.len(),
        common.out.display(),
        outcome.eligible,
        protocol.reserves.iter().map(|(_, r)| r.len()).sum::<usize>(),
        protocol.min_probability,
        if protocol.probabilities_estimated { ", estimated" } else { "" },
        protocol.seconds
    );
    Ok(())
}
