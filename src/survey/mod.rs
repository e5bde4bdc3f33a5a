//! Survey responses: storing anonymous responses, batched for throughput.

mod store;
mod writer;

pub use store::{store_batch, Submission};
pub use writer::{SubmitError, Writer};
