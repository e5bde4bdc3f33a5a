//! The file format (TOML for people, the same shape as JSON for storage and
//! the API) and its translation into checked domain types.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::*;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{message}", question.as_ref().map(|q| format!("question {q}: ")).unwrap_or_default())]
pub struct DefinitionError {
    pub file: String,
    pub question: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefinition {
    slug: String,
    kind: Kind,
    title: LocalText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    intro: Option<LocalText>,
    questions: Vec<RawQuestion>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    text: LocalText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    help: Option<LocalText>,
    #[serde(default)]
    required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_label: Option<LocalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_label: Option<LocalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    options: Option<Vec<RawChoice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_length: Option<usize>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    value: String,
    label: LocalText,
}

const MAX_FILE_BYTES: usize = 1024 * 1024;
const MAX_QUESTIONS: usize = 500;
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
    fn check(self, file: &str) -> Result<Definition, DefinitionError> {
        let err = |question: Option<&str>, message: String| DefinitionError {
            file: file.into(),
            question: question.map(str::to_owned),
            message,
        };
        let slug = Slug::parse(&self.slug)
            .ok_or_else(|| err(None, format!("slug {:?} must be lower-case letters, digits and -", self.slug)))?;
        check_text(&self.title, 200).map_err(|m| err(None, format!("title {m}")))?;
        if let Some(intro) = &self.intro {
            check_text(intro, 2000).map_err(|m| err(None, format!("intro {m}")))?;
        }
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            return Err(err(None, format!("must have 1 to {MAX_QUESTIONS} questions")));
        }
        let mut seen = HashSet::new();
        let mut questions = Vec::with_capacity(self.questions.len());
        for q in self.questions {
            let qid = q.id.clone();
            let qerr = |m: String| err(Some(&qid), m);
            let id = QuestionId::parse(&q.id)
                .ok_or_else(|| qerr("the id must be lower-case letters, digits and _ (at most 64)".into()))?;
            if !seen.insert(q.id.clone()) {
                return Err(qerr("the id is used twice".into()));
            }
            check_text(&q.text, 1000).map_err(|m| qerr(format!("text {m}")))?;
            if let Some(help) = &q.help {
                check_text(help, 1000).map_err(|m| qerr(format!("help {m}")))?;
            }
            let unexpected = |fields: &[(&str, bool)]| -> Result<(), DefinitionError> {
                match fields.iter().find(|(_, present)| *present) {
                    Some((name, _)) => Err(qerr(format!("{name} does not apply to type {}", q.kind))),
                    None => Ok(()),
                }
            };
            let kind = match q.kind.as_str() {
                "scale" => {
                    unexpected(&[("options", q.options.is_some()), ("max_length", q.max_length.is_some())])?;
                    let (min, max) = (q.min.unwrap_or(0), q.max.unwrap_or(10));
                    if min >= max || max - min > MAX_SCALE_POINTS {
                        return Err(qerr(format!(
                            "min {min} must be below max {max}, at most {MAX_SCALE_POINTS} apart"
                        )));
                    }
                    let label = |l: Option<LocalText>, which: &str| {
                        let l = l.ok_or_else(|| qerr(format!("a scale needs {which} (the label of its end point)")))?;
                        check_text(&l, 100).map_err(|m| qerr(format!("{which} {m}")))?;
                        Ok::<_, DefinitionError>(l)
                    };
                    QuestionKind::Scale {
                        min,
                        max,
                        min_label: label(q.min_label, "min_label")?,
                        max_label: label(q.max_label, "max_label")?,
                    }
                }
                "single_choice" => {
                    unexpected(&[
                        ("min", q.min.is_some()),
                        ("max", q.max.is_some()),
                        ("min_label", q.min_label.is_some()),
                        ("max_label", q.max_label.is_some()),
                        ("max_length", q.max_length.is_some()),
                    ])?;
                    let raw = q.options.unwrap_or_default();
                    if raw.len() < 2 || raw.len() > 50 {
                        return Err(qerr("a single choice needs 2 to 50 options".into()));
                    }
                    let mut values = HashSet::new();
                    let mut options = Vec::with_capacity(raw.len());
                    for o in raw {
                        if QuestionId::parse(&o.value).is_none() {
                            return Err(qerr(format!(
                                "option value {:?} must be lower-case letters, digits and _",
                                o.value
                            )));
                        }
                        if !values.insert(o.value.clone()) {
                            return Err(qerr(format!("option value {:?} is used twice", o.value)));
                        }
                        check_text(&o.label, 200).map_err(|m| qerr(format!("label of option {} {m}", o.value)))?;
                        options.push(Choice { value: o.value, label: o.label });
                    }
                    QuestionKind::SingleChoice { options }
                }
                "short_text" | "long_text" => {
                    unexpected(&[
                        ("min", q.min.is_some()),
                        ("max", q.max.is_some()),
                        ("min_label", q.min_label.is_some()),
                        ("max_label", q.max_label.is_some()),
                        ("options", q.options.is_some()),
                    ])?;
                    let long = q.kind == "long_text";
                    let max_length = q.max_length.unwrap_or(if long { DEFAULT_LONG } else { DEFAULT_SHORT });
                    if max_length == 0 || max_length > MAX_TEXT {
                        return Err(qerr(format!("max_length must be 1 to {MAX_TEXT}")));
                    }
                    QuestionKind::Text { long, max_length }
                }
                other => {
                    return Err(qerr(format!(
                        "unknown type {other:?} (known: scale, single_choice, short_text, long_text)"
                    )))
                }
            };
            questions.push(Question { id, text: q.text, help: q.help, required: q.required, kind });
        }
        Ok(Definition { slug, kind: self.kind, title: self.title, intro: self.intro, questions })
    }
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
    fn to_raw(&self) -> RawDefinition {
        RawDefinition {
            slug: self.slug.to_string(),
            kind: self.kind,
            title: self.title.clone(),
            intro: self.intro.clone(),
            questions: self
                .questions
                .iter()
                .map(|q| {
                    let mut raw = RawQuestion {
                        id: q.id.to_string(),
                        kind: q.kind.type_name().into(),
                        text: q.text.clone(),
                        help: q.help.clone(),
                        required: q.required,
                        min: None,
                        max: None,
                        min_label: None,
                        max_label: None,
                        options: None,
                        max_length: None,
                    };
                    match &q.kind {
                        QuestionKind::Scale { min, max, min_label, max_label } => {
                            raw.min = Some(*min);
                            raw.max = Some(*max);
                            raw.min_label = Some(min_label.clone());
                            raw.max_label = Some(max_label.clone());
                        }
                        QuestionKind::SingleChoice { options } => {
                            raw.options = Some(
                                options
                                    .iter()
                                    .map(|o| RawChoice { value: o.value.clone(), label: o.label.clone() })
                                    .collect(),
                            );
                        }
                        QuestionKind::Text { max_length, .. } => raw.max_length = Some(*max_length),
                    }
                    raw
                })
                .collect(),
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

    #[test]
    fn parses_and_roundtrips_through_json() {
        let def = parse_toml("proef.toml", MINIMAL).unwrap();
        let json = def.canonical_json().to_string();
        let again = parse_json("db", &json).unwrap();
        assert_eq!(def, again);
        assert_eq!(def.content_hash(), again.content_hash());
        assert!(matches!(def.questions[0].kind, QuestionKind::Scale { min: 0, max: 10, .. }));
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
        let geluk = defs.iter().find(|d| d.slug.as_str() == "geluk").expect("geluk ships");
        assert!(geluk.questions.len() >= 5);
        assert!(matches!(geluk.questions[0].kind, QuestionKind::Scale { min: 0, max: 10, .. }));
    }
}
