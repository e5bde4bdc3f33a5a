//! Volunteers for a panel: the sign-ups (identified responses of a
//! questionnaire such as `panelaanmelding`) as a people file in the
//! Sortition Foundation format — an `id` column, `buurt`, one column per
//! quota feature — so that `panel select` reads them as they are.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::questionnaire::{Definition, QuestionKind};
use crate::spreadsheet::safe_text;
use crate::survey::IdentifiedResponse;

/// The columns a people file gets: `id`, `buurt`, then every single-choice
/// or yes/no question (the quota features), then the other answers (contact
/// details), in questionnaire order.
pub fn volunteer_columns(def: &Definition) -> (Vec<String>, Vec<String>) {
    let mut features = vec!["buurt".to_owned()];
    let mut others = Vec::new();
    for q in def.questions().filter(|q| q.kind.is_answerable()) {
        match q.kind {
            QuestionKind::SingleChoice { .. } | QuestionKind::YesNo => features.push(q.id.to_string()),
            QuestionKind::Consent => {}
            _ => others.push(q.id.to_string()),
        }
    }
    (features, others)
}

/// The people file: one row per sign-up, features first. A sign-up without
/// an answer to a feature gets an empty cell (the selection refuses it with
/// its line, so the clerk can follow it up).
pub fn volunteers_csv(def: &Definition, signups: &[IdentifiedResponse]) -> String {
    let (features, others) = volunteer_columns(def);
    let mut out = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = std::iter::once("id").chain(features.iter().chain(&others).map(String::as_str)).collect();
    let _ = out.write_record(&header);
    let mut seen = BTreeSet::new();
    for s in signups {
        if !seen.insert(s.id) {
            continue;
        }
        let cell = |key: &str| -> String {
            if key == "buurt" {
                return s.buurt.clone();
            }
            match s.answers.get(key) {
                Some(Value::String(v)) => v.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
                _ => String::new(),
            }
        };
        let row: Vec<String> = std::iter::once(s.id.to_string())
            .chain(features.iter().chain(&others).map(|k| safe_text(&cell(k))))
            .collect();
        let _ = out.write_record(&row);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}
