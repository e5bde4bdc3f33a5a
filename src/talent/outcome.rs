//! What a verbinder did with a suggestion, and the anonymous tally of
//! matches made per buurt.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::audit::{self, Action};
use crate::auth::UserId;
use crate::db::schema::{talent_initiatives as ti, talent_match_tally as tally, talent_outcomes as oc};
use crate::db::{AnyConnection, DbError};

pub const MAX_NOTE: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Outcome {
    Contacted,
    Matched,
    NotNow,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Contacted, Outcome::Matched, Outcome::NotNow];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Contacted => "benaderd",
            Outcome::Matched => "gematcht",
            Outcome::NotNow => "nu_niet",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A note: trimmed, at most `MAX_NOTE` characters, no control characters
/// but newlines. `None` when too long.
pub fn note(raw: &str) -> Option<String> {
    let t = raw.trim();
    (t.chars().count() <= MAX_NOTE).then(|| t.chars().filter(|c| !c.is_control() || *c == '\n').collect())
}

/// Records an outcome; a match also counts in the tally of the
/// initiative's buurt for this month.
pub fn record(
    conn: &mut AnyConnection,
    user: UserId,
    profile_id: i64,
    initiative_id: i32,
    outcome: Outcome,
    note: &str,
    today: NaiveDate,
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::insert_into(oc::table)
            .values((
                oc::profile_id.eq(profile_id),
                oc::initiative_id.eq(initiative_id),
                oc::outcome.eq(outcome.as_str()),
                oc::note.eq(note),
                oc::user_id.eq(Some(user.0)),
                oc::recorded_on.eq(today),
            ))
            .execute(conn)?;
        if outcome == Outcome::Matched {
            let buurt: String = ti::table.filter(ti::id.eq(initiative_id)).select(ti::buurt).first(conn)?;
            let month = today.format("%Y-%m").to_string();
            let bumped = diesel::update(tally::table.filter(tally::buurt.eq(&buurt)).filter(tally::month.eq(&month)))
                .set(tally::matches.eq(tally::matches + 1))
                .execute(conn)?;
            if bumped == 0 {
                diesel::insert_into(tally::table)
                    .values((tally::buurt.eq(&buurt), tally::month.eq(&month), tally::matches.eq(1)))
                    .execute(conn)?;
            }
        }
        audit::record(conn, Some(user), Action::OutcomeRecorded, &audit::profile_subject(profile_id))
    })
}

/// One recorded outcome, as the verbinder sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recorded {
    pub profile_id: i64,
    pub initiative_id: i32,
    pub outcome: String,
    pub note: String,
    pub recorded_on: String,
}

/// The outcomes of a profile or of an initiative, newest first.
pub fn of(conn: &mut AnyConnection, profile: Option<i64>, initiative: Option<i32>) -> Result<Vec<Recorded>, DbError> {
    let mut q = oc::table.into_boxed();
    if let Some(p) = profile {
        q = q.filter(oc::profile_id.eq(p));
    }
    if let Some(i) = initiative {
        q = q.filter(oc::initiative_id.eq(i));
    }
    let rows: Vec<(i64, i32, String, String, NaiveDate)> = q
        .order(oc::id.desc())
        .select((oc::profile_id, oc::initiative_id, oc::outcome, oc::note, oc::recorded_on))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(profile_id, initiative_id, outcome, note, d)| Recorded {
            profile_id,
            initiative_id,
            outcome,
            note,
            recorded_on: d.to_string(),
        })
        .collect())
}

/// Matches made per buurt (all months), for these buurten.
pub fn tally(conn: &mut AnyConnection, buurten: &[String]) -> Result<Vec<(String, i64)>, DbError> {
    let rows: Vec<(String, i32)> =
        tally::table.filter(tally::buurt.eq_any(buurten)).select((tally::buurt, tally::matches)).load(conn)?;
    let mut sums = std::collections::BTreeMap::<String, i64>::new();
    for (b, n) in rows {
        *sums.entry(b).or_default() += i64::from(n);
    }
    Ok(sums.into_iter().collect())
}
