//! Insight: anonymised results per buurt, wijk and gemeente, with disclosure
//! control, and their pictures.

pub mod chart;
pub mod choropleth;
pub mod disclosure;
mod results;
pub mod stats;
pub mod weighting;

pub use results::{build_table, fetch_counts, AreaResult, Counts, QuestionFigures, QuestionMeta, SafeTable};
