use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use crate::i18n::Lang;
use crate::insight::weighting::{Category, Variable};

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

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Anonymous => "anonymous",
            Kind::Identified => "identified",
        })
    }
}

/// A detail that says who someone is or how to reach them. An anonymous
/// questionnaire may never ask for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalDetail {
    Name,
    Email,
    Phone,
    Address,
}

impl fmt::Display for PersonalDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PersonalDetail::Name => "a name",
            PersonalDetail::Email => "an e-mail address",
            PersonalDetail::Phone => "a phone number",
            PersonalDetail::Address => "an address",
        })
    }
}

/// Words of question ids (split at `_`) that ask for a personal detail in a
/// text question, in Dutch and English.
const PERSONAL_WORDS: &[(&str, PersonalDetail)] = &[
    ("naam", PersonalDetail::Name),
    ("voornaam", PersonalDetail::Name),
    ("achternaam", PersonalDetail::Name),
    ("roepnaam", PersonalDetail::Name),
    ("voorletters", PersonalDetail::Name),
    ("name", PersonalDetail::Name),
    ("firstname", PersonalDetail::Name),
    ("lastname", PersonalDetail::Name),
    ("surname", PersonalDetail::Name),
    ("fullname", PersonalDetail::Name),
    ("email", PersonalDetail::Email),
    ("emailadres", PersonalDetail::Email),
    ("mail", PersonalDetail::Email),
    ("mailadres", PersonalDetail::Email),
    ("telefoon", PersonalDetail::Phone),
    ("telefoonnummer", PersonalDetail::Phone),
    ("telnr", PersonalDetail::Phone),
    ("tel", PersonalDetail::Phone),
    ("mobiel", PersonalDetail::Phone),
    ("mobile", PersonalDetail::Phone),
    ("gsm", PersonalDetail::Phone),
    ("phone", PersonalDetail::Phone),
    ("whatsapp", PersonalDetail::Phone),
    ("adres", PersonalDetail::Address),
    ("woonadres", PersonalDetail::Address),
    ("huisadres", PersonalDetail::Address),
    ("address", PersonalDetail::Address),
    ("straat", PersonalDetail::Address),
    ("straatnaam", PersonalDetail::Address),
    ("street", PersonalDetail::Address),
    ("huisnummer", PersonalDetail::Address),
    ("postcode", PersonalDetail::Address),
    ("zipcode", PersonalDetail::Address),
];

/// Whether a question asks for a personal detail, judged as residents'
/// browsers would: a text question checked as an e-mail address or phone
/// number (offered with `autocomplete="email"` / `"tel"`), or a text
/// question whose id names a detail (`naam`, `email`, `telefoon`, `adres`,
/// `e_mail`, `postcode`…). Works on the file format's spelling, so the
/// XLSForm import can ask before a definition exists.
pub fn personal_detail(id: &str, type_name: &str, format: Option<&str>) -> Option<PersonalDetail> {
    if !matches!(type_name, "short_text" | "long_text") {
        return None;
    }
    match format {
        Some("email") => return Some(PersonalDetail::Email),
        Some("phone") => return Some(PersonalDetail::Phone),
        _ => {}
    }
    let id = id.to_ascii_lowercase();
    if id.contains("e_mail") {
        return Some(PersonalDetail::Email);
    }
    id.split(['_', '-']).find_map(|word| PERSONAL_WORDS.iter().find(|(w, _)| *w == word).map(|(_, d)| *d))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: LocalText,
}

/// The option value of "anders, namelijk"; option lists may not use it.
pub const OTHER: &str = "other";

/// Checked formats of a short text answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    Email,
    Phone,
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
        other: bool,
    },
    MultipleChoice {
        options: Vec<Choice>,
        other: bool,
        max_choices: Option<usize>,
    },
    /// Answered `yes` or `no`.
    YesNo,
    /// A whole number in a range, such as years or hours.
    Number {
        min: i32,
        max: i32,
        unit: Option<LocalText>,
    },
    Text {
        long: bool,
        max_length: usize,
        format: Option<TextFormat>,
    },
    /// Only shown; it has no answer.
    Statement,
    /// A checkbox; its answer is `yes`.
    Consent,
}

impl QuestionKind {
    /// Every type's name, as files spell it, in the order forms offer them.
    pub const TYPE_NAMES: [&'static str; 9] = [
        "scale",
        "single_choice",
        "multiple_choice",
        "yes_no",
        "number",
        "short_text",
        "long_text",
        "statement",
        "consent",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            QuestionKind::Scale { .. } => "scale",
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::MultipleChoice { .. } => "multiple_choice",
            QuestionKind::YesNo => "yes_no",
            QuestionKind::Number { .. } => "number",
            QuestionKind::Text { long: false, .. } => "short_text",
            QuestionKind::Text { long: true, .. } => "long_text",
            QuestionKind::Statement => "statement",
            QuestionKind::Consent => "consent",
        }
    }

    /// Whether answers of two versions of a question can be counted together:
    /// same type and the same possible values (texts may be reworded).
    pub fn same_answer_space(&self, other: &QuestionKind) -> bool {
        use QuestionKind::*;
        let same_values =
            |a: &[Choice], b: &[Choice]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.value == y.value);
        match (self, other) {
            (Scale { min: a, max: b, .. }, Scale { min: c, max: d, .. }) => a == c && b == d,
            (Number { min: a, max: b, .. }, Number { min: c, max: d, .. }) => a == c && b == d,
            (SingleChoice { options: a, .. }, SingleChoice { options: b, .. }) => same_values(a, b),
            (MultipleChoice { options: a, .. }, MultipleChoice { options: b, .. }) => same_values(a, b),
            (YesNo, YesNo) | (Consent, Consent) => true,
            _ => false,
        }
    }

    /// The values a choice-like answer can take, in display order
    /// (`other` last when offered).
    pub fn choice_values(&self) -> Vec<&str> {
        match self {
            QuestionKind::SingleChoice { options, other } | QuestionKind::MultipleChoice { options, other, .. } => {
                options.iter().map(|o| o.value.as_str()).chain(other.then_some(OTHER)).collect()
            }
            QuestionKind::YesNo => vec!["yes", "no"],
            QuestionKind::Consent => vec!["yes"],
            _ => Vec::new(),
        }
    }

    /// Every possible choice with its label, in display order: the options,
    /// then "anders" when offered; yes/no and consent have fixed labels.
    pub fn choices(&self) -> Vec<Choice> {
        let fixed = |value: &str, nl: &str, en: &str| Choice {
            value: value.into(),
            label: LocalText { nl: nl.into(), en: en.into() },
        };
        match self {
            QuestionKind::SingleChoice { options, other } | QuestionKind::MultipleChoice { options, other, .. } => {
                let mut all = options.clone();
                if *other {
                    all.push(fixed(OTHER, "Anders, namelijk", "Other, namely"));
                }
                all
            }
            QuestionKind::YesNo => vec![fixed("yes", "Ja", "Yes"), fixed("no", "Nee", "No")],
            QuestionKind::Consent => vec![fixed("yes", "Ja, ik ga akkoord", "Yes, I agree")],
            _ => Vec::new(),
        }
    }

    /// Free text is kept apart and never counted.
    pub fn is_free_text(&self) -> bool {
        matches!(self, QuestionKind::Text { .. })
    }

    /// Whether the question takes an answer at all.
    pub fn is_answerable(&self) -> bool {
        !matches!(self, QuestionKind::Statement)
    }
}

impl Question {
    /// The personal detail this question asks for, if any.
    pub fn personal_detail(&self) -> Option<PersonalDetail> {
        let format = match &self.kind {
            QuestionKind::Text { format: Some(TextFormat::Email), .. } => Some("email"),
            QuestionKind::Text { format: Some(TextFormat::Phone), .. } => Some("phone"),
            _ => None,
        };
        personal_detail(self.id.as_str(), self.kind.type_name(), format)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: QuestionId,
    pub text: LocalText,
    pub help: Option<LocalText>,
    pub required: bool,
    pub show_if: Option<Condition>,
    pub kind: QuestionKind,
    /// Set on the single choice that gives a respondent's age band or gender.
    pub weighting: Option<Weighting>,
}

/// How a question's options place respondents in the categories of a
/// weighting variable; options not listed place nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weighting {
    pub variable: Variable,
    pub categories: BTreeMap<String, Category>,
}

/// Questions shown together; pages are answered one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Unique in the questionnaire; the same syntax as a question id.
    pub id: QuestionId,
    pub title: Option<LocalText>,
    pub show_if: Option<Condition>,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub slug: Slug,
    pub kind: Kind,
    pub title: LocalText,
    pub intro: Option<LocalText>,
    /// Why an identified questionnaire asks, who reads it, how long it is kept.
    pub purpose: Option<LocalText>,
    /// Answered only through an invitation (a lottery), never by open link.
    pub invitation_only: bool,
    /// Identified questionnaires only: months their answers are kept.
    pub retention_months: Option<u32>,
    pub pages: Vec<Page>,
}

/// A change between two versions of a questionnaire that touches what
/// residents were promised; only an administrator may publish it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrivacyChange {
    #[error("the kind changes from {from} to {to}")]
    Kind { from: Kind, to: Kind },
    #[error("the purpose is removed")]
    PurposeRemoved,
    #[error("answers would be kept longer: {from} months become {to}")]
    LongerRetention { from: u32, to: u32 },
}

impl Definition {
    /// What `self`, as the next version of `previous`, changes in the
    /// privacy promise: kind, purpose, retention.
    pub fn privacy_changes(&self, previous: &Definition) -> Vec<PrivacyChange> {
        let mut changes = Vec::new();
        if self.kind != previous.kind {
            changes.push(PrivacyChange::Kind { from: previous.kind, to: self.kind });
        }
        if previous.purpose.is_some() && self.purpose.is_none() {
            changes.push(PrivacyChange::PurposeRemoved);
        }
        if let (Some(from), Some(to)) = (previous.retention(), self.retention()) {
            if to > from {
                changes.push(PrivacyChange::LongerRetention { from, to });
            }
        }
        changes
    }
}

/// How long identified answers are kept when a questionnaire does not say.
pub const DEFAULT_RETENTION_MONTHS: u32 = 12;
/// The longest retention a questionnaire may declare.
pub const MAX_RETENTION_MONTHS: u32 = 60;

impl Definition {
    /// Months identified answers are kept; `None` for anonymous questionnaires,
    /// whose responses hold nothing personal.
    pub fn retention(&self) -> Option<u32> {
        (self.kind == Kind::Identified).then(|| self.retention_months.unwrap_or(DEFAULT_RETENTION_MONTHS))
    }

    /// Every question, page by page.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.pages.iter().flat_map(|p| p.questions.iter())
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions().find(|q| q.id.as_str() == id)
    }

    /// The page that holds a question.
    /// The question that places respondents by `variable`, if any.
    pub fn weighting_question(&self, variable: Variable) -> Option<(&Question, &Weighting)> {
        self.questions().find_map(|q| q.weighting.as_ref().filter(|w| w.variable == variable).map(|w| (q, w)))
    }

    pub fn page_of(&self, id: &str) -> Option<usize> {
        self.pages.iter().position(|p| p.questions.iter().any(|q| q.id.as_str() == id))
    }
}
