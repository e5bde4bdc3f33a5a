//! Weighting for non-response: respondents of an area are raked (iterative
//! proportional fitting) to its population by age band and by gender, with
//! trimmed weights; estimates carry Kish's effective sample size and design
//! effect. When the margins do not fit, results fall back to unweighted
//! figures with a notice. The method: docs/weighting.md.
//!
//! Weights and cell counts are inputs to the safe table, never outputs: a
//! weight per cell would publish a breakdown by age and gender.

mod category;
mod estimate;
mod import;
mod margins;
mod placement;
mod rake;
mod store;
#[cfg(test)]
mod tests;

pub use category::{Category, Cell, Variable};
pub use estimate::{
    weighted_mean, weighted_share, weights_for_area, EstimateError, Observation, WeightedEstimate, WeightingOutcome,
};
pub use import::{parse_margins, MarginsError, MarginsFile, Skipped};
pub use margins::{cells_for_area, margins_for_area, Margins, RespondentCells};
pub use placement::Placement;
pub use rake::{rake, CellWeight, Collapse, RakeSettings, SettingsError, WeightingError, Weights};
pub use store::{answers_by_cell, fill_pending_cells, load_margins, respondent_cells, save_margins, CellAnswerRow};
