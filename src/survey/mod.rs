//! Survey responses: waves, save-and-resume, anonymous responses (batched
//! for throughput) and identified responses given with consent.

mod identified;
pub mod open_link;
pub mod partial;
mod store;
pub mod wave;
mod writer;

pub use identified::{answers_json, identified_responses, purge_expired, store_identified, IdentifiedResponse};
pub use partial::{FormValues, Partial, ResumeCode};
pub use store::{closed_rows, purge_submission_keys, store_batch, Submission, SubmissionKey, SubmissionKeyError};
pub use wave::{NewWave, Opening, Wave, WaveError};
pub use writer::{SubmitError, Writer};
