//! A match proposed to the resident by e-mail: the verbinder picks an
//! initiative, the resident answers yes or no through a private link of
//! their own (a `ProfileToken`-strength secret, stored as SHA-256 only).
//! The answer is written as an outcome the verbinder sees.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::outcome::{self, Outcome};
use super::token::ProfileToken;
use crate::auth::UserId;
use crate::db::schema::{talent_initiatives as ti, talent_outcomes as oc, talent_proposals as tp};
use crate::db::{AnyConnection, DbError};

/// Stores a proposal; returns the token for the e-mail's link (never
/// stored). Recorded as "contacted" with a note, in the same transaction.
pub fn propose(
    conn: &mut AnyConnection,
    user: UserId,
    profile_id: i64,
    initiative_id: i32,
    today: NaiveDate,
) -> Result<ProfileToken, DbError> {
    let token = ProfileToken::generate();
    conn.transaction(|conn| {
        diesel::insert_into(tp::table)
            .values((
                tp::profile_id.eq(profile_id),
                tp::initiative_id.eq(initiative_id),
                tp::token_hash.eq(token.hash()),
                tp::proposed_on.eq(today),
            ))
            .execute(conn)?;
        outcome::record(conn, user, profile_id, initiative_id, Outcome::Contacted, "Voorstel per e-mail", today)
    })?;
    Ok(token)
}

/// A proposal as its resident sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub id: i32,
    pub profile_id: i64,
    pub initiative_id: i32,
    pub initiative: String,
    pub offers: String,
    pub answer: Option<String>,
}

pub fn find(conn: &mut AnyConnection, token: &ProfileToken) -> Result<Option<Proposal>, DbError> {
    let row: Option<(i32, i64, i32, String, String, Option<String>)> = tp::table
        .inner_join(ti::table)
        .filter(tp::token_hash.eq(token.hash()))
        .select((tp::id, tp::profile_id, tp::initiative_id, ti::name, ti::offers, tp::answer))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, profile_id, initiative_id, initiative, offers, answer)| Proposal {
        id,
        profile_id,
        initiative_id,
        initiative,
        offers,
        answer,
    }))
}

/// The resident's answer, once: false when it was answered already. A
/// "yes" is an outcome "contacted" for the verbinder to follow up, a "no"
/// is "not now".
pub fn answer(conn: &mut AnyConnection, p: &Proposal, yes: bool, today: NaiveDate) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        let set = diesel::update(tp::table.filter(tp::id.eq(p.id)).filter(tp::answer.is_null()))
            .set((tp::answer.eq(if yes { "ja" } else { "nee" }), tp::answered_on.eq(today)))
            .execute(conn)?;
        if set == 0 {
            return Ok(false);
        }
        let (outcome, note) = if yes {
            (Outcome::Contacted, "Bewoner: ja, graag (antwoord op het voorstel)")
        } else {
            (Outcome::NotNow, "Bewoner: nee, nu niet (antwoord op het voorstel)")
        };
        diesel::insert_into(oc::table)
            .values((
                oc::profile_id.eq(p.profile_id),
                oc::initiative_id.eq(p.initiative_id),
                oc::outcome.eq(outcome.as_str()),
                oc::note.eq(note),
                oc::user_id.eq(None::<i32>),
                oc::recorded_on.eq(today),
            ))
            .execute(conn)?;
        Ok(true)
    })
}
