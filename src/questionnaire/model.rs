use std::fmt;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// A text in Dutch and English; both are required for every resident text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalText {
    pub nl: String,
    pub en: String,
}

impl LocalText {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.nl,
            Lang::En => &self.en,
        }
    }
}

/// `[a-z][a-z0-9-]*`, at most 64 characters: safe in URLs and file names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Option<Slug> {
        valid_identifier(s, b'-').then(|| Slug(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `[a-z][a-z0-9_]*`, at most 64 characters; stable across versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct QuestionId(String);

impl QuestionId {
    pub fn parse(s: &str) -> Option<QuestionId> {
        valid_identifier(s, b'_').then(|| QuestionId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_identifier(s: &str, sep: u8) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase()
        && b.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == sep)
}

macro_rules! string_newtype_impls {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
    };
}
string_newtype_impls!(Slug);
string_newtype_impls!(QuestionId);

/// Anonymous questionnaires never link a response to a person; identified
/// ones (talent scan, panel sign-up) ask explicit consent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Anonymous,
    Identified,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: LocalText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKind {
    /// Whole numbers from `min` to `max` with labelled end points.
    Scale {
        min: i32,
        max: i32,
        min_label: LocalText,
        max_label: LocalText,
    },
    SingleChoice {
        options: Vec<Choice>,
    },
    Text {
        long: bool,
        max_length: usize,
    },
}

impl QuestionKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            QuestionKind::Scale { .. } => "scale",
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::Text { long: false, .. } => "short_text",
            QuestionKind::Text { long: true, .. } => "long_text",
        }
    }

    /// Whether answers of two versions of a question can be counted together:
    /// same type and the same possible values (texts may be reworded).
    pub fn same_answer_space(&self, other: &QuestionKind) -> bool {
        match (self, other) {
            (QuestionKind::Scale { min: a, max: b, .. }, QuestionKind::Scale { min: c, max: d, .. }) => {
                a == c && b == d
            }
            (QuestionKind::SingleChoice { options: a }, QuestionKind::SingleChoice { options: b }) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.value == y.value)
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: QuestionId,
    pub text: LocalText,
    pub help: Option<LocalText>,
    pub required: bool,
    pub kind: QuestionKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub slug: Slug,
    pub kind: Kind,
    pub title: LocalText,
    pub intro: Option<LocalText>,
    pub questions: Vec<Question>,
}

impl Definition {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id.as_str() == id)
    }
}
