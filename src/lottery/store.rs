//! Campaigns, their registers, draws and selections in the database.
//! Personal data is only in `register_people` (and `draw_selected`, which
//! points into it); `purge` removes both and keeps counts and hashes.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::draw::{drawn_hash, register_hash, DrawnHash};
use super::protocol::Protocol;
use super::register::{Address, Birth, Gender, Person, PersonId, Postcode};
use crate::area::{AreaCode, Level};
use crate::db::schema::{campaign_publications, campaigns, draw_selected, drawn_hashes, draws, register_people};
use crate::db::{AnyConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Campaign {
    pub id: i32,
    pub name: String,
    pub created_on: NaiveDate,
    pub register_hash: String,
    pub register_size: i32,
    pub purged_on: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(
        "campaign {0:?} does not exist; import its register first (buurtpeil register import --campaign NAME FILE)"
    )]
    UnknownCampaign(String),
    #[error("campaign {name:?} already holds a different register (hash {hash}); use a new campaign name for a new register")]
    OtherRegister { name: String, hash: String },
    #[error("the register of campaign {name:?} was purged on {on}; its personal data is gone")]
    Purged { name: String, on: NaiveDate },
    #[error("campaign {name:?} was already drawn on {on}; a campaign is drawn once — use a new campaign name")]
    AlreadyDrawn { name: String, on: NaiveDate },
    #[error("campaign {0:?} has not been drawn yet")]
    NotDrawn(String),
    #[error("the campaign name must be 1 to 64 lower-case letters, digits, - or _")]
    BadName,
    #[error("stored person {0} no longer parses; the database was changed outside buurtpeil")]
    Corrupt(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> StoreError {
        StoreError::Db(DbError::Query(e))
    }
}

/// Rows per multi-row insert (13 values each; well below both backends'
/// limits on bound parameters).
const CHUNK: usize = 1000;

/// A campaign's name follows the one rule of `invite::CampaignName`, so the
/// register, the draw and the invitations of a campaign share it.
pub fn check_campaign_name(name: &str) -> Result<&str, StoreError> {
    crate::invite::CampaignName::parse(name).map_err(|_| StoreError::BadName)?;
    Ok(name.trim())
}

pub fn find_campaign(conn: &mut AnyConnection, name: &str) -> Result<Option<Campaign>, StoreError> {
    Ok(campaigns::table.filter(campaigns::name.eq(name.trim())).first::<Campaign>(conn).optional()?)
}

fn campaign(conn: &mut AnyConnection, name: &str) -> Result<Campaign, StoreError> {
    find_campaign(conn, name)?.ok_or_else(|| StoreError::UnknownCampaign(name.trim().to_owned()))
}

/// Stores a register as a new campaign, in one transaction: all or nothing.
/// Storing the same register again for the same campaign changes nothing
/// (returns false); a different register is refused. `progress` gets the
/// number of people stored so far.
pub fn save_register(
    conn: &mut AnyConnection,
    name: &str,
    people: &[Person],
    today: NaiveDate,
    progress: &mut dyn FnMut(usize),
) -> Result<(Campaign, bool), StoreError> {
    let name = check_campaign_name(name)?;
    let hash = register_hash(people);
    if let Some(existing) = find_campaign(conn, name)? {
        if let Some(on) = existing.purged_on {
            return Err(StoreError::Purged { name: name.into(), on });
        }
        if existing.register_hash != hash {
            return Err(StoreError::OtherRegister { name: name.into(), hash: existing.register_hash });
        }
        return Ok((existing, false));
    }
    let created = conn.transaction::<_, StoreError, _>(|conn| {
        diesel::insert_into(campaigns::table)
            .values((
                campaigns::name.eq(name),
                campaigns::created_on.eq(today),
                campaigns::register_hash.eq(&hash),
                campaigns::register_size.eq(people.len() as i32),
            ))
            .execute(conn)?;
        let created = campaign(conn, name)?;
        let mut done = 0;
        for chunk in people.chunks(CHUNK) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|p| {
                    (
                        register_people::campaign_id.eq(created.id),
                        register_people::person_id.eq(p.id.as_str()),
                        register_people::name.eq(&p.name),
                        register_people::street.eq(&p.address.street),
                        register_people::house_number.eq(p.address.house_number as i32),
                        register_people::house_addition.eq(&p.address.addition),
                        register_people::postcode.eq(p.address.postcode.as_str()),
                        register_people::city.eq(&p.address.city),
                        register_people::buurt.eq(p.buurt.as_str()),
                        register_people::birth_year.eq(p.birth.year()),
                        register_people::birth_date.eq(match p.birth {
                            Birth::Date(d) => Some(d),
                            Birth::Year(_) => None,
                        }),
                        register_people::gender.eq(p.gender.as_str()),
                        register_people::email.eq(p.email.as_deref()),
                    )
                })
                .collect();
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(register_people::table).values(&rows).execute(c))?;
            done += chunk.len();
            progress(done);
        }
        Ok(created)
    })?;
    Ok((created, true))
}

type PersonRow =
    (String, String, String, i32, String, String, String, String, i32, Option<NaiveDate>, String, Option<String>);

fn person_from_row(row: PersonRow) -> Result<Person, StoreError> {
    let (id, name, street, number, addition, postcode, city, buurt, year, date, gender, email) = row;
    let corrupt = || StoreError::Corrupt(id.clone());
    Ok(Person {
        id: PersonId::parse(&id).map_err(|_| corrupt())?,
        name,
        address: Address {
            street,
            house_number: u32::try_from(number).map_err(|_| corrupt())?,
            addition,
            postcode: Postcode::parse(&postcode).map_err(|_| corrupt())?,
            city,
        },
        buurt: AreaCode::parse(Level::Buurt, &buurt).map_err(|_| corrupt())?,
        birth: date.map(Birth::Date).unwrap_or(Birth::Year(year)),
        gender: Gender::parse(&gender).map_err(|_| corrupt())?,
        email,
    })
}

macro_rules! person_columns {
    () => {
        (
            register_people::person_id,
            register_people::name,
            register_people::street,
            register_people::house_number,
            register_people::house_addition,
            register_people::postcode,
            register_people::city,
            register_people::buurt,
            register_people::birth_year,
            register_people::birth_date,
            register_people::gender,
            register_people::email,
        )
    };
}

/// The stored register of a campaign, sorted by person id.
pub fn load_register(conn: &mut AnyConnection, name: &str) -> Result<Vec<Person>, StoreError> {
    let c = campaign(conn, name)?;
    if let Some(on) = c.purged_on {
        return Err(StoreError::Purged { name: c.name, on });
    }
    let rows: Vec<PersonRow> =
        register_people::table.filter(register_people::campaign_id.eq(c.id)).select(person_columns!()).load(conn)?;
    let mut people = rows.into_iter().map(person_from_row).collect::<Result<Vec<_>, _>>()?;
    people.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(people)
}

/// Stores a draw: its protocol, the selected people and their drawn hashes,
/// in one transaction. A campaign is drawn once.
pub fn save_draw(
    conn: &mut AnyConnection,
    name: &str,
    protocol: &Protocol,
    selected: &[PersonId],
) -> Result<(), StoreError> {
    let c = campaign(conn, name)?;
    if let Some(on) = c.purged_on {
        return Err(StoreError::Purged { name: c.name, on });
    }
    conn.transaction::<_, StoreError, _>(|conn| {
        if let Some(on) = draws::table.find(c.id).select(draws::drawn_on).first::<NaiveDate>(conn).optional()? {
            return Err(StoreError::AlreadyDrawn { name: c.name.clone(), on });
        }
        diesel::insert_into(draws::table)
            .values((
                draws::campaign_id.eq(c.id),
                draws::drawn_on.eq(protocol.drawn_on),
                draws::selection_hash.eq(&protocol.selection.hash),
                draws::protocol.eq(protocol.to_json()),
            ))
            .execute(conn)?;
        for chunk in selected.chunks(CHUNK) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|id| (draw_selected::campaign_id.eq(c.id), draw_selected::person_id.eq(id.as_str())))
                .collect();
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(draw_selected::table).values(&rows).execute(c))?;
            let hashes: Vec<_> = chunk
                .iter()
                .map(|id| {
                    (
                        drawn_hashes::campaign_id.eq(c.id),
                        drawn_hashes::person_hash.eq(drawn_hash(id, protocol.drawn_on)),
                        drawn_hashes::drawn_on.eq(protocol.drawn_on),
                    )
                })
                .collect();
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(drawn_hashes::table).values(&hashes).execute(c))?;
        }
        Ok(())
    })
}

/// The protocol of a campaign's draw, if it was drawn.
pub fn load_protocol(conn: &mut AnyConnection, name: &str) -> Result<Option<Protocol>, StoreError> {
    let c = campaign(conn, name)?;
    let text: Option<String> = draws::table.find(c.id).select(draws::protocol).first(conn).optional()?;
    text.map(|t| Protocol::from_json(&t).map_err(|_| StoreError::Corrupt(format!("protocol of {}", c.name))))
        .transpose()
}

/// The people drawn in a campaign, sorted by person id: who to invite.
pub fn selected_people(conn: &mut AnyConnection, name: &str) -> Result<Vec<Person>, StoreError> {
    let c = campaign(conn, name)?;
    if let Some(on) = c.purged_on {
        return Err(StoreError::Purged { name: c.name, on });
    }
    if draws::table.find(c.id).select(draws::campaign_id).first::<i32>(conn).optional()?.is_none() {
        return Err(StoreError::NotDrawn(c.name));
    }
    let rows: Vec<PersonRow> = register_people::table
        .inner_join(
            draw_selected::table.on(draw_selected::campaign_id
                .eq(register_people::campaign_id)
                .and(draw_selected::person_id.eq(register_people::person_id))),
        )
        .filter(register_people::campaign_id.eq(c.id))
        .select(person_columns!())
        .load(conn)?;
    let mut people = rows.into_iter().map(person_from_row).collect::<Result<Vec<_>, _>>()?;
    people.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(people)
}

/// Everyone drawn (in any campaign) on or after `since`, as hashes.
pub fn drawn_since(conn: &mut AnyConnection, since: NaiveDate) -> Result<Vec<DrawnHash>, StoreError> {
    let rows: Vec<(NaiveDate, String)> = drawn_hashes::table
        .filter(drawn_hashes::drawn_on.ge(since))
        .select((drawn_hashes::drawn_on, drawn_hashes::person_hash))
        .load(conn)?;
    Ok(rows.into_iter().map(|(drawn_on, person_hash)| DrawnHash { drawn_on, person_hash }).collect())
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub people: usize,
    pub selected: usize,
}

/// Deletes every personal field of a campaign: its register and its
/// selection. The campaign (name, register hash and size), the draw's
/// protocol and the drawn hashes stay. Purging twice is harmless.
pub fn purge(conn: &mut AnyConnection, name: &str, today: NaiveDate) -> Result<Purged, StoreError> {
    let c = campaign(conn, name)?;
    conn.transaction::<_, StoreError, _>(|conn| {
        let selected =
            diesel::delete(draw_selected::table.filter(draw_selected::campaign_id.eq(c.id))).execute(conn)?;
        let people =
            diesel::delete(register_people::table.filter(register_people::campaign_id.eq(c.id))).execute(conn)?;
        if c.purged_on.is_none() {
            diesel::update(campaigns::table.find(c.id)).set(campaigns::purged_on.eq(Some(today))).execute(conn)?;
        }
        Ok(Purged { people, selected })
    })
}

/// Makes a campaign's protocols public (the page `/campagnes/{name}`);
/// publishing again keeps the first date.
pub fn publish(conn: &mut AnyConnection, name: &str, today: NaiveDate) -> Result<NaiveDate, StoreError> {
    let name = check_campaign_name(name)?;
    if let Some(on) = published_on(conn, name)? {
        return Ok(on);
    }
    diesel::insert_into(campaign_publications::table)
        .values((campaign_publications::campaign.eq(name), campaign_publications::published_on.eq(today)))
        .execute(conn)?;
    Ok(today)
}

/// When a campaign was made public, if it was.
pub fn published_on(conn: &mut AnyConnection, name: &str) -> Result<Option<NaiveDate>, StoreError> {
    Ok(campaign_publications::table
        .find(name.trim())
        .select(campaign_publications::published_on)
        .first(conn)
        .optional()?)
}
