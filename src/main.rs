//! The `buurtpeil` command: wiring only; the work is in the library.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use buurtpeil::area::{load_tree, parse_csv, save_areas, Level};
use buurtpeil::auth::{reset_demo_account, reset_demo_admin, Role, SessionKey, DEMO_ADMIN, DEMO_COUNCIL};
use buurtpeil::config::{Config, DEFAULT_BIND, DEFAULT_DATABASE_URL};
use buurtpeil::db::{connect, DatabaseUrl};
use buurtpeil::demo::BOUNDARY_TOLERANCE;
use buurtpeil::insight::weighting::{parse_margins, save_margins};
use buurtpeil::map::{load_boundaries, parse_geojson, save_boundaries};
use buurtpeil::questionnaire::{load_catalog, load_dir};
use buurtpeil::web::Application;

mod invite_cli;
mod lottery_cli;
mod panel_cli;
mod users;

/// Demo data goes to its own file unless DATABASE_URL says otherwise, so it
/// never mixes with real responses.
const DEMO_DATABASE_URL: &str = "sqlite://buurtpeil-demo.db";
const DEMO_RESPONSES: usize = 3000;
const DEMO_SEED: u64 = 772;

#[derive(Parser)]
#[command(name = "buurtpeil", version, about = "Measure and grow brede welvaart buurt by buurt")]
struct Cli {
    /// sqlite://FILE (default sqlite://buurtpeil.db) or postgres://USER:PASSWORD@HOST/DB
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Folder with questionnaire definitions (*.toml)
    #[arg(long, env = "BUURTPEIL_QUESTIONNAIRES", default_value = "questionnaires", global = true)]
    questionnaires: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application
    Serve {
        /// Address to listen on
        #[arg(long, env = "BUURTPEIL_BIND", default_value = DEFAULT_BIND)]
        bind: String,
        /// Load the demo municipality (Eindhoven) with synthetic responses
        #[arg(long)]
        demo: bool,
    },
    /// Run pending database migrations and stop
    Migrate,
    /// Load the demo municipality and synthetic responses, then stop
    Demo {
        /// About how many responses to geluk (leefbaarheid gets half as many)
        #[arg(long, default_value_t = DEMO_RESPONSES)]
        responses: usize,
    },
    /// Manage gemeenten, wijken and buurten
    Areas {
        #[command(subcommand)]
        command: AreasCommand,
    },
    /// Buurt boundaries for the map (GeoJSON of the CBS Wijk- en Buurtkaart)
    Map {
        #[command(subcommand)]
        command: MapCommand,
    },
    /// Population margins (age band and gender per area) for weighting
    Margins {
        #[command(subcommand)]
        command: MarginsCommand,
    },
    /// Manage accounts of professionals, council members and administrators
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Invitations: create, print letters, send e-mails, remind, status, purge
    Invite {
        #[command(subcommand)]
        command: invite_cli::InviteCommand,
    },
    /// Import or purge residents' registers (per campaign)
    Register {
        #[command(subcommand)]
        command: lottery_cli::RegisterCommand,
    },
    /// Draw residents by lot (stratified, reproducible), or verify a draw
    Draw(lottery_cli::DrawCli),
    /// Select a citizens' panel (G1000) from volunteers by lot, with quotas
    Panel {
        #[command(subcommand)]
        command: panel_cli::PanelCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is asked for (or read from the first line of stdin)
    Create {
        #[arg(long)]
        email: String,
        /// admin, professional or council
        #[arg(long)]
        role: String,
    },
    /// List every account
    List,
    /// Set a new password (asked for, or the first line of stdin); ends the account's sessions
    Password {
        #[arg(long)]
        email: String,
    },
    /// Disable an account: it can no longer log in, its sessions end
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again
    Enable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum AreasCommand {
    /// Import a CBS buurt list (CSV with BU_CODE, BU_NAAM, WK_CODE, WK_NAAM, GM_CODE, GM_NAAM or their lower-case names)
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum MapCommand {
    /// Import buurt boundaries: a GeoJSON FeatureCollection of buurten (Polygon or MultiPolygon,
    /// property buurtcode, BU_CODE or statcode) in RD New (EPSG:28992) or WGS84; see docs/maps.md
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum MarginsCommand {
    /// Import residents per age band and gender: the CBS Kerncijfers wijken en buurten (CSV) or area_code,age_band,gender,population
    Import { file: PathBuf },
}

/// HiGHS reports a re-solve that hits the iteration limit as a warning; the
/// panel selection expects that (it then solves afresh), so a clerk should
/// not see it.
const DEFAULT_LOG_FILTER: &str = "info,highs=error";

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_LOG_FILTER.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn database_url(cli: &Cli, demo: bool) -> String {
    cli.database_url.clone().unwrap_or_else(|| if demo { DEMO_DATABASE_URL } else { DEFAULT_DATABASE_URL }.to_owned())
}

fn min_cell() -> Option<String> {
    std::env::var("BUURTPEIL_MIN_CELL").ok()
}

fn run(cli: Cli) -> Result<()> {
    // Checked before anything else, for every command: every date (a draw's
    // day, ages, retention, waves) is decided in this zone.
    let zone = buurtpeil::clock::parse_zone(std::env::var("BUURTPEIL_TIME_ZONE").ok().as_deref())?;
    buurtpeil::clock::install(buurtpeil::clock::Clock::system(zone));
    match &cli.command {
        Command::Serve { bind, demo } => {
            let mut config =
                Config::new(&database_url(&cli, *demo), bind, min_cell().as_deref(), cli.questionnaires.clone())?
                    .with_talent_renewal(
                        std::env::var("BUURTPEIL_TALENT_RENEWAL_MONTHS").ok().as_deref(),
                        std::env::var("BUURTPEIL_TALENT_GRACE_DAYS").ok().as_deref(),
                    )?
                    .with_publication(
                        std::env::var("BUURTPEIL_PERTURBATION_D").ok().as_deref(),
                        std::env::var("BUURTPEIL_PERTURBATION_V").ok().as_deref(),
                        std::env::var("BUURTPEIL_PERTURBATION_JS").ok().as_deref(),
                        // The demo shows each response at once.
                        std::env::var("BUURTPEIL_RELEASE_EVERY").ok().as_deref().or(demo.then_some("0")),
                        std::env::var("BUURTPEIL_OPEN_LINK_PER_HOUR").ok().as_deref(),
                    )?;
            config.session_key = session_key()?;
            config.time_zone = zone;
            let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
            let mut config = config
                .with_addresses(env("BUURTPEIL_PUBLIC_URL").as_deref(), env("BUURTPEIL_TRUSTED_PROXIES").as_deref())?;
            config.mail = match (env("SMTP_URL"), env("BUURTPEIL_MAIL_FROM")) {
                (Some(smtp_url), Some(from)) => Some(buurtpeil::config::MailSettings { smtp_url, from }),
                (Some(_), None) => {
                    eprintln!(
                        "SMTP_URL is set without BUURTPEIL_MAIL_FROM: the server sends no e-mail (invitations from the \
                         council's pages, residents' talent links)"
                    );
                    None
                }
                _ => None,
            };
            config.check()?;
            if *demo {
                seed_demo(&config, DEMO_RESPONSES)?;
            }
            let app = Application::build(&config)?;
            println!(
                "buurtpeil listens on http://{}:{} ({})",
                config.bind.ip(),
                app.port(),
                config.database_url.redacted()
            );
            match &config.public_url {
                Some(url) => tracing::info!("links in pages and e-mails start with {url} (BUURTPEIL_PUBLIC_URL)"),
                None => tracing::info!(
                    "links in pages start with http://{}:{} (set BUURTPEIL_PUBLIC_URL for a public server)",
                    config.bind.ip(),
                    app.port()
                ),
            }
            actix_web::rt::System::new().block_on(app.run_until_stopped())?;
        }
        Command::Migrate => {
            let url = DatabaseUrl::parse(&database_url(&cli, false))?;
            let pool = connect(&url, 1)?;
            drop(pool);
            println!("migrations are up to date on {}", url.redacted());
        }
        Command::Demo { responses } => {
            let config = Config::new(
                &database_url(&cli, true),
                DEFAULT_BIND,
                min_cell().as_deref(),
                cli.questionnaires.clone(),
            )?;
            seed_demo(&config, *responses)?;
        }
        Command::Areas { command: AreasCommand::Import { file } } => {
            let url = DatabaseUrl::parse(&database_url(&cli, false))?;
            let name = file.display().to_string();
            let reader = std::fs::File::open(file).with_context(|| format!("{name}: cannot open the file"))?;
            let areas = parse_csv(&name, reader)?;
            let count = |l: Level| areas.iter().filter(|a| a.level() == l).count();
            println!(
                "{name}: read {} gemeenten, {} wijken, {} buurten; storing…",
                count(Level::Gemeente),
                count(Level::Wijk),
                count(Level::Buurt)
            );
            let pool = connect(&url, 1)?;
            let stored = save_areas(&mut *pool.get()?, &areas)?;
            println!("stored {stored} areas in {}", url.redacted());
        }
        Command::Map { command: MapCommand::Import { file } } => {
            let url = DatabaseUrl::parse(&database_url(&cli, false))?;
            let name = file.display().to_string();
            let reader = std::fs::File::open(file).with_context(|| format!("{name}: cannot open the file"))?;
            let pool = connect(&url, 1)?;
            let mut conn = pool.get()?;
            let tree = load_tree(&mut conn)?;
            if tree.buurt_count() == 0 {
                bail!("no buurten are known yet: import the area list first (buurtpeil areas import FILE.csv)");
            }
            println!("{name}: reading…");
            let map = parse_geojson(&name, reader, &tree)?;
            let simplified: Vec<_> = map.boundaries.iter().map(|b| b.simplified(BOUNDARY_TOLERANCE)).collect();
            let kept: usize = simplified.iter().map(|b| b.points().count()).sum();
            println!(
                "{name}: {} buurten in {}, {} points, {kept} after simplification; storing…",
                map.boundaries.len(),
                map.crs.name(),
                map.point_count(),
            );
            let stored = save_boundaries(&mut conn, &simplified)?;
            let missing = tree.buurt_count().saturating_sub(load_boundaries(&mut conn)?.len());
            println!("stored {stored} buurt boundaries in {}", url.redacted());
            if missing > 0 {
                println!("note: {missing} known buurten have no boundary yet; they are left off the map");
            }
        }
        Command::Margins { command: MarginsCommand::Import { file } } => {
            let url = DatabaseUrl::parse(&database_url(&cli, false))?;
            import_margins(&url, file)?;
        }
        Command::User { command } => {
            let url = DatabaseUrl::parse(&database_url(&cli, false))?;
            users::run(command, &url)?;
        }
        Command::Invite { command } => {
            let url = DatabaseUrl::parse(&database_url(&cli, false))?;
            invite_cli::run(command, &url, &cli.questionnaires)?;
        }
        Command::Register { command } => {
            let url = DatabaseUrl::parse(&database_url(&cli, false))?;
            lottery_cli::register(command, &url)?;
        }
        Command::Draw(draw) => match &draw.command {
            Some(lottery_cli::DrawCommand::Verify { protocol, register }) => {
                std::process::exit(lottery_cli::run_verify(protocol, register))
            }
            None => {
                let url = DatabaseUrl::parse(&database_url(&cli, false))?;
                lottery_cli::run_draw(&draw.args, &url)?;
            }
        },
        Command::Panel { command } => match command {
            panel_cli::PanelCommand::Volunteers { questionnaire, out } => {
                let url = DatabaseUrl::parse(&database_url(&cli, false))?;
                panel_cli::volunteers(&url, &cli.questionnaires, questionnaire, out)?;
            }
            panel_cli::PanelCommand::Select { common, size } => {
                panel_cli::select_or_replace(common, panel_cli::Run::Select { size: *size })?
            }
            panel_cli::PanelCommand::Replace { common, protocol, dropped } => {
                panel_cli::select_or_replace(common, panel_cli::Run::Replace { protocol, dropped })?
            }
        },
    }
    Ok(())
}

/// Reads a margins file against the stored areas and stores it whole, or
/// nothing.
fn import_margins(url: &DatabaseUrl, file: &std::path::Path) -> Result<()> {
    let name = file.display().to_string();
    let reader = std::fs::File::open(file).with_context(|| format!("{name}: cannot open the file"))?;
    let pool = connect(url, 1)?;
    let mut conn = pool.get()?;
    let tree = load_tree(&mut conn)?;
    if tree.is_empty() {
        bail!("no areas are stored yet: import them first with `buurtpeil areas import FILE.csv`");
    }
    let margins = parse_margins(&name, reader, &tree)?;
    println!("{name}: read margins of {} areas ({} format); storing…", margins.areas.len(), margins.format);
    for s in &margins.skipped {
        println!("  skipped line {} ({}): {}", s.line, s.code, s.reason);
    }
    if margins.elsewhere > 0 {
        println!("  left out {} rows of the country or of gemeenten without stored areas", margins.elsewhere);
    }
    let stored = save_margins(&mut conn, &margins, margins.format, buurtpeil::clock::today())?;
    println!("stored margins of {stored} areas in {}", url.redacted());
    Ok(())
}

/// `BUURTPEIL_SESSION_KEY`, when set and not empty.
fn session_key() -> Result<Option<SessionKey>> {
    match std::env::var("BUURTPEIL_SESSION_KEY") {
        Ok(raw) if !raw.trim().is_empty() => Ok(Some(SessionKey::parse(&raw)?)),
        _ => Ok(None),
    }
}

fn seed_demo(config: &Config, responses: usize) -> Result<()> {
    let pool = connect(&config.database_url, 2)?;
    let mut conn = pool.get()?;
    let areas = buurtpeil::demo::load_areas(&mut conn)?;
    let mapped = buurtpeil::demo::load_boundaries(&mut conn)?;
    println!("demo: Eindhoven loaded ({areas} areas, {mapped} buurt boundaries)");
    // A new random password on every demo start; never a default one.
    let password = reset_demo_admin(&mut conn)?;
    println!("demo login: {DEMO_ADMIN} / {password}");
    let council = buurtpeil::auth::EmailAddress::parse(DEMO_COUNCIL).expect("the demo address is valid");
    let password = reset_demo_account(&mut conn, &council, Role::Council)?;
    println!("demo login (council / griffie): {DEMO_COUNCIL} / {password}");
    let defs = load_dir(&config.questionnaires_dir)?;
    let catalog = load_catalog(&mut conn, &defs)?;
    let Some(geluk) = catalog.current("geluk") else {
        bail!("the demo needs the questionnaire geluk in {}", config.questionnaires_dir.display());
    };
    let tree = load_tree(&mut conn)?;
    let margins = buurtpeil::demo::load_margins(&mut conn, &tree, DEMO_SEED)?;
    if margins > 0 {
        println!("demo: synthetic population margins (not CBS figures) for {margins} buurten");
    }
    // Two waves of geluk over the four weeks of responses, so the demo shows
    // the change between them; the second stays open.
    let today = buurtpeil::clock::today();
    if buurtpeil::survey::wave::list(&mut conn, "geluk")?.is_empty() {
        for (name, opens, closes) in [("Meting 1", 28, Some(15)), ("Meting 2", 14, None)] {
            let new = buurtpeil::survey::NewWave {
                slug: geluk.definition.slug.clone(),
                name: name.into(),
                opens_on: today - chrono::Days::new(opens),
                closes_on: closes.map(|c| today - chrono::Days::new(c)),
                buurten: Vec::new(),
                invitation_only: false,
            };
            buurtpeil::survey::wave::create(&mut conn, &new, today)?;
        }
        println!("demo: two waves of geluk opened (the second is open now)");
    }
    let mut seeded = vec![(geluk, responses)];
    seeded.extend(catalog.current("leefbaarheid").map(|p| (p, responses / 2)));
    if let Some(scan) = catalog.current(buurtpeil::talent::profile::SLUG) {
        let talent = buurtpeil::demo::seed_talent(&mut conn, scan, &tree)?;
        let scans = buurtpeil::demo::seed_talent_scans(&mut conn, scan, &tree, 900, DEMO_SEED)?;
        if scans > 0 {
            println!(
                "demo: {scans} talent scans without contact (anonymous counts for the talent map at /talentkaart)"
            );
        }
        println!("demo verbinder (wijk Centrum): {} / {}", buurtpeil::demo::DEMO_VERBINDER, talent.verbinder_password);
        if let Some(link) = talent.profile_link {
            println!("demo resident's private link: {}", config.links_base().join(&link));
        }
    }
    for (questionnaire, count) in seeded {
        let slug = &questionnaire.definition.slug;
        let added = buurtpeil::demo::seed_responses(&mut conn, &tree, questionnaire, count, DEMO_SEED)?;
        if added > 0 {
            println!("demo: {added} synthetic responses to {slug} added");
        } else {
            println!("demo: {slug} already has responses; none added");
        }
    }
    let demo_base = buurtpeil::invite::BaseUrl::parse(config.links_base().as_str()).context("the demo's address")?;
    match catalog.current("panelaanmelding") {
        None => println!("demo: no questionnaire panelaanmelding, so no demo campaign"),
        Some(signup) => match buurtpeil::demo::seed_campaign(&mut conn, &tree, signup, &demo_base, DEMO_SEED)? {
            Some(c) => {
                println!(
                    "demo: campaign {}: a fictitious register of {} people, {} drawn and invited, {} signed up for the panel",
                    buurtpeil::demo::DEMO_CAMPAIGN,
                    c.register,
                    c.drawn,
                    c.signups
                );
                if let Some(link) = c.open_link {
                    println!("demo: an unused invitation to try: {link}");
                }
            }
            None => println!("demo: campaign {} is there already", buurtpeil::demo::DEMO_CAMPAIGN),
        },
    }
    Ok(())
}
