//! Free-text answers, for professionals only. They never enter results,
//! the API or exports (`results::counted`). A professional may read them
//! for an area that lies wholly within the buurten assigned to them, and
//! only when the safe table shows that area (at least k respondents, and
//! not hidden to protect another); the page warns that text may identify
//! people, and every reading is logged (`talent::audit`).
//!
//! Texts are grouped per question and sorted alphabetically, without date
//! or response: their order and grouping say nothing about who wrote them
//! or which texts came from one person.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::results::SafeTable;
use crate::area::{AreaTree, Level};
use crate::db::schema::text_answers as ta;
use crate::db::{AnyConnection, DbError};
use crate::i18n::Lang;
use crate::questionnaire::{Published, QuestionKind};
use crate::survey::Wave;

/// Whether a professional may read an area's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The buurten whose texts may be read.
    Allowed(Vec<String>),
    /// Some buurt of the area is not assigned to them.
    OutsideScope,
    /// The safe table hides the area: too few respondents.
    TooFew,
}

/// The buurten of an area: itself, or those below it.
fn buurten_of(tree: &AreaTree, code: &str) -> Vec<String> {
    let Some(area) = tree.get(code) else { return Vec::new() };
    if area.level() == Level::Buurt {
        return vec![code.to_owned()];
    }
    tree.children(code).flat_map(|child| buurten_of(tree, child.code.as_str())).collect()
}

/// The access rule: every buurt of the area in the professional's scope
/// (`may_see`), and the area shown by `table`, the safe table of the texts'
/// wave (or of every response).
pub fn access(table: &SafeTable, tree: &AreaTree, code: &str, may_see: impl Fn(&str) -> bool) -> Access {
    let buurten = buurten_of(tree, code);
    if buurten.is_empty() || !buurten.iter().all(|b| may_see(b)) {
        return Access::OutsideScope;
    }
    match table.get(code) {
        Some(a) if a.figures.is_some() => Access::Allowed(buurten),
        _ => Access::TooFew,
    }
}

/// The texts of one question, as a professional reads them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextGroup {
    pub question: String,
    /// "Other, namely" texts of a choice question.
    pub other: bool,
    pub answers: Vec<String>,
}

/// The audit log's subject of a reading: questionnaire, area and wave.
pub fn subject(slug: &str, code: &str, wave: Option<&Wave>) -> String {
    match wave {
        Some(w) => format!("open antwoorden {slug} {code} meting {}", w.id),
        None => format!("open antwoorden {slug} {code}"),
    }
}

/// The texts given in `buurten` to a questionnaire's versions; with `wave`,
/// only those the results count in that wave (the first of `waves` that
/// covers the day and buurt). Question texts come from `current`.
pub fn load(
    conn: &mut AnyConnection,
    current: &Published,
    versions: &[i32],
    buurten: &[String],
    wave: Option<(&Wave, &[Wave])>,
    lang: Lang,
) -> Result<Vec<TextGroup>, DbError> {
    let rows: Vec<(String, String, NaiveDate, String)> = ta::table
        .filter(ta::questionnaire_version_id.eq_any(versions))
        .filter(ta::buurt.eq_any(buurten))
        .select((ta::question_id, ta::buurt, ta::submitted_on, ta::body))
        .load(conn)?;
    let mut groups: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    let order: Vec<&str> = current.definition.questions().map(|q| q.id.as_str()).collect();
    for (question, buurt, day, body) in rows {
        if let Some((wave, waves)) = wave {
            if waves.iter().find(|w| w.covers(day, &buurt)).map(|w| w.id) != Some(wave.id) {
                continue;
            }
        }
        let body = body.trim();
        if body.is_empty() {
            continue;
        }
        let at = order.iter().position(|q| *q == question).unwrap_or(order.len());
        groups.entry((at, question)).or_default().push(body.to_owned());
    }
    Ok(groups
        .into_iter()
        .map(|((_, id), mut answers)| {
            answers.sort();
            let q = current.definition.question(&id);
            TextGroup {
                question: q.map(|q| q.text.get(lang).to_owned()).unwrap_or(id),
                other: q.is_some_and(|q| !matches!(q.kind, QuestionKind::Text { .. })),
                answers,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::area::{Area, AreaCode};
    use crate::insight::{build_set, AnswerKey, ByCell, RawCounts};

    fn tree() -> AreaTree {
        let a = |c: &str, parent: Option<&str>| Area {
            code: AreaCode::parse_any(c).unwrap(),
            name: c.into(),
            parent: parent.map(|p| AreaCode::parse_any(p).unwrap()),
        };
        AreaTree::new([
            a("GM0001", None),
            a("WK000100", Some("GM0001")),
            a("BU00010000", Some("WK000100")),
            a("BU00010001", Some("WK000100")),
            a("BU00010002", Some("WK000100")),
        ])
    }

    /// Respondents per buurt: 12, 3 and 20.
    fn table() -> SafeTable {
        let day = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        let mut raw = RawCounts::default();
        for (buurt, n) in [("BU00010000", 12), ("BU00010001", 3), ("BU00010002", 20)] {
            raw.responses.insert((1, buurt.into(), day), n);
            let key = AnswerKey {
                version: 1,
                question: "score".into(),
                buurt: buurt.into(),
                choice: String::new(),
                value: 5,
                day,
            };
            raw.answers.insert(key, ByCell::unplaced(n));
        }
        let def = crate::questionnaire::test_definition();
        let p = Published { id: 1, version: 1, content_hash: def.content_hash(), definition: Arc::new(def) };
        build_set(
            &tree(),
            &p,
            std::slice::from_ref(&p),
            &raw,
            &[],
            10,
            &BTreeMap::new(),
            &crate::insight::perturbation::PerturbationTable::exact(),
        )
        .all
    }

    #[test]
    fn texts_need_the_whole_area_in_scope_and_a_shown_cell() {
        let (table, tree) = (table(), tree());
        let scope = |list: Vec<&'static str>| move |b: &str| list.contains(&b);
        // BU…01 has 3: hidden, and one sibling with it (the smaller, BU…00).
        let shown = ["BU00010000", "BU00010002"].into_iter().find(|c| table.get(c).unwrap().figures.is_some()).unwrap();
        assert_eq!(access(&table, &tree, shown, scope(vec![shown])), Access::Allowed(vec![shown.to_owned()]));
        assert_eq!(access(&table, &tree, "BU00010001", scope(vec!["BU00010001"])), Access::TooFew);
        assert_eq!(access(&table, &tree, shown, scope(vec!["BU00010001"])), Access::OutsideScope);
        // A wijk: only with all its buurten; its texts are theirs.
        let all = || vec!["BU00010000", "BU00010001", "BU00010002"];
        assert_eq!(access(&table, &tree, "WK000100", scope(vec!["BU00010000"])), Access::OutsideScope);
        let Access::Allowed(buurten) = access(&table, &tree, "WK000100", scope(all())) else { panic!() };
        assert_eq!(buurten.len(), 3);
        assert_eq!(access(&table, &tree, "BU99999999", scope(all())), Access::OutsideScope, "unknown area");
    }
}
