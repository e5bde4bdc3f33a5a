//! Sending a campaign's e-mails from the council's pages: the outbox is
//! drained on a background thread (a batch may take minutes), and the
//! campaign page shows how far it is. The outbox itself makes sending
//! resumable and never doubles; this only keeps one run per campaign and
//! its progress in memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::db::Pool;
use crate::invite::{self, CampaignName, SendReport, SmtpMailer};

/// `SMTP_URL` and `BUURTPEIL_MAIL_FROM`, as the server was started (both
/// or neither: see `main`).
#[derive(Debug, Clone, Default)]
pub struct MailSettings(pub Option<crate::config::MailSettings>);

/// Why the pages cannot send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailProblem {
    /// Text keys of what is missing.
    NotConfigured(&'static str),
    Invalid(String),
}

impl MailSettings {
    pub fn mailer(&self) -> Result<SmtpMailer, MailProblem> {
        let Some(settings) = &self.0 else { return Err(MailProblem::NotConfigured("mail_not_set")) };
        SmtpMailer::new(&settings.smtp_url, &settings.from).map_err(|e| MailProblem::Invalid(e.to_string()))
    }
}

/// One run of a campaign's outbox, as the page shows it: progress while
/// it runs, then its report (or why it could not run).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SendRun {
    pub running: bool,
    pub done: usize,
    pub total: usize,
    pub report: Option<SendReport>,
    pub error: Option<String>,
}

/// The latest run per campaign.
#[derive(Default)]
pub struct SendRuns(Mutex<HashMap<String, SendRun>>);

impl SendRuns {
    pub fn get(&self, campaign: &str) -> Option<SendRun> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(campaign).cloned()
    }

    fn set(&self, campaign: &str, run: SendRun) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(campaign.to_owned(), run);
    }

    /// Marks a run as started unless one is running; false if one is.
    fn claim(&self, campaign: &str) -> bool {
        let mut runs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if runs.get(campaign).is_some_and(|r| r.running) {
            return false;
        }
        runs.insert(campaign.to_owned(), SendRun { running: true, ..SendRun::default() });
        true
    }
}

/// Starts draining the campaign's outbox on a thread of its own; false when
/// a run for the campaign is going on already.
pub fn start(runs: Arc<SendRuns>, pool: Pool, campaign: CampaignName, mailer: SmtpMailer) -> bool {
    if !runs.claim(campaign.as_str()) {
        return false;
    }
    let name = campaign.as_str().to_owned();
    let spawned = std::thread::Builder::new().name(format!("send-{name}")).spawn({
        let runs = runs.clone();
        let name = name.clone();
        move || {
            let report = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                invite::send_outbox(
                    &mut conn,
                    &campaign,
                    &mailer,
                    |done, total| runs.set(&name, SendRun { running: true, done, total, ..SendRun::default() }),
                    || chrono::Utc::now().naive_utc(),
                    crate::clock::today(),
                )
                .map_err(|e| e.to_string())
            });
            let run = match report {
                Ok(r) => {
                    SendRun { running: false, done: r.sent, total: r.sent + r.retry, report: Some(r), error: None }
                }
                Err(e) => SendRun { running: false, error: Some(e), ..SendRun::default() },
            };
            if let Some(r) = &run.report {
                tracing::info!("campaign {name}: {} e-mails sent, {} still queued", r.sent, r.retry);
            }
            runs.set(&name, run);
        }
    });
    if let Err(e) = spawned {
        runs.set(&name, SendRun { running: false, error: Some(e.to_string()), ..SendRun::default() });
    }
    true
}
