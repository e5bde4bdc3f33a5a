//! `buurtpeil invite …`: wiring only; the work is in `buurtpeil::invite`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;

use buurtpeil::area::load_tree;
use buurtpeil::db::{connect, DatabaseUrl};
use buurtpeil::invite::{self, BaseUrl, CampaignName, LetterTemplate, MailTexts, SmtpMailer};
use buurtpeil::questionnaire::{load_catalog, load_dir};

#[derive(Subcommand)]
pub enum InviteCommand {
    /// Add invitees (CSV: person_key, name, street_line, postcode, city, buurt, email) to a campaign
    Create {
        #[arg(long)]
        campaign: String,
        /// The questionnaire's short name (slug)
        #[arg(long)]
        questionnaire: String,
        /// Where the links point, e.g. https://peil.gemeente.nl
        #[arg(long)]
        base_url: String,
        /// The invitees: a CSV file; without it, the people the campaign's draw selected
        #[arg(long = "from")]
        from: Option<PathBuf>,
    },
    /// Print a letter for every invitation without one: one PDF, new tokens
    Letters {
        #[arg(long)]
        campaign: String,
        #[arg(long)]
        out: PathBuf,
        /// A letter template (tera) instead of templates/invite/letter.txt
        #[arg(long)]
        template: Option<PathBuf>,
        /// Print a lost letter again for this person: a new code, the old letter stops working
        #[arg(long)]
        reprint: Option<String>,
    },
    /// Queue an e-mail for every invitation with an address, then send the queue (SMTP_URL)
    Send {
        #[arg(long)]
        campaign: String,
        /// The From address, e.g. "Gemeente Eindhoven <onderzoek@eindhoven.nl>"
        #[arg(long, env = "BUURTPEIL_MAIL_FROM")]
        sender: Option<String>,
        #[arg(long, env = "SMTP_URL")]
        smtp_url: Option<String>,
        /// Send again the e-mails whose delivery is unknown (a run stopped mid-message): may send twice
        #[arg(long)]
        retry_unknown: bool,
        /// Also send again the e-mails that failed too often
        #[arg(long)]
        retry_failed: bool,
    },
    /// Remind invitees who have not used their invitation after N days (once per round)
    Remind {
        #[arg(long)]
        campaign: String,
        #[arg(long)]
        after_days: u32,
        /// Reminder round: 1 for the first reminder, 2 for the second…
        #[arg(long, default_value_t = 1)]
        round: i32,
        /// Also print reminder letters for invitees without an e-mail address into this PDF
        #[arg(long)]
        letters_out: Option<PathBuf>,
        #[arg(long)]
        template: Option<PathBuf>,
        #[arg(long, env = "BUURTPEIL_MAIL_FROM")]
        sender: Option<String>,
        #[arg(long, env = "SMTP_URL")]
        smtp_url: Option<String>,
    },
    /// Invited and used per buurt (counts only), and the outbox
    Status {
        #[arg(long)]
        campaign: String,
    },
    /// Erase the campaign's names, addresses and e-mail addresses; counts stay
    Purge {
        #[arg(long)]
        campaign: String,
    },
}

fn today() -> chrono::NaiveDate {
    buurtpeil::clock::today()
}

fn template(path: Option<&Path>) -> Result<LetterTemplate> {
    match path {
        None => Ok(LetterTemplate::default_template()),
        Some(p) => {
            let source =
                std::fs::read_to_string(p).with_context(|| format!("{}: cannot read the template", p.display()))?;
            LetterTemplate::parse(&source).with_context(|| p.display().to_string())
        }
    }
}

fn mailer(smtp_url: Option<&str>, sender: Option<&str>) -> Result<SmtpMailer> {
    let Some(url) = smtp_url.filter(|u| !u.trim().is_empty()) else {
        bail!("set SMTP_URL (e.g. smtp://127.0.0.1:2525) to send e-mails");
    };
    let Some(sender) = sender.filter(|s| !s.trim().is_empty()) else {
        bail!("set --sender or BUURTPEIL_MAIL_FROM (e.g. \"Gemeente <onderzoek@gemeente.nl>\") to send e-mails");
    };
    Ok(SmtpMailer::new(url, sender)?)
}

/// Sends the campaign's queue, showing progress; errors if anything is left.
fn send(conn: &mut buurtpeil::db::AnyConnection, campaign: &CampaignName, mailer: &SmtpMailer) -> Result<()> {
    let mut err = std::io::stderr();
    let report = invite::send_outbox(
        conn,
        campaign,
        mailer,
        |done, total| {
            let _ = write!(err, "\rsending e-mails: {done}/{total}");
            if done == total {
                let _ = writeln!(err);
            }
        },
        || chrono::Utc::now().naive_utc(),
        today(),
    )?;
    println!("{} e-mails sent", report.sent);
    if report.unknown > 0 {
        println!(
            "{} e-mails may or may not have arrived (a run stopped while sending them); they are not sent again unless you add --retry-unknown",
            report.unknown
        );
    }
    if report.failed > 0 {
        println!(
            "{} e-mails were refused {} times and are not sent again unless you add --retry-failed",
            report.failed,
            invite::MAX_ATTEMPTS
        );
    }
    if let Some(why) = &report.stopped {
        bail!("sending stopped: {why}; {} e-mails are still queued: run the same command again later", report.retry);
    }
    if report.retry > 0 {
        let why = report.last_error.as_deref().unwrap_or("refused");
        bail!(
            "{} e-mails were not sent and are still queued (last error: {why}): run the same command again later",
            report.retry
        );
    }
    Ok(())
}

pub fn run(command: &InviteCommand, url: &DatabaseUrl, questionnaires: &Path) -> Result<()> {
    let pool = connect(url, 1)?;
    let mut conn = pool.get()?;
    match command {
        InviteCommand::Create { campaign, questionnaire, base_url, from } => {
            let campaign = CampaignName::parse(campaign)?;
            let base_url = BaseUrl::parse(base_url)?;
            let defs = load_dir(questionnaires)?;
            let catalog = load_catalog(&mut conn, &defs)?;
            if catalog.current(questionnaire).is_none() {
                bail!("there is no questionnaire {questionnaire:?}");
            }
            let (name, invitees) = match from {
                Some(from) => {
                    let name = from.display().to_string();
                    let file = std::fs::File::open(from).with_context(|| format!("{name}: cannot open the file"))?;
                    let invitees = invite::parse_invitees_csv(&name, file)?;
                    (name, invitees)
                }
                None => {
                    let drawn = buurtpeil::lottery::selected_people(&mut conn, campaign.as_str())?;
                    (
                        format!("the draw of {campaign}"),
                        drawn
                            .iter()
                            .map(invite::Invitee::of_person)
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(anyhow::Error::msg)?,
                    )
                }
            };
            let tree = load_tree(&mut conn)?;
            if let Some(i) = invitees.iter().find(|i| tree.buurt(i.buurt.as_str()).is_none()) {
                bail!(
                    "{name}: buurt {} (person_key {}) is not a known buurt: import the areas first",
                    i.buurt,
                    i.person_key
                );
            }
            let created =
                invite::create_invitations(&mut conn, &campaign, questionnaire, &base_url, &invitees, today())?;
            println!(
                "campaign {campaign}: {} invitations added, {} were there already",
                created.added, created.existing
            );
        }
        InviteCommand::Letters { campaign, out, template: path, reprint } => {
            let campaign = CampaignName::parse(campaign)?;
            let template = template(path.as_deref())?;
            match reprint {
                Some(key) => {
                    invite::reprint_letter(&mut conn, &campaign, key, &template, out, today())?;
                    println!("a new letter for {key} is in {}; the old letter no longer works", out.display());
                }
                None => {
                    eprintln!("printing letters…");
                    let n = invite::print_letters(&mut conn, &campaign, &template, out, today())?;
                    if n == 0 {
                        println!("campaign {campaign}: every invitation has a letter already; nothing printed");
                    } else {
                        println!("campaign {campaign}: {n} letters in {}", out.display());
                    }
                }
            }
        }
        InviteCommand::Send { campaign, sender, smtp_url, retry_unknown, retry_failed } => {
            let campaign = CampaignName::parse(campaign)?;
            let mailer = mailer(smtp_url.as_deref(), sender.as_deref())?;
            if *retry_unknown || *retry_failed {
                let n = invite::requeue(&mut conn, &campaign, *retry_failed)?;
                println!("{n} e-mails queued again");
            }
            let queued = invite::queue_invitation_emails(&mut conn, &campaign, &MailTexts::default(), today())?;
            println!("campaign {campaign}: {queued} new e-mails queued");
            send(&mut conn, &campaign, &mailer)?;
        }
        InviteCommand::Remind { campaign, after_days, round, letters_out, template: path, sender, smtp_url } => {
            let campaign = CampaignName::parse(campaign)?;
            let template = template(path.as_deref())?;
            let letters = letters_out.as_deref().map(|out| (&template, out));
            let (emails, printed) =
                invite::remind(&mut conn, &campaign, *round, *after_days, &MailTexts::default(), letters, today())?;
            println!("campaign {campaign}, reminder round {round}: {emails} e-mails queued, {printed} letters printed");
            if let (Some(out), true) = (letters_out, printed > 0) {
                println!("reminder letters are in {}", out.display());
            }
            if smtp_url.as_deref().is_some_and(|u| !u.trim().is_empty()) {
                let mailer = mailer(smtp_url.as_deref(), sender.as_deref())?;
                send(&mut conn, &campaign, &mailer)?;
            } else if emails > 0 {
                println!("set SMTP_URL and run `buurtpeil invite send --campaign {campaign}` to send them");
            }
        }
        InviteCommand::Status { campaign } => {
            let campaign = CampaignName::parse(campaign)?;
            let Some(status) = invite::campaign_status(&mut conn, &campaign)? else {
                bail!("campaign {campaign} has no invitations");
            };
            let tree = load_tree(&mut conn)?;
            println!("campaign {campaign} (questionnaire {})", status.questionnaire);
            println!(
                "{:<12} {:<32} {:>11} {:>8} {:>8} {:>8}",
                "buurt", "name", "invitations", "invited", "used", "rate"
            );
            for b in status.buurten.iter().chain(std::iter::once(&status.total)) {
                let name = tree.get(&b.buurt).map(|a| a.name.as_str()).unwrap_or("");
                let rate = if b.invited == 0 { "-".to_owned() } else { format!("{:.0}%", b.rate()) };
                println!(
                    "{:<12} {:<32} {:>11} {:>8} {:>8} {:>8}",
                    b.buurt,
                    name.chars().take(32).collect::<String>(),
                    b.invitations,
                    b.invited,
                    b.used,
                    rate
                );
            }
            for (channel, states) in &status.outbox {
                let parts: Vec<String> = states.iter().map(|(s, n)| format!("{s} {n}")).collect();
                println!("outbox {channel}: {}", parts.join(", "));
            }
            if status.purged > 0 {
                println!("contacts purged: {}", status.purged);
            }
        }
        InviteCommand::Purge { campaign } => {
            let campaign = CampaignName::parse(campaign)?;
            if !invite::campaign_exists(&mut conn, &campaign)? {
                bail!("campaign {campaign} has no invitations");
            }
            let n = invite::purge_contacts(&mut conn, &campaign, today())?;
            println!("campaign {campaign}: contacts of {n} invitations erased; the counts stay");
        }
    }
    Ok(())
}
