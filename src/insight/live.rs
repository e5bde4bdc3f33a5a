//! Results kept current as responses arrive. Per questionnaire the raw
//! counts (per version, buurt, day, question and answer) are read from the
//! database once, then every committed response is added to them by the
//! writer, in the same critical section as its commit. A request builds the
//! result set from those counts in memory (no scan of the answers) and
//! keeps it until new responses, waves, areas, versions or population
//! margins arrive; while one build runs, other requests get the previous
//! set, whole and consistent. The counts carry each answer's respondent
//! cell (stored with the answer), so the weighted figures are built with
//! the rest.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, TryLockError};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::perturbation::PerturbationTable;
use super::results::{build_set, RawCounts, ResultSet};
use super::weighting::{load_margins, Margins, Placement};
use crate::area::AreaTree;
use crate::db::schema::response_counts;
use crate::db::{DbError, Pool};
use crate::questionnaire::{Catalog, Kind, Published};
use crate::survey::{Submission, Wave, Writer};

/// How often the kept counts are checked against the database, in case
/// another server process stored responses there: a sum over a few rows per
/// buurt and day, so every instance counts the same responses within about
/// a second (docs/deployment.md).
const VERIFY_EVERY: Duration = Duration::from_secs(1);

/// How often the population margins are read again (another process
/// imports them).
const MARGINS_EVERY: Duration = Duration::from_secs(10);

/// What a result set was built from; equal stamps, equal figures.
#[derive(Debug, Clone, PartialEq)]
struct Stamp {
    counted: u64,
    current: i32,
    areas: u64,
    waves: Vec<Wave>,
    min_cell: u64,
    margins: u64,
}

/// Whether a set built for `now` must replace the one built for `then`:
/// at once when anything but the responses changed, or when a wave's last
/// day has passed since; for new responses only once `release_every` has
/// passed since the last release. Releases on a schedule, not per
/// response, so that two releases differ by many responses, not one
/// (docs/privacy.md).
fn release_due(then: &Stamp, now: &Stamp, released_at: DateTime<Utc>, cx: &Context) -> bool {
    if (Stamp { counted: now.counted, ..then.clone() }) != *now {
        return true;
    }
    let age = (Utc::now() - released_at).to_std().unwrap_or_default();
    if age >= cx.release_every {
        return true;
    }
    let (released_on, today) = (crate::clock::local(released_at).date_naive(), crate::clock::today());
    cx.waves.iter().filter_map(|w| w.closes_on).any(|last| released_on <= last && last < today)
}

/// The population margins results are weighted to, re-read now and then:
/// they are imported by another process (`buurtpeil margins import`).
#[derive(Default)]
struct KeptMargins {
    margins: Arc<BTreeMap<String, Margins>>,
    /// Grows when they change.
    generation: u64,
    read_at: Option<Instant>,
}

struct Counted {
    raw: RawCounts,
    /// Grows with every batch of responses added.
    generation: u64,
    verified_at: Instant,
}

struct Entry {
    versions: Vec<Published>,
    counted: Mutex<Counted>,
    built: RwLock<Option<(Stamp, Arc<ResultSet>)>>,
    building: Mutex<()>,
}

#[derive(Default)]
struct Entries(Mutex<HashMap<String, Arc<Entry>>>);

impl Entries {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a committed batch to every questionnaire it belongs to.
    fn record(&self, batch: &[Submission], day: NaiveDate) {
        for entry in self.lock().values() {
            let mine: Vec<&Submission> =
                batch.iter().filter(|s| entry.versions.iter().any(|v| v.id == s.version_id)).collect();
            if mine.is_empty() {
                continue;
            }
            let mut counted = entry.counted.lock().unwrap_or_else(|e| e.into_inner());
            for s in mine {
                counted.raw.add(s, day);
            }
            counted.generation += 1;
        }
    }
}

/// The result sets of every questionnaire asked for, kept current.
pub struct LiveResults {
    entries: Arc<Entries>,
    writer: Writer,
    margins: Mutex<KeptMargins>,
}

/// What the tables are built over, as the caller knows it now.
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub tree: &'a AreaTree,
    /// Grows when the areas change.
    pub area_generation: u64,
    pub waves: Vec<Wave>,
    pub min_cell: u64,
    pub perturbation: &'a PerturbationTable,
    /// New responses reach the figures at most this often (0: at once);
    /// anything else that changes them (a version, areas, waves, k,
    /// margins) and a wave's closing day passing release at once.
    pub release_every: Duration,
}

impl LiveResults {
    /// Counts every response the writer commits from now on.
    pub fn new(writer: &Writer) -> LiveResults {
        let entries = Arc::new(Entries::default());
        let counting = entries.clone();
        writer.on_commit(Box::new(move |batch, day| counting.record(batch, day)));
        LiveResults { entries, writer: writer.clone(), margins: Mutex::default() }
    }

    /// The result set of an anonymous questionnaire (None for an unknown
    /// or identified one). Blocking: call from a blocking context.
    pub fn get(&self, pool: &Pool, slug: &str, cx: Context) -> Result<Option<Arc<ResultSet>>, DbError> {
        // Identified answers (talent scan) are never part of public results.
        let Some(current) = cx.catalog.current(slug).filter(|p| p.definition.kind == Kind::Anonymous) else {
            return Ok(None);
        };
        let versions = cx.catalog.versions(slug);
        let (margins, margins_generation) = self.margins(pool)?;
        let placement = Placement::of(&current.definition);
        let entry = self.entry(pool, slug, versions, placement)?;
        self.verify(pool, &entry)?;
        loop {
            let counted = entry.counted.lock().unwrap_or_else(|e| e.into_inner()).generation;
            let stamp = Stamp {
                counted,
                current: current.id,
                areas: cx.area_generation,
                waves: cx.waves.clone(),
                min_cell: cx.min_cell,
                margins: margins_generation,
            };
            let previous = entry.built.read().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some((s, set)) = &previous {
                if *s == stamp || !release_due(s, &stamp, set.released_at, &cx) {
                    return Ok(Some(set.clone()));
                }
            }
            let _building = match entry.building.try_lock() {
                Ok(guard) => guard,
                // Someone is building: serve the previous set meanwhile.
                Err(TryLockError::WouldBlock) if previous.is_some() => {
                    return Ok(previous.map(|(_, set)| set));
                }
                Err(TryLockError::WouldBlock) => {
                    drop(entry.building.lock().unwrap_or_else(|e| e.into_inner()));
                    continue;
                }
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
            };
            // A copy taken whole, between two batches: never half a batch.
            let (raw, counted) = {
                let c = entry.counted.lock().unwrap_or_else(|e| e.into_inner());
                (c.raw.clone(), c.generation)
            };
            let set = Arc::new(build_set(
                cx.tree,
                current,
                versions,
                &raw,
                &cx.waves,
                cx.min_cell,
                &margins,
                cx.perturbation,
            ));
            *entry.built.write().unwrap_or_else(|e| e.into_inner()) = Some((Stamp { counted, ..stamp }, set.clone()));
            return Ok(Some(set));
        }
    }

    /// The kept counts of a questionnaire's versions, read first when
    /// missing or when a version was published since.
    fn entry(
        &self,
        pool: &Pool,
        slug: &str,
        versions: &[Published],
        placement: Option<Placement>,
    ) -> Result<Arc<Entry>, DbError> {
        let same = |e: &&Arc<Entry>| e.versions.iter().map(|v| v.id).eq(versions.iter().map(|v| v.id));
        if let Some(e) = self.entries.lock().get(slug).filter(same) {
            return Ok(e.clone());
        }
        // The writer waits while the database is read, so every response is
        // either in what is read or added afterwards, never both or neither.
        let _paused = self.writer.pause();
        if let Some(e) = self.entries.lock().get(slug).filter(same) {
            return Ok(e.clone());
        }
        let raw = RawCounts::fetch(&mut *pool.get()?, versions, placement.clone())?;
        let entry = Arc::new(Entry {
            versions: versions.to_vec(),
            counted: Mutex::new(Counted { raw, generation: 0, verified_at: Instant::now() }),
            built: RwLock::new(None),
            building: Mutex::new(()),
        });
        self.entries.lock().insert(slug.to_owned(), entry.clone());
        Ok(entry)
    }

    /// Re-reads the counts when the database holds another number of
    /// respondents than counted (another process stored some).
    fn verify(&self, pool: &Pool, entry: &Entry) -> Result<(), DbError> {
        let due = entry.counted.lock().unwrap_or_else(|e| e.into_inner()).verified_at.elapsed() >= VERIFY_EVERY;
        if !due {
            return Ok(());
        }
        let mut conn = pool.get()?;
        // A few rows per buurt and day: summed here, the same on both databases.
        let ids: Vec<i32> = entry.versions.iter().map(|v| v.id).collect();
        let stored = |conn: &mut crate::db::PooledConn| -> Result<u64, DbError> {
            Ok(response_counts::table
                .filter(response_counts::questionnaire_version_id.eq_any(&ids))
                .select(response_counts::n)
                .load::<i64>(&mut **conn)?
                .into_iter()
                .map(|n| n as u64)
                .sum())
        };
        // Checked every second: without holding the writer when the counts
        // agree (a batch committing meanwhile only makes them look
        // different, and the check below under the pause settles it).
        let agrees = stored(&mut conn)? == entry.counted.lock().unwrap_or_else(|e| e.into_inner()).raw.respondents();
        if agrees {
            entry.counted.lock().unwrap_or_else(|e| e.into_inner()).verified_at = Instant::now();
            return Ok(());
        }
        let _paused = self.writer.pause();
        let stored = stored(&mut conn)?;
        let mut counted = entry.counted.lock().unwrap_or_else(|e| e.into_inner());
        if stored != counted.raw.respondents() {
            tracing::info!("results counts differ from the database: reading them again");
            let placement = counted.raw.placement.clone();
            counted.raw = RawCounts::fetch(&mut conn, &entry.versions, placement)?;
            counted.generation += 1;
        }
        counted.verified_at = Instant::now();
        Ok(())
    }

    /// The kept margins and their generation, re-read when due.
    fn margins(&self, pool: &Pool) -> Result<(Arc<BTreeMap<String, Margins>>, u64), DbError> {
        let mut kept = self.margins.lock().unwrap_or_else(|e| e.into_inner());
        if kept.read_at.is_none_or(|t| t.elapsed() >= MARGINS_EVERY) {
            let stored = load_margins(&mut *pool.get()?)?;
            if kept.read_at.is_none() || *kept.margins != stored {
                kept.margins = Arc::new(stored);
                kept.generation += 1;
            }
            kept.read_at = Some(Instant::now());
        }
        Ok((kept.margins.clone(), kept.generation))
    }
}
