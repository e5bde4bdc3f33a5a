//! The demo municipality: Eindhoven's real buurten and a few thousand
//! synthetic responses, spread unevenly so that some buurten stay below the
//! disclosure threshold. Reproducible: the same seed gives the same data.

mod campaign;

use std::collections::BTreeMap;

use diesel::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::area::{parse_csv, save_areas, AreaCode, AreaTree, Level};
use crate::db::schema::responses;
use crate::db::{AnyConnection, DbError};
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
    let today = chrono::Local::now().date_naive();
    let mut added = 0;
    for (code, w) in buurten.iter().zip(&weights) {
        let count = (w / sum * total as f64).round() as usize;
        // A buurt's own mood: some buurten are happier than others.
        let mood: f64 = rng.gen_range(-1.2..0.9);
        let mut batch = Vec::with_capacity(count);
        for _ in 0..count {
            let mut raw = BTreeMap::new();
            for q in questionnaire.definition.questions() {
                if !q.required && rng.gen_bool(0.08) {
                    continue;
                }
                let answer = match &q.kind {
                    QuestionKind::Scale { min, max, .. } | QuestionKind::Number { min, max, .. } => {
                        let span = f64::from(max - min);
                        let centre = f64::from(*min) + span * (0.72 + mood / 10.0);
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
                        let mut pick = rng.gen::<f64>() * weights.iter().sum::<f64>();
                        let i = weights.iter().position(|w| {
                            pick -= w;
                            pick <= 0.0
                        });
                        RawAnswer::Text(options[i.unwrap_or(0)].value.clone())
                    }
                    QuestionKind::Text { .. } | QuestionKind::Statement => continue,
                };
                raw.insert(q.id.to_string(), answer);
            }
            if let Ok(answers) = questionnaire.definition.check_answers(&questionnaire.definition.drop_hidden(&raw)) {
                batch.push(Submission { version_id: questionnaire.id, buurt: (*code).clone(), answers });
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
