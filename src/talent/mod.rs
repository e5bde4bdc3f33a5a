//! Talent matching: profiles from the talentenscan given with consent for
//! contact, the catalogue of initiatives in a buurt, matching both ways with
//! reasons, outcomes, and who may see what. Knows nothing of HTTP.

pub mod access;
pub mod audit;
pub mod initiative;
pub mod mail;
pub mod matching;
pub mod outcome;
pub mod profile;
pub mod proposal;
mod token;

pub use access::Scope;
pub use initiative::{Initiative, InitiativeFields, NewInitiative, Vocabulary};
pub use matching::{Reason, Suggestion, Time};
pub use profile::{Profile, Renewal};
pub use token::ProfileToken;
