//! Save-and-resume without personal data. An unfinished response is found
//! again by a resume code: kept in a cookie on the resident's device and
//! shown on screen to type elsewhere. Only the code's hash is stored. A
//! partial response is never counted and is deleted after `RETENTION_DAYS`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::area::{AreaCode, Level};
use crate::code;
use crate::db::schema::partial_responses as pr;
use crate::db::{AnyConnection, DbError};

/// Days an untouched partial response is kept.
pub const RETENTION_DAYS: u64 = 30;

const CODE_LEN: usize = 12;

/// 12 symbols, 60 random bits: short enough to write down, too many to guess.
#[derive(Clone, PartialEq, Eq)]
pub struct ResumeCode(String);

impl std::fmt::Debug for ResumeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResumeCode(…)")
    }
}

impl ResumeCode {
    pub fn generate() -> ResumeCode {
        ResumeCode(code::generate(CODE_LEN))
    }

    /// Reads a typed code (see `code::read`).
    pub fn parse(s: &str) -> Option<ResumeCode> {
        code::read(s, CODE_LEN, 64).map(ResumeCode)
    }

    /// The code as the resident sees it: `ABCD-EFGH-JKMN`.
    pub fn display(&self) -> String {
        code::grouped(&self.0)
    }

    /// The code as stored in a cookie or a link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        code::hash(&self.0)
    }
}

/// Form values per field, exactly as the forms sent them.
pub type FormValues = BTreeMap<String, Vec<String>>;

/// What the resident has entered so far, as the forms sent it, so a page
/// shows exactly what they typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partial {
    pub version_id: i32,
    pub buurt: AreaCode,
    /// The page to show next (0-based).
    pub page: usize,
    /// Form values per field, as sent.
    pub given: FormValues,
    /// When consent was given, for identified questionnaires.
    pub consent_on: Option<NaiveDate>,
}

/// Stores a new partial response under a fresh code.
pub fn start(conn: &mut AnyConnection, partial: &Partial, today: NaiveDate) -> Result<ResumeCode, DbError> {
    let code = ResumeCode::generate();
    insert(conn, &code, partial, today)?;
    Ok(code)
}

fn insert(conn: &mut AnyConnection, code: &ResumeCode, partial: &Partial, today: NaiveDate) -> Result<(), DbError> {
    diesel::insert_into(pr::table)
        .values((
            pr::code_hash.eq(code.hash()),
            pr::questionnaire_version_id.eq(partial.version_id),
            pr::buurt.eq(partial.buurt.as_str()),
            pr::page.eq(partial.page as i32),
            pr::answers.eq(serde_json::to_string(&partial.given).unwrap_or_else(|_| "{}".into())),
            pr::consent_on.eq(partial.consent_on),
            pr::updated_on.eq(today),
        ))
        .execute(conn)?;
    Ok(())
}

/// The partial response of a code, if it is still kept.
pub fn load(conn: &mut AnyConnection, code: &ResumeCode) -> Result<Option<Partial>, DbError> {
    let row: Option<(i32, String, i32, String, Option<NaiveDate>)> = pr::table
        .find(code.hash())
        .select((pr::questionnaire_version_id, pr::buurt, pr::page, pr::answers, pr::consent_on))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(version_id, buurt, page, answers, consent_on)| {
        Some(Partial {
            version_id,
            buurt: AreaCode::parse(Level::Buurt, &buurt).ok()?,
            page: usize::try_from(page).ok()?,
            given: serde_json::from_str(&answers).ok()?,
            consent_on,
        })
    }))
}

/// Saves the resident's progress; false when the partial is gone (sent or
/// expired).
pub fn save(conn: &mut AnyConnection, code: &ResumeCode, partial: &Partial, today: NaiveDate) -> Result<bool, DbError> {
    let n = diesel::update(pr::table.find(code.hash()))
        .set((
            pr::page.eq(partial.page as i32),
            pr::answers.eq(serde_json::to_string(&partial.given).unwrap_or_else(|_| "{}".into())),
            pr::updated_on.eq(today),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Takes the partial response away, atomically: of two simultaneous "send"
/// clicks only one gets it, so a response is never stored twice.
pub fn claim(conn: &mut AnyConnection, code: &ResumeCode) -> Result<bool, DbError> {
    Ok(diesel::delete(pr::table.find(code.hash())).execute(conn)? == 1)
}

/// Puts a claimed partial back under its code (storing the response failed).
pub fn restore(
    conn: &mut AnyConnection,
    code: &ResumeCode,
    partial: &Partial,
    today: NaiveDate,
) -> Result<(), DbError> {
    insert(conn, code, partial, today)
}

/// Deletes partial responses untouched for `RETENTION_DAYS`; returns how many.
pub fn purge(conn: &mut AnyConnection, today: NaiveDate) -> Result<usize, DbError> {
    let before = today - chrono::Days::new(RETENTION_DAYS);
    Ok(diesel::delete(pr::table.filter(pr::updated_on.lt(before))).execute(conn)?)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn codes_survive_typing() {
        let code = ResumeCode::generate();
        let shown = code.display();
        assert_eq!(shown.len(), 14);
        assert_eq!(ResumeCode::parse(&shown), Some(code.clone()));
        assert_eq!(ResumeCode::parse(&shown.to_lowercase().replace('-', " ")), Some(code));
        assert_eq!(ResumeCode::parse("O1IL-0000-0000"), ResumeCode::parse("0111-0000-0000"));
        for bad in ["", "ABCD", "ABCD-EFGH-JKMN-P", "ABCD-EFGH-JKMU", "ÄBCD-EFGH-JKMN", &"A".repeat(100)] {
            assert_eq!(ResumeCode::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = ResumeCode::parse(&s);
        }
    }
}
