//! The demo's lottery campaign: a synthetic register (clearly fake names and
//! addresses) over the buurten of two wijken, a draw with its protocol,
//! invitations with letters (some used), and sign-ups for the citizens'
//! panel, so a council member can select a LEXIMIN panel at once.
//! Deterministic: the same seed gives the same register, draw and answers.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::DemoError;
use crate::area::{AreaCode, AreaTree, Level};
use crate::db::DbError;
use crate::invite::{self, BaseUrl, CampaignName, Invitee, Issued};
use crate::lottery::{
    self, Address, Allocation, Birth, CampaignDraw, DrawParams, Gender, Person, PersonId, Postcode, Seed,
};
use crate::questionnaire::{Published, RawAnswer};
use crate::survey::store_identified;

pub const DEMO_CAMPAIGN: &str = "demo-burgerpanel";
/// The wijken the demo register covers: Centrum and Oud-Stratum.
const WIJKEN: [&str; 2] = ["WK077211", "WK077221"];
const DRAWN: u64 = 240;

const FIRST: [&str; 16] = [
    "Anna", "Bram", "Chaima", "Daan", "Eva", "Fatima", "Gijs", "Hanna", "Ilias", "Julia", "Kees", "Lotte", "Mehmet",
    "Noor", "Olga", "Pieter",
];
const LAST: [&str; 6] = ["Voorbeeld", "Verzonnen", "Proefpersoon", "Fictief", "Demo", "Testmans"];
const STREETS: [&str; 4] = ["Demostraat", "Proeflaan", "Voorbeeldweg", "Fictieplein"];

/// What the demo campaign added.
pub struct DemoCampaign {
    pub register: usize,
    pub drawn: usize,
    pub signups: usize,
    /// The link of one unused invitation, to try the resident's side.
    pub open_link: Option<String>,
}

fn store_err(e: impl std::fmt::Display) -> DemoError {
    DemoError::Db(DbError::Connect(e.to_string()))
}

/// The synthetic register: a few hundred people per buurt.
pub fn register(tree: &AreaTree, rng: &mut ChaCha20Rng) -> Vec<Person> {
    let buurten: Vec<&AreaCode> = tree
        .at_level(Level::Buurt)
        .filter(|b| b.parent.as_ref().is_some_and(|w| WIJKEN.contains(&w.as_str())))
        .map(|b| &b.code)
        .collect();
    let mut people = Vec::new();
    for (i, buurt) in buurten.iter().enumerate() {
        let households = rng.gen_range(90..220);
        for h in 0..households {
            let street = STREETS[rng.gen_range(0..STREETS.len())];
            let letters = [b'A' + (i % 20) as u8, b'A' + rng.gen_range(0..20u8)];
            let postcode = format!("56{:02}{}", 11 + i, String::from_utf8_lossy(&letters));
            let surname = LAST[rng.gen_range(0..LAST.len())];
            for _ in 0..rng.gen_range(1..=3) {
                let n = people.len() + 1;
                let gender = match rng.gen_range(0..100) {
                    0..=48 => Gender::Woman,
                    49..=97 => Gender::Man,
                    _ => Gender::Other,
                };
                people.push(Person {
                    id: PersonId::parse(&format!("demo-{n:05}")).expect("a short id"),
                    name: format!("{} {surname} (fictief)", FIRST[rng.gen_range(0..FIRST.len())]),
                    address: Address {
                        street: street.to_owned(),
                        house_number: h + 1,
                        addition: String::new(),
                        postcode: Postcode::parse(&postcode).expect("a demo postcode"),
                        city: "Eindhoven".to_owned(),
                    },
                    buurt: (*buurt).clone(),
                    birth: Birth::Year(rng.gen_range(1935..2009)),
                    gender,
                    email: rng.gen_bool(0.6).then(|| format!("demo-{n:05}@example.org")),
                });
            }
        }
    }
    people
}

/// A sign-up's answers, in line with the register (gender, age).
fn signup_answers(p: &Person, today: NaiveDate, rng: &mut ChaCha20Rng) -> BTreeMap<String, RawAnswer> {
    let pick = |rng: &mut ChaCha20Rng, options: &[(&str, u32)]| -> String {
        let total: u32 = options.iter().map(|o| o.1).sum();
        let mut x = rng.gen_range(0..total);
        for (v, w) in options {
            if x < *w {
                return (*v).to_owned();
            }
            x -= w;
        }
        options[0].0.to_owned()
    };
    let age = today.year() - p.birth.year();
    let leeftijd = match age {
        ..=24 => "jonger_25",
        25..=39 => "van_25_tot_40",
        40..=54 => "van_40_tot_55",
        55..=69 => "van_55_tot_70",
        _ => "vanaf_70",
    };
    let geslacht = match p.gender {
        Gender::Woman => "vrouw",
        Gender::Man => "man",
        _ => "anders",
    };
    let text = |s: String| RawAnswer::Text(s);
    BTreeMap::from([
        ("geslacht".to_owned(), text(geslacht.to_owned())),
        ("leeftijd".to_owned(), text(leeftijd.to_owned())),
        ("opleiding".to_owned(), text(pick(rng, &[("laag", 25), ("midden", 35), ("hoog", 40)]))),
        ("woonsituatie".to_owned(), text(pick(rng, &[("huur", 50), ("koop", 42), ("anders", 8)]))),
        ("thuistaal".to_owned(), text(pick(rng, &[("nederlands", 82), ("andere", 18)]))),
        ("naam".to_owned(), text(p.name.clone())),
        ("email".to_owned(), text(p.email.clone().unwrap_or_else(|| format!("{}@example.org", p.id.as_str())))),
        ("hulp_nodig".to_owned(), text(pick(rng, &[("no", 85), ("yes", 15)]))),
        ("hulp_welke".to_owned(), text("Vervoer naar de bijeenkomst (fictief)".to_owned())),
    ])
}

/// Adds the demo campaign unless it exists. `signup` is the panel sign-up
/// questionnaire (`panelaanmelding`); invitation links start with `base`
/// (where the demo server is reached).
pub fn seed_campaign(
    conn: &mut crate::db::AnyConnection,
    tree: &AreaTree,
    signup: &Published,
    base: &BaseUrl,
    seed: u64,
) -> Result<Option<DemoCampaign>, DemoError> {
    if lottery::find_campaign(conn, DEMO_CAMPAIGN).map_err(store_err)?.is_some() {
        return Ok(None);
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let people = register(tree, &mut rng);
    if people.is_empty() {
        return Ok(None);
    }
    let today = crate::clock::today();
    let params = DrawParams {
        size: DRAWN,
        allocation: Allocation::Proportional,
        min_age: 16,
        reference_date: today,
        one_per_address: true,
        exclude_months: None,
        excluded: vec![],
    };
    let request = CampaignDraw {
        campaign: DEMO_CAMPAIGN,
        people: &people,
        params,
        seed: Seed::parse("demo 2026: 7 3 9 1 4 8").expect("a valid seed"),
        seed_source: "fictieve demo-loting: getallen gekozen bij het maken van de demo",
    };
    lottery::draw_campaign(conn, request, today, chrono::Utc::now(), &mut |_| {}).map_err(store_err)?;
    let campaign = CampaignName::parse(DEMO_CAMPAIGN).expect("a valid name");
    let drawn = lottery::selected_people(conn, DEMO_CAMPAIGN).map_err(store_err)?;
    let invitees: Vec<Invitee> = drawn.iter().map(Invitee::of_person).collect::<Result<_, _>>().map_err(store_err)?;
    invite::create_invitations(conn, &campaign, signup.definition.slug.as_str(), base, &invitees, today)
        .map_err(store_err)?;
    // Letters as if printed: the tokens exist only here, so only the one
    // link printed on start can be used.
    let issued: Vec<Issued> =
        invite::letters_due(conn, &campaign).map_err(store_err)?.into_iter().map(Issued::new).collect();
    invite::record_letters(conn, &issued, 0, today).map_err(store_err)?;
    let by_key: BTreeMap<&str, &Person> = drawn.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut signups = 0;
    let mut open_link = None;
    for i in &issued {
        let Some(person) = by_key.get(i.recipient.person_key.as_str()) else { continue };
        if !rng.gen_bool(0.55) {
            open_link.get_or_insert_with(|| i.link());
            continue;
        }
        invite::mark_used(conn, i.recipient.invitation_id, today).map_err(store_err)?;
        let raw = signup_answers(person, today, &mut rng);
        let def = &signup.definition;
        let Ok(answers) = def.check_answers(&def.drop_hidden(&raw)) else { continue };
        store_identified(conn, signup.id, &person.buurt, &answers, today, today)?;
        signups += 1;
    }
    Ok(Some(DemoCampaign { register: people.len(), drawn: drawn.len(), signups, open_link }))
}
