//! One safe table per questionnaire: every figure of every area, computed
//! once and suppressed once, from which every page, API answer and chart is
//! cut. Two outputs can therefore never be combined to reveal more than one.

use std::collections::HashMap;

use diesel::dsl::count_star;
use diesel::prelude::*;

use super::disclosure::{protect, Hierarchy};
use super::stats::{ChoiceSummary, ScaleSummary};
use crate::area::{AreaCode, AreaTree, Level};
use crate::db::schema::{answers, responses};
use crate::db::{AnyConnection, DbError};
use crate::questionnaire::{LocalText, Published, QuestionKind};

/// Raw counts as the database returns them.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// (version id, buurt, responses)
    pub responses: Vec<(i32, String, i64)>,
    /// (version id, question id, buurt, choice, value, answers)
    pub answers: Vec<(i32, String, String, String, i32, i64)>,
}

/// Counts per buurt for the given versions: two grouped scans of a covering
/// index, no row-by-row work.
pub fn fetch_counts(conn: &mut AnyConnection, version_ids: &[i32]) -> Result<Counts, DbError> {
    let responses = responses::table
        .filter(responses::questionnaire_version_id.eq_any(version_ids))
        .group_by((responses::questionnaire_version_id, responses::buurt))
        .select((responses::questionnaire_version_id, responses::buurt, count_star()))
        .load(conn)?;
    let answers = answers::table
        .filter(answers::questionnaire_version_id.eq_any(version_ids))
        .group_by((
            answers::questionnaire_version_id,
            answers::question_id,
            answers::buurt,
            answers::choice,
            answers::value,
        ))
        .select((
            answers::questionnaire_version_id,
            answers::question_id,
            answers::buurt,
            answers::choice,
            answers::value,
            count_star(),
        ))
        .load(conn)?;
    Ok(Counts { responses, answers })
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

    let closed: Vec<_> =
        current.definition.questions.iter().filter(|q| !matches!(q.kind, QuestionKind::Text { .. })).collect();
    let mut per_question = Vec::with_capacity(closed.len());
    for q in &closed {
        let compatible: Vec<i32> = versions
            .iter()
            .filter(|v| v.definition.question(q.id.as_str()).is_some_and(|o| o.kind.same_answer_space(&q.kind)))
            .map(|v| v.id)
            .collect();
        let width = match &q.kind {
            QuestionKind::Scale { min, max, .. } => (max - min + 1) as usize,
            QuestionKind::SingleChoice { options } => options.len(),
            QuestionKind::Text { .. } => 0,
        };
        let slot = |choice: &str, value: i32| match &q.kind {
            QuestionKind::Scale { min, max, .. } if (*min..=*max).contains(&value) => Some((value - min) as usize),
            QuestionKind::SingleChoice { options } => options.iter().position(|o| o.value == choice),
            _ => None,
        };
        let mut dist = vec![vec![0u64; width]; areas.len()];
        for (vid, qid, buurt, choice, value, c) in &counts.answers {
            if qid != q.id.as_str() || !compatible.contains(vid) {
                continue;
            }
            if let (Some(l), Some(s)) = (leaf(buurt), slot(choice, *value)) {
                let mut cur = Some(l);
                while let Some(a) = cur {
                    dist[a][s] += *c as u64;
                    cur = h.parent(a);
                }
            }
        }
        let nq: Vec<u64> = dist.iter().map(|d| d.iter().sum()).collect();
        let hidden = protect(&h, &nq, k, &area_hidden);
        per_question.push((dist, hidden));
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
                    .map(|(q, (dist, hidden))| {
                        if hidden[i] {
                            return QuestionFigures::Suppressed;
                        }
                        let summary = match &q.kind {
                            QuestionKind::Scale { min, .. } => {
                                ScaleSummary::from_counts(*min, &dist[i]).map(QuestionFigures::Scale)
                            }
                            _ => ChoiceSummary::from_counts(&dist[i]).map(QuestionFigures::Choice),
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
