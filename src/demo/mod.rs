//! The demo municipality: Eindhoven's real buurten, synthetic population
//! margins and a few thousand synthetic responses, spread unevenly so that
//! some buurten stay below the disclosure threshold. Reproducible: the same
//! seed gives the same data.

mod campaign;

use std::collections::BTreeMap;

use diesel::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::area::{parse_csv, save_areas, AreaCode, AreaTree, Level};
use crate::db::schema::{population_margins, responses};
use crate::db::{AnyConnection, DbError};
use crate::insight::weighting::{save_margins, Margins, MarginsFile, Variable};
use crate::map::{parse_geojson, save_boundaries};
use crate::questionnaire::{Published, QuestionKind, RawAnswer, OTHER};
use crate::survey::{store_batch, Submission};

pub use campaign::{register as demo_register, seed_campaign, DemoCampaign, DEMO_CAMPAIGN};

/// CBS Wijk- en Buurtkaart 2024, Eindhoven: 116 buurten in 20 wijken.
/// Bron: Kadaster / Centraal Bureau voor de Statistiek, 2024.
pub const EINDHOVEN_BUURTEN_CSV: &str = include_str!("../../data/cbs/eindhoven_buurten_2024.csv");

/// The same buurten as boundaries in RD New (CBS Gebiedsindelingen 2024 via
/// PDOK, generalised). Bron: Kadaster / CBS, CC BY 4.0.
pub const EINDHOVEN_BOUNDARIES_GEOJSON: &str = include_str!("../../data/cbs/eindhoven_buurten_2024_rd.geojson");

/// Simplification of stored boundaries, in metres: invisible at the scale
/// of a municipality, and it keeps shared borders shared.
pub const BOUNDARY_TOLERANCE: f64 = 5.0;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the shipped area list is broken: {0}")]
    Areas(#[from] crate::area::ImportError),
    #[error("the shipped map is broken: {0}")]
    Map(#[from] crate::map::MapImportError),
    #[error(transparent)]
    Account(crate::auth::AccountError),
}

/// Stores Eindhoven's gemeente, wijken and buurten.
pub fn load_areas(conn: &mut AnyConnection) -> Result<usize, DemoError> {
    let areas = parse_csv("eindhoven_buurten_2024.csv", EINDHOVEN_BUURTEN_CSV.as_bytes())?;
    Ok(save_areas(conn, &areas)?)
}

/// Stores Eindhoven's buurt boundaries (after `load_areas`). Returns how
/// many buurten have one.
pub fn load_boundaries(conn: &mut AnyConnection) -> Result<usize, DemoError> {
    let tree = crate::area::load_tree(conn)?;
    let map = parse_geojson("eindhoven_buurten_2024_rd.geojson", EINDHOVEN_BOUNDARIES_GEOJSON.as_bytes(), &tree)?;
    let simplified: Vec<_> = map.boundaries.iter().map(|b| b.simplified(BOUNDARY_TOLERANCE)).collect();
    Ok(save_boundaries(conn, &simplified)?)
}

/// Gives every buurt of the demo population margins (residents of 15 and
/// older by age band and gender), unless margins are stored already.
/// **Synthetic**: plausible figures made from a seed, not CBS figures (the
/// shipped CBS data holds areas and boundaries only); stored with source
/// `demo` so nobody takes them for real ones. Returns how many buurten got
/// margins.
pub fn load_margins(conn: &mut AnyConnection, tree: &AreaTree, seed: u64) -> Result<usize, DemoError> {
    let stored: i64 = population_margins::table.count().get_result(conn).map_err(DbError::from)?;
    if stored > 0 {
        return Ok(0);
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5eed_0fca);
    let mut areas = BTreeMap::new();
    for buurt in tree.at_level(Level::Buurt) {
        let adults: f64 = rng.gen_range(400.0..6000.0);
        // Some buurten are young (students, starters), some grey.
        let tilt: f64 = rng.gen_range(-1.0..1.0);
        let shares = [0.13 + 0.08 * tilt.max(0.0), 0.33 + 0.07 * tilt, 0.32, 0.22 - 0.09 * tilt];
        let sum: f64 = shares.iter().sum();
        let mut m = Margins::new();
        let mut total = 0;
        for (band, share) in Variable::AgeBand.categories().iter().zip(shares) {
            let n = (adults * share / sum / 5.0).round() as u64 * 5;
            m.set(Variable::AgeBand.category(band).expect("a band"), n);
            total += n;
        }
        let men = (total as f64 * rng.gen_range(0.47..0.52)).round() as u64;
        m.set(Variable::Gender.category("man").expect("known"), men);
        m.set(Variable::Gender.category("vrouw").expect("known"), total - men);
        areas.insert(buurt.code.to_string(), m);
    }
    let file = MarginsFile { format: "demo", areas, skipped: Vec::new(), elsewhere: 0 };
    let today = crate::clock::today();
    Ok(save_margins(conn, &file, "demo", today)?)
}

/// How likely a synthetic resident of each age band (15–24 … 65+) is to
/// answer: the young least, as in real surveys, so weighting has work to do.
const DEMO_AGE_REACH: [f64; 4] = [0.10, 0.24, 0.36, 0.30];

/// Adds about `total` synthetic responses to a questionnaire unless it has
/// responses already. Returns how many were added.
pub fn seed_responses(
    conn: &mut AnyConnection,
    tree: &AreaTree,
    questionnaire: &Published,
    total: usize,
    seed: u64,
) -> Result<usize, DemoError> {
    let existing: i64 = responses::table
        .filter(responses::questionnaire_version_id.eq(questionnaire.id))
        .count()
        .get_result(conn)
        .map_err(DbError::from)?;
    if existing > 0 {
        return Ok(0);
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let buurten: Vec<&AreaCode> = tree.at_level(Level::Buurt).map(|a| &a.code).collect();
    if buurten.is_empty() {
        return Ok(0);
    }
    // Uneven reach: most buurten get a fair share, a few almost nobody.
    let weights: Vec<f64> = buurten
        .iter()
        .map(|_| if rng.gen_bool(0.12) { rng.gen_range(0.0..0.25) } else { rng.gen_range(0.3..2.5) })
        .collect();
    let sum: f64 = weights.iter().sum();
    let today = crate::clock::today();
    let mut added = 0;
    for (code, w) in buurten.iter().zip(&weights) {
        let count = (w / sum * total as f64).round() as usize;
        // A buurt's own mood: some buurten are happier than others.
        let mood: f64 = rng.gen_range(-1.2..0.9);
        let mut batch = Vec::with_capacity(count);
        for _ in 0..count {
            let mut raw = BTreeMap::new();
            let age = pick(&mut rng, &DEMO_AGE_REACH);
            // The young a little less content, the old a little more.
            let age_mood = [-0.9, -0.2, 0.1, 0.5][age];
            let woman = rng.gen_bool(0.56);
            for q in questionnaire.definition.questions() {
                if !q.required && rng.gen_bool(0.08) {
                    continue;
                }
                if let Some(w) = &q.weighting {
                    let category = match w.variable {
                        Variable::AgeBand => Variable::AgeBand.categories()[age],
                        Variable::Gender => ["man", "vrouw"][usize::from(woman)],
                    };
                    // A few prefer not to say: an option that places nobody.
                    let unplaced = q.kind.choice_values().into_iter().find(|v| !w.categories.contains_key(*v));
                    let value = match unplaced {
                        Some(v) if rng.gen_bool(0.04) => Some(v.to_owned()),
                        _ => w.categories.iter().find(|(_, c)| c.as_str() == category).map(|(v, _)| v.clone()),
                    };
                    if let Some(v) = value {
                        raw.insert(q.id.to_string(), RawAnswer::Text(v));
                    }
                    continue;
                }
                let answer = match &q.kind {
                    QuestionKind::Scale { min, max, .. } | QuestionKind::Number { min, max, .. } => {
                        let span = f64::from(max - min);
                        let centre = f64::from(*min) + span * (0.72 + (mood + age_mood) / 10.0);
                        let noise: f64 = (0..4).map(|_| rng.gen_range(-1.0..1.0)).sum::<f64>() * span / 9.0;
                        RawAnswer::Number((centre + noise).round().clamp(f64::from(*min), f64::from(*max)))
                    }
                    QuestionKind::MultipleChoice { options, .. } => RawAnswer::List(
                        options.iter().filter(|_| rng.gen_bool(0.35)).map(|o| o.value.clone()).collect(),
                    ),
                    QuestionKind::SingleChoice { .. } | QuestionKind::YesNo | QuestionKind::Consent => {
                        let options: Vec<_> = q.kind.choices().into_iter().filter(|c| c.value != OTHER).collect();
                        // Earlier options (the positive ones) more often,
                        // the more so in a happier buurt.
                        let weights: Vec<f64> =
                            (0..options.len()).map(|i| (-(i as f64) * (0.9 + mood / 3.0)).exp()).collect();
                        RawAnswer::Text(options[pick(&mut rng, &weights)].value.clone())
                    }
                    QuestionKind::Text { .. } | QuestionKind::Statement => continue,
                };
                raw.insert(q.id.to_string(), answer);
            }
            if let Ok(answers) = questionnaire.definition.check_answers(&questionnaire.definition.drop_hidden(&raw)) {
                batch.push(Submission::new(questionnaire, (*code).clone(), answers));
            }
        }
        for chunk in batch.chunks(200) {
            let day = today - chrono::Days::new(rng.gen_range(0..28));
            store_batch(conn, chunk, day)?;
        }
        added += batch.len();
    }
    Ok(added)
}

/// The demo verbinder: works in wijk Centrum.
pub const DEMO_VERBINDER: &str = "verbinder@buurtpeil.local";
/// The wijk of the demo verbinder.
pub const DEMO_WIJK: &str = "WK077211";

/// Fictitious residents of the demo (clearly marked as such): buurt,
/// name, talents, wants to learn, wants to do, for whom, time.
#[allow(clippy::type_complexity)]
const DEMO_PROFILES: [(&str, &str, &[&str], &[&str], &[&str], &[&str], &str); 7] = [
    ("BU07721130", "Fatima (fictief)", &["koken", "talen"], &["computers"], &["samen_eten"], &["ouderen"], "wekelijks"),
    ("BU07721130", "Kees (fictief)", &["klussen", "techniek"], &["koken"], &["klussen"], &["buren"], "af_en_toe"),
    (
        "BU07721110",
        "Anouk (fictief)",
        &["organiseren", "muziek_kunst"],
        &["talen"],
        &["zelf_opzetten"],
        &["kinderen"],
        "maandelijks",
    ),
    (
        "BU07721120",
        "Mehmet (fictief)",
        &["computers", "administratie"],
        &["tuin"],
        &["digitaal", "papierwerk"],
        &["ouderen", "nieuwkomers"],
        "wekelijks",
    ),
    ("BU07721140", "Sanne (fictief)", &["tuin", "kinderen"], &["klussen"], &["groen"], &["iedereen"], "af_en_toe"),
    ("BU07722110", "Henk (fictief, Oud-Stratum)", &["koken"], &[], &["samen_eten"], &["ouderen"], "wekelijks"),
    ("BU07722120", "Priya (fictief, Oud-Stratum)", &["computers"], &[], &["digitaal"], &["ouderen"], "maandelijks"),
];

/// Demo initiatives: buurt, name, kind, offer, skills needed, can learn,
/// activities, audience, time.
#[allow(clippy::type_complexity)]
const DEMO_INITIATIVES: [(&str, &str, &str, &str, &str, &str, &str, &str, &str); 6] = [
    (
        "BU07721130",
        "Buurtkeuken Witte Dame (fictief)",
        "activiteit",
        "Elke dinsdagavond samen koken en eten.",
        "koken",
        "koken",
        "samen_eten",
        "ouderen buren",
        "wekelijks",
    ),
    (
        "BU07721110",
        "Repair Café Centrum (fictief)",
        "initiatief",
        "Samen spullen repareren in plaats van weggooien.",
        "klussen techniek",
        "klussen techniek",
        "klussen",
        "iedereen",
        "maandelijks",
    ),
    (
        "BU07721120",
        "Digicafé Bergen (fictief)",
        "activiteit",
        "Hulp bij telefoon, computer en DigiD.",
        "computers",
        "computers",
        "digitaal",
        "ouderen",
        "af_en_toe",
    ),
    (
        "BU07721140",
        "Moestuin Fellenoord (fictief)",
        "club",
        "Een gezamenlijke moestuin achter de flat.",
        "tuin",
        "tuin",
        "groen",
        "iedereen",
        "af_en_toe",
    ),
    (
        "BU07721130",
        "Hulpvraag: boodschappen voor mevrouw J. (fictief)",
        "hulpvraag",
        "Wekelijks boodschappen doen voor een buurvrouw.",
        "zorg",
        "",
        "buur_helpen",
        "ouderen",
        "wekelijks",
    ),
    (
        "BU07722110",
        "Taalcafé Stratum (fictief)",
        "activiteit",
        "Nederlands oefenen met buren.",
        "talen",
        "talen",
        "kennis_delen",
        "nieuwkomers",
        "wekelijks",
    ),
];

/// What `seed_talent` made: the verbinder's new password and, when a demo
/// profile exists, a fresh private link path for it.
pub struct DemoTalent {
    pub verbinder_password: String,
    pub profile_link: Option<String>,
}

/// The demo verbinder (new random password every start, wijk Centrum),
/// fictitious profiles and initiatives (once), and a fresh private link for
/// the first demo profile.
pub fn seed_talent(
    conn: &mut AnyConnection,
    talentenscan: &Published,
    tree: &AreaTree,
) -> Result<DemoTalent, DemoError> {
    use crate::auth::{reset_demo_account, EmailAddress, Role};
    use crate::db::schema::{talent_initiatives as ti, talent_profiles as tp};
    use crate::talent::{access, initiative, profile, InitiativeFields, NewInitiative, ProfileToken, Vocabulary};

    let email = EmailAddress::parse(DEMO_VERBINDER).expect("the demo address is valid");
    let verbinder_password = reset_demo_account(conn, &email, Role::Professional).map_err(DemoError::Account)?;
    let user = crate::auth::find_by_email(conn, &email)?.expect("just made");
    let wijk = AreaCode::parse(Level::Wijk, DEMO_WIJK).expect("a wijk code");
    access::assign(conn, user.id, std::slice::from_ref(&wijk))?;

    let today = crate::clock::today();
    let profiles: i64 = tp::table.count().get_result(conn).map_err(DbError::from)?;
    if profiles == 0 {
        let def = &talentenscan.definition;
        for (buurt, name, skills, learn, doen, audience, time) in DEMO_PROFILES {
            let list = |v: &[&str]| RawAnswer::List(v.iter().map(|s| s.to_string()).collect());
            let mut raw = BTreeMap::new();
            raw.insert("talenten".to_owned(), list(skills));
            raw.insert("leren".to_owned(), list(learn));
            raw.insert("doen_buurt".to_owned(), list(doen));
            raw.insert("voor_wie".to_owned(), list(audience));
            raw.insert("tijd".to_owned(), RawAnswer::Text(time.into()));
            raw.insert("benaderen".to_owned(), list(&["email"]));
            raw.insert("contact_ok".to_owned(), RawAnswer::Text("yes".into()));
            raw.insert("naam".to_owned(), RawAnswer::Text(name.into()));
            raw.insert("email".to_owned(), RawAnswer::Text("demo@example.org".into()));
            if skills.contains(&"talen") {
                raw.insert("talen_welke".to_owned(), list(&["nederlands", "arabisch"]));
            }
            let Ok(answers) = def.check_answers(&def.drop_hidden(&raw)) else { continue };
            let Ok(code) = AreaCode::parse(Level::Buurt, buurt) else { continue };
            if tree.buurt(buurt).is_none() {
                continue;
            }
            let id = crate::survey::store_identified(conn, talentenscan.id, &code, &answers, today, today)?;
            profile::create_for_response(conn, id, &crate::survey::answers_json(&answers), today)?;
        }
    }
    let initiatives: i64 = ti::table.count().get_result(conn).map_err(DbError::from)?;
    if initiatives == 0 {
        let vocab = Vocabulary::new(&talentenscan.definition, crate::i18n::Lang::Nl);
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        for (buurt, name, kind, offers, skills, teaches, doen, audience, time) in DEMO_INITIATIVES {
            let fields = InitiativeFields {
                buurt: buurt.into(),
                name: name.into(),
                kind: kind.into(),
                offers: offers.into(),
                skills: words(skills),
                teaches: words(teaches),
                activities: words(doen),
                audience: words(audience),
                time: time.into(),
                contact: "demo@example.org".into(),
                status: "open".into(),
            };
            if let Ok(n) = NewInitiative::parse(&fields, &vocab, tree, |_| true) {
                initiative::insert(conn, &n, today)?;
            }
        }
    }
    // A fresh link for the first demo profile, so the resident's pages can
    // be tried at once; only its hash is stored, as always.
    // In Witte Dame, so the demo verbinder of Centrum sees it too.
    let first: Option<i64> = tp::table
        .inner_join(crate::db::schema::identified_responses::table)
        .filter(crate::db::schema::identified_responses::buurt.eq(DEMO_PROFILES[0].0))
        .order(tp::response_id.asc())
        .select(tp::response_id)
        .first(conn)
        .optional()
        .map_err(DbError::from)?;
    let profile_link = match first {
        Some(id) => {
            let token = ProfileToken::generate();
            diesel::update(tp::table.filter(tp::response_id.eq(id)))
                .set(tp::token_hash.eq(token.hash()))
                .execute(conn)
                .map_err(DbError::from)?;
            Some(format!("/mijn-talent/{}", token.as_str()))
        }
        None => None,
    };
    Ok(DemoTalent { verbinder_password, profile_link })
}

/// An index drawn with probability proportional to its weight.
fn pick(rng: &mut ChaCha20Rng, weights: &[f64]) -> usize {
    let mut left = rng.gen::<f64>() * weights.iter().sum::<f64>();
    weights
        .iter()
        .position(|w| {
            left -= w;
            left <= 0.0
        })
        .unwrap_or(0)
}

/// Talent scans without a wish for contact (no name, no profile), so the
/// demo's talent map has figures: about `total` over the buurten, unevenly,
/// each with two to four skills and one or two wishes to learn. Only when
/// the scan has fewer answers than that. Returns how many were added.
pub fn seed_talent_scans(
    conn: &mut AnyConnection,
    talentenscan: &Published,
    tree: &AreaTree,
    total: usize,
    seed: u64,
) -> Result<usize, DemoError> {
    use crate::db::schema::identified_responses as ir;
    let stored: i64 = ir::table
        .filter(ir::questionnaire_version_id.eq(talentenscan.id))
        .count()
        .get_result(conn)
        .map_err(DbError::from)?;
    if stored as usize >= total {
        return Ok(0);
    }
    let def = &talentenscan.definition;
    let skills: Vec<String> = def
        .question("talenten")
        .map(|q| q.kind.choice_values())
        .unwrap_or_default()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let learn: Vec<String> = def
        .question("leren")
        .map(|q| q.kind.choice_values())
        .unwrap_or_default()
        .into_iter()
        .map(str::to_owned)
        .collect();
    if skills.is_empty() || learn.is_empty() {
        return Ok(0);
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x007a_1e47);
    let buurten: Vec<_> = tree.at_level(Level::Buurt).collect();
    let today = crate::clock::today();
    let mut added = 0;
    while added < total {
        let buurt = &buurten[rng.gen_range(0..buurten.len())];
        // Half the buurten get most of the scans, so some stay below k.
        if buurt.code.as_str().ends_with(['5', '6', '7', '8', '9']) && rng.gen_bool(0.8) {
            continue;
        }
        let mut pick = |from: &[String], n: usize| -> RawAnswer {
            let mut chosen: Vec<String> = Vec::new();
            while chosen.len() < n {
                let v = &from[rng.gen_range(0..from.len())];
                if v != OTHER && !chosen.contains(v) {
                    chosen.push(v.clone());
                }
            }
            RawAnswer::List(chosen)
        };
        let raw = BTreeMap::from([
            ("talenten".to_owned(), pick(&skills, 2 + added % 3)),
            ("leren".to_owned(), pick(&learn, 1 + added % 2)),
            ("contact_ok".to_owned(), RawAnswer::Text("no".into())),
        ]);
        let answers = def.checked_leniently(&raw);
        let day = today - chrono::Days::new(rng.gen_range(0..60));
        crate::survey::store_identified(conn, talentenscan.id, &buurt.code, &answers, day, day)?;
        added += 1;
    }
    Ok(added)
}
