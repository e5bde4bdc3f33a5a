//! The file format (TOML for people, the same shape as JSON for storage and
//! the API) and its translation into checked domain types.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::condition::{Condition, Literal};
use super::model::*;
use crate::insight::weighting::Variable;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{message}", question.as_ref().map(|q| format!("question {q}: ")).unwrap_or_default())]
pub struct DefinitionError {
    pub file: String,
    pub question: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefinition {
    pub slug: String,
    pub kind: Kind,
    pub title: LocalText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<LocalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<LocalText>,
    /// Only residents with an invitation (a lottery) may answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_only: Option<bool>,
    /// Identified questionnaires: months the answers are kept after sending
    /// (default [`DEFAULT_RETENTION_MONTHS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_months: Option<u32>,
    /// All questions on one page; the alternative to `pages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<RawQuestion>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<Vec<RawPage>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPage {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<LocalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<String>,
    pub questions: Vec<RawQuestion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuestion {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub text: LocalText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalText>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<LocalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<LocalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<RawChoice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_choices: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<LocalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
    /// A single choice that places respondents in a weighting variable's
    /// categories (docs/weighting.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weighting: Option<RawWeighting>,
}

/// `weighting = { variable = "age_band", categories = { option = "25_44", … } }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeighting {
    pub variable: String,
    pub categories: BTreeMap<String, String>,
}

impl RawQuestion {
    /// A question with only its id, type and text; every other field unset.
    pub fn new(id: &str, kind: &str, text: LocalText) -> RawQuestion {
        RawQuestion {
            id: id.into(),
            kind: kind.into(),
            text,
            help: None,
            required: false,
            show_if: None,
            min: None,
            max: None,
            min_label: None,
            max_label: None,
            options: None,
            other: None,
            max_choices: None,
            unit: None,
            max_length: None,
            format: None,
            weighting: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChoice {
    pub value: String,
    pub label: LocalText,
}

const MAX_FILE_BYTES: usize = 1024 * 1024;
const MAX_QUESTIONS: usize = 500;
const MAX_PAGES: usize = 100;
const MAX_SCALE_POINTS: i32 = 100;
const DEFAULT_SHORT: usize = 200;
const DEFAULT_LONG: usize = 2000;
const MAX_TEXT: usize = 10_000;

pub fn parse_toml(file: &str, source: &str) -> Result<Definition, DefinitionError> {
    let err = |message: String| DefinitionError { file: file.into(), question: None, message };
    if source.len() > MAX_FILE_BYTES {
        return Err(err("the file is larger than 1 MB".into()));
    }
    let raw: RawDefinition =
        toml::from_str(source).map_err(|e| err(e.message().to_owned() + &location(source, e.span())))?;
    raw.check(file)
}

pub fn parse_json(file: &str, source: &str) -> Result<Definition, DefinitionError> {
    let raw: RawDefinition = serde_json::from_str(source).map_err(|e| DefinitionError {
        file: file.into(),
        question: None,
        message: e.to_string(),
    })?;
    raw.check(file)
}

fn location(source: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map(|s| format!(" (line {})", source[..s.start.min(source.len())].lines().count().max(1))).unwrap_or_default()
}

/// Reads every `*.toml` in a folder; the slug must match the file name.
pub fn load_dir(dir: &Path) -> Result<Vec<Definition>, DefinitionError> {
    let dir_err = |message: String| DefinitionError { file: dir.display().to_string(), question: None, message };
    let entries = std::fs::read_dir(dir).map_err(|e| dir_err(format!("cannot read the questionnaire folder: {e}")))?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let source = std::fs::read_to_string(&path).map_err(|e| DefinitionError {
            file: file.clone(),
            question: None,
            message: e.to_string(),
        })?;
        let def = parse_toml(&file, &source)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem != def.slug.as_str() {
            return Err(DefinitionError {
                file,
                question: None,
                message: format!("slug {:?} must equal the file name {stem:?}", def.slug.as_str()),
            });
        }
        out.push(def);
    }
    if out.is_empty() {
        return Err(dir_err("holds no questionnaire (*.toml)".into()));
    }
    Ok(out)
}

impl RawDefinition {
    /// Checks everything and builds the domain definition.
    pub fn check(self, file: &str) -> Result<Definition, DefinitionError> {
        let err = |question: Option<&str>, message: String| DefinitionError {
            file: file.into(),
            question: question.map(str::to_owned),
            message,
        };
        let slug = Slug::parse(&self.slug)
            .ok_or_else(|| err(None, format!("slug {:?} must be lower-case letters, digits and -", self.slug)))?;
        check_text(&self.title, 200).map_err(|m| err(None, format!("title {m}")))?;
        for (name, text) in [("intro", &self.intro), ("purpose", &self.purpose)] {
            if let Some(t) = text {
                check_text(t, 2000).map_err(|m| err(None, format!("{name} {m}")))?;
            }
        }
        if self.kind == Kind::Identified && self.purpose.is_none() {
            return Err(err(
                None,
                "an identified questionnaire needs a purpose: why it asks, who reads the answers, how long they are kept"
                    .into(),
            ));
        }
        let raw_pages = match (self.questions, self.pages) {
            (Some(questions), None) => {
                vec![RawPage { id: "vragen".into(), title: None, show_if: None, questions }]
            }
            (None, Some(pages)) => pages,
            _ => return Err(err(None, "give either questions or pages, not both and not neither".into())),
        };
        if raw_pages.is_empty() || raw_pages.len() > MAX_PAGES {
            return Err(err(None, format!("must have 1 to {MAX_PAGES} pages")));
        }
        let mut seen = HashSet::new();
        let mut page_ids = HashSet::new();
        let mut count = 0;
        let mut pages: Vec<Page> = Vec::with_capacity(raw_pages.len());
        for rp in raw_pages {
            let perr = |m: String| err(None, format!("page {}: {m}", rp.id));
            let id = QuestionId::parse(&rp.id)
                .ok_or_else(|| perr("the id must be lower-case letters, digits and _ (at most 64)".into()))?;
            if !page_ids.insert(rp.id.clone()) {
                return Err(perr("the id is used twice".into()));
            }
            if let Some(t) = &rp.title {
                check_text(t, 200).map_err(|m| perr(format!("title {m}")))?;
            }
            let show_if = match &rp.show_if {
                Some(src) => Some(check_condition(src, &pages, None).map_err(perr)?),
                None => None,
            };
            if rp.questions.is_empty() {
                return Err(perr("has no questions".into()));
            }
            let mut questions = Vec::with_capacity(rp.questions.len());
            for q in rp.questions {
                count += 1;
                if count > MAX_QUESTIONS {
                    return Err(err(None, format!("must have at most {MAX_QUESTIONS} questions")));
                }
                if !seen.insert(q.id.clone()) {
                    return Err(err(Some(&q.id), "the id is used twice".into()));
                }
                let qid = q.id.clone();
                questions.push(q.check(&pages).map_err(|m| err(Some(&qid), m))?);
            }
            pages.push(Page { id, title: rp.title, show_if, questions });
        }
        if self.kind == Kind::Anonymous {
            if let Some((q, detail)) =
                pages.iter().flat_map(|p| &p.questions).find_map(|q| q.personal_detail().map(|d| (q, d)))
            {
                return Err(err(
                    Some(q.id.as_str()),
                    format!(
                        "asks for {detail}, and an anonymous questionnaire may never ask who someone is or how to \
                         reach them: make the questionnaire identified (with a purpose and consent) or remove the \
                         question"
                    ),
                ));
            }
        }
        let retention_months = match (self.kind, self.retention_months) {
            (Kind::Anonymous, Some(_)) => {
                return Err(err(
                    None,
                    "retention_months applies to identified questionnaires only: anonymous responses hold nothing \
                     personal"
                        .into(),
                ))
            }
            (_, Some(m)) if !(1..=MAX_RETENTION_MONTHS).contains(&m) => {
                return Err(err(None, format!("retention_months must be between 1 and {MAX_RETENTION_MONTHS}")))
            }
            (_, m) => m,
        };
        let mut weighted = BTreeMap::new();
        for q in pages.iter().flat_map(|p| &p.questions) {
            if let Some(w) = &q.weighting {
                if let Some(first) = weighted.insert(w.variable, q.id.as_str()) {
                    return Err(err(
                        Some(q.id.as_str()),
                        format!("weighting: {first} already places respondents by {}", w.variable),
                    ));
                }
            }
        }
        Ok(Definition {
            slug,
            kind: self.kind,
            title: self.title,
            intro: self.intro,
            purpose: self.purpose,
            invitation_only: self.invitation_only.unwrap_or(false),
            retention_months,
            pages,
        })
    }
}

/// Parses a condition and checks that it only refers to questions on earlier
/// pages that have answers, with values those questions can take.
fn check_condition(src: &str, earlier: &[Page], own: Option<&str>) -> Result<Condition, String> {
    let c = Condition::parse(src).map_err(|e| format!("show_if: {e}"))?;
    for (qid, op, value) in c.references() {
        if own == Some(qid.as_str()) {
            return Err(format!("show_if refers to the question itself ({qid})"));
        }
        let Some(q) = earlier.iter().flat_map(|p| &p.questions).find(|q| q.id == *qid) else {
            return Err(format!(
                "show_if refers to {qid}, which is not a question on an earlier page (conditions may only use answers \
                 from earlier pages, so that the pages work without JavaScript)"
            ));
        };
        match (&q.kind, value) {
            (QuestionKind::Scale { min, max, .. } | QuestionKind::Number { min, max, .. }, Literal::Number(n)) => {
                if *n < i64::from(*min) || *n > i64::from(*max) {
                    return Err(format!("show_if compares {qid} with {n}, outside its range {min}–{max}"));
                }
            }
            (QuestionKind::Scale { .. } | QuestionKind::Number { .. }, Literal::Text(_)) => {
                return Err(format!("show_if compares {qid} (a number) with a text; use a number"));
            }
            (QuestionKind::Text { .. } | QuestionKind::Statement, _) => {
                return Err(format!("show_if cannot use {qid}: free text and statements have no comparable answer"));
            }
            (kind, _) if op.is_ordering() => {
                return Err(format!(
                    "show_if uses {} on {qid}, a {}; only = != and in fit",
                    op.symbol(),
                    kind.type_name()
                ));
            }
            (kind, Literal::Text(v)) => {
                let values = kind.choice_values();
                if !values.contains(&v.as_str()) {
                    return Err(format!("show_if: {qid} has no option {v:?} (options: {})", values.join(", ")));
                }
            }
            (_, Literal::Number(n)) => {
                return Err(format!("show_if compares {qid} (a choice) with the number {n}; use a quoted option"));
            }
        }
    }
    Ok(c)
}

impl RawQuestion {
    fn check(mut self, earlier: &[Page]) -> Result<Question, String> {
        let id = QuestionId::parse(&self.id)
            .ok_or_else(|| "the id must be lower-case letters, digits and _ (at most 64)".to_string())?;
        check_text(&self.text, 1000).map_err(|m| format!("text {m}"))?;
        if let Some(help) = &self.help {
            check_text(help, 1000).map_err(|m| format!("help {m}"))?;
        }
        let show_if = match &self.show_if {
            Some(src) => Some(check_condition(src, earlier, Some(&self.id))?),
            None => None,
        };
        let kind = self.kind.clone();
        let kind = kind.as_str();
        let mut weighting = None;
        // Fields a type does not use are an error, never silently dropped.
        let present = [
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("min_label", self.min_label.is_some()),
            ("max_label", self.max_label.is_some()),
            ("options", self.options.is_some()),
            ("other", self.other.is_some()),
            ("max_choices", self.max_choices.is_some()),
            ("unit", self.unit.is_some()),
            ("max_length", self.max_length.is_some()),
            ("format", self.format.is_some()),
            ("weighting", self.weighting.is_some()),
        ];
        let allowed: &[&str] = match kind {
            "scale" => &["min", "max", "min_label", "max_label"],
            "single_choice" => &["options", "other", "weighting"],
            "multiple_choice" => &["options", "other", "max_choices"],
            "number" => &["min", "max", "unit"],
            "short_text" => &["max_length", "format"],
            "long_text" => &["max_length"],
            "yes_no" | "statement" | "consent" => &[],
            other => return Err(format!("unknown type {other:?} (known: {})", QuestionKind::TYPE_NAMES.join(", "))),
        };
        if let Some((name, _)) = present.iter().find(|(name, here)| *here && !allowed.contains(name)) {
            return Err(format!("{name} does not apply to type {kind}"));
        }
        let range = |default: Option<(i32, i32)>| -> Result<(i32, i32), String> {
            let (min, max) = match (self.min, self.max, default) {
                (Some(a), Some(b), _) => (a, b),
                (a, b, Some((da, db))) => (a.unwrap_or(da), b.unwrap_or(db)),
                _ => return Err(format!("a {kind} needs min and max")),
            };
            if min >= max {
                return Err(format!("min {min} must be below max {max}"));
            }
            Ok((min, max))
        };
        let kind = match kind {
            "scale" => {
                let (min, max) = range(Some((0, 10)))?;
                if max - min > MAX_SCALE_POINTS {
                    return Err(format!("min {min} and max {max} are more than {MAX_SCALE_POINTS} apart"));
                }
                let label = |l: Option<LocalText>, which: &str| {
                    let l = l.ok_or_else(|| format!("a scale needs {which} (the label of its end point)"))?;
                    check_text(&l, 100).map_err(|m| format!("{which} {m}"))?;
                    Ok::<_, String>(l)
                };
                QuestionKind::Scale {
                    min,
                    max,
                    min_label: label(self.min_label, "min_label")?,
                    max_label: label(self.max_label, "max_label")?,
                }
            }
            "single_choice" | "multiple_choice" => {
                let options = check_options(self.options.unwrap_or_default())?;
                if let Some(w) = self.weighting.take() {
                    weighting = Some(check_weighting(w, &options)?);
                }
                let other = self.other.unwrap_or(false);
                if kind == "single_choice" {
                    QuestionKind::SingleChoice { options, other }
                } else {
                    let total = options.len() + usize::from(other);
                    if let Some(m) = self.max_choices.filter(|m| *m == 0 || *m > total) {
                        return Err(format!("max_choices {m} must be 1 to the number of options ({total})"));
                    }
                    QuestionKind::MultipleChoice { options, other, max_choices: self.max_choices }
                }
            }
            "number" => {
                let (min, max) = range(None)?;
                if let Some(u) = &self.unit {
                    check_text(u, 50).map_err(|m| format!("unit {m}"))?;
                }
                QuestionKind::Number { min, max, unit: self.unit }
            }
            "short_text" | "long_text" => {
                let long = kind == "long_text";
                let max_length = self.max_length.unwrap_or(if long { DEFAULT_LONG } else { DEFAULT_SHORT });
                if max_length == 0 || max_length > MAX_TEXT {
                    return Err(format!("max_length must be 1 to {MAX_TEXT}"));
                }
                QuestionKind::Text { long, max_length, format: self.format }
            }
            "yes_no" => QuestionKind::YesNo,
            "consent" => QuestionKind::Consent,
            _ => {
                if self.required {
                    return Err("a statement has no answer, so it cannot be required".into());
                }
                QuestionKind::Statement
            }
        };
        Ok(Question { id, text: self.text, help: self.help, required: self.required, show_if, kind, weighting })
    }
}

/// A weighting declaration: a known variable, option values of this
/// question, known categories, and every category reachable (options left
/// out, such as "zeg ik liever niet", place nobody).
fn check_weighting(raw: RawWeighting, options: &[Choice]) -> Result<Weighting, String> {
    let names = || Variable::ALL.map(|v| v.as_str()).join(", ");
    let variable = Variable::parse(&raw.variable)
        .ok_or_else(|| format!("weighting: unknown variable {:?} (known: {})", raw.variable, names()))?;
    let mut categories = BTreeMap::new();
    for (option, category) in raw.categories {
        if !options.iter().any(|o| o.value == option) {
            return Err(format!("weighting: {option:?} is not an option of this question"));
        }
        let c = variable.category(&category).ok_or_else(|| {
            format!("weighting: {category:?} is not a category of {variable} ({})", variable.categories().join(", "))
        })?;
        categories.insert(option, c);
    }
    if let Some(missing) = variable.categories().iter().find(|c| !categories.values().any(|v| v.as_str() == **c)) {
        return Err(format!("weighting: no option places respondents in {variable} {missing}"));
    }
    Ok(Weighting { variable, categories })
}

fn check_options(raw: Vec<RawChoice>) -> Result<Vec<Choice>, String> {
    if raw.len() < 2 || raw.len() > 50 {
        return Err("a choice needs 2 to 50 options".into());
    }
    let mut values = HashSet::new();
    let mut options = Vec::with_capacity(raw.len());
    for o in raw {
        if QuestionId::parse(&o.value).is_none() {
            return Err(format!("option value {:?} must be lower-case letters, digits and _", o.value));
        }
        if o.value == OTHER {
            return Err(format!("option value {OTHER:?} is reserved: use other = true for \"anders, namelijk\""));
        }
        if !values.insert(o.value.clone()) {
            return Err(format!("option value {:?} is used twice", o.value));
        }
        check_text(&o.label, 200).map_err(|m| format!("label of option {} {m}", o.value))?;
        options.push(Choice { value: o.value, label: o.label });
    }
    Ok(options)
}

fn check_text(t: &LocalText, max: usize) -> Result<(), String> {
    for (lang, s) in [("nl", &t.nl), ("en", &t.en)] {
        if s.trim().is_empty() {
            return Err(format!("is empty in {lang}"));
        }
        if s.chars().count() > max {
            return Err(format!("is longer than {max} characters in {lang}"));
        }
    }
    Ok(())
}

impl Definition {
    /// The definition in the file format, to edit or write out.
    pub fn to_raw(&self) -> RawDefinition {
        let question = |q: &Question| {
            let mut raw = RawQuestion::new(q.id.as_str(), q.kind.type_name(), q.text.clone());
            raw.help = q.help.clone();
            raw.required = q.required;
            raw.show_if = q.show_if.as_ref().map(ToString::to_string);
            raw.weighting = q.weighting.as_ref().map(|w| RawWeighting {
                variable: w.variable.as_str().to_owned(),
                categories: w.categories.iter().map(|(o, c)| (o.clone(), c.as_str().to_owned())).collect(),
            });
            let options = |o: &[Choice]| {
                Some(o.iter().map(|o| RawChoice { value: o.value.clone(), label: o.label.clone() }).collect())
            };
            match &q.kind {
                QuestionKind::Scale { min, max, min_label, max_label } => {
                    raw.min = Some(*min);
                    raw.max = Some(*max);
                    raw.min_label = Some(min_label.clone());
                    raw.max_label = Some(max_label.clone());
                }
                QuestionKind::SingleChoice { options: o, other } => {
                    raw.options = options(o);
                    raw.other = other.then_some(true);
                }
                QuestionKind::MultipleChoice { options: o, other, max_choices } => {
                    raw.options = options(o);
                    raw.other = other.then_some(true);
                    raw.max_choices = *max_choices;
                }
                QuestionKind::Number { min, max, unit } => {
                    raw.min = Some(*min);
                    raw.max = Some(*max);
                    raw.unit = unit.clone();
                }
                QuestionKind::Text { max_length, format, .. } => {
                    raw.max_length = Some(*max_length);
                    raw.format = *format;
                }
                QuestionKind::YesNo | QuestionKind::Statement | QuestionKind::Consent => {}
            }
            raw
        };
        RawDefinition {
            slug: self.slug.to_string(),
            kind: self.kind,
            title: self.title.clone(),
            intro: self.intro.clone(),
            purpose: self.purpose.clone(),
            invitation_only: self.invitation_only.then_some(true),
            retention_months: self.retention_months,
            questions: None,
            pages: Some(
                self.pages
                    .iter()
                    .map(|p| RawPage {
                        id: p.id.to_string(),
                        title: p.title.clone(),
                        show_if: p.show_if.as_ref().map(ToString::to_string),
                        questions: p.questions.iter().map(question).collect(),
                    })
                    .collect(),
            ),
        }
    }

    /// The canonical JSON of the definition: what is stored, served by the
    /// API, and hashed. Formatting of the source file does not change it.
    pub fn canonical_json(&self) -> serde_json::Value {
        serde_json::to_value(self.to_raw()).expect("a definition always serialises")
    }

    /// SHA-256 of the canonical JSON, hex: the identity of a version.
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().to_string().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
slug = "proef"
kind = "anonymous"
title = { nl = "Proef", en = "Trial" }

[[questions]]
id = "cijfer"
type = "scale"
required = true
text = { nl = "Welk cijfer?", en = "Which mark?" }
min_label = { nl = "slecht", en = "bad" }
max_label = { nl = "goed", en = "good" }
"#;

    /// The TOML and JSON parsers bound their nesting themselves (toml: 80
    /// levels, serde_json: 128), and a condition is parsed with its own
    /// limits, so no questionnaire file can exhaust the stack.
    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let arrays = format!("slug = {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = parse_toml("diep.toml", &arrays).unwrap_err().to_string();
        assert!(e.starts_with("diep.toml: ") && e.contains("recursion limit"), "{e}");
        let tables = format!("slug = {}{}", "{ a = ".repeat(10_000), "}".repeat(10_000));
        assert!(parse_toml("diep.toml", &tables).unwrap_err().to_string().contains("recursion limit"));
        let json = format!(r#"{{"slug": {}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_json("diep.json", &json).is_err());
        let e = serde_json::from_str::<serde_json::Value>(&json).unwrap_err().to_string();
        assert!(e.contains("recursion limit exceeded"), "{e}");
        let condition = "(".repeat(10_000) + "cijfer >= 3" + &")".repeat(10_000);
        let source = format!("{MINIMAL}\n[[questions]]\nid = \"x\"\ntype = \"yes_no\"\ntext = {{ nl = \"X\", en = \"X\" }}\nshow_if = \"{condition}\"\n");
        let e = parse_toml("diep.toml", &source).unwrap_err().to_string();
        assert!(e.contains("longer than"), "{e}");
    }

    #[test]
    fn parses_and_roundtrips_through_json() {
        let def = parse_toml("proef.toml", MINIMAL).unwrap();
        let json = def.canonical_json().to_string();
        let again = parse_json("db", &json).unwrap();
        assert_eq!(def, again);
        assert_eq!(def.content_hash(), again.content_hash());
        assert!(matches!(def.pages[0].questions[0].kind, QuestionKind::Scale { min: 0, max: 10, .. }));
    }

    #[test]
    fn whitespace_keeps_the_hash_and_a_change_does_not() {
        let a = parse_toml("p", MINIMAL).unwrap();
        let b = parse_toml("p", &MINIMAL.replace("required = true", "required   =   true\n\n")).unwrap();
        let c = parse_toml("p", &MINIMAL.replace("Welk cijfer?", "Welk rapportcijfer?")).unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        assert_ne!(a.content_hash(), c.content_hash());
    }

    #[test]
    fn retention_is_for_identified_questionnaires_and_bounded() {
        let identified = MINIMAL
            .replace("kind = \"anonymous\"", "kind = \"identified\"\npurpose = { nl = \"Doel\", en = \"Purpose\" }");
        let def = parse_toml("p", &identified).unwrap();
        assert_eq!(def.retention(), Some(DEFAULT_RETENTION_MONTHS));
        let def =
            parse_toml("p", &identified.replace("[[questions]]", "retention_months = 24\n[[questions]]")).unwrap();
        assert_eq!(def.retention(), Some(24));
        assert_eq!(parse_json("db", &def.canonical_json().to_string()).unwrap(), def);
        assert_eq!(parse_toml("p", MINIMAL).unwrap().retention(), None);
        for (text, message) in [
            (
                MINIMAL.replace("[[questions]]", "retention_months = 12\n[[questions]]"),
                "identified questionnaires only",
            ),
            (identified.replace("[[questions]]", "retention_months = 0\n[[questions]]"), "between 1 and 60"),
            (identified.replace("[[questions]]", "retention_months = 61\n[[questions]]"), "between 1 and 60"),
            (identified.replace("[[questions]]", "retention_months = -1\n[[questions]]"), "line 7"),
        ] {
            let e = parse_toml("p", &text).unwrap_err().to_string();
            assert!(e.contains(message), "{e}");
        }
    }

    #[test]
    fn errors_name_file_question_and_problem() {
        let cases = [
            (MINIMAL.replace("\"scale\"", "\"slider\""), "proef.toml: question cijfer: unknown type \"slider\""),
            (MINIMAL.replace("id = \"cijfer\"", "id = \"Cijfer!\""), "question Cijfer!: the id must be"),
            (MINIMAL.replace("max_label = { nl = \"goed\", en = \"good\" }", ""), "needs max_label"),
            (MINIMAL.replace("en = \"Which mark?\"", "en = \"\""), "text is empty in en"),
            (MINIMAL.replace("required = true", "required = true\nmin = 10\nmax = 0"), "min 10 must be below max 0"),
            (
                MINIMAL.replace("required = true", "required = true\noptions = []"),
                "options does not apply to type scale",
            ),
            (MINIMAL.replace("required = true", "requird = true"), "unknown field `requird`"),
            (MINIMAL.replace("slug = \"proef\"", "slug = \"../etc\""), "slug \"../etc\""),
            ("not toml at all [".to_string(), "proef.toml: "),
        ];
        for (source, expected) in cases {
            let err = parse_toml("proef.toml", &source).unwrap_err().to_string();
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        }
    }

    #[test]
    fn shipped_questionnaires_load() {
        let defs = load_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/questionnaires"))).unwrap();
        let find = |slug: &str| defs.iter().find(|d| d.slug.as_str() == slug).expect("ships");
        let geluk = find("geluk");
        assert!(geluk.questions().count() >= 10);
        assert!(matches!(geluk.pages[0].questions[0].kind, QuestionKind::Scale { min: 0, max: 10, .. }));
        let leefbaarheid = find("leefbaarheid");
        let n = leefbaarheid.questions().filter(|q| q.kind.is_answerable()).count();
        assert!((20..=32).contains(&n), "leefbaarheid has {n} questions");
        let types: HashSet<&str> = leefbaarheid.questions().map(|q| q.kind.type_name()).collect();
        for t in ["scale", "single_choice", "multiple_choice", "yes_no", "number", "long_text"] {
            assert!(types.contains(t), "leefbaarheid uses {t}");
        }
        assert!(leefbaarheid.pages.iter().any(|p| p.show_if.is_some()), "leefbaarheid has page conditions");
        let talent = find("talentenscan");
        assert_eq!(talent.kind, Kind::Identified);
        assert!(talent.purpose.is_some());
        // Name and contact only on a page shown after consent.
        let contact = talent.page_of("naam").map(|i| &talent.pages[i]).expect("asks a name");
        assert!(contact.show_if.is_some(), "name and contact only with consent");
    }

    const PAGED: &str = r#"
slug = "paged"
kind = "anonymous"
title = { nl = "P", en = "P" }
[[pages]]
id = "een"
[[pages.questions]]
id = "woon"
type = "single_choice"
required = true
text = { nl = "Woon", en = "Home" }
options = [ { value = "huur", label = { nl = "Huur", en = "Rent" } }, { value = "koop", label = { nl = "Koop", en = "Own" } } ]
other = true
[[pages.questions]]
id = "jaren"
type = "number"
min = 0
max = 100
text = { nl = "Jaren", en = "Years" }
[[pages]]
id = "twee"
show_if = 'woon = "huur"'
[[pages.questions]]
id = "verhuurder"
type = "scale"
required = true
text = { nl = "Verhuurder", en = "Landlord" }
min_label = { nl = "slecht", en = "bad" }
max_label = { nl = "goed", en = "good" }
[[pages.questions]]
id = "lang"
type = "yes_no"
show_if = 'jaren >= 10'
text = { nl = "Lang", en = "Long" }
"#;

    #[test]
    fn conditions_must_point_back_and_fit() {
        assert!(parse_toml("p", PAGED).is_ok());
        let cases = [
            (PAGED.replace(r#"show_if = 'woon = "huur"'"#, r#"show_if = 'verhuurder >= 3'"#), "not a question on an earlier page"),
            (PAGED.replace(r#"woon = "huur""#, r#"woon = "hurr""#), r#"woon has no option "hurr""#),
            (PAGED.replace(r#"woon = "huur""#, "woon >= 3"), "only = != and in fit"),
            (PAGED.replace("jaren >= 10", "jaren >= 500"), "outside its range 0–100"),
            (PAGED.replace("jaren >= 10", r#"jaren = "tien""#), "with a text"),
            (PAGED.replace("jaren >= 10", r#"lang = "yes""#), "refers to the question itself"),
            (PAGED.replace("jaren >= 10", "jaren >="), "expected a value"),
            (PAGED.replace(r#"id = "twee""#, r#"id = "een""#), "page een: the id is used twice"),
            (PAGED.replace("other = true", "other = true\nmax_length = 3"), "max_length does not apply to type single_choice"),
            (PAGED.replace("min = 0\nmax = 100\n", ""), "a number needs min and max"),
            (PAGED.replace(r#"value = "koop""#, r#"value = "other""#), "reserved"),
            (PAGED.replace(r#"type = "yes_no""#, "type = \"statement\"\nrequired = true"), "cannot be required"),
            (PAGED.replace(r#"kind = "anonymous""#, r#"kind = "identified""#), "needs a purpose"),
            (
                PAGED.replace(
                    "[[pages]]\nid = \"een\"",
                    "[[questions]]\nid = \"x\"\ntype = \"yes_no\"\ntext = { nl = \"x\", en = \"x\" }\n[[pages]]\nid = \"een\"",
                ),
                "either questions or pages",
            ),
        ];
        for (source, expected) in cases {
            let err = parse_toml("p.toml", &source).unwrap_err().to_string();
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        }
    }

    const WEIGHTED: &str = r#"
slug = "gewogen"
kind = "anonymous"
title = { nl = "G", en = "G" }
[[questions]]
id = "leeftijd"
type = "single_choice"
text = { nl = "Leeftijd", en = "Age" }
options = [ { value = "jong", label = { nl = "Jong", en = "Young" } }, { value = "midden", label = { nl = "Midden", en = "Middle" } }, { value = "oud", label = { nl = "Oud", en = "Old" } }, { value = "geheim", label = { nl = "Zeg ik niet", en = "Not saying" } } ]
weighting = { variable = "age_band", categories = { jong = "15_24", midden = "25_44", oud = "65_plus" } }
[[questions]]
id = "geslacht"
type = "single_choice"
text = { nl = "Geslacht", en = "Gender" }
options = [ { value = "v", label = { nl = "Vrouw", en = "Woman" } }, { value = "m", label = { nl = "Man", en = "Man" } } ]
weighting = { variable = "gender", categories = { v = "vrouw", m = "man" } }
"#;

    #[test]
    fn weighting_declarations_are_checked() {
        let ok = WEIGHTED.replace(r#"oud = "65_plus""#, r#"oud = "65_plus", geheim = "45_64""#);
        let def = parse_toml("g.toml", &ok).unwrap();
        let (q, w) = def.weighting_question(Variable::AgeBand).unwrap();
        assert_eq!((q.id.as_str(), w.categories["midden"].as_str()), ("leeftijd", "25_44"));
        assert_eq!(parse_json("db", &def.canonical_json().to_string()).unwrap(), def, "roundtrips");
        let cases = [
            (WEIGHTED.to_string(), "question leeftijd: weighting: no option places respondents in age_band 45_64"),
            (
                ok.replace(r#"variable = "gender""#, r#"variable = "opleiding""#),
                "unknown variable \"opleiding\" (known: age_band, gender)",
            ),
            (ok.replace(r#"v = "vrouw""#, r#"x = "vrouw""#), "weighting: \"x\" is not an option of this question"),
            (ok.replace(r#"m = "man""#, r#"m = "mannen""#), "\"mannen\" is not a category of gender (man, vrouw)"),
            (
                ok.replace(
                    r#"type = "single_choice"
text = { nl = "Geslacht""#,
                    r#"type = "multiple_choice"
text = { nl = "Geslacht""#,
                ),
                "weighting does not apply to type multiple_choice",
            ),
            (
                format!(
                    "{ok}{}",
                    &ok[ok.find("[[questions]]").unwrap()..ok.find("[[questions]]\nid = \"geslacht\"").unwrap()]
                        .replace("id = \"leeftijd\"", "id = \"leeftijd2\"")
                ),
                "question leeftijd2: weighting: leeftijd already places respondents by age_band",
            ),
            (
                ok.replace("weighting = { variable = \"gender\"", "weighting = { variabel = \"gender\""),
                "unknown field `variabel`",
            ),
        ];
        for (source, expected) in cases {
            let err = parse_toml("g.toml", &source).unwrap_err().to_string();
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        }
    }

    #[test]
    fn geluk_and_leefbaarheid_ask_age_band_and_gender_for_weighting() {
        let defs = load_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/questionnaires"))).unwrap();
        for slug in ["geluk", "leefbaarheid"] {
            let def = defs.iter().find(|d| d.slug.as_str() == slug).unwrap();
            for variable in Variable::ALL {
                let (q, w) = def.weighting_question(variable).unwrap_or_else(|| panic!("{slug} weights by {variable}"));
                assert!(!q.required, "{slug}: {} may be skipped", q.id);
                assert_eq!(w.categories.len(), variable.categories().len(), "{slug}: one option per category");
            }
        }
    }

    #[test]
    fn every_type_roundtrips_and_reformatted_conditions_keep_the_hash() {
        let a = parse_toml("p", PAGED).unwrap();
        let again = parse_json("db", &a.canonical_json().to_string()).unwrap();
        assert_eq!(a, again);
        let b = parse_toml("p", &PAGED.replace("jaren >= 10", "(jaren>=10)")).unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        for d in load_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/questionnaires"))).unwrap() {
            assert_eq!(parse_json("db", &d.canonical_json().to_string()).unwrap(), d, "{}", d.slug);
        }
    }

    #[test]
    fn a_stored_single_page_version_still_reads() {
        // What the foundation stored: questions at the top, no pages.
        let old = r#"{"slug":"t","kind":"anonymous","title":{"nl":"T","en":"T"},"questions":[{"id":"a","type":"scale","text":{"nl":"A","en":"A"},"required":true,"min":0,"max":10,"min_label":{"nl":"l","en":"l"},"max_label":{"nl":"h","en":"h"}}]}"#;
        let d = parse_json("db", old).unwrap();
        assert_eq!(d.pages.len(), 1);
        assert_eq!(d.questions().count(), 1);
    }

    fn shipped(slug: &str) -> String {
        std::fs::read_to_string(format!("{}/questionnaires/{slug}.toml", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn an_identified_questionnaire_cannot_be_made_anonymous() {
        for slug in ["talentenscan", "panelaanmelding"] {
            let anonymous = shipped(slug)
                .replace(r#"kind = "identified""#, r#"kind = "anonymous""#)
                .lines()
                .filter(|l| !l.starts_with("purpose =") && !l.starts_with("retention_months ="))
                .collect::<Vec<_>>()
                .join("\n");
            let err = parse_toml(&format!("{slug}.toml"), &anonymous).unwrap_err().to_string();
            assert!(err.contains("question naam: asks for a name"), "{slug}: {err}");
            assert!(err.contains("anonymous questionnaire may never ask"), "{err}");
        }
    }

    #[test]
    fn anonymous_questionnaires_ask_no_personal_detail() {
        let with = |id: &str, extra: &str| {
            MINIMAL.to_string()
                + &format!(
                    "\n[[questions]]\nid = \"{id}\"\ntype = \"short_text\"\n{extra}\ntext = {{ nl = \"X\", en = \"X\" }}\n"
                )
        };
        for (id, extra, detail) in [
            ("naam", "", "a name"),
            ("uw_voornaam", "", "a name"),
            ("contact", "format = \"email\"", "an e-mail address"),
            ("e_mail", "", "an e-mail address"),
            ("bereikbaar", "format = \"phone\"", "a phone number"),
            ("telefoonnummer", "", "a phone number"),
            ("woonadres", "", "an address"),
            ("postcode", "", "an address"),
        ] {
            let err = parse_toml("proef.toml", &with(id, extra)).unwrap_err().to_string();
            assert!(err.contains(&format!("question {id}: asks for {detail}")), "{id}: {err}");
        }
        // Other questions, and scales whose id has such a word, are fine.
        for id in ["idee_buurt", "waarom", "naamloos"] {
            assert!(parse_toml("proef.toml", &with(id, "")).is_ok(), "{id}");
        }
        assert!(shipped("leefbaarheid").contains("schone_straat"));
        assert!(parse_toml("leefbaarheid.toml", &shipped("leefbaarheid")).is_ok());
        // The same questions in an identified questionnaire are allowed.
        let identified = with("naam", "")
            .replace(r#"kind = "anonymous""#, "kind = \"identified\"\npurpose = { nl = \"Doel\", en = \"Purpose\" }");
        assert!(parse_toml("proef.toml", &identified).is_ok());
    }

    #[test]
    fn privacy_changes_between_versions() {
        use super::super::model::PrivacyChange;
        let talent = parse_toml("talentenscan.toml", &shipped("talentenscan")).unwrap();
        assert!(talent.privacy_changes(&talent).is_empty());
        let longer = parse_toml(
            "talentenscan.toml",
            &shipped("talentenscan").replace("retention_months = 24", "retention_months = 36"),
        )
        .unwrap();
        assert_eq!(longer.privacy_changes(&talent), vec![PrivacyChange::LongerRetention { from: 24, to: 36 }]);
        assert!(talent.privacy_changes(&longer).is_empty(), "shorter is fine");
        let geluk = parse_toml("geluk.toml", &shipped("geluk")).unwrap();
        let identified = parse_toml(
            "geluk.toml",
            &shipped("geluk").replace(
                r#"kind = "anonymous""#,
                "kind = \"identified\"\npurpose = { nl = \"Doel\", en = \"Purpose\" }",
            ),
        )
        .unwrap();
        assert_eq!(
            identified.privacy_changes(&geluk),
            vec![PrivacyChange::Kind { from: Kind::Anonymous, to: Kind::Identified }]
        );
        assert_eq!(
            geluk.privacy_changes(&identified),
            vec![PrivacyChange::Kind { from: Kind::Identified, to: Kind::Anonymous }, PrivacyChange::PurposeRemoved]
        );
    }
}
