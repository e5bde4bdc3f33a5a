//! Insight: anonymised results per buurt, wijk and gemeente, per wave, with
//! disclosure control, comparisons, and their pictures.

pub mod chart;
pub mod choropleth;
pub mod compare;
pub mod disclosure;
pub mod export;
pub mod free_text;
pub mod live;
pub mod perturbation;
pub mod report;
mod results;
pub mod stats;
pub mod talent_map;
pub mod weighted;
pub mod weighting;

pub use live::LiveResults;
pub use results::{
    build_set, AnswerKey, AreaResult, ByCell, Output, QuestionFigures, QuestionMeta, RawCounts, ResultSet, SafeTable,
};
