//! One safe table per questionnaire: every figure of every area, computed
//! once and suppressed once, from which every page, API answer and chart is
//! cut. Two outputs can therefore never be combined to reveal more than one.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::disclosure::{protect, Hierarchy};
use super::stats::{ChoiceSummary, ScaleSummary};
use crate::area::{AreaCode, AreaTree, Level};
use crate::db::schema::{answers, response_counts};
use crate::db::{AnyConnection, DbError};
use crate::questionnaire::{LocalText, Published, QuestionKind};
use crate::survey::Wave;

/// (version id, buurt, respondents): possibly several rows per buurt.
pub type RespondentRow = (i32, String, i64);
/// (version id, question id, buurt, choice, value, answers).
pub type AnswerRow = (i32, String, String, String, i32, i64);

/// Raw counts as the database returns them.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub responses: Vec<RespondentRow>,
    pub answers: Vec<AnswerRow>,
}

/// Counts per buurt for the given versions, all of them or those of one
/// wave: one grouped scan of the answers in key order, and the kept
/// respondent counts.
pub fn fetch_counts(conn: &mut AnyConnection, version_ids: &[i32], wave: Option<&Wave>) -> Result<Counts, DbError> {
    // Respondents per buurt come from the counts kept beside the responses
    // (a few rows per buurt and day), so results scan the answers only.
    // Without a wave no date is compared: the scan of all answers stays bare.
    macro_rules! grouped_answers {
        ($query:expr) => {
            $query
                // In key order, so the database groups while it scans, no sorting.
                .group_by((
                    answers::questionnaire_version_id,
                    answers::question_id,
                    answers::buurt,
                    answers::value,
                    answers::choice,
                ))
                .select((
                    answers::questionnaire_version_id,
                    answers::question_id,
                    answers::buurt,
                    answers::choice,
                    answers::value,
                    count_star(),
                ))
                .load(conn)?
        };
    }
    let counted = response_counts::table.filter(response_counts::questionnaire_version_id.eq_any(version_ids));
    let columns = (response_counts::questionnaire_version_id, response_counts::buurt, response_counts::n);
    let all_answers = answers::table.filter(answers::questionnaire_version_id.eq_any(version_ids));
    let (responses, answers): (Vec<RespondentRow>, Vec<AnswerRow>) = match wave {
        None => (counted.select(columns).load(conn)?, grouped_answers!(all_answers)),
        Some(w) => {
            // An open-ended wave: a last day both databases compare as a date.
            let last = w.closes_on.or(NaiveDate::from_ymd_opt(9999, 12, 31)).unwrap_or(w.opens_on);
            (
                counted.filter(response_counts::submitted_on.between(w.opens_on, last)).select(columns).load(conn)?,
                grouped_answers!(all_answers.filter(answers::submitted_on.between(w.opens_on, last))),
            )
        }
    };
    // A wave of some buurten: the rest of the rows are another wave's.
    let in_wave = |buurt: &str| wave.is_none_or(|w| w.buurten.is_empty() || w.buurten.contains(buurt));
    Ok(Counts {
        responses: responses.into_iter().filter(|r| in_wave(&r.1)).collect(),
        answers: answers.into_iter().filter(|r| in_wave(&r.2)).collect(),
    })
}

/// What a result column is about.
#[derive(Debug, Clone)]
pub struct QuestionMeta {
    pub id: String,
    pub text: LocalText,
    pub kind: QuestionKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QuestionFigures {
    /// Fewer than k answered here, or showing it would reveal a cell that did.
    Suppressed,
    Scale(ScaleSummary),
    Choice(ChoiceSummary),
}

#[derive(Debug, Clone)]
pub struct AreaResult {
    pub code: AreaCode,
    pub name: String,
    pub parent: Option<AreaCode>,
    /// None when the area is suppressed: then nothing about it is shown.
    pub figures: Option<(u64, Vec<QuestionFigures>)>,
}

#[derive(Debug, Clone)]
pub struct SafeTable {
    pub slug: String,
    pub version: i32,
    pub min_cell: u64,
    pub questions: Vec<QuestionMeta>,
    areas: Vec<AreaResult>,
    index: HashMap<String, usize>,
}

impl SafeTable {
    pub fn at_level(&self, level: Level) -> impl Iterator<Item = &AreaResult> {
        self.areas.iter().filter(move |a| a.code.level() == level)
    }

    pub fn get(&self, code: &str) -> Option<&AreaResult> {
        self.index.get(code).map(|&i| &self.areas[i])
    }

    pub fn question_index(&self, id: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.id == id)
    }
}

/// Builds the safe table for the current version of a questionnaire,
/// counting answers of earlier versions where the question kept its id and
/// its possible answers.
pub fn build_table(tree: &AreaTree, current: &Published, versions: &[Published], counts: &Counts, k: u64) -> SafeTable {
    let areas: Vec<_> = tree.all().collect();
    let index: HashMap<String, usize> = areas.iter().enumerate().map(|(i, a)| (a.code.to_string(), i)).collect();
    let h =
        Hierarchy::new(areas.iter().map(|a| a.parent.as_ref().and_then(|p| index.get(p.as_str()).copied())).collect());
    let leaf = |buurt: &str| index.get(buurt).copied().filter(|&i| h.is_leaf(i));

    let mut leaf_responses = vec![0u64; areas.len()];
    for (_, buurt, c) in &counts.responses {
        if let Some(i) = leaf(buurt) {
            leaf_responses[i] += *c as u64;
        }
    }
    let n = h.roll_up(&leaf_responses);
    let area_hidden = protect(&h, &n, k, &vec![false; areas.len()]);

    let closed: Vec<_> = current.definition.questions().filter(|q| counted(&q.kind)).collect();
    let mut per_question = Vec::with_capacity(closed.len());
    for q in &closed {
        let compatible: Vec<i32> = versions
            .iter()
            .filter(|v| v.definition.question(q.id.as_str()).is_some_and(|o| o.kind.same_answer_space(&q.kind)))
            .map(|v| v.id)
            .collect();
        let values = q.kind.choice_values();
        let width = match &q.kind {
            QuestionKind::Scale { min, max, .. } | QuestionKind::Number { min, max, .. } => (max - min + 1) as usize,
            _ => values.len(),
        };
        let multiple = matches!(q.kind, QuestionKind::MultipleChoice { .. });
        let slot = |choice: &str, value: i32| match &q.kind {
            QuestionKind::Scale { min, max, .. } | QuestionKind::Number { min, max, .. } => {
                (*min..=*max).contains(&value).then(|| (value - min) as usize)
            }
            _ => values.iter().position(|v| *v == choice),
        };
        let mut dist = vec![vec![0u64; width]; areas.len()];
        // Respondents who answered; for a multiple choice its '' rows.
        let mut answered = vec![0u64; areas.len()];
        for (vid, qid, buurt, choice, value, c) in &counts.answers {
            if qid != q.id.as_str() || !compatible.contains(vid) {
                continue;
            }
            let Some(l) = leaf(buurt) else { continue };
            let target = if multiple && choice.is_empty() { None } else { slot(choice, *value) };
            let counts_respondent = if multiple { choice.is_empty() } else { target.is_some() };
            let mut cur = Some(l);
            while let Some(a) = cur {
                if let Some(s) = target {
                    dist[a][s] += *c as u64;
                }
                if counts_respondent {
                    answered[a] += *c as u64;
                }
                cur = h.parent(a);
            }
        }
        let nq = answered;
        let hidden = protect(&h, &nq, k, &area_hidden);
        per_question.push((dist, nq, hidden));
    }

    let results = areas
        .iter()
        .enumerate()
        .map(|(i, a)| AreaResult {
            code: a.code.clone(),
            name: a.name.clone(),
            parent: a.parent.clone(),
            figures: (!area_hidden[i]).then(|| {
                let figures = closed
                    .iter()
                    .zip(&per_question)
                    .map(|(q, (dist, nq, hidden))| {
                        if hidden[i] {
                            return QuestionFigures::Suppressed;
                        }
                        let summary = match &q.kind {
                            QuestionKind::Scale { min, .. } | QuestionKind::Number { min, .. } => {
                                ScaleSummary::from_counts(*min, &dist[i]).map(QuestionFigures::Scale)
                            }
                            _ => ChoiceSummary::from_counts_of(&dist[i], nq[i]).map(QuestionFigures::Choice),
                        };
                        summary.unwrap_or(QuestionFigures::Suppressed)
                    })
                    .collect();
                (n[i], figures)
            }),
        })
        .collect();
    SafeTable {
        slug: current.definition.slug.to_string(),
        version: current.version,
        min_cell: k,
        questions: closed
            .iter()
            .map(|q| QuestionMeta { id: q.id.to_string(), text: q.text.clone(), kind: q.kind.clone() })
            .collect(),
        areas: results,
        index,
    }
}

/// Whether results count a question: free text never; numbers only while
/// their range is small enough to keep a count per value.
fn counted(kind: &QuestionKind) -> bool {
    match kind {
        QuestionKind::Text { .. } | QuestionKind::Statement => false,
        QuestionKind::Number { min, max, .. } => max - min <= 100,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::area::Area;
    use crate::insight::disclosure::tests::derivable;

    fn published() -> Published {
        let def = crate::questionnaire::test_definition();
        Published { id: 1, version: 1, content_hash: def.content_hash(), definition: Arc::new(def) }
    }

    /// A gemeente with wijken and buurten, and per buurt how many answered
    /// (and how many of them also answered the optional question).
    fn arb_municipality() -> impl Strategy<Value = (AreaTree, Vec<(String, u64, u64)>)> {
        prop::collection::vec(prop::collection::vec((0u64..25, 0u64..25), 1..5), 1..6).prop_map(|wijken| {
            let gm = AreaCode::parse(Level::Gemeente, "GM0001").unwrap();
            let mut areas = vec![Area { code: gm.clone(), name: "G".into(), parent: None }];
            let mut counts = Vec::new();
            for (w, buurten) in wijken.iter().enumerate() {
                let wk = AreaCode::parse(Level::Wijk, &format!("WK0001{w:02}")).unwrap();
                areas.push(Area { code: wk.clone(), name: format!("W{w}"), parent: Some(gm.clone()) });
                for (b, (n, extra)) in buurten.iter().enumerate() {
                    let bu = AreaCode::parse(Level::Buurt, &format!("BU0001{w:02}{b:02}")).unwrap();
                    counts.push((bu.to_string(), *n, (*extra).min(*n)));
                    areas.push(Area { code: bu, name: format!("B{w}{b}"), parent: Some(wk.clone()) });
                }
            }
            (AreaTree::new(areas), counts)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// What the API returns at all three levels (and every page and chart,
        /// cut from the same table) never lets anyone compute the figures of
        /// fewer than k respondents, for the response counts and for every
        /// question.
        #[test]
        fn shown_figures_never_reveal_a_small_group((tree, per_buurt) in arb_municipality(), k in 3u64..12) {
            let p = published();
            let mut counts = Counts::default();
            for (buurt, n, extra) in &per_buurt {
                counts.responses.push((1, buurt.clone(), *n as i64));
                if *n > 0 {
                    counts.answers.push((1, "score".into(), buurt.clone(), String::new(), 7, *n as i64));
                }
                if *extra > 0 {
                    counts.answers.push((1, "extra".into(), buurt.clone(), String::new(), 3, *extra as i64));
                }
            }
            let table = build_table(&tree, &p, std::slice::from_ref(&p), &counts, k);
            let api: HashMap<Level, serde_json::Value> = [Level::Gemeente, Level::Wijk, Level::Buurt]
                .into_iter()
                .map(|l| (l, crate::web::results_json(&table, l)))
                .collect();

            let areas: Vec<&Area> = tree.all().collect();
            let index: HashMap<&str, usize> = areas.iter().enumerate().map(|(i, a)| (a.code.as_str(), i)).collect();
            let h = Hierarchy::new(areas.iter().map(|a| a.parent.as_ref().map(|p| index[p.as_str()])).collect());
            let leaf_n = |q: Option<usize>| -> Vec<u64> {
                areas.iter().map(|a| per_buurt.iter().find(|(b, _, _)| b == a.code.as_str()).map_or(0, |(_, n, e)| if q == Some(1) { *e } else { *n })).collect()
            };
            // Column None: response counts; Some(q): question q.
            for q in [None, Some(0), Some(1)] {
                let n = h.roll_up(&leaf_n(q));
                // What is hidden, read from the API's JSON at every level.
                let hidden: Vec<bool> = areas
                    .iter()
                    .map(|a| {
                        let json = &api[&a.level()];
                        let entry = json["areas"].as_array().unwrap().iter().find(|e| e["code"] == a.code.as_str()).unwrap();
                        if entry["suppressed"] == true {
                            assert!(entry.get("n").is_none() && entry.get("questions").is_none());
                            return true;
                        }
                        match q {
                            None => false,
                            Some(q) => entry["questions"][&table.questions[q].id]["suppressed"] == true,
                        }
                    })
                    .collect();
                for (i, a) in areas.iter().enumerate() {
                    if !hidden[i] {
                        prop_assert!(n[i] >= k, "{} shown with n={} (column {:?})", a.code, n[i], q);
                    }
                    if let (Some((shown_n, f)), Some(q)) = (&table.get(a.code.as_str()).unwrap().figures, q) {
                        prop_assert_eq!(*shown_n, h.roll_up(&leaf_n(None))[i]);
                        if let QuestionFigures::Scale(s) = &f[q] {
                            prop_assert_eq!(s.n, n[i]);
                        }
                    }
                }
                let hidden_leaves: Vec<usize> = (0..h.len()).filter(|&i| h.is_leaf(i) && hidden[i] && n[i] > 0).collect();
                for &l in &hidden_leaves {
                    if n[l] < k {
                        prop_assert!(!derivable(&h, &hidden, &[l]), "{} derivable (column {:?})", areas[l].code, q);
                    }
                }
                if hidden_leaves.len() <= 8 {
                    for mask in 1u32..(1 << hidden_leaves.len()) {
                        let set: Vec<usize> = hidden_leaves.iter().enumerate().filter(|(b, _)| mask & (1 << b) != 0).map(|(_, &l)| l).collect();
                        let mass: u64 = set.iter().map(|&l| n[l]).sum();
                        if mass < k {
                            prop_assert!(!derivable(&h, &hidden, &set), "group of {} derivable (column {:?})", mass, q);
                        }
                    }
                }
            }
        }
    }
}
