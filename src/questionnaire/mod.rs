//! Questionnaire definitions: the model, the TOML/JSON file format, answer
//! validation, and immutable published versions.

mod answers;
mod condition;
pub mod draft;
mod model;
mod parse;
mod store;
pub mod xlsform;

pub use answers::{other_key, Answer, AnswerError, AnswerErrors, Answers, RawAnswer};
pub use condition::{AnswerLookup, Condition, ConditionError, Literal, Op};
pub use draft::{Draft, DraftError};
pub use model::{
    personal_detail, Choice, Definition, Kind, LocalText, Page, PersonalDetail, PrivacyChange, Question, QuestionId,
    QuestionKind, Slug, TextFormat, Weighting, DEFAULT_RETENTION_MONTHS, MAX_RETENTION_MONTHS, OTHER,
};
pub use parse::{
    load_dir, parse_json, parse_toml, DefinitionError, RawChoice, RawDefinition, RawPage, RawQuestion, RawWeighting,
};
pub use store::{
    catalog_mark, load_catalog, publish, read_catalog, set_archived, Approval, Catalog, CatalogMark, PublishError,
    Published,
};
pub use xlsform::{from_xlsx, XlsFormError, XlsFormErrors};

/// A small questionnaire for unit tests: a required and an optional scale,
/// a choice and a short text.
#[cfg(test)]
pub(crate) fn test_definition() -> Definition {
    parse_toml(
        "t.toml",
        r#"
slug = "t"
kind = "anonymous"
title = { nl = "T", en = "T" }
[[questions]]
id = "score"
type = "scale"
required = true
text = { nl = "Cijfer", en = "Mark" }
min_label = { nl = "laag", en = "low" }
max_label = { nl = "hoog", en = "high" }
[[questions]]
id = "extra"
type = "scale"
text = { nl = "Extra", en = "Extra" }
min_label = { nl = "laag", en = "low" }
max_label = { nl = "hoog", en = "high" }
[[questions]]
id = "keuze"
type = "single_choice"
text = { nl = "Keuze", en = "Choice" }
options = [ { value = "ja", label = { nl = "Ja", en = "Yes" } }, { value = "nee", label = { nl = "Nee", en = "No" } } ]
[[questions]]
id = "waarom"
type = "short_text"
max_length = 5
text = { nl = "Waarom", en = "Why" }
"#,
    )
    .expect("the test questionnaire is valid")
}
