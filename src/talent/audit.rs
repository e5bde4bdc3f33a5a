//! The audit log: who looked at which profile, who was refused, which
//! profiles were erased. Subjects are opaque ids, never names.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::UserId;
use crate::db::schema::{audit_log as al, users};
use crate::db::{AnyConnection, DbError};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ProfileViewed,
    /// A professional asked for a profile or initiative outside their area.
    Refused,
    OutcomeRecorded,
    ProfileChanged,
    ConsentWithdrawn,
    ProfileErased,
    /// Erased because it was not renewed in time.
    ProfileExpired,
    /// A professional read the free-text answers of an area.
    FreeTextRead,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ProfileViewed => "profiel_bekeken",
            Action::Refused => "toegang_geweigerd",
            Action::OutcomeRecorded => "uitkomst_vastgelegd",
            Action::ProfileChanged => "profiel_gewijzigd",
            Action::ConsentWithdrawn => "toestemming_ingetrokken",
            Action::ProfileErased => "profiel_gewist",
            Action::ProfileExpired => "profiel_verlopen",
            Action::FreeTextRead => "open_antwoorden_gelezen",
        }
    }
}

/// The subject of a profile's entries.
pub fn profile_subject(id: i64) -> String {
    format!("profiel {id}")
}

pub fn initiative_subject(id: i32) -> String {
    format!("initiatief {id}")
}

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc().with_nanosecond_zero()
}

trait NoNanos {
    fn with_nanosecond_zero(self) -> Self;
}

impl NoNanos for NaiveDateTime {
    fn with_nanosecond_zero(self) -> NaiveDateTime {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

pub fn record(conn: &mut AnyConnection, user: Option<UserId>, action: Action, subject: &str) -> Result<(), DbError> {
    diesel::insert_into(al::table)
        .values((
            al::at.eq(now()),
            al::user_id.eq(user.map(|u| u.0)),
            al::action.eq(action.as_str()),
            al::subject.eq(subject),
        ))
        .execute(conn)?;
    Ok(())
}

/// After a profile is gone: its entries shrink to one line saying that it
/// existed and was erased (or withdrawn), with no trace of who viewed it.
pub fn forget(conn: &mut AnyConnection, subject: &str, action: Action) -> Result<(), DbError> {
    diesel::delete(al::table.filter(al::subject.eq(subject))).execute(conn)?;
    record(conn, None, action, subject)
}

/// Profiles that went another way (their answers reached the talent
/// scan's retention, `survey::purge_expired`) keep no viewing history
/// either: their lines shrink to one `profiel_verlopen`. Returns how many
/// profiles were tidied.
pub fn forget_gone_profiles(conn: &mut AnyConnection) -> Result<usize, DbError> {
    use crate::db::schema::talent_profiles as tp;
    let done = [Action::ProfileErased, Action::ProfileExpired, Action::ConsentWithdrawn].map(Action::as_str);
    let subjects: Vec<String> = al::table
        .filter(al::subject.like("profiel %"))
        .filter(al::action.ne_all(done))
        .select(al::subject)
        .distinct()
        .load(conn)?;
    let mut tidied = 0;
    for subject in subjects {
        let Some(id) = subject.strip_prefix("profiel ").and_then(|i| i.parse::<i64>().ok()) else { continue };
        let exists: i64 = tp::table.filter(tp::response_id.eq(id)).count().get_result(conn)?;
        if exists == 0 {
            forget(conn, &subject, Action::ProfileExpired)?;
            tidied += 1;
        }
    }
    Ok(tidied)
}

/// One line of the log as an administrator reads it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    pub at: String,
    pub user: Option<String>,
    pub action: String,
    pub subject: String,
}

/// The newest `limit` entries, newest first.
pub fn recent(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Entry>, DbError> {
    let rows: Vec<(NaiveDateTime, Option<i32>, String, String)> = al::table
        .order(al::id.desc())
        .limit(limit)
        .select((al::at, al::user_id, al::action, al::subject))
        .load(conn)?;
    let ids: Vec<i32> = rows.iter().filter_map(|r| r.1).collect();
    let emails: std::collections::BTreeMap<i32, String> =
        users::table.filter(users::id.eq_any(ids)).select((users::id, users::email)).load(conn)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|(at, user, action, subject)| Entry {
            at: at.format("%Y-%m-%d %H:%M:%S").to_string(),
            user: user.and_then(|u| emails.get(&u).cloned()),
            action,
            subject,
        })
        .collect())
}
