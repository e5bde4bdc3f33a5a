//! One safe table per wave, and one over all responses, of every figure of
//! every area, computed and suppressed together, from which every page, API
//! answer and chart is cut. Two outputs can therefore never be combined to
//! reveal more than one.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text};
use sha2::{Digest, Sha256};

use super::disclosure::{protect_jointly, Hierarchy};
use super::perturbation::{AreaKey, AreaNoise, Figure, Parameters, PerturbationTable};
use super::stats::{ChoiceSummary, Noise, NumberSummary, Sample, ScaleSummary};
use super::weighted::{self, AreaWeighting, Group, WeightedFigures};
use super::weighting::{
    self, margins_for_area, weights_for_area, Margins, Placement, RakeSettings, RespondentCells, WeightingOutcome,
};
use crate::area::{AreaCode, AreaTree, Level};
use crate::db::schema::response_counts;
use crate::db::{AnyConnection, DbError};
use crate::questionnaire::{LocalText, Published, QuestionKind};
use crate::survey::{closed_rows, Submission, Wave};

/// One group of stored answer rows: a version's question in a buurt on a day
/// with one (choice, value).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    pub version: i32,
    pub question: String,
    pub buurt: String,
    pub choice: String,
    pub value: i32,
    pub day: NaiveDate,
}

/// Counts per respondent cell: one per cell (at [`weighting::Cell::index`])
/// and a last one for respondents not placed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ByCell([u64; weighting::Cell::COUNT + 1]);

impl ByCell {
    /// `n` of those not placed.
    pub fn unplaced(n: u64) -> ByCell {
        let mut c = ByCell::default();
        c.add(None, n);
        c
    }

    pub fn add(&mut self, cell: Option<weighting::Cell>, n: u64) {
        self.0[cell.map_or(weighting::Cell::COUNT, |c| c.index())] += n;
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    fn merge(&mut self, other: &ByCell) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine += theirs;
        }
    }

    /// The cells (None: not placed) with their counts, where not 0.
    pub fn iter(&self) -> impl Iterator<Item = (Option<weighting::Cell>, u64)> + '_ {
        self.0.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, n)| (weighting::Cell::from_index(i), *n))
    }
}

/// Raw counts of a questionnaire's versions, per buurt and day: read once
/// from the database, then kept current by adding each committed response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawCounts {
    /// Respondents per (version, buurt, day).
    pub responses: HashMap<(i32, String, NaiveDate), u64>,
    /// The sum of their record keys (the cell key method, docs/privacy.md).
    pub keys: HashMap<(i32, String, NaiveDate), u64>,
    /// Of them, those placed in a weighting cell, per cell; the rest are
    /// not placed (see docs/weighting.md).
    pub placed: HashMap<(i32, String, NaiveDate, weighting::Cell), u64>,
    /// Answers per key, by the respondents' cells.
    pub answers: HashMap<AnswerKey, ByCell>,
    /// How respondents are placed in cells; None when the questionnaire
    /// does not ask age band and gender (then nobody is).
    pub placement: Option<Placement>,
}

/// A row of [`counts_sql`]: the answers of a key, and of them those of
/// each respondent cell (`answers.cell`).
#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Integer)]
    version: i32,
    #[diesel(sql_type = Text)]
    question: String,
    #[diesel(sql_type = Text)]
    buurt: String,
    #[diesel(sql_type = Integer)]
    value: i32,
    #[diesel(sql_type = Text)]
    choice: String,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    c0: i64,
    #[diesel(sql_type = BigInt)]
    c1: i64,
    #[diesel(sql_type = BigInt)]
    c2: i64,
    #[diesel(sql_type = BigInt)]
    c3: i64,
    #[diesel(sql_type = BigInt)]
    c4: i64,
    #[diesel(sql_type = BigInt)]
    c5: i64,
    #[diesel(sql_type = BigInt)]
    c6: i64,
    #[diesel(sql_type = BigInt)]
    c7: i64,
}

const _: () = assert!(weighting::Cell::COUNT == 8, "CountRow has a column per cell");

impl CountRow {
    fn by_cell(&self) -> ByCell {
        let per_cell = [self.c0, self.c1, self.c2, self.c3, self.c4, self.c5, self.c6, self.c7];
        let mut c = ByCell::default();
        for (i, n) in per_cell.iter().enumerate() {
            c.add(weighting::Cell::from_index(i), *n as u64);
        }
        c.add(None, (self.n - per_cell.iter().sum::<i64>()).max(0) as u64);
        c
    }
}

/// The grouped scan of some versions' answers, in the table's key order
/// (the database groups while it scans, no sort, no join), with a count
/// per respondent cell beside the total — or zeros when no version places
/// anyone (counting per cell costs about as much again as the scan).
/// `ids` are integers, not input.
fn counts_sql(ids: &[i32], cells: bool) -> String {
    let versions: Vec<String> = ids.iter().map(i32::to_string).collect();
    let per_cell: String = (0..weighting::Cell::COUNT)
        .map(|i| match cells {
            true => format!(", COUNT(CASE WHEN cell = {i} THEN 1 END) AS c{i}"),
            false => format!(", CAST(0 AS BIGINT) AS c{i}"),
        })
        .collect();
    format!(
        "SELECT questionnaire_version_id AS version, question_id AS question, buurt, value, choice, \
         submitted_on AS day, COUNT(*) AS n{per_cell} FROM answers WHERE questionnaire_version_id IN ({}) \
         GROUP BY questionnaire_version_id, question_id, buurt, value, choice, submitted_on",
        versions.join(",")
    )
}

impl RawCounts {
    /// One grouped scan of the versions' answers, per respondent cell as
    /// stored with each answer, and the kept respondent counts. `placement`
    /// is the current version's: whether figures can be weighted at all.
    pub fn fetch(
        conn: &mut AnyConnection,
        versions: &[Published],
        placement: Option<Placement>,
    ) -> Result<RawCounts, DbError> {
        let ids: Vec<i32> = versions.iter().map(|v| v.id).collect();
        let responses: Vec<(i32, String, NaiveDate, i64, i64)> = response_counts::table
            .filter(response_counts::questionnaire_version_id.eq_any(&ids))
            .select((
                response_counts::questionnaire_version_id,
                response_counts::buurt,
                response_counts::submitted_on,
                response_counts::n,
                response_counts::key_sum,
            ))
            .load(conn)?;
        let mut raw = RawCounts { placement, ..RawCounts::default() };
        for (version, buurt, day, n, keys) in responses {
            *raw.keys.entry((version, buurt.clone(), day)).or_default() += keys as u64;
            *raw.responses.entry((version, buurt, day)).or_default() += n as u64;
        }
        if ids.is_empty() {
            return Ok(raw);
        }
        // A placed respondent answered their version's age band question
        // once: its rows count the placed respondents per cell.
        let age_question: HashMap<i32, String> = versions
            .iter()
            .filter_map(|v| Some((v.id, Placement::of(&v.definition)?.questions().0.to_owned())))
            .collect();
        let sql = counts_sql(&ids, !age_question.is_empty());
        let rows: Vec<CountRow> = match conn {
            AnyConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
            // The cell is not in the key's index, so PostgreSQL reads the
            // table; with the default 4 MB it sorts on disk (4× slower
            // than hashing the groups in memory, BENCHMARKS.md).
            AnyConnection::Postgresql(c) => c.transaction(|c| {
                diesel::sql_query("SET LOCAL work_mem = '64MB'").execute(c)?;
                diesel::sql_query(sql).load(c)
            })?,
        };
        for row in rows {
            let by_cell = row.by_cell();
            if age_question.get(&row.version) == Some(&row.question) {
                for (cell, n) in by_cell.iter() {
                    if let Some(cell) = cell {
                        *raw.placed.entry((row.version, row.buurt.clone(), row.day, cell)).or_default() += n;
                    }
                }
            }
            let key = AnswerKey {
                version: row.version,
                question: row.question,
                buurt: row.buurt,
                choice: row.choice,
                value: row.value,
                day: row.day,
            };
            raw.answers.entry(key).or_default().merge(&by_cell);
        }
        Ok(raw)
    }

    /// Counts a committed response, exactly as storing it added rows.
    pub fn add(&mut self, s: &Submission, day: NaiveDate) {
        *self.responses.entry((s.version_id, s.buurt.to_string(), day)).or_default() += 1;
        *self.keys.entry((s.version_id, s.buurt.to_string(), day)).or_default() += s.record_key as u64;
        let cell = s.cell;
        if let Some(c) = cell {
            *self.placed.entry((s.version_id, s.buurt.to_string(), day, c)).or_default() += 1;
        }
        for (qid, answer) in s.answers.iter() {
            for (choice, value) in closed_rows(answer) {
                let key = AnswerKey {
                    version: s.version_id,
                    question: qid.to_string(),
                    buurt: s.buurt.to_string(),
                    choice,
                    value,
                    day,
                };
                self.answers.entry(key).or_default().add(cell, 1);
            }
        }
    }

    pub fn respondents(&self) -> u64 {
        self.responses.values().sum()
    }
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
    /// Nobody answered here, fewer than k did, or showing it would reveal a
    /// cell that did.
    Suppressed,
    Scale(ScaleSummary),
    Number(NumberSummary),
    /// Single and multiple choice, yes/no, consent.
    Choice(ChoiceSummary),
}

#[derive(Debug, Clone)]
pub struct AreaResult {
    pub code: AreaCode,
    pub name: String,
    pub parent: Option<AreaCode>,
    /// None when the area is suppressed: then nothing about it is shown.
    pub figures: Option<(u64, Vec<QuestionFigures>)>,
    /// The weighted figures beside them, or why there are none; None
    /// exactly when `figures` is. Read through [`SafeTable::weighted`].
    pub weighting: Option<AreaWeighting>,
}

/// The figures of one wave (or of all responses) at every level.
#[derive(Debug, Clone)]
pub struct SafeTable {
    pub slug: String,
    pub version: i32,
    pub min_cell: u64,
    /// None: every response, whatever its wave.
    pub wave: Option<Wave>,
    pub questions: Vec<QuestionMeta>,
    /// When the set this table belongs to was released.
    pub released_at: DateTime<Utc>,
    /// How its figures were perturbed, for the method notes.
    pub perturbation: Parameters,
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

    /// The weighted figures of one question in one area: only where its
    /// unweighted figures are shown.
    pub fn weighted(&self, code: &str, question: usize) -> Option<&WeightedFigures> {
        self.figures(code, question)?;
        self.get(code)?.weighting.as_ref()?.question(question)
    }

    /// The figures of one question in one area, when shown.
    pub fn figures(&self, code: &str, question: usize) -> Option<&QuestionFigures> {
        let (_, figures) = self.get(code)?.figures.as_ref()?;
        figures.get(question).filter(|f| !matches!(f, QuestionFigures::Suppressed))
    }
}

/// Every table of a questionnaire, suppressed together: per wave, and over
/// all responses ("alle metingen").
#[derive(Debug)]
pub struct ResultSet {
    pub all: SafeTable,
    /// Oldest first, as the waves are listed.
    pub waves: Vec<SafeTable>,
    /// When these figures were released: built, they are what every public
    /// output shows until the next release.
    pub released_at: DateTime<Utc>,
    outputs: Mutex<HashMap<String, Arc<Output>>>,
}

/// A rendered output of a set (a JSON body) and a tag of its content.
#[derive(Debug)]
pub struct Output {
    pub body: String,
    /// The first 128 bits of its SHA-256, in hex.
    pub tag: String,
}

impl ResultSet {
    /// An output cut from this set, rendered once: a set never changes, so
    /// neither do its outputs, and they go when the set is replaced.
    pub fn output(&self, key: &str, render: impl FnOnce() -> String) -> Arc<Output> {
        if let Some(o) = self.outputs.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
            return o.clone();
        }
        let body = render();
        let tag = hex::encode(&Sha256::digest(body.as_bytes())[..16]);
        let output = Arc::new(Output { body, tag });
        self.outputs.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_owned(), output.clone());
        output
    }

    /// The table of one wave, or of all responses.
    pub fn table(&self, wave: Option<i32>) -> Option<&SafeTable> {
        match wave {
            None => Some(&self.all),
            Some(id) => self.waves.iter().find(|t| t.wave.as_ref().is_some_and(|w| w.id == id)),
        }
    }

    /// The wave before the given one, for the change between them.
    pub fn previous(&self, wave: i32) -> Option<&SafeTable> {
        let i = self.waves.iter().position(|t| t.wave.as_ref().is_some_and(|w| w.id == wave))?;
        i.checked_sub(1).map(|p| &self.waves[p])
    }
}

/// Answers of one question in one area and column, as counted.
#[derive(Debug, Clone, Default)]
struct Cell {
    answered: u64,
    /// Scales and numbers: count per value.
    values: BTreeMap<i32, u64>,
    /// Choices: count per option, in the definition's order.
    chosen: Vec<u64>,
    /// The same counts per respondent cell (None: not placed), for the
    /// weighted estimates; empty when the questionnaire places nobody.
    groups: BTreeMap<Option<weighting::Cell>, Cell>,
}

impl Cell {
    fn add(&mut self, other: &Cell) {
        self.answered += other.answered;
        for (v, c) in &other.values {
            *self.values.entry(*v).or_default() += c;
        }
        if self.chosen.len() < other.chosen.len() {
            self.chosen.resize(other.chosen.len(), 0);
        }
        for (s, o) in self.chosen.iter_mut().zip(&other.chosen) {
            *s += o;
        }
        for (g, c) in &other.groups {
            self.groups.entry(*g).or_insert_with(|| Cell { chosen: vec![0; c.chosen.len()], ..Cell::default() }).add(c);
        }
    }

    /// Counts `c` answers of one stored (choice, value) to a question of
    /// `kind` whose options are `values`.
    fn count(&mut self, kind: &QuestionKind, values: &[&str], choice: &str, value: i32, c: u64) {
        match kind {
            QuestionKind::Scale { min, max, .. } | QuestionKind::Number { min, max, .. } => {
                if (*min..=*max).contains(&value) {
                    *self.values.entry(value).or_default() += c;
                    self.answered += c;
                }
            }
            QuestionKind::MultipleChoice { .. } if choice.is_empty() => self.answered += c,
            kind => {
                if let Some(s) = values.iter().position(|v| *v == choice) {
                    self.chosen[s] += c;
                    if !matches!(kind, QuestionKind::MultipleChoice { .. }) {
                        self.answered += c;
                    }
                }
            }
        }
    }

    /// The estimates, from perturbed counts (docs/privacy.md): every
    /// value's and option's count through the perturbation table, the mean
    /// shifted by noise scaled to a quarter of the question's range per
    /// respondent (magnitude perturbation); medians, quartiles, shares and
    /// distributions follow from the perturbed counts alone. Weighted
    /// figures come from [`Cell::weighted`].
    fn summarise(&self, kind: &QuestionKind, question: &str, noise: AreaNoise) -> QuestionFigures {
        let perturbed = |values: &mut dyn Iterator<Item = i32>| -> Vec<(f64, f64)> {
            values
                .map(|v| {
                    let c = self.values.get(&v).copied().unwrap_or(0);
                    (f64::from(v), noise.count(Figure::Value, question, i64::from(v), c) as f64)
                })
                .collect()
        };
        let summary = match kind {
            QuestionKind::Scale { min, max, .. } => {
                let mass = perturbed(&mut (*min..=*max));
                let n = mass.iter().map(|(_, c)| *c).sum::<f64>() as u64;
                let sample =
                    Sample { n, n_eff: n as f64, noise: self.noise(*min, *max, &mass, question, noise), mass: &mass };
                ScaleSummary::estimate(&sample, *min, mass.len()).map(QuestionFigures::Scale)
            }
            QuestionKind::Number { min, max, .. } => {
                let mass: Vec<(f64, f64)> =
                    perturbed(&mut self.values.keys().copied()).into_iter().filter(|(_, c)| *c > 0.0).collect();
                let n = mass.iter().map(|(_, c)| *c).sum::<f64>() as u64;
                let sample =
                    Sample { n, n_eff: n as f64, noise: self.noise(*min, *max, &mass, question, noise), mass: &mass };
                NumberSummary::estimate(&sample).map(QuestionFigures::Number)
            }
            kind => {
                let chosen: Vec<f64> = self
                    .chosen
                    .iter()
                    .enumerate()
                    .map(|(o, &c)| noise.count(Figure::Option, question, o as i64, c) as f64)
                    .collect();
                // A multiple choice's answerers are a count of their own;
                // otherwise they are the options' sum.
                let answered = match kind {
                    QuestionKind::MultipleChoice { .. } => {
                        noise.count(Figure::Answered, question, 0, self.answered) as f64
                    }
                    _ => chosen.iter().sum(),
                };
                let n = answered as u64;
                ChoiceSummary::with_noise(&chosen, n, answered, answered, noise.variance()).map(QuestionFigures::Choice)
            }
        };
        summary.unwrap_or(QuestionFigures::Suppressed)
    }

    /// The published mean of a scale or number on `min..=max` and what the
    /// perturbation adds to its variance; None without noise.
    fn noise(&self, min: i32, max: i32, mass: &[(f64, f64)], question: &str, noise: AreaNoise) -> Option<Noise> {
        if noise.is_exact() || self.answered == 0 {
            return None;
        }
        let n = self.answered as f64;
        let mean = self.values.iter().map(|(v, c)| f64::from(*v) * *c as f64).sum::<f64>() / n;
        let unit = f64::from(max - min) / 4.0;
        let published = mass.iter().map(|(_, c)| *c).sum::<f64>().max(1.0);
        Some(Noise {
            mean: (mean + noise.shift(Figure::Mean, question) * unit / n).clamp(f64::from(min), f64::from(max)),
            mean_var: noise.variance() * (unit / published).powi(2),
            count_var: noise.variance(),
        })
    }

    /// The weighted estimates with the area's weights per respondent cell.
    /// None when nobody answered, or when an answer's cell was not part of
    /// the area's weighting (the counts would not belong together): no
    /// figure rather than a wrong one. None too when fewer than `k` of those
    /// who answered share a weight: weighted beside unweighted figures
    /// contrast the respondents of each weight, like a breakdown, so every
    /// such class must pass the threshold (those not placed, weight 1,
    /// included).
    fn weighted(
        &self,
        kind: &QuestionKind,
        outcome: &WeightingOutcome,
        k: u64,
        question: &str,
        noise: AreaNoise,
    ) -> Option<WeightedFigures> {
        let groups: Vec<Group> = self
            .groups
            .iter()
            .map(|(cell, c)| {
                let weight = outcome.weight(cell.as_ref()).ok()?;
                Some(Group { weight, answered: c.answered, values: &c.values, chosen: &c.chosen })
            })
            .collect::<Option<_>>()?;
        let mut classes: HashMap<u64, u64> = HashMap::new();
        for g in &groups {
            *classes.entry(g.weight.to_bits()).or_default() += g.answered;
        }
        if classes.values().any(|&n| n > 0 && n < k) {
            return None;
        }
        weighted::estimate(kind, &groups, question, noise)
    }
}

/// Builds every table of a questionnaire's current version from its raw
/// counts, counting answers of earlier versions where the question kept its
/// id and its possible answers. `waves` are the questionnaire's waves; a
/// response belongs to the wave that covers its day and buurt. Every
/// figure is perturbed with `perturbation` (docs/privacy.md).
#[allow(clippy::too_many_arguments)]
pub fn build_set(
    tree: &AreaTree,
    current: &Published,
    versions: &[Published],
    raw: &RawCounts,
    waves: &[Wave],
    k: u64,
    margins: &BTreeMap<String, Margins>,
    perturbation: &PerturbationTable,
) -> ResultSet {
    let areas: Vec<_> = tree.all().collect();
    let index: HashMap<String, usize> = areas.iter().enumerate().map(|(i, a)| (a.code.to_string(), i)).collect();
    let h =
        Hierarchy::new(areas.iter().map(|a| a.parent.as_ref().and_then(|p| index.get(p.as_str()).copied())).collect());
    let leaf = |buurt: &str| index.get(buurt).copied().filter(|&i| h.is_leaf(i));
    // Columns: the waves, then the responses outside any wave.
    let columns = waves.len() + 1;
    let column = |buurt: &str, day: NaiveDate| waves.iter().position(|w| w.covers(day, buurt)).unwrap_or(waves.len());

    let mut leaf_responses = vec![vec![0u64; areas.len()]; columns];
    for ((_, buurt, day), c) in &raw.responses {
        if let Some(i) = leaf(buurt) {
            leaf_responses[column(buurt, *day)][i] += c;
        }
    }
    let responses: Vec<Vec<u64>> = leaf_responses.iter().map(|l| h.roll_up(l)).collect();
    // Each area's key per column: its respondents' record keys, summed.
    let mut leaf_keys = vec![vec![0u64; areas.len()]; columns];
    for ((_, buurt, day), key) in &raw.keys {
        if let Some(i) = leaf(buurt) {
            leaf_keys[column(buurt, *day)][i] = leaf_keys[column(buurt, *day)][i].wrapping_add(*key);
        }
    }
    let keys: Vec<Vec<u64>> = leaf_keys.iter().map(|l| h.roll_up(l)).collect();
    let area_hidden = protect_jointly(&h, &responses, k, &vec![false; areas.len()]);

    let closed: Vec<_> = current.definition.questions().filter(|q| counted(&q.kind)).collect();
    let position: HashMap<&str, usize> = closed.iter().enumerate().map(|(i, q)| (q.id.as_str(), i)).collect();
    let compatible: Vec<Vec<i32>> = closed
        .iter()
        .map(|q| {
            versions
                .iter()
                .filter(|v| v.definition.question(q.id.as_str()).is_some_and(|o| o.kind.same_answer_space(&q.kind)))
                .map(|v| v.id)
                .collect()
        })
        .collect();
    let values: Vec<Vec<&str>> = closed.iter().map(|q| q.kind.choice_values()).collect();
    let empty: Vec<Cell> = values.iter().map(|v| Cell { chosen: vec![0; v.len()], ..Cell::default() }).collect();
    // cells[column][area][question], leaves first, then rolled up.
    let mut cells = vec![vec![empty.clone(); areas.len()]; columns];
    for (key, c) in &raw.answers {
        let Some(&qi) = position.get(key.question.as_str()) else { continue };
        let Some(l) = leaf(&key.buurt) else { continue };
        if !compatible[qi].contains(&key.version) {
            continue;
        }
        let cell = &mut cells[column(&key.buurt, key.day)][l][qi];
        let kind = &closed[qi].kind;
        cell.count(kind, &values[qi], &key.choice, key.value, c.total());
        if raw.placement.is_some() {
            for (group, n) in c.iter() {
                let empty = || Cell { chosen: vec![0; values[qi].len()], ..Cell::default() };
                cell.groups.entry(group).or_insert_with(empty).count(kind, &values[qi], &key.choice, key.value, n);
            }
        }
    }
    for column in cells.iter_mut() {
        for l in (0..areas.len()).filter(|&l| h.is_leaf(l)) {
            let leaf_cells = column[l].clone();
            let mut up = h.parent(l);
            while let Some(a) = up {
                for (total, cell) in column[a].iter_mut().zip(&leaf_cells) {
                    total.add(cell);
                }
                up = h.parent(a);
            }
        }
    }
    let question_hidden: Vec<Vec<bool>> = (0..closed.len())
        .map(|qi| {
            let answered: Vec<Vec<u64>> =
                cells.iter().map(|column| column.iter().map(|area| area[qi].answered).collect()).collect();
            protect_jointly(&h, &answered, k, &area_hidden)
        })
        .collect();

    // Respondents per area and column by weighting cell, rolled up like
    // the answers; the rest are not placed.
    let mut placed = vec![vec![RespondentCells::default(); areas.len()]; columns];
    for ((_, buurt, day, cell), c) in &raw.placed {
        let Some(l) = leaf(buurt) else { continue };
        let column = &mut placed[column(buurt, *day)];
        let mut up = Some(l);
        while let Some(a) = up {
            *column[a].cells.entry(*cell).or_default() += c;
            up = h.parent(a);
        }
    }
    for (column, n) in placed.iter_mut().zip(&responses) {
        for (area, n) in column.iter_mut().zip(n) {
            area.unclassified = n.saturating_sub(area.classified());
        }
    }
    let mut total_placed = vec![RespondentCells::default(); areas.len()];
    for column in &placed {
        for (total, area) in total_placed.iter_mut().zip(column) {
            total.add(area);
        }
    }
    let area_margins: Vec<Option<Margins>> =
        areas.iter().map(|a| margins_for_area(tree, a.code.as_str(), margins)).collect();
    // Each weighting category (an age band, a gender) holds at least k
    // respondents, merged with a neighbour otherwise: weighted beside
    // unweighted figures contrast groups, and no group under k may stand
    // out that way (one 15–24-year-old weighted ×4 would show their answer).
    let settings = RakeSettings::default().with_min_category_respondents(k);

    let questions: Vec<QuestionMeta> = closed
        .iter()
        .map(|q| QuestionMeta { id: q.id.to_string(), text: q.text.clone(), kind: q.kind.clone() })
        .collect();
    // Weighted figures only beside shown unweighted ones, question by question.
    let weigh =
        |i: usize, cells: &[Vec<Cell>], respondents: &[RespondentCells], noise: AreaNoise| match weights_for_area(
            area_margins[i].as_ref(),
            &respondents[i],
            &settings,
        ) {
            WeightingOutcome::Unweighted { reason, .. } => AreaWeighting::Unweighted(reason),
            outcome => AreaWeighting::Weighted(
                closed
                    .iter()
                    .enumerate()
                    .map(|(qi, q)| {
                        (!question_hidden[qi][i])
                            .then(|| cells[i][qi].weighted(&q.kind, &outcome, k, q.id.as_str(), noise))
                            .flatten()
                    })
                    .collect(),
            ),
        };
    let released_at = Utc::now();
    let table = |wave: Option<&Wave>, n: &[u64], keys: &[u64], cells: &[Vec<Cell>], respondents: &[RespondentCells]| {
        SafeTable {
            slug: current.definition.slug.to_string(),
            version: current.version,
            min_cell: k,
            wave: wave.cloned(),
            questions: questions.clone(),
            released_at,
            perturbation: perturbation.parameters(),
            areas: areas
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let noise = AreaNoise { table: perturbation, key: AreaKey(keys[i]) };
                    AreaResult {
                        code: a.code.clone(),
                        name: a.name.clone(),
                        parent: a.parent.clone(),
                        // An area nobody answered in shows nothing either.
                        figures: (!area_hidden[i] && n[i] > 0).then(|| {
                            let figures = closed
                                .iter()
                                .enumerate()
                                .map(|(qi, q)| {
                                    if question_hidden[qi][i] {
                                        QuestionFigures::Suppressed
                                    } else {
                                        cells[i][qi].summarise(&q.kind, q.id.as_str(), noise)
                                    }
                                })
                                .collect();
                            (noise.count(Figure::Respondents, "", 0, n[i]), figures)
                        }),
                        weighting: (!area_hidden[i] && n[i] > 0).then(|| weigh(i, cells, respondents, noise)),
                    }
                })
                .collect(),
            index: index.clone(),
        }
    };
    let mut total_cells = vec![empty; areas.len()];
    for column in &cells {
        for (total, area) in total_cells.iter_mut().zip(column) {
            for (t, c) in total.iter_mut().zip(area) {
                t.add(c);
            }
        }
    }
    let total_n: Vec<u64> = (0..areas.len()).map(|i| responses.iter().map(|c| c[i]).sum()).collect();
    let total_keys: Vec<u64> =
        (0..areas.len()).map(|i| keys.iter().fold(0u64, |sum, c| sum.wrapping_add(c[i]))).collect();
    ResultSet {
        all: table(None, &total_n, &total_keys, &total_cells, &total_placed),
        waves: waves
            .iter()
            .enumerate()
            .map(|(w, wave)| table(Some(wave), &responses[w], &keys[w], &cells[w], &placed[w]))
            .collect(),
        released_at,
        outputs: Mutex::default(),
    }
}

/// Whether results count a question: free text never.
fn counted(kind: &QuestionKind) -> bool {
    !matches!(kind, QuestionKind::Text { .. } | QuestionKind::Statement)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::area::Area;
    use crate::insight::compare::QuestionChange;
    use crate::insight::disclosure::tests::rank;
    use crate::insight::weighted::WeightedEstimates;

    fn published() -> Published {
        let def = crate::questionnaire::test_definition();
        Published { id: 1, version: 1, content_hash: def.content_hash(), definition: Arc::new(def) }
    }

    fn day(month: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, month, 10).unwrap()
    }

    /// Two waves (January and March, all buurten) and responses in February,
    /// outside any wave: three columns of the same population.
    fn waves() -> Vec<Wave> {
        [(1, 1), (2, 3)]
            .into_iter()
            .map(|(id, month)| Wave {
                id,
                slug: "t".into(),
                name: format!("meting {id}"),
                opens_on: NaiveDate::from_ymd_opt(2026, month, 1).unwrap(),
                closes_on: NaiveDate::from_ymd_opt(2026, month, 28),
                stopped: false,
                buurten: Default::default(),
                invitation_only: false,
            })
            .collect()
    }
    const MONTHS: [u32; 3] = [1, 3, 2];

    /// A gemeente with wijken and buurten; per buurt and column how many
    /// answered (and how many of them the optional question).
    type Municipality = (AreaTree, Vec<(String, [(u64, u64); 3])>);

    fn arb_municipality() -> impl Strategy<Value = Municipality> {
        let cell = (0u64..20, 0u64..20);
        prop::collection::vec(prop::collection::vec([cell.clone(), cell.clone(), cell], 1..4), 1..4).prop_map(
            |wijken| {
                let gm = AreaCode::parse(Level::Gemeente, "GM0001").unwrap();
                let mut areas = vec![Area { code: gm.clone(), name: "G".into(), parent: None }];
                let mut counts = Vec::new();
                for (w, buurten) in wijken.iter().enumerate() {
                    let wk = AreaCode::parse(Level::Wijk, &format!("WK0001{w:02}")).unwrap();
                    areas.push(Area { code: wk.clone(), name: format!("W{w}"), parent: Some(gm.clone()) });
                    for (b, columns) in buurten.iter().enumerate() {
                        let bu = AreaCode::parse(Level::Buurt, &format!("BU0001{w:02}{b:02}")).unwrap();
                        counts.push((bu.to_string(), columns.map(|(n, extra)| (n, extra.min(n)))));
                        areas.push(Area { code: bu, name: format!("B{w}{b}"), parent: Some(wk.clone()) });
                    }
                }
                (AreaTree::new(areas), counts)
            },
        )
    }

    fn raw(per_buurt: &[(String, [(u64, u64); 3])]) -> RawCounts {
        let mut raw = RawCounts::default();
        for (buurt, columns) in per_buurt {
            for (c, (n, extra)) in columns.iter().enumerate() {
                let d = day(MONTHS[c]);
                let key = |question: &str, value| AnswerKey {
                    version: 1,
                    question: question.into(),
                    buurt: buurt.clone(),
                    choice: String::new(),
                    value,
                    day: d,
                };
                if *n > 0 {
                    raw.responses.insert((1, buurt.clone(), d), *n);
                    raw.answers.insert(key("score", 7), ByCell::unplaced(*n));
                }
                if *extra > 0 {
                    raw.answers.insert(key("extra", 3), ByCell::unplaced(*extra));
                }
            }
        }
        raw
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]

        /// Everything published — the API's JSON of every table (two waves
        /// and "alle metingen") at every level, from which pages, charts and
        /// comparisons are cut — never lets anyone compute the figures of a
        /// group of fewer than k respondents, by subtraction within the area
        /// hierarchy, between waves, or from the total over waves, for the
        /// response counts and for every question.
        #[test]
        fn shown_figures_never_reveal_a_small_group((tree, per_buurt) in arb_municipality(), k in 3u64..12) {
            let p = published();
            let set = build_set(&tree, &p, std::slice::from_ref(&p), &raw(&per_buurt), &waves(), k, &BTreeMap::new(), &crate::insight::perturbation::PerturbationTable::exact());
            let areas: Vec<&Area> = tree.all().collect();
            let buurten: Vec<&str> = per_buurt.iter().map(|(b, _)| b.as_str()).collect();
            // Variables: (buurt, column); what a table shows of an area is a
            // sum of them: its buurten, in the table's columns.
            let variable = |b: usize, c: usize| b * 3 + c;
            let tables: Vec<(&SafeTable, Vec<usize>)> =
                vec![(&set.all, vec![0, 1, 2]), (&set.waves[0], vec![0]), (&set.waves[1], vec![1])];
            let under = |area: &AreaCode, buurt: &str| {
                let mut cur = tree.get(buurt).map(|a| a.code.clone());
                while let Some(c) = cur {
                    if &c == area {
                        return true;
                    }
                    cur = tree.get(c.as_str()).and_then(|a| a.parent.clone());
                }
                false
            };
            // Column None: respondents; Some(q): those who answered question q.
            for q in [None, Some(0usize), Some(1)] {
                let value = |b: usize, c: usize| {
                    let (n, extra) = per_buurt[b].1[c];
                    if q == Some(1) { extra } else { n }
                };
                let mut rows: Vec<Vec<f64>> = Vec::new();
                for (table, columns) in &tables {
                    for level in [Level::Gemeente, Level::Wijk, Level::Buurt] {
                        let json = crate::web::results_json(table, level);
                        for entry in json["areas"].as_array().unwrap() {
                            let shown = entry["suppressed"] == false
                                && q.is_none_or(|q| entry["questions"][&table.questions[q].id]["suppressed"] != true);
                            if entry["suppressed"] == true {
                                prop_assert!(entry.get("n").is_none() && entry.get("questions").is_none() && entry.get("weighting").is_none());
                            }
                            if !shown {
                                continue;
                            }
                            let code = AreaCode::parse(level, entry["code"].as_str().unwrap()).unwrap();
                            let mut row = vec![0.0; buurten.len() * 3];
                            let mut total = 0;
                            for (b, buurt) in buurten.iter().enumerate() {
                                if under(&code, buurt) {
                                    for &c in columns {
                                        row[variable(b, c)] = 1.0;
                                        total += value(b, c);
                                    }
                                }
                            }
                            prop_assert!(total >= k, "{} shown with n={} (column {:?})", code, total, q);
                            let shown_n = match q {
                                None => entry["n"].as_u64(),
                                Some(q) => entry["questions"][&table.questions[q].id]["n"].as_u64(),
                            };
                            prop_assert_eq!(shown_n, Some(total));
                            rows.push(row);
                        }
                    }
                }
                let base = rank(&rows);
                let small: Vec<(usize, u64)> = (0..buurten.len())
                    .flat_map(|b| (0..3).map(move |c| (b, c)))
                    .map(|(b, c)| (variable(b, c), value(b, c)))
                    .filter(|&(_, n)| n > 0 && n < k)
                    .collect();
                let derivable = |set: &[usize]| {
                    let mut with = rows.clone();
                    let mut target = vec![0.0; buurten.len() * 3];
                    for &v in set {
                        target[v] = 1.0;
                    }
                    with.push(target);
                    rank(&with) == base
                };
                if small.len() <= 10 {
                    for mask in 1u32..(1 << small.len()) {
                        let group: Vec<usize> = small.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, &(v, _))| v).collect();
                        let mass: u64 = small.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, &(_, n))| n).sum();
                        if mass < k {
                            prop_assert!(!derivable(&group), "group {:?} of {} derivable (column {:?})", group, mass, q);
                        }
                    }
                } else {
                    for &(v, _) in &small {
                        prop_assert!(!derivable(&[v]), "cell {} derivable (column {:?})", v, q);
                    }
                }
            }
            let _ = &areas;
        }
    }

    /// Gemeente GM0001 with one wijk WK000100 holding the given buurten
    /// (code, name).
    fn one_wijk(buurten: &[(&str, &str)]) -> AreaTree {
        let code = |level, c: &str| AreaCode::parse(level, c).unwrap();
        let mut areas = vec![
            Area { code: code(Level::Gemeente, "GM0001"), name: "G".into(), parent: None },
            Area {
                code: code(Level::Wijk, "WK000100"),
                name: "W".into(),
                parent: Some(code(Level::Gemeente, "GM0001")),
            },
        ];
        areas.extend(buurten.iter().map(|(c, name)| Area {
            code: code(Level::Buurt, c),
            name: (*name).into(),
            parent: Some(code(Level::Wijk, "WK000100")),
        }));
        AreaTree::new(areas)
    }

    #[test]
    fn a_cell_hidden_in_one_wave_is_hidden_in_the_total_too() {
        // Buurt A: 3 in wave 1, 30 in wave 2; buurt B: 40 and 40. Without
        // joint suppression "alle metingen" A (33) − wave 2 A (30) = 3.
        let tree = one_wijk(&[("BU00010000", "A"), ("BU00010001", "B")]);
        let counts = vec![
            ("BU00010000".to_string(), [(3, 0), (30, 0), (0, 0)]),
            ("BU00010001".to_string(), [(40, 0), (40, 0), (0, 0)]),
        ];
        let p = published();
        let set = build_set(
            &tree,
            &p,
            std::slice::from_ref(&p),
            &raw(&counts),
            &waves(),
            10,
            &BTreeMap::new(),
            &crate::insight::perturbation::PerturbationTable::exact(),
        );
        for table in [&set.all, &set.waves[0], &set.waves[1]] {
            assert!(table.get("BU00010000").unwrap().figures.is_none());
            // …and so is B, or the wijk minus B would give A.
            assert!(table.get("BU00010001").unwrap().figures.is_none());
        }
        assert_eq!(set.all.get("WK000100").unwrap().figures.as_ref().unwrap().0, 113);
        assert_eq!(set.waves[0].get("WK000100").unwrap().figures.as_ref().unwrap().0, 43);
    }

    /// The shipped geluk questionnaire (it asks age band and gender).
    fn geluk() -> Published {
        let src = include_str!("../../questionnaires/geluk.toml");
        let def = crate::questionnaire::parse_toml("geluk.toml", src).unwrap();
        Published { id: 1, version: 1, content_hash: def.content_hash(), definition: Arc::new(def) }
    }

    /// Counts, as committed one by one: `n` geluk responses in a buurt
    /// with an age band and a gender (None: not given) and a score.
    fn respond(raw: &mut RawCounts, p: &Published, buurt: &str, cell: Option<(&str, &str)>, score: i64, n: usize) {
        respond_on(raw, p, buurt, cell, score, n, 1);
    }

    fn respond_on(
        raw: &mut RawCounts,
        p: &Published,
        buurt: &str,
        cell: Option<(&str, &str)>,
        score: i64,
        n: usize,
        month: u32,
    ) {
        let mut given: BTreeMap<String, crate::questionnaire::RawAnswer> = [
            ("tevredenheid_leven".to_string(), crate::questionnaire::RawAnswer::Number(score as f64)),
            ("geluk".to_string(), crate::questionnaire::RawAnswer::Number(7.0)),
        ]
        .into();
        if let Some((age, gender)) = cell {
            given.insert("leeftijd".into(), crate::questionnaire::RawAnswer::Text(age.into()));
            given.insert("geslacht".into(), crate::questionnaire::RawAnswer::Text(gender.into()));
        }
        let answers = p.definition.check_answers(&given).unwrap();
        let buurt = AreaCode::parse(Level::Buurt, buurt).unwrap();
        for _ in 0..n {
            raw.add(&Submission::new(p, buurt.clone(), answers.clone()), day(month));
        }
    }

    fn long_margins(cells: [[u64; 2]; 4]) -> Margins {
        let mut m = Margins::new();
        for (band, pair) in weighting::Variable::AgeBand.categories().iter().zip(cells) {
            m.set(weighting::Variable::AgeBand.category(band).unwrap(), pair[0] + pair[1]);
        }
        for (g, gender) in weighting::Variable::Gender.categories().iter().enumerate() {
            m.set(weighting::Variable::Gender.category(gender).unwrap(), cells.iter().map(|p| p[g]).sum());
        }
        m
    }

    #[test]
    fn weighted_figures_stand_beside_shown_figures_only() {
        let tree =
            one_wijk(&[("BU00010000", "BU00010000"), ("BU00010001", "BU00010001"), ("BU00010002", "BU00010002")]);
        let p = geluk();
        let mut raw = RawCounts { placement: weighting::Placement::of(&p.definition), ..RawCounts::default() };
        // A: age and gender independent among respondents; scores by band;
        // every cell (age band × gender, one weight each) with at least k.
        for (age, score, k) in
            [("jonger_25", 4, 1), ("van_25_tot_45", 6, 1), ("van_45_tot_65", 7, 1), ("vanaf_65", 9, 2)]
        {
            respond(&mut raw, &p, "BU00010000", Some((age, "man")), score, 10 * k);
            respond(&mut raw, &p, "BU00010000", Some((age, "vrouw")), score, 15 * k);
        }
        respond(&mut raw, &p, "BU00010001", Some(("jonger_25", "man")), 2, 3); // below k
        respond(&mut raw, &p, "BU00010002", None, 5, 12); // hidden with it
        let population = long_margins([[150, 150], [150, 150], [100, 100], [100, 100]]);
        let margins: BTreeMap<String, Margins> =
            ["BU00010000", "BU00010001", "BU00010002"].iter().map(|b| (b.to_string(), population.clone())).collect();
        let set = build_set(
            &tree,
            &p,
            std::slice::from_ref(&p),
            &raw,
            &[],
            10,
            &margins,
            &crate::insight::perturbation::PerturbationTable::exact(),
        );
        let t = &set.all;
        let qi = t.question_index("tevredenheid_leven").unwrap();
        let w = t.weighted("BU00010000", qi).expect("A is weighted");
        assert_eq!((w.n_eff, w.deff), (100, 1.25));
        assert!(matches!(w.estimates, WeightedEstimates::Mean { mean, .. } if mean == 6.2), "{w:?}");
        for hidden in ["BU00010001", "BU00010002"] {
            let a = t.get(hidden).unwrap();
            assert!(a.figures.is_none() && a.weighting.is_none() && t.weighted(hidden, qi).is_none());
        }
        let json = crate::web::results_json(t, Level::Buurt);
        for entry in json["areas"].as_array().unwrap().iter().filter(|e| e["suppressed"] == true) {
            assert!(entry.get("weighting").is_none() && entry.get("questions").is_none(), "{entry}");
        }
        // The wijk sums its buurten's margins and its respondents, hidden
        // ones included, as its unweighted figures do.
        assert!(t.weighted("WK000100", qi).is_some());
        // Margins in the respondents' own proportions: every weight is 1,
        // and the weighted figures are the unweighted ones.
        let own = long_margins([[2, 3], [2, 3], [2, 3], [4, 6]]);
        let margins: BTreeMap<String, Margins> = [("BU00010000".to_string(), own)].into();
        let set = build_set(
            &tree,
            &p,
            std::slice::from_ref(&p),
            &raw,
            &[],
            10,
            &margins,
            &crate::insight::perturbation::PerturbationTable::exact(),
        );
        let w = set.all.weighted("BU00010000", qi).unwrap();
        let Some(QuestionFigures::Scale(plain)) = set.all.figures("BU00010000", qi) else { panic!() };
        assert_eq!((w.n_eff, w.deff), (125, 1.0));
        assert!(
            matches!(&w.estimates, WeightedEstimates::Mean { mean, ci95, .. } if *mean == plain.mean && *ci95 == plain.ci95)
        );
        // No margins for the wijk's other buurten: the wijk is unweighted.
        let wijk = set.all.get("WK000100").unwrap().weighting.as_ref().unwrap();
        assert_eq!(wijk.reason(), Some("no_margins"));
        // Three more who gave no age: weight 1 beside 125 weighted, a class
        // under k. The area stays weighted, but no question shows a weighted
        // figure that would contrast those three with the rest.
        respond(&mut raw, &p, "BU00010000", None, 0, 3);
        let margins: BTreeMap<String, Margins> = [("BU00010000".to_string(), population.clone())].into();
        let set = build_set(
            &tree,
            &p,
            std::slice::from_ref(&p),
            &raw,
            &[],
            10,
            &margins,
            &crate::insight::perturbation::PerturbationTable::exact(),
        );
        assert!(matches!(set.all.get("BU00010000").unwrap().weighting, Some(AreaWeighting::Weighted(_))));
        assert!(set.all.figures("BU00010000", qi).is_some());
        assert!(set.all.weighted("BU00010000", qi).is_none(), "a class of 3 would stand out");
    }

    #[test]
    fn each_wave_is_weighted_with_its_own_respondents() {
        let tree = one_wijk(&[("BU00010000", "A")]);
        let p = geluk();
        let mut raw = RawCounts { placement: weighting::Placement::of(&p.definition), ..RawCounts::default() };
        // Half the residents are young. Wave 1 (January): 10 young (score
        // 4), 30 old (8); wave 2 (March): 30 young (4), 10 old (8).
        for (month, young, old) in [(1, 10, 30), (3, 30, 10)] {
            respond_on(&mut raw, &p, "BU00010000", Some(("jonger_25", "man")), 4, young, month);
            respond_on(&mut raw, &p, "BU00010000", Some(("vanaf_65", "man")), 8, old, month);
        }
        let margins: BTreeMap<String, Margins> =
            [("BU00010000".to_string(), long_margins([[500, 0], [0, 0], [0, 0], [500, 0]]))].into();
        let set = build_set(
            &tree,
            &p,
            std::slice::from_ref(&p),
            &raw,
            &waves(),
            10,
            &margins,
            &crate::insight::perturbation::PerturbationTable::exact(),
        );
        let qi = set.all.question_index("tevredenheid_leven").unwrap();
        let mean = |t: &SafeTable| match t.weighted("BU00010000", qi).map(|w| &w.estimates) {
            Some(WeightedEstimates::Mean { mean, .. }) => *mean,
            other => panic!("{other:?}"),
        };
        let plain = |t: &SafeTable| match t.figures("BU00010000", qi) {
            Some(QuestionFigures::Scale(s)) => s.mean,
            other => panic!("{other:?}"),
        };
        // Unweighted the waves differ (7.0 and 5.0); weighted both are 6.0,
        // and so is all responses together.
        assert_eq!((plain(&set.waves[0]), plain(&set.waves[1]), plain(&set.all)), (7.0, 5.0, 6.0));
        assert_eq!((mean(&set.waves[0]), mean(&set.waves[1]), mean(&set.all)), (6.0, 6.0, 6.0));
        // 10 and 30 respondents weigh 2 and 2/3: n_eff = 40² / (10·4 + 30·4/9).
        let w = set.waves[0].weighted("BU00010000", qi).unwrap();
        assert_eq!((w.n_eff, w.deff), (30, 1.33));
        assert_eq!(set.all.weighted("BU00010000", qi).unwrap().deff, 1.0, "all: 40 young, 40 old");
        // The change between the waves: −2 unweighted (flagged), none weighted.
        let changes = crate::insight::compare::changes(&set.waves[0], &set.waves[1], Level::Buurt);
        let a = changes.iter().find(|c| c.code.as_str() == "BU00010000").unwrap();
        let difference = |c: Option<&QuestionChange>| match c {
            Some(QuestionChange::Mean { mean, .. }) => *mean,
            other => panic!("{other:?}"),
        };
        let plain = difference(a.questions.as_ref().unwrap().get(qi));
        assert_eq!((plain.difference, plain.significant), (-2.0, true));
        let weighted = difference(a.weighted[qi].as_ref());
        assert_eq!((weighted.difference, weighted.significant), (0.0, false), "{weighted:?}");
        assert!(weighted.ci95[0] < 0.0 && weighted.ci95[1] > 0.0);
    }

    fn scale_figures(t: &SafeTable, code: &str, question: &str) -> ScaleSummary {
        match t.figures(code, t.question_index(question).unwrap()) {
            Some(QuestionFigures::Scale(s)) => s.clone(),
            other => panic!("{code}: {other:?}"),
        }
    }

    #[test]
    fn the_same_respondents_get_the_same_noise_in_every_table_and_level() {
        let tree = one_wijk(&[("BU00010000", "A"), ("BU00010001", "B")]);
        let p = geluk();
        let mut raw = RawCounts { placement: weighting::Placement::of(&p.definition), ..RawCounts::default() };
        for score in [3, 5, 6, 7, 7, 8, 8, 8, 9, 10] {
            respond_on(&mut raw, &p, "BU00010000", None, score, 3, 1);
        }
        let table = PerturbationTable::default();
        let build = |raw: &RawCounts| {
            build_set(&tree, &p, std::slice::from_ref(&p), raw, &waves(), 10, &BTreeMap::new(), &table)
        };
        let set = build(&raw);
        let a = scale_figures(&set.all, "BU00010000", "tevredenheid_leven");
        // Wave 1 holds every response, the wijk only A's: the same figures.
        assert_eq!(scale_figures(&set.waves[0], "BU00010000", "tevredenheid_leven"), a);
        assert_eq!(scale_figures(&set.all, "WK000100", "tevredenheid_leven"), a);
        assert_eq!(
            set.all.get("WK000100").unwrap().figures.as_ref().unwrap().0,
            set.all.get("BU00010000").unwrap().figures.as_ref().unwrap().0
        );
        // Built again (another request, a restart): the same.
        assert_eq!(scale_figures(&build(&raw).all, "BU00010000", "tevredenheid_leven"), a);
        // Nobody answered 0, 1, 2 or 4: zeros stay zero.
        for v in [0, 1, 2, 4] {
            assert_eq!(a.distribution[v], 0, "{a:?}");
        }
        // The published counts stay within D of the true ones, the mean
        // within D quarter-ranges per respondent.
        let n = set.all.get("BU00010000").unwrap().figures.as_ref().unwrap().0;
        assert!(n.abs_diff(30) <= 4, "{n}");
        assert!((a.mean - 7.1).abs() <= 4.0 * 2.5 / 30.0 + 0.005, "{}", a.mean);
        // One more respondent redraws the area's figures.
        respond_on(&mut raw, &p, "BU00010000", None, 7, 1, 1);
        let b = scale_figures(&build(&raw).all, "BU00010000", "tevredenheid_leven");
        assert_ne!((a.mean, a.ci95), (b.mean, b.ci95));
    }

    /// The attack of a thin weight class (issue #13): one young respondent
    /// among old ones; the attacker inserts 9 young with known scores, so
    /// the class reaches k and weighted figures appear beside unweighted
    /// ones. With known weights, n × (weighted − unweighted) gives the
    /// young class's sum, and minus the 9 known, the victim's score.
    fn thin_class_attack(table: &PerturbationTable, trials: u64) -> u64 {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let tree = one_wijk(&[("BU00010000", "A")]);
        let p = geluk();
        let placement = weighting::Placement::of(&p.definition).unwrap();
        let margins: BTreeMap<String, Margins> =
            [("BU00010000".to_string(), long_margins([[500, 0], [0, 0], [0, 0], [500, 0]]))].into();
        let young = placement.cell("jonger_25", "man").unwrap();
        let old = placement.cell("vanaf_65", "man").unwrap();
        let respondents = RespondentCells { cells: [(young, 10), (old, 40)].into(), unclassified: 0 };
        let outcome = weights_for_area(
            margins.get("BU00010000"),
            &respondents,
            &RakeSettings::default().with_min_category_respondents(10),
        );
        let (wy, wo) = (outcome.weight(Some(&young)).unwrap(), outcome.weight(Some(&old)).unwrap());
        let mut right = 0;
        for _ in 0..trials {
            let mut raw = RawCounts { placement: Some(placement.clone()), ..RawCounts::default() };
            for _ in 0..40 {
                respond(&mut raw, &p, "BU00010000", Some(("vanaf_65", "man")), rng.gen_range(0..=10), 1);
            }
            let victim = rng.gen_range(0..=10);
            respond(&mut raw, &p, "BU00010000", Some(("jonger_25", "man")), victim, 1);
            let mut known = 0;
            for _ in 0..9 {
                let score = rng.gen_range(0..=10);
                known += score;
                respond(&mut raw, &p, "BU00010000", Some(("jonger_25", "man")), score, 1);
            }
            let set = build_set(&tree, &p, std::slice::from_ref(&p), &raw, &[], 10, &margins, table);
            let qi = set.all.question_index("tevredenheid_leven").unwrap();
            let plain = scale_figures(&set.all, "BU00010000", "tevredenheid_leven");
            let Some(WeightedEstimates::Mean { mean, .. }) = set.all.weighted("BU00010000", qi).map(|w| &w.estimates)
            else {
                panic!("weighted figures are shown")
            };
            let total_weight = 10.0 * wy + 40.0 * wo;
            let young_sum = (mean * total_weight - wo * plain.mean * plain.n as f64) / (wy - wo);
            let guess = (young_sum - known as f64).round().clamp(0.0, 10.0) as i64;
            right += u64::from(guess == victim);
        }
        right
    }

    #[test]
    fn a_thin_weight_class_no_longer_gives_its_member_away() {
        assert_eq!(thin_class_attack(&PerturbationTable::exact(), 20), 20, "exact figures give the victim away");
        let right = thin_class_attack(&PerturbationTable::default(), 200);
        eprintln!("thin weight class: right for {right} of 200 victims");
        assert!(right <= 100, "the attacker guessed {right} of 200");
    }

    #[test]
    fn adding_a_response_counts_it_as_storing_does() {
        let p = published();
        let raw_answers: BTreeMap<String, crate::questionnaire::RawAnswer> =
            [("score".to_string(), crate::questionnaire::RawAnswer::Number(8.0))].into();
        let answers = p.definition.check_answers(&raw_answers).unwrap();
        let buurt = AreaCode::parse(Level::Buurt, "BU00010000").unwrap();
        let mut raw = RawCounts::default();
        raw.add(&Submission::new(&p, buurt, answers), day(1));
        assert_eq!(raw.respondents(), 1);
        assert_eq!(raw.answers.len(), 1);
        assert!(raw.answers.keys().all(|k| k.question == "score" && k.value == 8));
    }
}
