//! E-mailing a resident their private link, or a match proposed to them,
//! through an outbox: the message is queued in the transaction that makes
//! the profile (or the proposal) and sent by the
//! server's mail thread with the invitations' SMTP sender. A queued row is
//! the only place the link exists in clear, so it lives no longer than
//! needed: deleted once sent, or once given up on, and with the profile.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::{Initiative, Profile};
use crate::db::schema::talent_outbox as ob;
use crate::db::{AnyConnection, DbError};
use crate::invite::{Mailer, OutMessage, SendError};

const LINK_TEXT: &str = include_str!("../../templates/talent/mail/link.txt");
const LINK_HTML: &str = include_str!("../../templates/talent/mail/link.html");
const PROPOSAL_TEXT: &str = include_str!("../../templates/talent/mail/proposal.txt");
const PROPOSAL_HTML: &str = include_str!("../../templates/talent/mail/proposal.html");
/// Attempts before a message that keeps failing is given up.
pub const MAX_ATTEMPTS: i32 = 5;

/// Renders and queues the private-link e-mail.
pub fn queue_link(
    conn: &mut AnyConnection,
    profile_id: i64,
    to: &str,
    name: &str,
    buurt: &str,
    link: &str,
    today: NaiveDate,
) -> Result<(), DbError> {
    let subject = "Uw talentprofiel: uw eigen link / Your talent profile: your own link";
    let values = [("naam", name), ("buurt", buurt), ("link", link)];
    queue(conn, profile_id, to, subject, (LINK_TEXT, LINK_HTML), &values, today)
}

/// Renders and queues the e-mail proposing an initiative, with its yes/no
/// link.
pub fn queue_proposal(
    conn: &mut AnyConnection,
    to: &Profile,
    initiative: &Initiative,
    link: &str,
    today: NaiveDate,
) -> Result<(), DbError> {
    let subject = "Een voorstel uit uw buurt / A suggestion from your neighbourhood";
    let values =
        [("naam", to.name.as_str()), ("initiatief", &initiative.name), ("aanbod", &initiative.offers), ("link", link)];
    queue(conn, to.id, &to.email, subject, (PROPOSAL_TEXT, PROPOSAL_HTML), &values, today)
}

fn queue(
    conn: &mut AnyConnection,
    profile_id: i64,
    to: &str,
    subject: &str,
    (text_template, html_template): (&str, &str),
    values: &[(&str, &str)],
    today: NaiveDate,
) -> Result<(), DbError> {
    let clean = |s: &str| s.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect::<String>();
    let mut ctx = tera::Context::new();
    for (k, v) in values {
        ctx.insert(*k, &clean(v));
    }
    // Plain text unescaped; the HTML part escapes every value.
    let text = tera::Tera::one_off(text_template, &ctx, false);
    let html = tera::Tera::one_off(html_template, &ctx, true);
    let (Ok(text), Ok(html)) = (text, html) else {
        tracing::error!("a talent e-mail does not render");
        return Ok(());
    };
    diesel::insert_into(ob::table)
        .values((
            ob::profile_id.eq(profile_id),
            ob::recipient.eq(to),
            ob::subject.eq(subject),
            ob::body_text.eq(text),
            ob::body_html.eq(html),
            ob::status.eq("pending"),
            ob::attempts.eq(0),
            ob::created_on.eq(today),
        ))
        .execute(conn)?;
    Ok(())
}

/// What one round of sending did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendRound {
    pub sent: usize,
    pub retry: usize,
    pub given_up: usize,
}

/// Sends every pending message once. A message is claimed first
/// (`pending` → `sending`), so two senders never send it twice; rows left
/// in `sending` by a sender that stopped may or may not have gone out and
/// are dropped (at most once: a second link mail is worse than none, the
/// resident saw the link on screen).
pub fn send_pending(conn: &mut AnyConnection, mailer: &dyn Mailer) -> Result<SendRound, DbError> {
    let mut round = SendRound::default();
    let ids: Vec<i32> = ob::table.filter(ob::status.eq("pending")).order(ob::id.asc()).select(ob::id).load(conn)?;
    for id in ids {
        let claimed = diesel::update(ob::table.filter(ob::id.eq(id)).filter(ob::status.eq("pending")))
            .set((ob::status.eq("sending"), ob::attempts.eq(ob::attempts + 1)))
            .execute(conn)?;
        if claimed == 0 {
            continue;
        }
        let Some((to, subject, text, html, attempts)) = ob::table
            .filter(ob::id.eq(id))
            .select((ob::recipient, ob::subject, ob::body_text, ob::body_html, ob::attempts))
            .first::<(String, String, String, String, i32)>(conn)
            .optional()?
        else {
            continue;
        };
        // The invitations' sender reads an `OutMessage`; no invitation here.
        let msg = OutMessage { outbox: "talent", id, invitation_id: 0, attempts, to, subject, text, html };
        match mailer.send(&msg) {
            Ok(()) => {
                diesel::delete(ob::table.filter(ob::id.eq(id))).execute(conn)?;
                round.sent += 1;
            }
            Err(SendError::Refused { transient: true, .. } | SendError::Unreachable(_)) if attempts < MAX_ATTEMPTS => {
                diesel::update(ob::table.filter(ob::id.eq(id))).set(ob::status.eq("pending")).execute(conn)?;
                round.retry += 1;
            }
            Err(e) => {
                tracing::warn!("giving up a talent link e-mail: {e}");
                diesel::delete(ob::table.filter(ob::id.eq(id))).execute(conn)?;
                round.given_up += 1;
            }
        }
    }
    Ok(round)
}

/// At start: rows a stopped sender left in `sending` are dropped.
pub fn drop_stale(conn: &mut AnyConnection) -> Result<usize, DbError> {
    Ok(diesel::delete(ob::table.filter(ob::status.eq("sending"))).execute(conn)?)
}
