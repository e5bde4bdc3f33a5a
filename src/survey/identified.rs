//! Responses to identified questionnaires (talent scan, panel sign-up),
//! given with consent. Stored whole, apart from anonymous responses; no
//! aggregate reads them.

use chrono::{Months, NaiveDate};
use diesel::prelude::*;
use rand::Rng;
use serde_json::{json, Map, Value};

use crate::area::AreaCode;
use crate::db::schema::identified_responses as ir;
use crate::db::{AnyConnection, DbError};
use crate::questionnaire::{Answer, Answers, Catalog};

/// The answers as JSON: numbers, option values (lists for multiple
/// choice), texts; "anders" texts under `{question}.other`.
pub fn answers_json(answers: &Answers) -> Value {
    let mut m = Map::new();
    for (q, a) in answers.iter() {
        let (value, other) = match a {
            Answer::Scale(v) | Answer::Number(v) => (json!(v), None),
            Answer::Choice { value, other } => (json!(value), other.as_ref()),
            Answer::Choices { values, other } => (json!(values), other.as_ref()),
            Answer::Text(t) => (json!(t), None),
        };
        m.insert(q.to_string(), value);
        if let Some(o) = other {
            m.insert(crate::questionnaire::other_key(q.as_str()), json!(o));
        }
    }
    Value::Object(m)
}

/// Stores one identified response; returns its id.
pub fn store_identified(
    conn: &mut AnyConnection,
    version_id: i32,
    buurt: &AreaCode,
    answers: &Answers,
    consent_on: NaiveDate,
    today: NaiveDate,
) -> Result<i64, DbError> {
    let id: i64 = rand::rngs::OsRng.gen_range(1..i64::MAX);
    diesel::insert_into(ir::table)
        .values((
            ir::id.eq(id),
            ir::questionnaire_version_id.eq(version_id),
            ir::buurt.eq(buurt.as_str()),
            ir::submitted_on.eq(today),
            ir::consent_on.eq(consent_on),
            ir::answers.eq(answers_json(answers).to_string()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// One identified response as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentifiedResponse {
    pub id: i64,
    pub version_id: i32,
    pub buurt: String,
    pub submitted_on: NaiveDate,
    pub consent_on: NaiveDate,
    pub answers: Value,
}

/// Every identified response to the given versions, oldest first.
pub fn identified_responses(conn: &mut AnyConnection, version_ids: &[i32]) -> Result<Vec<IdentifiedResponse>, DbError> {
    let rows: Vec<(i64, i32, String, NaiveDate, NaiveDate, String)> = ir::table
        .filter(ir::questionnaire_version_id.eq_any(version_ids))
        .order((ir::submitted_on.asc(), ir::id.asc()))
        .select((ir::id, ir::questionnaire_version_id, ir::buurt, ir::submitted_on, ir::consent_on, ir::answers))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, version_id, buurt, submitted_on, consent_on, answers)| IdentifiedResponse {
            id,
            version_id,
            buurt,
            submitted_on,
            consent_on,
            answers: serde_json::from_str(&answers).unwrap_or(Value::Null),
        })
        .collect())
}

/// Deletes the identified responses kept longer than the version they
/// answered promised (`retention_months`, counted from the day they were
/// sent); returns how many went.
pub fn purge_expired(conn: &mut AnyConnection, catalog: &Catalog, today: NaiveDate) -> Result<usize, DbError> {
    let mut deleted = 0;
    for version in catalog.all_versions() {
        let Some(months) = version.definition.retention() else { continue };
        let Some(cutoff) = today.checked_sub_months(Months::new(months)) else { continue };
        deleted += diesel::delete(
            ir::table.filter(ir::questionnaire_version_id.eq(version.id)).filter(ir::submitted_on.lt(cutoff)),
        )
        .execute(conn)?;
    }
    Ok(deleted)
}
