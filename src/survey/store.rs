use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::upsert::excluded;
use rand::Rng;
use sha2::Digest;

use crate::area::AreaCode;
use crate::db::schema::{answers, response_counts, responses, submission_keys, text_answers};
use crate::db::{AnyConnection, DbError};
use crate::insight::weighting::{Cell, Placement};
use crate::questionnaire::{Answer, Answers, Published};

/// One checked response, ready to store. It carries nothing about the person.
#[derive(Debug, Clone)]
pub struct Submission {
    pub version_id: i32,
    pub buurt: AreaCode,
    pub answers: Answers,
    /// The respondent's weighting cell, by the version's own age band and
    /// gender questions; stored on every answer row (for weighted results).
    pub cell: Option<Cell>,
    /// The response's random record key for the cell key method (0..2³¹,
    /// never published; docs/privacy.md).
    pub record_key: i32,
    /// The client's idempotency key: a retry with the same key is stored once.
    pub key: Option<SubmissionKey>,
}

/// A client's idempotency key (`Idempotency-Key`), kept only as a hash
/// scoped to its questionnaire version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionKey(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Idempotency-Key must be 1 to 200 visible ASCII characters")]
pub struct SubmissionKeyError;

impl SubmissionKey {
    pub fn parse(raw: &str, version_id: i32) -> Result<SubmissionKey, SubmissionKeyError> {
        if raw.is_empty() || raw.len() > 200 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SubmissionKeyError);
        }
        let digest = sha2::Sha256::digest(format!("{version_id}\n{raw}").as_bytes());
        Ok(SubmissionKey(hex::encode(digest)))
    }
}

impl Submission {
    pub fn new(version: &Published, buurt: AreaCode, answers: Answers) -> Submission {
        let cell = Placement::of(&version.definition).and_then(|p| p.cell_of(&answers));
        let record_key = rand::thread_rng().gen_range(0..i32::MAX);
        Submission { version_id: version.id, buurt, answers, cell, record_key, key: None }
    }
}

/// The (choice, value) rows an answer is stored and counted as: a number is
/// a value; each chosen option a row of its own; a multiple choice also gets
/// a row with choice '' counting the options chosen, so results know how
/// many answered it. Free text has none.
pub fn closed_rows(answer: &Answer) -> Vec<(String, i32)> {
    match answer {
        Answer::Scale(v) | Answer::Number(v) => vec![(String::new(), *v)],
        Answer::Choice { value, .. } => vec![(value.clone(), 1)],
        Answer::Choices { values, .. } => {
            let marker = (String::new(), values.len() as i32);
            values.iter().map(|v| (v.clone(), 1)).chain(std::iter::once(marker)).collect()
        }
        Answer::Text(_) => Vec::new(),
    }
}

/// Stores responses in one transaction, each under a fresh random id so that
/// the stored order says nothing about who answered when. Only the date is
/// kept. Every answer row carries its response's key (see the migrations).
/// A submission whose idempotency key was used before (or earlier in the
/// batch) is not stored again; returns per submission whether it was stored.
pub fn store_batch(conn: &mut AnyConnection, batch: &[Submission], today: NaiveDate) -> Result<Vec<bool>, DbError> {
    let mut rng = rand::thread_rng();
    conn.transaction(|conn| {
        let mut stored = Vec::with_capacity(batch.len());
        for s in batch {
            let fresh = match &s.key {
                None => true,
                Some(SubmissionKey(hash)) => {
                    let row = (submission_keys::key_hash.eq(hash), submission_keys::used_on.eq(today));
                    crate::on_backend!(&mut *conn, |c| diesel::insert_into(submission_keys::table)
                        .values(&row)
                        .on_conflict_do_nothing()
                        .execute(c))?
                        == 1
                }
            };
            stored.push(fresh);
        }
        let batch: Vec<&Submission> = batch.iter().zip(&stored).filter(|(_, s)| **s).map(|(b, _)| b).collect();
        let mut response_rows = Vec::with_capacity(batch.len());
        let mut answer_rows = Vec::new();
        let mut text_rows = Vec::new();
        for s in batch.iter().copied() {
            let id: i64 = rng.gen_range(1..i64::MAX);
            response_rows.push((
                responses::id.eq(id),
                responses::questionnaire_version_id.eq(s.version_id),
                responses::buurt.eq(s.buurt.as_str()),
                responses::submitted_on.eq(today),
                responses::record_key.eq(s.record_key),
            ));
            for (qid, answer) in s.answers.iter() {
                let mut text = |body: &str| {
                    text_rows.push((
                        text_answers::questionnaire_version_id.eq(s.version_id),
                        text_answers::buurt.eq(s.buurt.as_str()),
                        text_answers::submitted_on.eq(today),
                        text_answers::response_id.eq(id),
                        text_answers::question_id.eq(qid.as_str()),
                        text_answers::body.eq(body.to_owned()),
                    ))
                };
                match answer {
                    Answer::Choice { other, .. } | Answer::Choices { other, .. } => {
                        other.as_deref().map(&mut text);
                    }
                    Answer::Text(body) => text(body),
                    Answer::Scale(_) | Answer::Number(_) => {}
                }
                let rows = closed_rows(answer);
                for (choice, value) in rows {
                    answer_rows.push((
                        answers::questionnaire_version_id.eq(s.version_id),
                        answers::question_id.eq(qid.as_str()),
                        answers::buurt.eq(s.buurt.as_str()),
                        answers::value.eq(value),
                        answers::choice.eq(choice),
                        answers::submitted_on.eq(today),
                        answers::response_id.eq(id),
                        answers::cell.eq(s.cell.map(Cell::column)),
                    ));
                }
            }
        }
        // SQLite runs one cached prepared statement per row (no parsing, no
        // round trips to pay); PostgreSQL gets multi-row statements, in chunks
        // that stay under the bound-parameter limit.
        macro_rules! insert_all {
            ($table:expr, $rows:expr) => {
                match &mut *conn {
                    AnyConnection::Sqlite(c) => {
                        for row in $rows.iter() {
                            diesel::insert_into($table).values(row).execute(c)?;
                        }
                    }
                    AnyConnection::Postgresql(c) => {
                        for chunk in $rows.chunks(500) {
                            diesel::insert_into($table).values(chunk).execute(c)?;
                        }
                    }
                }
            };
        }
        insert_all!(responses::table, response_rows);
        let mut per_buurt: BTreeMap<(i32, &str), (i64, i64)> = BTreeMap::new();
        for s in batch.iter().copied() {
            let (n, keys) = per_buurt.entry((s.version_id, s.buurt.as_str())).or_default();
            *n += 1;
            *keys += i64::from(s.record_key);
        }
        for ((version, buurt), (n, keys)) in per_buurt {
            let row = (
                response_counts::questionnaire_version_id.eq(version),
                response_counts::buurt.eq(buurt),
                response_counts::submitted_on.eq(today),
                response_counts::n.eq(n),
                response_counts::key_sum.eq(keys),
            );
            let key =
                (response_counts::questionnaire_version_id, response_counts::buurt, response_counts::submitted_on);
            let add = (
                response_counts::n.eq(response_counts::n + excluded(response_counts::n)),
                response_counts::key_sum.eq(response_counts::key_sum + excluded(response_counts::key_sum)),
            );
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(response_counts::table)
                .values(&row)
                .on_conflict(key)
                .do_update()
                .set(add)
                .execute(c))?;
        }
        insert_all!(answers::table, answer_rows);
        insert_all!(text_answers::table, text_rows);
        Ok(stored)
    })
}

/// Forgets idempotency keys used before `before`: a retry comes within
/// minutes, not days.
pub fn purge_submission_keys(conn: &mut AnyConnection, before: NaiveDate) -> Result<usize, DbError> {
    Ok(diesel::delete(submission_keys::table.filter(submission_keys::used_on.lt(before))).execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_hashed_per_version_and_checked() {
        let a = SubmissionKey::parse("retry-1", 1).unwrap();
        assert_eq!(a, SubmissionKey::parse("retry-1", 1).unwrap());
        assert_ne!(a, SubmissionKey::parse("retry-1", 2).unwrap(), "scoped to the version");
        assert!(!a.0.contains("retry"), "only a hash is kept");
        for bad in ["", "met spatie", "é", &"x".repeat(201)] {
            assert_eq!(SubmissionKey::parse(bad, 1), Err(SubmissionKeyError), "{bad:?}");
        }
    }
}
