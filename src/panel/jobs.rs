//! Panel selections as jobs in the database, shared by every instance
//! (issue #15). A selection is stored as running; the instance that claims
//! it (`store::claim`, one compare-and-set) runs it on a thread of its own
//! and beats a heart in the row every few seconds. When an instance dies,
//! its heartbeat stops; after [`store::LEASE`] another instance's follower
//! claims the selection and runs it again from its stored input. The draw is
//! seeded, so a rerun gives the same panel. Starting an instance never
//! touches another's selections.

use std::time::Duration;

use chrono::Utc;

use super::store::{self, Finished, StoredSelection};
use super::{PanelError, Request, Seed, Task};
use crate::db::{DbError, Pool};

/// How often a runner says it is alive, and a follower looks for orphans.
const BEAT: Duration = Duration::from_secs(5);
const FOLLOW: Duration = Duration::from_secs(2);

fn now() -> chrono::NaiveDateTime {
    Utc::now().naive_utc()
}

/// A name for this server process, shown on the council's page beside the
/// selections it runs.
pub fn instance_name() -> String {
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.trim().is_empty()).unwrap_or_else(|| "buurtpeil".into());
    format!("{host}-{}-{:04x}", std::process::id(), rand::random::<u16>())
}

/// Claims a selection just stored and runs it here.
pub fn start(pool: &Pool, me: &str, id: i32) -> Result<(), DbError> {
    if store::claim(&mut *pool.get()?, id, me, now())? {
        spawn(pool.clone(), me.to_owned(), id);
    }
    Ok(())
}

/// Looks for running selections nobody holds (their instance died, or they
/// were stored by an instance that stopped before starting them) and takes
/// them over, from a thread of its own, for as long as the process runs.
pub fn follow(pool: Pool, me: String) -> std::io::Result<()> {
    std::thread::Builder::new().name("panel-jobs".into()).spawn(move || loop {
        let taken = pool.get().map_err(DbError::from).and_then(|mut c| {
            let mut taken = Vec::new();
            for id in store::unclaimed(&mut c, now())? {
                if store::claim(&mut c, id, &me, now())? {
                    taken.push(id);
                }
            }
            Ok(taken)
        });
        match taken {
            Ok(ids) => {
                for id in ids {
                    tracing::info!("panel selection {id}: its runner stopped; running it here");
                    spawn(pool.clone(), me.clone(), id);
                }
            }
            Err(e) => tracing::debug!("looking for panel selections to take over failed: {e}"),
        }
        std::thread::sleep(FOLLOW);
    })?;
    Ok(())
}

/// Runs a claimed selection with a heartbeat beside it, and stores how it
/// ended.
fn spawn(pool: Pool, me: String, id: i32) {
    let job = move || {
        let loaded = pool.get().map_err(DbError::from).and_then(|mut c| {
            let s = store::load(&mut c, id)?;
            let previous = match s.as_ref().and_then(|s| s.previous_id) {
                Some(p) => store::load(&mut c, p)?.and_then(|p| p.protocol),
                None => None,
            };
            Ok(s.map(|s| (s, previous)))
        });
        let (selection, previous) = match loaded {
            Ok(Some(found)) => found,
            Ok(None) => return,
            Err(e) => {
                tracing::error!("panel selection {id}: cannot read it: {e}");
                return;
            }
        };
        let (done, beating) = (std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)), pool.clone());
        let stop = done.clone();
        let beater = me.clone();
        let heart = std::thread::Builder::new().name(format!("panel-{id}-beat")).spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                std::thread::sleep(BEAT.min(Duration::from_millis(500)));
                if let Ok(mut c) = beating.get() {
                    let _ = store::heartbeat(&mut c, id, &beater, now());
                }
            }
        });
        let finished = run(&selection, previous.as_deref());
        let how = match &finished {
            Ok(o) => Finished::Done(o),
            // Structured, so that each reader gets it in their language.
            Err(PanelError::Infeasible(i)) => {
                Finished::Infeasible(serde_json::to_string(i).unwrap_or_else(|_| i.to_string()))
            }
            Err(e) => Finished::Failed(e.to_string()),
        };
        let stored = pool.get().map_err(DbError::from).and_then(|mut c| store::finish(&mut c, id, how));
        done.store(true, std::sync::atomic::Ordering::Release);
        if let Ok(h) = heart {
            let _ = h.join();
        }
        if let Err(e) = stored {
            tracing::error!("panel selection {id}: the outcome could not be stored: {e}");
        }
    };
    if let Err(e) = std::thread::Builder::new().name(format!("panel-{id}")).spawn(job) {
        tracing::error!("panel selection {id}: cannot start: {e}");
    }
}

/// A selection or replacement from its stored input.
fn run(s: &StoredSelection, previous: Option<&str>) -> Result<super::Outcome, PanelError> {
    let people = s.people_csv.as_deref().unwrap_or_default();
    let task = match previous {
        Some(bytes) => Task::Replace {
            previous_name: "protocol.json",
            previous: bytes.as_bytes(),
            dropped: s.settings.dropped.clone(),
        },
        None => Task::Select { size: s.settings.size },
    };
    let seed = Seed::parse(&s.settings.seed)?;
    super::run_job(&Request {
        people_name: "people.csv",
        people: people.as_bytes(),
        features_name: "features.csv",
        features: s.features_csv.as_bytes(),
        id_column: "id",
        seed,
        algorithm: s.settings.algorithm,
        household_columns: s.settings.household_columns.clone(),
        task,
    })
}
