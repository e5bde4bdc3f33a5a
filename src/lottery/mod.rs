//! Lottery: residents' registers, the stratified draw by lot and its
//! verifiable protocol (issue #4; see docs/lottery.md). Domain only: the CLI
//! and the web map these types to commands and pages.

mod campaign;
mod draw;
mod protocol;
mod register;
mod store;

pub use campaign::{draw_campaign, CampaignDraw, CampaignError, CampaignOutcome};
pub use draw::{
    canonical_register, draw, drawn_hash, largest_remainder, register_hash, selection_hash, stream_key, Allocation,
    Draw, DrawError, DrawParams, DrawnHash, Seed, Stratum, Stream, ALGORITHM, ALGORITHM_VERSION,
};
pub use protocol::{verify, Difference, Protocol, RegisterSummary, SelectionSummary, Verification, CANONICAL_FORM};
pub use register::{
    normalise_addition, parse_allocation, parse_register, parse_register_known, Address, Birth, Gender, Person,
    PersonId, Postcode, RegisterError, RegisterErrors, MAX_PERSON_ID,
};
pub use store::{
    check_campaign_name, drawn_since, find_campaign, load_protocol, load_register, publish, published_on, purge,
    save_draw, save_register, selected_people, Campaign, Purged, StoreError,
};

#[cfg(test)]
mod tests;
