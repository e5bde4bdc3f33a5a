//! Drawing a campaign: the one way the CLI and the council's pages do it.
//! Checks that the campaign can be drawn, leaves out people drawn recently,
//! draws, and stores the register and the draw only when the draw worked.

use chrono::{DateTime, NaiveDate, Utc};

use super::draw::{draw, register_hash, Draw, DrawError, DrawParams, Seed};
use super::protocol::Protocol;
use super::register::Person;
use super::store::{
    check_campaign_name, drawn_since, find_campaign, load_protocol, save_draw, save_register, StoreError,
};
use crate::db::AnyConnection;

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("campaign {campaign:?}: cannot draw: {source}")]
    Draw { campaign: String, source: DrawError },
    #[error("the seed source may not hold control characters and at most 1000 characters")]
    SeedSource,
}

/// What a council asks for.
pub struct CampaignDraw<'a> {
    pub campaign: &'a str,
    pub people: &'a [Person],
    pub params: DrawParams,
    pub seed: Seed,
    /// How the seed was chosen, in words, for the protocol.
    pub seed_source: &'a str,
}

/// A draw that was stored, and its protocol to publish.
pub struct CampaignOutcome {
    pub draw: Draw,
    pub protocol: Protocol,
    /// People of this register drawn in earlier campaigns and left out.
    pub excluded: usize,
}

/// Draws a campaign once. `progress` hears how many people of a new
/// register are stored.
pub fn draw_campaign(
    conn: &mut AnyConnection,
    mut request: CampaignDraw,
    today: NaiveDate,
    now: DateTime<Utc>,
    progress: &mut dyn FnMut(usize),
) -> Result<CampaignOutcome, CampaignError> {
    let campaign = check_campaign_name(request.campaign)?;
    if request.seed_source.chars().any(char::is_control) || request.seed_source.chars().count() > 1000 {
        return Err(CampaignError::SeedSource);
    }
    if let Some(existing) = find_campaign(conn, campaign)? {
        if let Some(on) = existing.purged_on {
            return Err(StoreError::Purged { name: existing.name, on }.into());
        }
        if let Some(p) = load_protocol(conn, campaign)? {
            return Err(StoreError::AlreadyDrawn { name: existing.name, on: p.drawn_on }.into());
        }
        if existing.register_hash != register_hash(request.people) {
            return Err(StoreError::OtherRegister { name: existing.name, hash: existing.register_hash }.into());
        }
    }
    if let Some(since) = request.params.exclude_since() {
        let earlier = drawn_since(conn, since)?;
        request.params.exclude_matching(request.people, &earlier);
    }
    let result = draw(request.people, &request.params, &request.seed)
        .map_err(|source| CampaignError::Draw { campaign: campaign.to_owned(), source })?;
    let protocol = Protocol::new(campaign, &result, &request.params, &request.seed, request.seed_source.trim(), now);
    // Only a draw that worked stores anything.
    save_register(conn, campaign, request.people, today, progress)?;
    save_draw(conn, campaign, &protocol, &result.selected)?;
    Ok(CampaignOutcome { draw: result, protocol, excluded: request.params.excluded.len() })
}
