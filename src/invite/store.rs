//! The invitation tables: invitations, their tokens (hashes only) and the
//! outbox. Every query is written once against `AnyConnection`.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::invitee::{BaseUrl, CampaignName, Invitee};
use super::token::InviteToken;
use super::InviteError;
use crate::area::{AreaCode, Level};
use crate::db::schema::{invitation_outbox as ob, invitation_tokens as tk, invitations as inv};
use crate::db::AnyConnection;

/// How a message reaches the invitee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Letter,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Letter => "letter",
            Channel::Email => "email",
        }
    }
}

/// An invitation with what it takes to print or send it.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub invitation_id: i32,
    pub person_key: String,
    pub name: String,
    pub street_line: String,
    pub postcode: String,
    pub city: String,
    pub email: Option<String>,
    pub buurt: String,
    pub questionnaire: String,
    pub base_url: BaseUrl,
}

/// A recipient with a freshly issued token (known only in memory).
#[derive(Debug, Clone)]
pub struct Issued {
    pub recipient: Recipient,
    pub token: InviteToken,
}

impl Issued {
    pub fn new(recipient: Recipient) -> Issued {
        Issued { recipient, token: InviteToken::generate() }
    }

    pub fn link(&self) -> String {
        self.recipient.base_url.link(&self.token)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    pub added: usize,
    pub existing: usize,
}

/// Adds the invitees to a campaign; people already in it are left as they
/// are (so importing the same selection twice is harmless). A campaign has
/// one questionnaire.
pub fn create_invitations(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    questionnaire: &str,
    base_url: &BaseUrl,
    invitees: &[Invitee],
    today: NaiveDate,
) -> Result<Created, InviteError> {
    conn.transaction(|conn| {
        let other: Option<String> = inv::table
            .filter(inv::campaign.eq(campaign.as_str()))
            .filter(inv::questionnaire.ne(questionnaire))
            .select(inv::questionnaire)
            .first(conn)
            .optional()?;
        if let Some(other) = other {
            return Err(InviteError::Conflict(format!(
                "campaign {campaign} already invites to questionnaire {other}, not {questionnaire}"
            )));
        }
        let mut created = Created { added: 0, existing: 0 };
        for i in invitees {
            let n = inv::table
                .filter(inv::campaign.eq(campaign.as_str()))
                .filter(inv::person_key.eq(&i.person_key))
                .count()
                .get_result::<i64>(conn)?;
            if n > 0 {
                created.existing += 1;
                continue;
            }
            diesel::insert_into(inv::table)
                .values((
                    inv::campaign.eq(campaign.as_str()),
                    inv::questionnaire.eq(questionnaire),
                    inv::base_url.eq(base_url.as_str()),
                    inv::person_key.eq(&i.person_key),
                    inv::name.eq(&i.name),
                    inv::street_line.eq(&i.street_line),
                    inv::postcode.eq(&i.postcode),
                    inv::city.eq(&i.city),
                    inv::email.eq(&i.email),
                    inv::buurt.eq(i.buurt.as_str()),
                    inv::created_on.eq(today),
                ))
                .execute(conn)?;
            created.added += 1;
        }
        Ok(created)
    })
}

type RecipientRow = (i32, Option<String>, String, String, String, String, Option<String>, String, String, String);

fn recipient(row: RecipientRow) -> Option<Recipient> {
    let (invitation_id, person_key, name, street_line, postcode, city, email, buurt, questionnaire, base_url) = row;
    Some(Recipient {
        invitation_id,
        person_key: person_key?,
        name,
        street_line,
        postcode,
        city,
        email,
        buurt,
        questionnaire,
        base_url: BaseUrl::parse(&base_url).ok()?,
    })
}

macro_rules! recipient_columns {
    () => {
        (
            inv::id,
            inv::person_key,
            inv::name,
            inv::street_line,
            inv::postcode,
            inv::city,
            inv::email,
            inv::buurt,
            inv::questionnaire,
            inv::base_url,
        )
    };
}

/// Whether a campaign has any invitations.
pub fn campaign_exists(conn: &mut AnyConnection, campaign: &CampaignName) -> Result<bool, InviteError> {
    Ok(inv::table.filter(inv::campaign.eq(campaign.as_str())).count().get_result::<i64>(conn)? > 0)
}

/// Invitations that have had no letter yet (contacts not purged).
pub fn letters_due(conn: &mut AnyConnection, campaign: &CampaignName) -> Result<Vec<Recipient>, InviteError> {
    let rows: Vec<RecipientRow> = inv::table
        .filter(inv::campaign.eq(campaign.as_str()))
        .filter(inv::letter_on.is_null())
        .filter(inv::purged_on.is_null())
        .order(inv::id)
        .select(recipient_columns!())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(recipient).collect())
}

/// Invitations with an e-mail address and no e-mail of `round` queued yet.
/// Round 0 is the invitation; reminder rounds only go to invitations unused
/// `after_days` after their first letter or e-mail.
pub fn emails_due(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    round: i32,
    reminder_cutoff: Option<NaiveDate>,
) -> Result<Vec<Recipient>, InviteError> {
    due(conn, campaign, Channel::Email, round, reminder_cutoff)
}

/// Unused invitations without an e-mail address, reached before `cutoff`,
/// that have no reminder letter of `round` yet.
pub fn reminder_letters_due(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    round: i32,
    cutoff: NaiveDate,
) -> Result<Vec<Recipient>, InviteError> {
    due(conn, campaign, Channel::Letter, round, Some(cutoff))
}

fn due(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    channel: Channel,
    round: i32,
    reminder_cutoff: Option<NaiveDate>,
) -> Result<Vec<Recipient>, InviteError> {
    let done = ob::table.filter(ob::channel.eq(channel.as_str())).filter(ob::round.eq(round)).select(ob::invitation_id);
    let mut query = inv::table
        .filter(inv::campaign.eq(campaign.as_str()))
        .filter(inv::purged_on.is_null())
        .filter(inv::id.ne_all(done))
        .order(inv::id)
        .select(recipient_columns!())
        .into_boxed();
    query = match channel {
        Channel::Email => query.filter(inv::email.is_not_null()),
        Channel::Letter => query.filter(inv::email.is_null()),
    };
    if let Some(cutoff) = reminder_cutoff {
        query = query.filter(inv::used_on.is_null()).filter(inv::letter_on.le(cutoff).or(inv::email_on.le(cutoff)));
    }
    let rows: Vec<RecipientRow> = query.load(conn)?;
    Ok(rows.into_iter().filter_map(recipient).collect())
}

fn insert_token(
    conn: &mut AnyConnection,
    issued: &Issued,
    channel: Channel,
    round: i32,
    today: NaiveDate,
) -> Result<(), InviteError> {
    diesel::insert_into(tk::table)
        .values((
            tk::token_hash.eq(issued.token.hash()),
            tk::invitation_id.eq(issued.recipient.invitation_id),
            tk::channel.eq(channel.as_str()),
            tk::round.eq(round),
            tk::issued_on.eq(today),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records printed letters in one transaction: their tokens' hashes, an
/// outbox row each (sent: the PDF is written), and the letter date.
pub fn record_letters(
    conn: &mut AnyConnection,
    issued: &[Issued],
    round: i32,
    today: NaiveDate,
) -> Result<(), InviteError> {
    conn.transaction(|conn| {
        for i in issued {
            insert_token(conn, i, Channel::Letter, round, today)?;
            diesel::insert_into(ob::table)
                .values((
                    ob::invitation_id.eq(i.recipient.invitation_id),
                    ob::channel.eq(Channel::Letter.as_str()),
                    ob::round.eq(round),
                    ob::status.eq("sent"),
                    ob::attempts.eq(1),
                    ob::recipient.eq(""),
                    ob::subject.eq(""),
                    ob::body_text.eq(""),
                    ob::body_html.eq(""),
                    ob::created_on.eq(today),
                    ob::sent_on.eq(Some(today)),
                ))
                .execute(conn)?;
            diesel::update(inv::table.find(i.recipient.invitation_id).filter(inv::letter_on.is_null()))
                .set(inv::letter_on.eq(Some(today)))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// The invitation of a person, for printing a lost letter again.
pub fn find_recipient(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    person_key: &str,
) -> Result<Option<Recipient>, InviteError> {
    let row: Option<RecipientRow> = inv::table
        .filter(inv::campaign.eq(campaign.as_str()))
        .filter(inv::person_key.eq(person_key))
        .filter(inv::purged_on.is_null())
        .select(recipient_columns!())
        .first(conn)
        .optional()?;
    Ok(row.and_then(recipient))
}

/// A lost letter: voids every letter token of the invitation and records
/// the new one, in one transaction. E-mailed tokens stay valid.
pub fn record_reprint(conn: &mut AnyConnection, issued: &Issued, today: NaiveDate) -> Result<(), InviteError> {
    conn.transaction(|conn| {
        diesel::update(
            tk::table
                .filter(tk::invitation_id.eq(issued.recipient.invitation_id))
                .filter(tk::channel.eq(Channel::Letter.as_str()))
                .filter(tk::voided_on.is_null()),
        )
        .set(tk::voided_on.eq(Some(today)))
        .execute(conn)?;
        insert_token(conn, issued, Channel::Letter, 0, today)?;
        diesel::update(inv::table.find(issued.recipient.invitation_id).filter(inv::letter_on.is_null()))
            .set(inv::letter_on.eq(Some(today)))
            .execute(conn)?;
        Ok(())
    })
}

/// An e-mail ready to queue.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Queues e-mails in one transaction: each outbox row (pending, holding the
/// message until it is sent) and its token's hash; returns how many were
/// queued. A row is one atomic insert that does nothing when another sender
/// queued that invitation's e-mail of this round first (then its token is
/// not stored either, so the link in the discarded message never works):
/// two `invite send` at once never fail and never queue twice.
pub fn queue_emails(
    conn: &mut AnyConnection,
    messages: &[(Issued, Rendered)],
    round: i32,
    today: NaiveDate,
) -> Result<usize, InviteError> {
    conn.transaction(|conn| {
        let mut queued = 0;
        for (i, m) in messages {
            let Some(to) = &i.recipient.email else { continue };
            let row = (
                ob::invitation_id.eq(i.recipient.invitation_id),
                ob::channel.eq(Channel::Email.as_str()),
                ob::round.eq(round),
                ob::status.eq("pending"),
                ob::attempts.eq(0),
                ob::recipient.eq(to),
                ob::subject.eq(&m.subject),
                ob::body_text.eq(&m.text),
                ob::body_html.eq(&m.html),
                ob::created_on.eq(today),
            );
            let inserted = crate::on_backend!(&mut *conn, |c| diesel::insert_into(ob::table)
                .values(&row)
                .on_conflict((ob::invitation_id, ob::channel, ob::round))
                .do_nothing()
                .execute(c))?;
            if inserted == 1 {
                insert_token(conn, i, Channel::Email, round, today)?;
                queued += 1;
            }
        }
        Ok(queued)
    })
}

/// A queued e-mail, as the sender reads it.
#[derive(Debug, Clone)]
pub struct OutMessage {
    /// Which outbox it is queued in (`invitation`, `talent`), for its
    /// Message-ID.
    pub outbox: &'static str,
    pub id: i32,
    pub invitation_id: i32,
    pub attempts: i32,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl OutMessage {
    /// The same for every try of one queued message (outbox, row, recipient
    /// and subject), so that a re-send after an unknown outcome can be
    /// recognised as the same mail by servers and mail programs.
    pub fn message_id(&self, domain: &str) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{}\n{}", self.to, self.subject).as_bytes());
        format!("<{}.{}.{}@{domain}>", self.outbox, self.id, hex::encode(&digest[..8]))
    }
}

/// Rows left in "sending" since before `stale_before` were being sent by a
/// process that stopped: nobody knows whether the server took them. They
/// become "unknown" and are not sent again unless asked (at most once).
pub fn mark_stale(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    stale_before: NaiveDateTime,
) -> Result<usize, InviteError> {
    let ids: Vec<i32> = inv::table.filter(inv::campaign.eq(campaign.as_str())).select(inv::id).load(conn)?;
    Ok(diesel::update(
        ob::table
            .filter(ob::invitation_id.eq_any(&ids))
            .filter(ob::status.eq("sending"))
            .filter(ob::attempted_at.lt(stale_before)),
    )
    .set(ob::status.eq("unknown"))
    .execute(conn)?)
}

/// "unknown" (and "failed") rows of a campaign back to "pending": the
/// operator chooses at least once for them.
pub fn requeue(conn: &mut AnyConnection, campaign: &CampaignName, statuses: &[&str]) -> Result<usize, InviteError> {
    let ids: Vec<i32> = inv::table.filter(inv::campaign.eq(campaign.as_str())).select(inv::id).load(conn)?;
    Ok(diesel::update(
        ob::table
            .filter(ob::invitation_id.eq_any(&ids))
            .filter(ob::channel.eq(Channel::Email.as_str()))
            .filter(ob::status.eq_any(statuses)),
    )
    .set((ob::status.eq("pending"), ob::attempts.eq(0)))
    .execute(conn)?)
}

/// Ids of the pending e-mails of a campaign, oldest first.
pub fn pending_ids(conn: &mut AnyConnection, campaign: &CampaignName) -> Result<Vec<i32>, InviteError> {
    let ids: Vec<i32> = inv::table.filter(inv::campaign.eq(campaign.as_str())).select(inv::id).load(conn)?;
    Ok(ob::table
        .filter(ob::invitation_id.eq_any(&ids))
        .filter(ob::channel.eq(Channel::Email.as_str()))
        .filter(ob::status.eq("pending"))
        .order(ob::id)
        .select(ob::id)
        .load(conn)?)
}

/// Claims a pending row for sending (its own statement, committed before
/// the SMTP conversation): of two senders only one gets it.
pub fn claim(conn: &mut AnyConnection, id: i32, now: NaiveDateTime) -> Result<Option<OutMessage>, InviteError> {
    let n = diesel::update(ob::table.find(id).filter(ob::status.eq("pending")))
        .set((ob::status.eq("sending"), ob::attempts.eq(ob::attempts + 1), ob::attempted_at.eq(Some(now))))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let row: (i32, i32, i32, String, String, String, String) = ob::table
        .find(id)
        .select((ob::id, ob::invitation_id, ob::attempts, ob::recipient, ob::subject, ob::body_text, ob::body_html))
        .first(conn)?;
    let (id, invitation_id, attempts, to, subject, text, html) = row;
    Ok(Some(OutMessage { outbox: "invitation", id, invitation_id, attempts, to, subject, text, html }))
}

/// The server took the message (2xx): sent, its body (which holds the
/// token) wiped, and the invitation's e-mail date set, in one transaction.
pub fn mark_sent(conn: &mut AnyConnection, msg: &OutMessage, today: NaiveDate) -> Result<(), InviteError> {
    conn.transaction(|conn| {
        diesel::update(ob::table.find(msg.id))
            .set((
                ob::status.eq("sent"),
                ob::sent_on.eq(Some(today)),
                ob::body_text.eq(""),
                ob::body_html.eq(""),
                ob::last_error.eq(None::<String>),
            ))
            .execute(conn)?;
        diesel::update(inv::table.find(msg.invitation_id).filter(inv::email_on.is_null()))
            .set(inv::email_on.eq(Some(today)))
            .execute(conn)?;
        Ok(())
    })
}

/// The message was not sent (an error reply, or no connection): back to
/// `status` ("pending" to try again, "failed", or "unknown") with the error.
pub fn mark_not_sent(conn: &mut AnyConnection, id: i32, status: &str, error: &str) -> Result<(), InviteError> {
    let error: String = error.chars().take(500).collect();
    diesel::update(ob::table.find(id)).set((ob::status.eq(status), ob::last_error.eq(Some(error)))).execute(conn)?;
    Ok(())
}

/// What a link or typed code leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    /// Not used yet: the questionnaire and buurt to start.
    Open { invitation_id: i32, questionnaire: String, buurt: AreaCode },
    /// Used before (a response was started with it).
    Used,
    /// A letter printed again: this older one no longer works.
    Replaced,
    /// No such token.
    Unknown,
}

/// Looks a token up by its hash.
pub fn find_by_token(conn: &mut AnyConnection, token: &InviteToken) -> Result<Landing, InviteError> {
    // (voided_on, invitation id, questionnaire, buurt, used_on)
    type Row = (Option<NaiveDate>, i32, String, String, Option<NaiveDate>);
    let row: Option<Row> = tk::table
        .inner_join(inv::table)
        .filter(tk::token_hash.eq(token.hash()))
        .select((tk::voided_on, inv::id, inv::questionnaire, inv::buurt, inv::used_on))
        .first(conn)
        .optional()?;
    Ok(match row {
        None => Landing::Unknown,
        Some((Some(_), ..)) => Landing::Replaced,
        Some((None, _, _, _, Some(_))) => Landing::Used,
        Some((None, id, questionnaire, buurt, None)) => match AreaCode::parse(Level::Buurt, &buurt) {
            Ok(buurt) => Landing::Open { invitation_id: id, questionnaire, buurt },
            Err(_) => Landing::Unknown,
        },
    })
}

/// Marks an invitation used, today: one UPDATE that only one of any number
/// of simultaneous requests can win. True for the winner.
pub fn mark_used(conn: &mut AnyConnection, invitation_id: i32, today: NaiveDate) -> Result<bool, InviteError> {
    let n = diesel::update(inv::table.find(invitation_id).filter(inv::used_on.is_null()))
        .set(inv::used_on.eq(Some(today)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Counts for one buurt of a campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BuurtRate {
    pub buurt: String,
    /// Invitations in the campaign.
    pub invitations: i64,
    /// Reached: a letter printed or an e-mail sent.
    pub invited: i64,
    /// Used to start the questionnaire.
    pub used: i64,
}

impl BuurtRate {
    /// Used per invited, in percent (0 when nobody was invited).
    pub fn rate(&self) -> f64 {
        if self.invited == 0 {
            0.0
        } else {
            100.0 * self.used as f64 / self.invited as f64
        }
    }
}

/// A campaign's counts: per buurt, and the outbox per channel and status.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CampaignStatus {
    pub campaign: String,
    pub questionnaire: String,
    pub buurten: Vec<BuurtRate>,
    pub total: BuurtRate,
    /// (channel, status) → number of messages.
    pub outbox: BTreeMap<String, BTreeMap<String, i64>>,
    pub purged: i64,
}

/// Counts only: no name, address or token leaves this function.
pub fn campaign_status(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
) -> Result<Option<CampaignStatus>, InviteError> {
    type Row = (i32, String, String, Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>);
    let rows: Vec<Row> = inv::table
        .filter(inv::campaign.eq(campaign.as_str()))
        .select((inv::id, inv::questionnaire, inv::buurt, inv::letter_on, inv::email_on, inv::used_on, inv::purged_on))
        .load(conn)?;
    let Some(questionnaire) = rows.first().map(|r| r.1.clone()) else { return Ok(None) };
    let mut per: BTreeMap<String, BuurtRate> = BTreeMap::new();
    let mut total = BuurtRate { buurt: "totaal".into(), ..BuurtRate::default() };
    let mut purged = 0;
    for (_, _, buurt, letter, email, used, purged_on) in &rows {
        let e = per.entry(buurt.clone()).or_insert_with(|| BuurtRate { buurt: buurt.clone(), ..BuurtRate::default() });
        for r in [&mut *e, &mut total] {
            r.invitations += 1;
            r.invited += i64::from(letter.is_some() || email.is_some());
            r.used += i64::from(used.is_some());
        }
        purged += i64::from(purged_on.is_some());
    }
    let ids: Vec<i32> = rows.iter().map(|r| r.0).collect();
    let mut outbox: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for chunk in ids.chunks(5000) {
        let states: Vec<(String, String)> =
            ob::table.filter(ob::invitation_id.eq_any(chunk)).select((ob::channel, ob::status)).load(conn)?;
        for (channel, status) in states {
            *outbox.entry(channel).or_default().entry(status).or_default() += 1;
        }
    }
    Ok(Some(CampaignStatus {
        campaign: campaign.to_string(),
        questionnaire,
        buurten: per.into_values().collect(),
        total,
        outbox,
        purged,
    }))
}

/// Blanks the contact fields of a campaign's invitations (name, address,
/// e-mail, person key) and of its outbox, and cancels unsent e-mails. The
/// rows stay, so the counts do. Returns how many invitations were purged.
pub fn purge_contacts(
    conn: &mut AnyConnection,
    campaign: &CampaignName,
    today: NaiveDate,
) -> Result<usize, InviteError> {
    conn.transaction(|conn| {
        let ids: Vec<i32> = inv::table.filter(inv::campaign.eq(campaign.as_str())).select(inv::id).load(conn)?;
        for chunk in ids.chunks(5000) {
            diesel::update(ob::table.filter(ob::invitation_id.eq_any(chunk)).filter(ob::status.ne("sent")))
                .set(ob::status.eq("cancelled"))
                .execute(conn)?;
            diesel::update(ob::table.filter(ob::invitation_id.eq_any(chunk)))
                .set((ob::recipient.eq(""), ob::subject.eq(""), ob::body_text.eq(""), ob::body_html.eq("")))
                .execute(conn)?;
        }
        let n = diesel::update(inv::table.filter(inv::campaign.eq(campaign.as_str())).filter(inv::purged_on.is_null()))
            .set((
                inv::person_key.eq(None::<String>),
                inv::name.eq(""),
                inv::street_line.eq(""),
                inv::postcode.eq(""),
                inv::city.eq(""),
                inv::email.eq(None::<String>),
                inv::purged_on.eq(Some(today)),
            ))
            .execute(conn)?;
        Ok(n)
    })
}

/// A campaign in the list: counts only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CampaignSummary {
    pub name: String,
    pub questionnaire: String,
    pub invitations: i64,
    pub used: i64,
}

/// Every campaign, by name.
pub fn campaigns(conn: &mut AnyConnection) -> Result<Vec<CampaignSummary>, InviteError> {
    let rows: Vec<(String, String, Option<NaiveDate>)> =
        inv::table.select((inv::campaign, inv::questionnaire, inv::used_on)).load(conn)?;
    let mut out: BTreeMap<String, CampaignSummary> = BTreeMap::new();
    for (name, questionnaire, used) in rows {
        let e = out.entry(name.clone()).or_insert(CampaignSummary { name, questionnaire, invitations: 0, used: 0 });
        e.invitations += 1;
        e.used += i64::from(used.is_some());
    }
    Ok(out.into_values().collect())
}
