//! Checking a resident's answers against a definition, once, at the edge:
//! pages in order, conditions on earlier answers, hidden questions dropped.

use std::collections::{BTreeMap, HashSet};

use super::condition::AnswerLookup;
use super::model::{Definition, QuestionId, QuestionKind, TextFormat, OTHER};
use crate::i18n::Lang;

/// An answer as it arrives: JSON numbers, strings and lists, or form strings.
#[derive(Debug, Clone, PartialEq)]
pub enum RawAnswer {
    Number(f64),
    Text(String),
    /// Several values: a multiple choice.
    List(Vec<String>),
    /// JSON `true`/`false`, objects or mixed lists: never a valid answer.
    Other,
}

impl From<&serde_json::Value> for RawAnswer {
    fn from(v: &serde_json::Value) -> RawAnswer {
        match v {
            serde_json::Value::Number(n) => n.as_f64().map(RawAnswer::Number).unwrap_or(RawAnswer::Other),
            serde_json::Value::String(s) => RawAnswer::Text(s.clone()),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(RawAnswer::List)
                .unwrap_or(RawAnswer::Other),
            _ => RawAnswer::Other,
        }
    }
}

/// The key under which the text of "anders, namelijk" arrives.
pub fn other_key(question: &str) -> String {
    format!("{question}.{OTHER}")
}

/// A checked answer; it fits its question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Scale(i32),
    Number(i32),
    /// A single choice, yes/no (`yes`, `no`) or a consent (`yes`); `other`
    /// holds the text of "anders, namelijk".
    Choice {
        value: String,
        other: Option<String>,
    },
    Choices {
        values: Vec<String>,
        other: Option<String>,
    },
    Text(String),
}

/// Checked answers of one response, in question order; hidden questions
/// have none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answers(Vec<(QuestionId, Answer)>);

impl Answers {
    pub fn iter(&self) -> impl Iterator<Item = &(QuestionId, Answer)> {
        self.0.iter()
    }

    pub fn get(&self, id: &str) -> Option<&Answer> {
        self.0.iter().find(|(q, _)| q.as_str() == id).map(|(_, a)| a)
    }
}

impl AnswerLookup for Answers {
    fn answer(&self, question: &str) -> Option<&Answer> {
        self.get(question)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    Required,
    ConsentRequired,
    NotAWholeNumber,
    OutOfRange {
        min: i32,
        max: i32,
    },
    UnknownOption,
    TooManyChoices {
        max: usize,
    },
    OtherTextMissing,
    TooLong {
        max: usize,
    },
    NotAnEmail,
    NotAPhone,
    WrongType,
    UnknownQuestion,
    /// An answer to a question that earlier answers hid.
    NotAsked,
}

impl AnswerError {
    pub fn message(&self, lang: Lang) -> String {
        use AnswerError::*;
        match (self, lang) {
            (Required, Lang::Nl) => "Deze vraag is verplicht.".into(),
            (Required, Lang::En) => "This question is required.".into(),
            (ConsentRequired, Lang::Nl) => "Zet een vinkje om verder te gaan.".into(),
            (ConsentRequired, Lang::En) => "Tick the box to continue.".into(),
            (NotAWholeNumber, Lang::Nl) => "Vul een heel getal in.".into(),
            (NotAWholeNumber, Lang::En) => "Enter a whole number.".into(),
            (OutOfRange { min, max }, Lang::Nl) => format!("Kies een getal van {min} tot en met {max}."),
            (OutOfRange { min, max }, Lang::En) => format!("Choose a number from {min} to {max}."),
            (UnknownOption, Lang::Nl) => "Kies een van de antwoorden.".into(),
            (UnknownOption, Lang::En) => "Choose one of the answers.".into(),
            (TooManyChoices { max }, Lang::Nl) => format!("Kies er hoogstens {max}."),
            (TooManyChoices { max }, Lang::En) => format!("Choose at most {max}."),
            (OtherTextMissing, Lang::Nl) => "U koos 'anders'. Schrijf op wat u bedoelt.".into(),
            (OtherTextMissing, Lang::En) => "You chose 'other'. Write down what you mean.".into(),
            (TooLong { max }, Lang::Nl) => format!("Gebruik hoogstens {max} tekens."),
            (TooLong { max }, Lang::En) => format!("Use at most {max} characters."),
            (NotAnEmail, Lang::Nl) => "Dit is geen e-mailadres. Een voorbeeld: naam@voorbeeld.nl".into(),
            (NotAnEmail, Lang::En) => "This is not an e-mail address. An example: name@example.com".into(),
            (NotAPhone, Lang::Nl) => "Dit is geen telefoonnummer. Een voorbeeld: 06 12345678".into(),
            (NotAPhone, Lang::En) => "This is not a phone number. An example: +31 6 12345678".into(),
            (WrongType, Lang::Nl) => "Dit soort antwoord past niet bij de vraag.".into(),
            (WrongType, Lang::En) => "This kind of answer does not fit the question.".into(),
            (UnknownQuestion, Lang::Nl) => "Deze vraag bestaat niet in deze vragenlijst.".into(),
            (UnknownQuestion, Lang::En) => "This question is not part of this questionnaire.".into(),
            (NotAsked, Lang::Nl) => "Deze vraag wordt niet gesteld bij uw eerdere antwoorden.".into(),
            (NotAsked, Lang::En) => "This question is not asked, given your earlier answers.".into(),
        }
    }
}

pub type AnswerErrors = BTreeMap<String, AnswerError>;

/// One pass over the pages: what is shown, what was accepted, what is wrong.
struct Walk {
    answers: Answers,
    errors: AnswerErrors,
    page_shown: Vec<bool>,
    /// Questions hidden by a condition of their own or of their page.
    hidden: HashSet<String>,
}

impl Definition {
    fn walk(&self, raw: &BTreeMap<String, RawAnswer>) -> Walk {
        let mut w = Walk {
            answers: Answers::default(),
            errors: BTreeMap::new(),
            page_shown: Vec::with_capacity(self.pages.len()),
            hidden: HashSet::new(),
        };
        // Conditions refer to earlier pages only (checked when parsing), so
        // one pass in page order sees every answer a condition needs.
        for page in &self.pages {
            let page_shown = page.show_if.as_ref().is_none_or(|c| c.holds(&w.answers));
            w.page_shown.push(page_shown);
            let mut accepted = Vec::new();
            for q in &page.questions {
                if !page_shown || !q.show_if.as_ref().is_none_or(|c| c.holds(&w.answers)) {
                    w.hidden.insert(q.id.to_string());
                    continue;
                }
                if !q.kind.is_answerable() {
                    continue;
                }
                let given = match raw.get(q.id.as_str()) {
                    Some(RawAnswer::Text(s)) if s.trim().is_empty() => None,
                    Some(RawAnswer::List(l)) if l.iter().all(|s| s.trim().is_empty()) => None,
                    other => other,
                };
                let Some(given) = given else {
                    if q.required {
                        let e = if q.kind == QuestionKind::Consent {
                            AnswerError::ConsentRequired
                        } else {
                            AnswerError::Required
                        };
                        w.errors.insert(q.id.to_string(), e);
                    }
                    continue;
                };
                let other_text = match raw.get(&other_key(q.id.as_str())) {
                    Some(RawAnswer::Text(s)) if !s.trim().is_empty() => Some(s.as_str()),
                    _ => None,
                };
                match check_one(&q.kind, given, other_text) {
                    Ok(a) => accepted.push((q.id.clone(), a)),
                    Err(e) => {
                        w.errors.insert(q.id.to_string(), e);
                    }
                }
            }
            w.answers.0.extend(accepted);
        }
        w
    }

    /// Checks a whole response, as the API receives it: every problem at
    /// once, keyed by question id. Empty strings count as not answered; an
    /// answer to a hidden or unknown question is an error.
    pub fn check_answers(&self, raw: &BTreeMap<String, RawAnswer>) -> Result<Answers, AnswerErrors> {
        let mut w = self.walk(raw);
        for id in raw.keys() {
            let (question, is_other) = match id.strip_suffix(&format!(".{OTHER}")) {
                Some(q) => (q, true),
                None => (id.as_str(), false),
            };
            let known = self.question(question).filter(|q| {
                q.kind.is_answerable()
                    && (!is_other
                        || matches!(
                            q.kind,
                            QuestionKind::SingleChoice { other: true, .. }
                                | QuestionKind::MultipleChoice { other: true, .. }
                        ))
            });
            if known.is_none() {
                w.errors.insert(truncate_key(id), AnswerError::UnknownQuestion);
            } else if w.hidden.contains(question) && !is_blank(&raw[id]) {
                w.errors.insert(question.to_owned(), AnswerError::NotAsked);
            }
        }
        if w.errors.is_empty() {
            Ok(w.answers)
        } else {
            Err(w.errors)
        }
    }

    /// The valid answers among the given ones, for conditions; problems are
    /// left for `check_page` to report.
    pub fn checked_leniently(&self, raw: &BTreeMap<String, RawAnswer>) -> Answers {
        self.walk(raw).answers
    }

    /// Which pages are shown, given the answers so far.
    pub fn shown_pages(&self, raw: &BTreeMap<String, RawAnswer>) -> Vec<bool> {
        self.walk(raw).page_shown
    }

    /// Checks the questions of one page (for a resident moving forward).
    pub fn check_page(&self, page: usize, raw: &BTreeMap<String, RawAnswer>) -> Result<(), AnswerErrors> {
        let Some(p) = self.pages.get(page) else { return Ok(()) };
        let errors: AnswerErrors = self
            .walk(raw)
            .errors
            .into_iter()
            .filter(|(id, _)| p.questions.iter().any(|q| q.id.as_str() == id))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Keeps only answers to questions that are shown: what a resident
    /// typed before going back and changing an earlier answer is dropped,
    /// never stored.
    pub fn drop_hidden(&self, raw: &BTreeMap<String, RawAnswer>) -> BTreeMap<String, RawAnswer> {
        let w = self.walk(raw);
        raw.iter()
            .filter(|(k, _)| {
                let q = k.strip_suffix(&format!(".{OTHER}")).unwrap_or(k);
                self.question(q).is_some() && !w.hidden.contains(q)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn is_blank(a: &RawAnswer) -> bool {
    match a {
        RawAnswer::Text(s) => s.trim().is_empty(),
        RawAnswer::List(l) => l.iter().all(|s| s.trim().is_empty()),
        _ => false,
    }
}

/// Unknown keys are echoed in errors; keep a hostile key from bloating them.
fn truncate_key(id: &str) -> String {
    id.chars().take(64).collect()
}

/// Control characters other than line breaks have no place in an answer
/// and can upset exports.
fn clean_text(s: &str) -> String {
    s.trim().chars().filter(|c| !c.is_control() || *c == '\n').collect()
}

const MAX_OTHER_TEXT: usize = 200;

fn whole_number(given: &RawAnswer, min: i32, max: i32) -> Result<i32, AnswerError> {
    let n = match given {
        RawAnswer::Number(n) => *n,
        RawAnswer::Text(s) => s.trim().parse::<f64>().map_err(|_| AnswerError::NotAWholeNumber)?,
        _ => return Err(AnswerError::WrongType),
    };
    if !n.is_finite() || n.fract() != 0.0 {
        return Err(AnswerError::NotAWholeNumber);
    }
    if n < f64::from(min) || n > f64::from(max) {
        return Err(AnswerError::OutOfRange { min, max });
    }
    Ok(n as i32)
}

fn other_text(chosen_other: bool, text: Option<&str>) -> Result<Option<String>, AnswerError> {
    match (chosen_other, text) {
        (false, _) => Ok(None),
        (true, None) => Err(AnswerError::OtherTextMissing),
        (true, Some(t)) if t.trim().chars().count() > MAX_OTHER_TEXT => {
            Err(AnswerError::TooLong { max: MAX_OTHER_TEXT })
        }
        (true, Some(t)) => Ok(Some(clean_text(t))),
    }
}

fn check_one(kind: &QuestionKind, given: &RawAnswer, other: Option<&str>) -> Result<Answer, AnswerError> {
    match kind {
        QuestionKind::Scale { min, max, .. } => whole_number(given, *min, *max).map(Answer::Scale),
        QuestionKind::Number { min, max, .. } => whole_number(given, *min, *max).map(Answer::Number),
        QuestionKind::SingleChoice { .. } | QuestionKind::YesNo | QuestionKind::Consent => {
            let value = match given {
                RawAnswer::Text(s) => s.trim(),
                RawAnswer::List(l) if l.len() == 1 => l[0].trim(),
                _ => return Err(AnswerError::WrongType),
            };
            let value = kind.choice_values().into_iter().find(|v| *v == value).ok_or(AnswerError::UnknownOption)?;
            Ok(Answer::Choice { value: value.to_owned(), other: other_text(value == OTHER, other)? })
        }
        QuestionKind::MultipleChoice { max_choices, .. } => {
            let given: Vec<&str> = match given {
                RawAnswer::Text(s) => vec![s.trim()],
                RawAnswer::List(l) => l.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect(),
                _ => return Err(AnswerError::WrongType),
            };
            // In option order, each once, whatever order the form sent.
            let allowed = kind.choice_values();
            if given.iter().any(|g| !allowed.contains(g)) {
                return Err(AnswerError::UnknownOption);
            }
            let values: Vec<String> = allowed.iter().filter(|v| given.contains(v)).map(|v| (*v).to_owned()).collect();
            if let Some(max) = max_choices.filter(|m| values.len() > *m) {
                return Err(AnswerError::TooManyChoices { max });
            }
            let other = other_text(values.iter().any(|v| v == OTHER), other)?;
            Ok(Answer::Choices { values, other })
        }
        QuestionKind::Text { max_length, format, .. } => match given {
            RawAnswer::Text(s) => {
                if s.trim().chars().count() > *max_length {
                    return Err(AnswerError::TooLong { max: *max_length });
                }
                let text = clean_text(s);
                match format {
                    Some(TextFormat::Email) if !looks_like_email(&text) => Err(AnswerError::NotAnEmail),
                    Some(TextFormat::Phone) if !looks_like_phone(&text) => Err(AnswerError::NotAPhone),
                    _ => Ok(Answer::Text(text)),
                }
            }
            _ => Err(AnswerError::WrongType),
        },
        QuestionKind::Statement => Err(AnswerError::UnknownQuestion),
    }
}

/// One `@`, something before it, a dotted domain after it, no spaces: what a
/// person can check by eye. Deliverability is not ours to judge.
fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// Digits with the usual separators, 8 to 15 digits (E.164), an optional `+`.
fn looks_like_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (8..=15).contains(&digits)
        && s.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || " -().".contains(c) || (c == '+' && i == 0))
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

    fn paged() -> Definition {
        crate::questionnaire::parse_toml(
            "p.toml",
            r#"
slug = "p"
kind = "identified"
purpose = { nl = "Proef", en = "Trial" }
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
id = "hobby"
type = "multiple_choice"
max_choices = 2
text = { nl = "Hobby", en = "Hobby" }
options = [ { value = "tuin", label = { nl = "Tuin", en = "Garden" } }, { value = "koken", label = { nl = "Koken", en = "Cooking" } }, { value = "sport", label = { nl = "Sport", en = "Sport" } } ]
other = true
[[pages.questions]]
id = "mail"
type = "short_text"
format = "email"
text = { nl = "Mail", en = "Mail" }
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
id = "akkoord"
type = "consent"
required = true
show_if = 'hobby = "tuin"'
text = { nl = "Akkoord", en = "Agree" }
"#,
        )
        .expect("valid")
    }

    fn text(s: &str) -> RawAnswer {
        RawAnswer::Text(s.into())
    }

    #[test]
    fn hidden_pages_and_questions_are_never_required_nor_stored() {
        let d = paged();
        // Owners never see page two: nothing there is required.
        let a = d.check_answers(&raw(&[("woon", text("koop"))])).unwrap();
        assert_eq!(a.iter().count(), 1);
        assert_eq!(d.shown_pages(&raw(&[("woon", text("koop"))])), vec![true, false]);
        // An answer to a hidden question is an error for the API...
        let errs = d.check_answers(&raw(&[("woon", text("koop")), ("verhuurder", text("8"))])).unwrap_err();
        assert_eq!(errs["verhuurder"], AnswerError::NotAsked);
        // ...and dropped, never stored, for a resident who went back.
        let kept = d.drop_hidden(&raw(&[("woon", text("koop")), ("verhuurder", text("8")), ("x", text("1"))]));
        assert_eq!(kept.keys().collect::<Vec<_>>(), vec!["woon"]);
        // Renters must answer page two; the consent only shows for gardeners.
        let renter = raw(&[("woon", text("huur"))]);
        assert_eq!(d.check_page(0, &renter), Ok(()));
        assert_eq!(d.check_page(1, &renter).unwrap_err()["verhuurder"], AnswerError::Required);
        assert!(!d.check_page(1, &renter).unwrap_err().contains_key("akkoord"));
        let gardener =
            raw(&[("woon", text("huur")), ("hobby", RawAnswer::List(vec!["tuin".into()])), ("verhuurder", text("6"))]);
        assert_eq!(d.check_page(1, &gardener).unwrap_err()["akkoord"], AnswerError::ConsentRequired);
    }

    #[test]
    fn choices_other_and_formats() {
        let d = paged();
        let ok = d
            .check_answers(&raw(&[
                ("woon", text("other")),
                ("woon.other", text("  woonboot ")),
                ("hobby", RawAnswer::List(vec!["sport".into(), "tuin".into()])),
                ("mail", text("a@b.nl")),
            ]))
            .unwrap();
        assert_eq!(ok.get("woon"), Some(&Answer::Choice { value: "other".into(), other: Some("woonboot".into()) }));
        // Stored in option order, whatever order the form sent.
        assert_eq!(
            ok.get("hobby"),
            Some(&Answer::Choices { values: vec!["tuin".into(), "sport".into()], other: None })
        );
        for (pairs, id, want) in [
            (vec![("woon", text("other"))], "woon", AnswerError::OtherTextMissing),
            (
                vec![
                    ("woon", text("huur")),
                    ("hobby", RawAnswer::List(vec!["tuin".into(), "koken".into(), "sport".into()])),
                ],
                "hobby",
                AnswerError::TooManyChoices { max: 2 },
            ),
            (
                vec![("woon", text("huur")), ("hobby", RawAnswer::List(vec!["golf".into()]))],
                "hobby",
                AnswerError::UnknownOption,
            ),
            (vec![("woon", text("huur")), ("mail", text("geen mail"))], "mail", AnswerError::NotAnEmail),
            (vec![("woon", RawAnswer::List(vec!["huur".into(), "koop".into()]))], "woon", AnswerError::WrongType),
            (vec![("woon", text("huur")), ("mail.other", text("x"))], "mail.other", AnswerError::UnknownQuestion),
        ] {
            let errs = d.check_answers(&raw(&pairs)).unwrap_err();
            assert_eq!(errs.get(id), Some(&want), "{pairs:?}");
        }
        assert!(looks_like_phone("+31 6 1234 5678") && looks_like_phone("040-2345678"));
        assert!(!looks_like_phone("12") && !looks_like_phone("06 1234 abcd"));
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
