use chrono::NaiveDate;
use diesel::prelude::*;
use rand::Rng;

use crate::area::AreaCode;
use crate::db::schema::{answers, responses, text_answers};
use crate::db::{AnyConnection, DbError};
use crate::questionnaire::{Answer, Answers};

/// One checked response, ready to store. It carries nothing about the person.
#[derive(Debug, Clone)]
pub struct Submission {
    pub version_id: i32,
    pub buurt: AreaCode,
    pub answers: Answers,
}

/// Stores responses in one transaction, each under a fresh random id so that
/// the stored order says nothing about who answered when. Only the date is
/// kept.
pub fn store_batch(conn: &mut AnyConnection, batch: &[Submission], today: NaiveDate) -> Result<(), DbError> {
    let mut rng = rand::thread_rng();
    conn.transaction(|conn| {
        let mut response_rows = Vec::with_capacity(batch.len());
        let mut answer_rows = Vec::new();
        let mut text_rows = Vec::new();
        for s in batch {
            let id: i64 = rng.gen_range(1..i64::MAX);
            response_rows.push((
                responses::id.eq(id),
                responses::questionnaire_version_id.eq(s.version_id),
                responses::buurt.eq(s.buurt.as_str()),
                responses::submitted_on.eq(today),
            ));
            for (qid, answer) in s.answers.iter() {
                let (choice, value) = match answer {
                    Answer::Scale(v) => (String::new(), *v),
                    Answer::Choice(c) => (c.clone(), 1),
                    Answer::Text(body) => {
                        text_rows.push((
                            text_answers::response_id.eq(id),
                            text_answers::question_id.eq(qid.as_str()),
                            text_answers::body.eq(body.clone()),
                        ));
                        continue;
                    }
                };
                answer_rows.push((
                    answers::response_id.eq(id),
                    answers::questionnaire_version_id.eq(s.version_id),
                    answers::buurt.eq(s.buurt.as_str()),
                    answers::question_id.eq(qid.as_str()),
                    answers::choice.eq(choice),
                    answers::value.eq(value),
                ));
            }
        }
        // Chunks keep every statement under SQLite's bound-parameter limit.
        for chunk in response_rows.chunks(500) {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(responses::table).values(chunk).execute(c))?;
        }
        for chunk in answer_rows.chunks(500) {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(answers::table).values(chunk).execute(c))?;
        }
        for chunk in text_rows.chunks(500) {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(text_answers::table).values(chunk).execute(c))?;
        }
        Ok(())
    })
}
