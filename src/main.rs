//! The `buurtpeil` command: wiring only; the work is in the library.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use buurtpeil::area::{load_tree, parse_csv, save_areas, Level};
use buurtpeil::auth::{reset_demo_admin, SessionKey, DEMO_ADMIN};
use buurtpeil::config::{Config, DEFAULT_BIND, DEFAULT_DATABASE_URL};
use buurtpeil::db::{connect, DatabaseUrl};
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

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
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
    match &cli.command {
        Command::Serve { bind, demo } => {
            let mut config =
                Config::new(&database_url(&cli, *demo), bind, min_cell().as_deref(), cli.questionnaires.clone())?;
            config.session_key = session_key()?;
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
        Command::Panel { command: panel_cli::PanelCommand::Volunteers { questionnaire, out } } => {
            let url = DatabaseUrl::parse(&database_url(&cli, false))?;
            panel_cli::volunteers(&url, &cli.questionnaires, questionnaire, out)?;
        }
        Command::Panel { command } => panel_cli::run(command)?,
    }
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
    println!("demo: Eindhoven loaded ({areas} areas)");
    // A new random password on every demo start; never a default one.
    let password = reset_demo_admin(&mut conn)?;
    println!("demo login: {DEMO_ADMIN} / {password}");
    let defs = load_dir(&config.questionnaires_dir)?;
    let catalog = load_catalog(&mut conn, &defs)?;
    let Some(geluk) = catalog.current("geluk") else {
        bail!("the demo needs the questionnaire geluk in {}", config.questionnaires_dir.display());
    };
    let tree = load_tree(&mut conn)?;
    // Two waves of geluk over the four weeks of responses, so the demo shows
    // the change between them; the second stays open.
    let today = chrono::Local::now().date_naive();
    if buurtpeil::survey::wave::list(&mut conn, "geluk")?.is_empty() {
        for (name, opens, closes) in [("Meting 1", 28, Some(15)), ("Meting 2", 14, None)] {
            let new = buurtpeil::survey::NewWave {
                slug: geluk.definition.slug.clone(),
                name: name.into(),
                opens_on: today - chrono::Days::new(opens),
                closes_on: closes.map(|c| today - chrono::Days::new(c)),
                buurten: Vec::new(),
            };
            buurtpeil::survey::wave::create(&mut conn, &new, today)?;
        }
        println!("demo: two waves of geluk opened (the second is open now)");
    }
    let mut seeded = vec![(geluk, responses)];
    seeded.extend(catalog.current("leefbaarheid").map(|p| (p, responses / 2)));
    for (questionnaire, count) in seeded {
        let slug = &questionnaire.definition.slug;
        let added = buurtpeil::demo::seed_responses(&mut conn, &tree, questionnaire, count, DEMO_SEED)?;
        if added > 0 {
            println!("demo: {added} synthetic responses to {slug} added");
        } else {
            println!("demo: {slug} already has responses; none added");
        }
    }
    Ok(())
}
