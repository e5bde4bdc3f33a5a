//! Checking a resident's answers against a definition, once, at the edge.

use std::collections::BTreeMap;

use super::model::{Definition, QuestionId, QuestionKind};
use crate::i18n::Lang;

/// An answer as it arrives: JSON numbers and strings, or form strings.
#[derive(Debug, Clone, PartialEq)]
pub enum RawAnswer {
    Number(f64),
    Text(String),
    /// JSON `true`/`false`, arrays or objects: never a valid answer yet.
    Other,
}

impl From<&serde_json::Value> for RawAnswer {
    fn from(v: &serde_json::Value) -> RawAnswer {
        match v {
            serde_json::Value::Number(n) => n.as_f64().map(RawAnswer::Number).unwrap_or(RawAnswer::Other),
            serde_json::Value::String(s) => RawAnswer::Text(s.clone()),
            _ => RawAnswer::Other,
        }
    }
}

/// A checked answer; it fits its question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Scale(i32),
    Choice(String),
    Text(String),
}

/// Checked answers of one response, in question order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers(Vec<(QuestionId, Answer)>);

impl Answers {
    pub fn iter(&self) -> impl Iterator<Item = &(QuestionId, Answer)> {
        self.0.iter()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    Required,
    NotAWholeNumber,
    OutOfRange { min: i32, max: i32 },
    UnknownOption,
    TooLong { max: usize },
    WrongType,
    UnknownQuestion,
}

impl AnswerError {
    pub fn message(&self, lang: Lang) -> String {
        use AnswerError::*;
        match (self, lang) {
            (Required, Lang::Nl) => "Deze vraag is verplicht.".into(),
            (Required, Lang::En) => "This question is required.".into(),
            (NotAWholeNumber, Lang::Nl) => "Kies een heel getal.".into(),
            (NotAWholeNumber, Lang::En) => "Choose a whole number.".into(),
            (OutOfRange { min, max }, Lang::Nl) => {
                format!("Kies een getal van {min} tot en met {max}.")
            }
            (OutOfRange { min, max }, Lang::En) => format!("Choose a number from {min} to {max}."),
            (UnknownOption, Lang::Nl) => "Kies een van de antwoorden.".into(),
            (UnknownOption, Lang::En) => "Choose one of the answers.".into(),
            (TooLong { max }, Lang::Nl) => format!("Gebruik hoogstens {max} tekens."),
            (TooLong { max }, Lang::En) => format!("Use at most {max} characters."),
            (WrongType, Lang::Nl) => "Dit soort antwoord past niet bij de vraag.".into(),
            (WrongType, Lang::En) => "This kind of answer does not fit the question.".into(),
            (UnknownQuestion, Lang::Nl) => "Deze vraag bestaat niet in deze vragenlijst.".into(),
            (UnknownQuestion, Lang::En) => "This question is not part of this questionnaire.".into(),
        }
    }
}

impl Definition {
    /// Checks every answer; returns all problems at once, keyed by question id.
    /// Empty strings count as not answered.
    pub fn check_answers(&self, raw: &BTreeMap<String, RawAnswer>) -> Result<Answers, BTreeMap<String, AnswerError>> {
        let mut errors = BTreeMap::new();
        for id in raw.keys() {
            if self.question(id).is_none() {
                errors.insert(truncate_key(id), AnswerError::UnknownQuestion);
            }
        }
        let mut out = Vec::new();
        for q in &self.questions {
            let given = match raw.get(q.id.as_str()) {
                Some(RawAnswer::Text(s)) if s.trim().is_empty() => None,
                other => other,
            };
            let Some(given) = given else {
                if q.required {
                    errors.insert(q.id.to_string(), AnswerError::Required);
                }
                continue;
            };
            match check_one(&q.kind, given) {
                Ok(a) => out.push((q.id.clone(), a)),
                Err(e) => {
                    errors.insert(q.id.to_string(), e);
                }
            }
        }
        if errors.is_empty() {
            Ok(Answers(out))
        } else {
            Err(errors)
        }
    }
}

/// Unknown keys are echoed in errors; keep a hostile key from bloating them.
fn truncate_key(id: &str) -> String {
    id.chars().take(64).collect()
}

fn check_one(kind: &QuestionKind, given: &RawAnswer) -> Result<Answer, AnswerError> {
    match kind {
        QuestionKind::Scale { min, max, .. } => {
            let n = match given {
                RawAnswer::Number(n) => *n,
                RawAnswer::Text(s) => s.trim().parse::<f64>().map_err(|_| AnswerError::NotAWholeNumber)?,
                RawAnswer::Other => return Err(AnswerError::WrongType),
            };
            if !n.is_finite() || n.fract() != 0.0 {
                return Err(AnswerError::NotAWholeNumber);
            }
            if n < f64::from(*min) || n > f64::from(*max) {
                return Err(AnswerError::OutOfRange { min: *min, max: *max });
            }
            Ok(Answer::Scale(n as i32))
        }
        QuestionKind::SingleChoice { options } => match given {
            RawAnswer::Text(s) => options
                .iter()
                .find(|o| o.value == s.trim())
                .map(|o| Answer::Choice(o.value.clone()))
                .ok_or(AnswerError::UnknownOption),
            _ => Err(AnswerError::WrongType),
        },
        QuestionKind::Text { max_length, .. } => match given {
            RawAnswer::Text(s) => {
                let s = s.trim();
                if s.chars().count() > *max_length {
                    return Err(AnswerError::TooLong { max: *max_length });
                }
                // Control characters other than line breaks have no place in
                // an answer and can upset exports.
                Ok(Answer::Text(s.chars().filter(|c| !c.is_control() || *c == '\n').collect()))
            }
            _ => Err(AnswerError::WrongType),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn def() -> Definition {
        crate::questionnaire::test_definition()
    }

    fn raw(pairs: &[(&str, RawAnswer)]) -> BTreeMap<String, RawAnswer> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn accepts_valid_answers_from_json_and_forms() {
        let d = def();
        let a = d
            .check_answers(&raw(&[("score", RawAnswer::Number(7.0)), ("keuze", RawAnswer::Text("ja".into()))]))
            .unwrap();
        assert_eq!(a.iter().count(), 2);
        let b = d
            .check_answers(&raw(&[("score", RawAnswer::Text("10".into())), ("waarom", RawAnswer::Text(" ".into()))]))
            .unwrap();
        assert_eq!(b.iter().next().unwrap().1, Answer::Scale(10));
        assert_eq!(b.iter().count(), 1, "blank optional text is not an answer");
    }

    #[test]
    fn reports_every_problem() {
        let d = def();
        let errs = d
            .check_answers(&raw(&[
                ("keuze", RawAnswer::Text("misschien".into())),
                ("waarom", RawAnswer::Text("te lang antwoord".into())),
                ("hack", RawAnswer::Number(1.0)),
            ]))
            .unwrap_err();
        assert_eq!(errs["score"], AnswerError::Required);
        assert_eq!(errs["keuze"], AnswerError::UnknownOption);
        assert_eq!(errs["waarom"], AnswerError::TooLong { max: 5 });
        assert_eq!(errs["hack"], AnswerError::UnknownQuestion);
        for (v, e) in [
            (RawAnswer::Number(11.0), AnswerError::OutOfRange { min: 0, max: 10 }),
            (RawAnswer::Number(6.5), AnswerError::NotAWholeNumber),
            (RawAnswer::Number(f64::NAN), AnswerError::NotAWholeNumber),
            (RawAnswer::Text("zeven".into()), AnswerError::NotAWholeNumber),
            (RawAnswer::Other, AnswerError::WrongType),
        ] {
            assert_eq!(d.check_answers(&raw(&[("score", v)])).unwrap_err()["score"], e);
        }
    }

    proptest! {
        #[test]
        fn any_input_is_checked_without_panic(key in "\\PC{0,80}", text in "\\PC{0,40}", n in proptest::num::f64::ANY) {
            let d = def();
            let _ = d.check_answers(&raw(&[(key.as_str(), RawAnswer::Text(text.clone())), ("score", RawAnswer::Number(n))]));
            let _ = d.check_answers(&raw(&[("score", RawAnswer::Text(text))]));
        }

        #[test]
        fn accepted_scale_answers_lie_in_range(n in -100i32..100) {
            match def().check_answers(&raw(&[("score", RawAnswer::Number(n.into()))])) {
                Ok(a) => prop_assert!((0..=10).contains(&n) && a.iter().next().unwrap().1 == Answer::Scale(n)),
                Err(_) => prop_assert!(!(0..=10).contains(&n)),
            }
        }
    }
}
