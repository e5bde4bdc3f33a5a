//! `buurtpeil register …` and `buurtpeil draw …`: registers, draws by lot and
//! their verification from the command line. Progress goes to stderr.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};

use buurtpeil::area::{load_tree, AreaTree, Level};
use buurtpeil::db::{connect, AnyConnection, DatabaseUrl};
use buurtpeil::lottery::{
    draw_campaign, find_campaign, parse_allocation, parse_register, parse_register_known, purge, save_register, verify,
    Allocation, CampaignDraw, DrawParams, Person, Protocol, Seed,
};

#[derive(Subcommand)]
pub enum RegisterCommand {
    /// Import a register extract (CSV) as a new campaign
    Import {
        /// Name of the campaign (unique), e.g. "burgerberaad-2027"
        #[arg(long)]
        campaign: String,
        file: PathBuf,
    },
    /// Delete every personal field of a campaign (register and selection);
    /// counts, hashes and the protocol stay
    Purge {
        #[arg(long)]
        campaign: String,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DrawCli {
    #[command(subcommand)]
    pub command: Option<DrawCommand>,
    #[command(flatten)]
    pub args: DrawArgs,
}

#[derive(Subcommand)]
pub enum DrawCommand {
    /// Re-run a draw from its protocol and the register file: prints MATCH
    /// (exit 0) or MISMATCH and what differs (exit 1); 2 for unreadable input
    Verify {
        #[arg(long)]
        protocol: PathBuf,
        #[arg(long)]
        register: PathBuf,
    },
}

#[derive(Args)]
pub struct DrawArgs {
    /// Campaign name; created from --register when it does not exist yet
    #[arg(long, required = true)]
    campaign: Option<String>,
    /// Register extract (CSV); must be the campaign's register if already imported
    #[arg(long, required = true)]
    register: Option<PathBuf>,
    /// Number of people to draw
    #[arg(long, required = true)]
    size: Option<u64>,
    /// The publicly chosen seed, e.g. "lotto 2027-01-04: 3 11 19 24 30 41"
    #[arg(long, required = true)]
    seed: Option<String>,
    /// proportional, equal, or a CSV file with buurt,aantal per row
    #[arg(long, default_value = "proportional")]
    allocation: String,
    /// Minimum age on the reference date (0: none)
    #[arg(long, default_value_t = 16)]
    min_age: u32,
    /// Draw at most one person per address (postcode, house number, addition)
    #[arg(long)]
    one_per_address: bool,
    /// Leave out people drawn in any campaign in the last M months
    #[arg(long)]
    exclude_months: Option<u32>,
    /// Date on which ages are counted, YYYY-MM-DD (default: today)
    #[arg(long)]
    reference_date: Option<String>,
    /// How the seed was chosen, in words, for the protocol
    #[arg(long, default_value = "")]
    seed_source: String,
    /// Where to write the protocol (JSON)
    #[arg(long, required = true)]
    protocol: Option<PathBuf>,
}

fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).with_context(|| format!("{}: cannot open the file", path.display()))
}

fn known_areas(conn: &mut AnyConnection) -> Result<AreaTree> {
    let tree = load_tree(conn)?;
    if tree.at_level(Level::Buurt).next().is_none() {
        bail!("no buurten are known yet: import your municipality's areas first (buurtpeil areas import FILE.csv)");
    }
    Ok(tree)
}

fn read_register(path: &Path, tree: &AreaTree) -> Result<Vec<Person>> {
    let name = path.display().to_string();
    eprintln!("{name}: reading the register…");
    let people = parse_register_known(&name, open(path)?, tree)?;
    let buurten: std::collections::BTreeSet<_> = people.iter().map(|p| &p.buurt).collect();
    eprintln!("{name}: {} people in {} buurten", people.len(), buurten.len());
    Ok(people)
}

fn store(conn: &mut AnyConnection, campaign: &str, people: &[Person]) -> Result<()> {
    let total = people.len();
    let step = (total / 10).max(1000);
    let mut next = step;
    let (c, new) = save_register(conn, campaign, people, today(), &mut |done| {
        if done >= next || done == total {
            eprintln!("storing the register: {done} / {total}");
            next = done + step;
        }
    })?;
    if new {
        eprintln!("campaign {:?}: register stored ({} people, hash {})", c.name, c.register_size, c.register_hash);
    } else {
        eprintln!("campaign {:?}: this register was already stored", c.name);
    }
    Ok(())
}

fn today() -> NaiveDate {
    buurtpeil::clock::today()
}

pub fn register(command: &RegisterCommand, url: &DatabaseUrl) -> Result<()> {
    match command {
        RegisterCommand::Import { campaign, file } => {
            let pool = connect(url, 1)?;
            let mut conn = pool.get()?;
            // The same register again is harmless (save_register checks);
            // a purged campaign never takes a register again.
            if let Some(c) = find_campaign(&mut conn, campaign)? {
                if let Some(on) = c.purged_on {
                    bail!("campaign {:?} was purged on {on}; use a new campaign name", c.name);
                }
            }
            let tree = known_areas(&mut conn)?;
            let people = read_register(file, &tree)?;
            store(&mut conn, campaign, &people)?;
            println!("campaign {campaign:?}: {} people imported", people.len());
        }
        RegisterCommand::Purge { campaign } => {
            let pool = connect(url, 1)?;
            let mut conn = pool.get()?;
            let purged = purge(&mut conn, campaign, today())?;
            // The invitations' names and addresses go too: one command erases
            // every personal field of a campaign.
            let name = buurtpeil::invite::CampaignName::parse(campaign)?;
            let contacts = buurtpeil::invite::purge_contacts(&mut conn, &name, today())?;
            println!("campaign {campaign:?}: the contact details of {contacts} invitations erased");
            println!(
                "campaign {campaign:?} purged: {} people and {} selections removed; \
                 kept: register hash and size, the draw's protocol, hashes of those drawn",
                purged.people, purged.selected
            );
        }
    }
    Ok(())
}

fn allocation(raw: &str, tree: &AreaTree) -> Result<Allocation> {
    match raw {
        "proportional" => Ok(Allocation::Proportional),
        "equal" => Ok(Allocation::Equal),
        path => {
            let p = Path::new(path);
            if !p.exists() {
                bail!("--allocation {path:?}: use proportional, equal, or a CSV file with buurt,aantal (no such file)");
            }
            let counts = parse_allocation(path, open(p)?, Some(tree))?;
            Ok(Allocation::Explicit { counts })
        }
    }
}

pub fn run_draw(args: &DrawArgs, url: &DatabaseUrl) -> Result<()> {
    let (Some(campaign), Some(register), Some(size), Some(seed), Some(out)) =
        (&args.campaign, &args.register, args.size, &args.seed, &args.protocol)
    else {
        bail!("draw needs --campaign, --register, --size, --seed and --protocol");
    };
    let seed = Seed::parse(seed)?;
    let reference_date = match &args.reference_date {
        None => today(),
        Some(raw) => NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .with_context(|| format!("--reference-date {raw:?} is not a date like 2027-01-31"))?,
    };
    if args.seed_source.chars().any(char::is_control) {
        bail!("--seed-source may not hold control characters");
    }
    let pool = connect(url, 1)?;
    let mut conn = pool.get()?;
    let tree = known_areas(&mut conn)?;
    let allocation = allocation(&args.allocation, &tree)?;
    let people = read_register(register, &tree)?;
    let params = DrawParams {
        size,
        allocation,
        min_age: args.min_age,
        reference_date,
        one_per_address: args.one_per_address,
        exclude_months: args.exclude_months,
        excluded: vec![],
    };
    eprintln!("drawing {size}…");
    let total = people.len();
    let step = (total / 10).max(1000);
    let mut next = step;
    let request = CampaignDraw { campaign, people: &people, params, seed, seed_source: &args.seed_source };
    let outcome = draw_campaign(&mut conn, request, today(), Utc::now(), &mut |done| {
        if done >= next || done == total {
            eprintln!("storing the register: {done} / {total}");
            next = done + step;
        }
    })?;
    if outcome.excluded > 0 {
        eprintln!("{} people of this register were drawn in earlier campaigns and are left out", outcome.excluded);
    }
    let result = outcome.draw;
    std::fs::write(out, outcome.protocol.to_json()).with_context(|| {
        format!("{}: cannot write the protocol (the draw is stored; the council's page shows it)", out.display())
    })?;
    let eligible: u64 = result.strata.values().map(|s| s.eligible).sum();
    println!(
        "campaign {:?}: drew {} of {} eligible people ({} in the register) over {} buurten",
        campaign.trim(),
        result.selected.len(),
        eligible,
        result.register_size,
        result.strata.values().filter(|s| s.allocated > 0).count()
    );
    println!("register hash:  {}", result.register_hash);
    println!("selection hash: {}", result.selection_hash);
    println!("protocol written to {} — publish it; anyone can check it with `buurtpeil draw verify`", out.display());
    Ok(())
}

/// Exit code: 0 MATCH, 1 MISMATCH, 2 unreadable input.
pub fn run_verify(protocol: &Path, register: &Path) -> i32 {
    let text = match std::fs::read_to_string(protocol) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: cannot read the protocol: {e}", protocol.display());
            return 2;
        }
    };
    let protocol_value = match Protocol::from_json(&text) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}: {e}", protocol.display());
            return 2;
        }
    };
    let name = register.display().to_string();
    let people = match std::fs::File::open(register).map_err(|e| e.to_string()).and_then(|f| {
        eprintln!("{name}: reading the register…");
        parse_register(&name, f).map_err(|e| e.to_string())
    }) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {name}: cannot read the register: {e}");
            return 2;
        }
    };
    eprintln!("re-running the draw of campaign {:?}…", protocol_value.campaign);
    let v = verify(&protocol_value, &people);
    println!("register hash:  {}", v.register_hash);
    if let Some(h) = &v.selection_hash {
        println!("selection hash: {h}");
    }
    if v.is_match() {
        println!("MATCH: this register and the protocol's parameters and seed give exactly the published selection");
        0
    } else {
        println!("MISMATCH:");
        for d in &v.differences {
            println!("  {d}");
        }
        1
    }
}
