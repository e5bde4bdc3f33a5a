//! Questionnaire definitions: the model, the TOML/JSON file format, answer
//! validation, and immutable published versions.

mod answers;
mod model;
mod parse;
mod store;

pub use answers::{Answer, AnswerError, Answers, RawAnswer};
pub use model::{Choice, Definition, Kind, LocalText, Question, QuestionId, QuestionKind, Slug};
pub use parse::{load_dir, parse_json, parse_toml, DefinitionError};
pub use store::{load_catalog, publish, Catalog, Published};
