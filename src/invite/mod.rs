//! Personal invitations: who is invited (`Invitee`), their secret links and
//! codes (`InviteToken`, stored hashed), letters (one PDF per batch), e-mails
//! through an outbox, reminders, the one-time use of an invitation and the
//! response rate per buurt. Knows nothing of HTTP; see docs/invitations.md.
//!
//! A token is only known when it is made, and only its hash is stored, so a
//! token is made when its letter is printed or its e-mail queued, never
//! before: `print_letters` issues tokens for the invitations without a
//! letter and prints them in one go; printing a lost letter again issues a
//! new token and voids the old letter's.

mod invitee;
mod letter;
mod mail;
mod store;
mod token;

use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

pub use invitee::{parse_invitees_csv, parse_postcode, BaseUrl, CampaignName, Invitee, InviteeError};
pub use letter::{letters_pdf, LetterData, LetterTemplate, DEFAULT_TEMPLATE};
pub use mail::{MailData, MailTexts, Mailer, SendError, SmtpMailer};
pub use store::{
    campaign_exists, campaign_status, campaigns, create_invitations, emails_due, find_by_token, letters_due, mark_used,
    purge_contacts, queue_emails, record_letters, BuurtRate, CampaignStatus, CampaignSummary, Channel, Created, Issued,
    Landing, OutMessage, Recipient, Rendered,
};
pub use token::{InviteToken, TOKEN_LEN};

use crate::area::AreaTree;
use crate::db::{AnyConnection, DbError};

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Input(#[from] InviteeError),
    #[error("{0}")]
    Conflict(String),
    #[error("campaign {0} has no invitations: create them first with `buurtpeil invite create`")]
    UnknownCampaign(String),
    #[error("the template cannot be used: {0}")]
    Template(String),
    #[error("{0}")]
    Letter(String),
    #[error("{0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl From<diesel::result::Error> for InviteError {
    fn from(e: diesel::result::Error) -> InviteError {
        InviteError::Db(DbError::Query(e))
    }
}

/// A date as Dutch letters write it: `28 november 2026`.
pub fn dutch_date(d: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// The names a letter needs: the buurt's and its gemeente's (falling back
/// to the code and the invitee's city).
fn names(tree: &AreaTree, r: &Recipient) -> (String, String) {
    let buurt = tree.get(&r.buurt);
    let buurt_name = buurt.map(|a| a.name.clone()).unwrap_or_else(|| r.buurt.clone());
    let gemeente = buurt
        .and_then(|b| b.parent.as_ref())
        .and_then(|w| tree.get(w.as_str()))
        .and_then(|w| w.parent.as_ref())
        .and_then(|g| tree.get(g.as_str()))
        .map(|g| g.name.clone())
        .unwrap_or_else(|| r.city.clone());
    (buurt_name, gemeente)
}

fn letter_data(tree: &AreaTree, i: &Issued, today: NaiveDate, reminder: bool) -> LetterData {
    let (buurt, gemeente) = names(tree, &i.recipient);
    let r = &i.recipient;
    LetterData {
        name: r.name.clone(),
        street_line: r.street_line.clone(),
        postcode: r.postcode.clone(),
        city: r.city.clone(),
        gemeente,
        buurt,
        link: i.link(),
        code: i.token.display(),
        website: format!("{}/i", r.base_url.as_str()),
        date: dutch_date(today),
        reminder,
    }
}

/// Writes `bytes` to `out` through a temporary file beside it: the caller
/// commits in between, so either both the file and the tokens exist, or
/// neither does.
fn write_then<T>(out: &Path, bytes: &[u8], commit: impl FnOnce() -> Result<T, InviteError>) -> Result<T, InviteError> {
    let io = |source| InviteError::Io { path: out.display().to_string(), source };
    let tmp = out.with_extension("pdf.part");
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).and_then(|_| file.sync_all()).map_err(io)?;
    drop(file);
    match commit() {
        Ok(v) => {
            std::fs::rename(&tmp, out).map_err(io)?;
            Ok(v)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Prints a letter for every invitation of the campaign that has none yet:
/// new tokens, one PDF; returns how many letters. Nothing is stored when
/// the PDF cannot be made or written.
pub fn print_letters(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    template: &LetterTemplate,
    out: &Path,
    today: NaiveDate,
) -> Result<usize, InviteError> {
    if !campaign_exists(conn, campaign)? {
        return Err(InviteError::UnknownCampaign(campaign.to_string()));
    }
    let due = store::letters_due(conn, campaign)?;
    if due.is_empty() {
        return Ok(0);
    }
    let tree = crate::area::load_tree(conn)?;
    let issued: Vec<Issued> = due.into_iter().map(Issued::new).collect();
    let data: Vec<LetterData> = issued.iter().map(|i| letter_data(&tree, i, today, false)).collect();
    let pdf = letters_pdf(template, &data)?;
    write_then(out, &pdf, || store::record_letters(conn, &issued, 0, today))?;
    Ok(issued.len())
}

/// Prints a lost letter again: a new token, the old letter's voided.
pub fn reprint_letter(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    person_key: &str,
    template: &LetterTemplate,
    out: &Path,
    today: NaiveDate,
) -> Result<(), InviteError> {
    let Some(r) = store::find_recipient(conn, campaign, person_key)? else {
        return Err(InviteError::Conflict(format!(
            "campaign {campaign} has no invitation for person_key {person_key:?} (or its contacts were purged)"
        )));
    };
    let tree = crate::area::load_tree(conn)?;
    let issued = Issued::new(r);
    let pdf = letters_pdf(template, &[letter_data(&tree, &issued, today, false)])?;
    write_then(out, &pdf, || store::record_reprint(conn, &issued, today))
}

fn mail_data(tree: &AreaTree, i: &Issued, reminder: bool) -> MailData {
    let (buurt, gemeente) = names(tree, &i.recipient);
    MailData {
        name: i.recipient.name.clone(),
        gemeente,
        buurt,
        link: i.link(),
        code: i.token.display(),
        website: format!("{}/i", i.recipient.base_url.as_str()),
        reminder,
    }
}

fn queue(
    conn: &mut AnyConnection,
    due: Vec<Recipient>,
    texts: &MailTexts,
    round: i32,
    today: NaiveDate,
) -> Result<usize, InviteError> {
    if due.is_empty() {
        return Ok(0);
    }
    let tree = crate::area::load_tree(conn)?;
    let mut messages = Vec::with_capacity(due.len());
    for r in due {
        let issued = Issued::new(r);
        let rendered = texts.render(&mail_data(&tree, &issued, round > 0))?;
        messages.push((issued, rendered));
    }
    store::queue_emails(conn, &messages, round, today)
}

/// Queues an invitation e-mail (with a new token) for every invitation
/// with an address that has none queued yet; returns how many.
pub fn queue_invitation_emails(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    texts: &MailTexts,
    today: NaiveDate,
) -> Result<usize, InviteError> {
    if !campaign_exists(conn, campaign)? {
        return Err(InviteError::UnknownCampaign(campaign.to_string()));
    }
    let due = store::emails_due(conn, campaign, 0, None)?;
    queue(conn, due, texts, 0, today)
}

/// Reminder round `round` (1, 2, …) for invitations still unused
/// `after_days` days after they were first reached: an e-mail for those
/// with an address (queued in the outbox), and, when `letters` is given, a
/// reminder letter (PDF) for those without. Each happens once per round.
/// Returns (e-mails queued, letters printed).
#[allow(clippy::too_many_arguments)]
pub fn remind(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    round: i32,
    after_days: u32,
    texts: &MailTexts,
    letters: Option<(&LetterTemplate, &Path)>,
    today: NaiveDate,
) -> Result<(usize, usize), InviteError> {
    if round < 1 {
        return Err(InviteError::Conflict("a reminder round is 1 or more".into()));
    }
    if !campaign_exists(conn, campaign)? {
        return Err(InviteError::UnknownCampaign(campaign.to_string()));
    }
    let cutoff = today - chrono::Days::new(u64::from(after_days));
    let due = store::emails_due(conn, campaign, round, Some(cutoff))?;
    let emails = queue(conn, due, texts, round, today)?;
    let mut printed = 0;
    if let Some((template, out)) = letters {
        let due = store::reminder_letters_due(conn, campaign, round, cutoff)?;
        if !due.is_empty() {
            let tree = crate::area::load_tree(conn)?;
            let issued: Vec<Issued> = due.into_iter().map(Issued::new).collect();
            let data: Vec<LetterData> = issued.iter().map(|i| letter_data(&tree, i, today, true)).collect();
            let pdf = letters_pdf(template, &data)?;
            write_then(out, &pdf, || store::record_letters(conn, &issued, round, today))?;
            printed = issued.len();
        }
    }
    Ok((emails, printed))
}

/// How a run of the outbox went.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SendReport {
    pub sent: usize,
    /// Refused or not reachable: still pending, sent on the next run.
    pub retry: usize,
    /// Refused too often: not sent again unless asked.
    pub failed: usize,
    /// Left "sending" by a stopped run, or broken mid-conversation: the
    /// server may have them. Not sent again unless asked (at most once).
    pub unknown: usize,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
    /// The last refusal or error, if any.
    pub last_error: Option<String>,
}

/// After this many refusals an e-mail is "failed" and needs `--retry-failed`.
pub const MAX_ATTEMPTS: i32 = 5;
/// A row "sending" for longer than this belongs to a run that stopped.
pub const STALE_AFTER_MINUTES: i64 = 10;

/// Sends the pending e-mails of a campaign, one by one, through the
/// outbox: each row is claimed ("sending", attempt counted, committed),
/// sent, and marked sent in its own transaction only on a 2xx reply. A
/// refusal puts it back to pending (failed after `MAX_ATTEMPTS`); a
/// transient refusal or no connection stops the run, to be resumed later.
/// `progress(done, total)` is called after each message.
pub fn send_outbox(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    mailer: &dyn Mailer,
    mut progress: impl FnMut(usize, usize),
    now: impl Fn() -> NaiveDateTime,
    today: NaiveDate,
) -> Result<SendReport, InviteError> {
    let mut report = SendReport::default();
    let stale_before = now() - chrono::Duration::minutes(STALE_AFTER_MINUTES);
    report.unknown += store::mark_stale(conn, campaign, stale_before)?;
    let ids = store::pending_ids(conn, campaign)?;
    let total = ids.len();
    for (done, id) in ids.into_iter().enumerate() {
        let Some(msg) = store::claim(conn, id, now())? else { continue };
        match mailer.send(&msg) {
            Ok(()) => {
                store::mark_sent(conn, &msg, today)?;
                report.sent += 1;
            }
            Err(e @ SendError::Broken(_)) => {
                store::mark_not_sent(conn, id, "unknown", &e.to_string())?;
                report.unknown += 1;
                report.stopped = Some(e.to_string());
                break;
            }
            Err(e) => {
                report.last_error = Some(e.to_string());
                let give_up = msg.attempts >= MAX_ATTEMPTS || matches!(e, SendError::Invalid(_));
                store::mark_not_sent(conn, id, if give_up { "failed" } else { "pending" }, &e.to_string())?;
                if give_up {
                    report.failed += 1;
                } else {
                    report.retry += 1;
                }
                let stop = matches!(e, SendError::Unreachable(_) | SendError::Refused { transient: true, .. });
                if stop {
                    report.stopped = Some(e.to_string());
                    break;
                }
            }
        }
        progress(done + 1, total);
    }
    // What was not reached in a stopped run is still pending.
    if report.stopped.is_some() {
        report.retry = store::pending_ids(conn, campaign)?.len();
    }
    Ok(report)
}

/// Puts "unknown" (and with `failed`, "failed") e-mails back in the queue:
/// the operator's choice of at least once for them.
pub fn requeue(conn: &mut AnyConnection, campaign: &CampaignName, failed: bool) -> Result<usize, InviteError> {
    let statuses: &[&str] = if failed { &["unknown", "failed"] } else { &["unknown"] };
    store::requeue(conn, campaign, statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_dutch() {
        assert_eq!(dutch_date(NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()), "28 november 2026");
        assert_eq!(dutch_date(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()), "1 maart 2027");
    }
}
