//! Talent profiles. A profile is a talentenscan response whose resident
//! ticked "a verbinder may contact me" (`contact_ok`). It is made when the
//! scan is sent, in the same transaction that stores the answers. The
//! answers themselves stay where they are, in `identified_responses` (one
//! copy: the resident's changes rewrite them there); `talent_profiles` adds
//! only the hash of the resident's private link and the dates of
//! confirmation and renewal.

use std::collections::BTreeSet;

use chrono::{Days, Months, NaiveDate};
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::audit::{self, Action};
use super::matching::{Place, Talent, Time};
use super::token::ProfileToken;
use crate::area::AreaTree;
use crate::db::schema::{
    identified_responses as ir, talent_outbox as ob, talent_outcomes as oc, talent_profiles as tp,
    talent_proposals as pr,
};
use crate::db::{AnyConnection, DbError};

/// The questionnaire whose responses become profiles.
pub const SLUG: &str = "talentenscan";
/// The consent question for contact, and its "yes".
pub const CONTACT_CONSENT: &str = "contact_ok";
const YES: &str = "yes";
/// The answers that identify the resident: removed when consent is
/// withdrawn, so what is left counts only anonymously.
pub const CONTACT_FIELDS: [&str; 4] = ["naam", "email", "telefoon", CONTACT_CONSENT];

/// Whether a response's answers (as stored) agree to contact.
pub fn agrees_to_contact(answers: &Value) -> bool {
    answers.get(CONTACT_CONSENT).and_then(Value::as_str) == Some(YES)
}

/// A profile as the verbinder and the resident see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Profile {
    pub id: i64,
    pub version_id: i32,
    pub buurt: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    /// What makes them happy (`blij_van`) and proud (`trots_op`): their strengths.
    pub happy: Vec<String>,
    pub proud: String,
    /// What they can teach someone (`talent_best`).
    pub best: String,
    pub skills: Vec<String>,
    pub learn: Vec<String>,
    pub languages: Vec<String>,
    pub activities: Vec<String>,
    pub audience: Vec<String>,
    pub time: String,
    pub together: String,
    pub approach: Vec<String>,
    pub created_on: NaiveDate,
    pub confirmed_on: NaiveDate,
    pub renewal_due_on: Option<NaiveDate>,
    /// Every stored answer, for the resident's download.
    pub answers: Value,
}

fn text(a: &Value, key: &str) -> String {
    a.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn list(a: &Value, key: &str) -> Vec<String> {
    a.get(key)
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

type Row = (i64, i32, String, String, NaiveDate, NaiveDate, Option<NaiveDate>);

impl Profile {
    fn from_row((id, version_id, buurt, answers, created_on, confirmed_on, renewal_due_on): Row) -> Profile {
        let a: Value = serde_json::from_str(&answers).unwrap_or(Value::Null);
        Profile {
            id,
            version_id,
            buurt,
            name: text(&a, "naam"),
            email: text(&a, "email"),
            phone: text(&a, "telefoon"),
            happy: list(&a, "blij_van"),
            proud: text(&a, "trots_op"),
            best: text(&a, "talent_best"),
            skills: list(&a, "talenten"),
            learn: list(&a, "leren"),
            languages: list(&a, "talen_welke"),
            activities: list(&a, "doen_buurt"),
            audience: list(&a, "voor_wie"),
            time: text(&a, "tijd"),
            together: text(&a, "samen"),
            approach: list(&a, "benaderen"),
            created_on,
            confirmed_on,
            renewal_due_on,
            answers: a,
        }
    }

    /// The profile's side of a match.
    pub fn talent(&self, tree: &AreaTree) -> Talent {
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
        Talent {
            id: self.id,
            place: place(&self.buurt, tree),
            skills: set(&self.skills),
            learn: set(&self.learn),
            activities: set(&self.activities),
            audience: set(&self.audience),
            time: Time::parse(&self.time),
        }
    }

    /// What the resident downloads: every answer and the profile's dates.
    pub fn export(&self) -> Value {
        serde_json::json!({
            "buurt": self.buurt,
            "aangemaakt_op": self.created_on.to_string(),
            "bevestigd_op": self.confirmed_on.to_string(),
            "verlengen_voor": self.renewal_due_on.map(|d| d.to_string()),
            "antwoorden": self.answers,
        })
    }
}

/// A buurt and its wijk, as matching needs them.
pub fn place(buurt: &str, tree: &AreaTree) -> Place {
    Place { buurt: buurt.to_owned(), wijk: tree.get(buurt).and_then(|a| a.parent.as_ref()).map(|p| p.to_string()) }
}

/// Makes a profile for a just-stored response when its resident agreed to
/// be contacted; returns the private link's token (shown once, never
/// stored). Call in the transaction that stored the response.
pub fn create_for_response(
    conn: &mut AnyConnection,
    response_id: i64,
    answers: &Value,
    today: NaiveDate,
) -> Result<Option<ProfileToken>, DbError> {
    if !agrees_to_contact(answers) {
        return Ok(None);
    }
    let token = ProfileToken::generate();
    diesel::insert_into(tp::table)
        .values((
            tp::response_id.eq(response_id),
            tp::token_hash.eq(token.hash()),
            tp::created_on.eq(today),
            tp::confirmed_on.eq(today),
        ))
        .execute(conn)?;
    Ok(Some(token))
}

macro_rules! profile_query {
    () => {
        tp::table.inner_join(ir::table).select((
            tp::response_id,
            ir::questionnaire_version_id,
            ir::buurt,
            ir::answers,
            tp::created_on,
            tp::confirmed_on,
            tp::renewal_due_on,
        ))
    };
}

pub fn find_by_token(conn: &mut AnyConnection, token: &ProfileToken) -> Result<Option<Profile>, DbError> {
    let row: Option<Row> = profile_query!().filter(tp::token_hash.eq(token.hash())).first(conn).optional()?;
    Ok(row.map(Profile::from_row))
}

pub fn load(conn: &mut AnyConnection, id: i64) -> Result<Option<Profile>, DbError> {
    let row: Option<Row> = profile_query!().filter(tp::response_id.eq(id)).first(conn).optional()?;
    Ok(row.map(Profile::from_row))
}

/// The profiles of these buurten, by name.
pub fn in_buurten(conn: &mut AnyConnection, buurten: &[String]) -> Result<Vec<Profile>, DbError> {
    let rows: Vec<Row> = profile_query!().filter(ir::buurt.eq_any(buurten)).load(conn)?;
    let mut list: Vec<Profile> = rows.into_iter().map(Profile::from_row).collect();
    list.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
    Ok(list)
}

/// The resident changed their answers (checked by the questionnaire's own
/// rules); changing them confirms the profile too.
pub fn update_answers(conn: &mut AnyConnection, id: i64, answers: &Value, today: NaiveDate) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::update(ir::table.filter(ir::id.eq(id))).set(ir::answers.eq(answers.to_string())).execute(conn)?;
        confirm(conn, id, today)?;
        audit::record(conn, None, Action::ProfileChanged, &audit::profile_subject(id))
    })
}

/// "My profile is still right": renews it for another period.
pub fn confirm(conn: &mut AnyConnection, id: i64, today: NaiveDate) -> Result<(), DbError> {
    diesel::update(tp::table.filter(tp::response_id.eq(id)))
        .set((tp::confirmed_on.eq(today), tp::renewal_due_on.eq(None::<NaiveDate>)))
        .execute(conn)?;
    Ok(())
}

/// Consent withdrawn: the profile, its outcomes and the name and contact
/// answers go; the other answers stay, anonymously, for the talent map.
pub fn withdraw(conn: &mut AnyConnection, id: i64) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        let Some(stored) = ir::table.filter(ir::id.eq(id)).select(ir::answers).first::<String>(conn).optional()? else {
            return Ok(false);
        };
        let mut answers: Map<String, Value> = serde_json::from_str(&stored).unwrap_or_default();
        for f in CONTACT_FIELDS {
            answers.remove(f);
            answers.remove(&crate::questionnaire::other_key(f));
        }
        diesel::delete(oc::table.filter(oc::profile_id.eq(id))).execute(conn)?;
        diesel::delete(ob::table.filter(ob::profile_id.eq(id))).execute(conn)?;
        diesel::delete(pr::table.filter(pr::profile_id.eq(id))).execute(conn)?;
        let gone = diesel::delete(tp::table.filter(tp::response_id.eq(id))).execute(conn)?;
        diesel::update(ir::table.filter(ir::id.eq(id)))
            .set(ir::answers.eq(Value::Object(answers).to_string()))
            .execute(conn)?;
        audit::forget(conn, &audit::profile_subject(id), Action::ConsentWithdrawn)?;
        Ok(gone > 0)
    })
}

/// Erases a profile and every answer behind it: the response, the
/// verbinders' outcomes and notes, and the audit trail of who viewed it
/// (one line stays: that a profile existed and was erased).
pub fn erase(conn: &mut AnyConnection, id: i64, why: Action) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        diesel::delete(oc::table.filter(oc::profile_id.eq(id))).execute(conn)?;
        diesel::delete(ob::table.filter(ob::profile_id.eq(id))).execute(conn)?;
        diesel::delete(pr::table.filter(pr::profile_id.eq(id))).execute(conn)?;
        let gone = diesel::delete(tp::table.filter(tp::response_id.eq(id))).execute(conn)?;
        // Only a profile's response: never an anonymous one by a guessed id.
        if gone > 0 {
            diesel::delete(ir::table.filter(ir::id.eq(id))).execute(conn)?;
            audit::forget(conn, &audit::profile_subject(id), why)?;
        }
        Ok(gone > 0)
    })
}

/// How long a profile lives without the resident confirming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewal {
    /// Months after the last confirmation that renewal is asked (default 12).
    pub months: u32,
    /// Days the resident then has to confirm before the profile is erased
    /// (default 30).
    pub grace_days: u32,
}

impl Default for Renewal {
    fn default() -> Renewal {
        Renewal { months: 12, grace_days: 30 }
    }
}

/// What a housekeeping round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenewalRound {
    pub flagged: usize,
    pub erased: usize,
}

/// Flags profiles not confirmed for `months` (renewal due `grace_days`
/// later) and erases flagged ones whose due day has passed.
pub fn renew(conn: &mut AnyConnection, policy: Renewal, today: NaiveDate) -> Result<RenewalRound, DbError> {
    let mut round = RenewalRound { erased: audit::forget_gone_profiles(conn)?, ..RenewalRound::default() };
    let expired: Vec<i64> = tp::table.filter(tp::renewal_due_on.lt(today)).select(tp::response_id).load(conn)?;
    for id in expired {
        if erase(conn, id, Action::ProfileExpired)? {
            round.erased += 1;
        }
    }
    if let (Some(cutoff), Some(due)) = (
        today.checked_sub_months(Months::new(policy.months)),
        today.checked_add_days(Days::new(policy.grace_days.into())),
    ) {
        round.flagged =
            diesel::update(tp::table.filter(tp::renewal_due_on.is_null()).filter(tp::confirmed_on.le(cutoff)))
                .set(tp::renewal_due_on.eq(due))
                .execute(conn)?;
    }
    Ok(round)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_yes_is_consent() {
        assert!(agrees_to_contact(&serde_json::json!({"contact_ok": "yes"})));
        for no in
            [serde_json::json!({}), serde_json::json!({"contact_ok": "no"}), serde_json::json!({"contact_ok": ["yes"]})]
        {
            assert!(!agrees_to_contact(&no));
        }
    }

    #[test]
    fn reads_a_stored_response() {
        let answers = serde_json::json!({
            "naam": "Fatima", "email": "f@example.nl", "talenten": ["koken", "tuin"], "tijd": "wekelijks",
            "voor_wie": ["ouderen"], "contact_ok": "yes"
        });
        let d = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        let p = Profile::from_row((5, 1, "BU07721110".into(), answers.to_string(), d, d, None));
        assert_eq!((p.name.as_str(), p.skills.len(), p.time.as_str()), ("Fatima", 2, "wekelijks"));
        let t = p.talent(&AreaTree::default());
        assert_eq!(t.time, Some(Time::Weekly));
        assert!(t.skills.contains("tuin"));
        assert_eq!(p.export()["antwoorden"]["naam"], "Fatima");
    }
}
