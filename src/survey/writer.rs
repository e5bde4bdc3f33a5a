//! One writer thread takes submissions from a queue and commits them in
//! batches: one transaction (and one disk sync) for many residents, which is
//! what lets SQLite keep up with a crowd. Each submitter waits for its own
//! commit, so a 201 always means stored.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use chrono::NaiveDate;

use tokio::sync::{mpsc, oneshot};

use super::store::{store_batch, Submission};
use crate::db::{DbError, Pool, PooledConn};

const MAX_BATCH: usize = 256;
const QUEUE: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the response writer has stopped")]
    Stopped,
}

type Job = (Submission, oneshot::Sender<Result<(), SubmitError>>);

/// Told of every committed batch and its day, before the submitters hear
/// back (so a 201 means the results count it too).
pub type CommitObserver = Box<dyn Fn(&[Submission], NaiveDate) + Send + Sync>;

/// What the writer thread shares with those who watch it.
#[derive(Default)]
struct Shared {
    generation: AtomicU64,
    /// Held from before a commit until its observers are done.
    commit: Mutex<()>,
    observers: RwLock<Vec<CommitObserver>>,
}

impl Shared {
    fn pause(&self) -> MutexGuard<'_, ()> {
        self.commit.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn committed(&self, batch: &[Submission], day: NaiveDate) {
        for observe in self.observers.read().unwrap_or_else(|e| e.into_inner()).iter() {
            observe(batch, day);
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
    shared: Arc<Shared>,
}

impl Writer {
    pub fn start(pool: Pool) -> std::io::Result<Writer> {
        let (queue, rx) = mpsc::channel(QUEUE);
        let shared = Arc::new(Shared::default());
        let watched = shared.clone();
        std::thread::Builder::new().name("response-writer".into()).spawn(move || run(pool, rx, watched))?;
        Ok(Writer { queue, shared })
    }

    /// Queues a submission and waits until it is committed.
    pub async fn submit(&self, submission: Submission) -> Result<(), SubmitError> {
        let (tx, rx) = oneshot::channel();
        self.queue.send((submission, tx)).await.map_err(|_| SubmitError::Stopped)?;
        rx.await.map_err(|_| SubmitError::Stopped)?
    }

    /// Grows with every committed batch; results caches key on it.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// Calls `observe` with every batch committed from now on.
    pub fn on_commit(&self, observe: CommitObserver) {
        self.shared.observers.write().unwrap_or_else(|e| e.into_inner()).push(observe);
    }

    /// Holds the writer between two commits for as long as the guard lives:
    /// what is read from the database meanwhile is exactly what observers
    /// have been told so far.
    pub fn pause(&self) -> MutexGuard<'_, ()> {
        self.shared.pause()
    }
}

/// Holds one connection for as long as it works: SQLite drops a
/// connection's page cache when another connection wrote in between, so the
/// connection that wrote last writes next.
struct Connection {
    pool: Pool,
    conn: Option<PooledConn>,
}

impl Connection {
    fn store(&mut self, batch: &[Submission], today: chrono::NaiveDate) -> Result<Vec<bool>, DbError> {
        let conn = match &mut self.conn {
            Some(c) => c,
            None => self.conn.insert(self.pool.get()?),
        };
        let result = store_batch(conn, batch, today);
        if result.is_err() {
            // Start afresh next time, in case the connection is the problem.
            self.conn = None;
        }
        result
    }
}

/// Tells the observers of the submissions of a batch that were stored (not
/// repeats of an idempotency key); copies only when some were repeats.
fn commit_stored(shared: &Shared, batch: &[Submission], stored: &[bool], today: chrono::NaiveDate) {
    if stored.iter().all(|s| *s) {
        shared.committed(batch, today);
    } else {
        let fresh: Vec<Submission> = batch.iter().zip(stored).filter(|(_, s)| **s).map(|(b, _)| b.clone()).collect();
        shared.committed(&fresh, today);
    }
}

/// Idempotency keys are kept this many days.
const KEYS_KEPT_DAYS: u64 = 2;

fn run(pool: Pool, mut rx: mpsc::Receiver<Job>, shared: Arc<Shared>) {
    let mut conn = Connection { pool, conn: None };
    let mut purged_on = None;
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let today = crate::clock::today();
        if purged_on != Some(today) {
            purged_on = Some(today);
            if let Some(c) = conn.conn.as_mut() {
                let before = today - chrono::Days::new(KEYS_KEPT_DAYS);
                if let Err(e) = super::store::purge_submission_keys(c, before) {
                    tracing::warn!("forgetting old idempotency keys failed: {e}");
                }
            }
        }
        let (subs, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        let paused = shared.pause();
        let stored = conn.store(&subs, today);
        if let Ok(fresh) = &stored {
            commit_stored(&shared, &subs, fresh, today);
        }
        drop(paused);
        match stored {
            // A repeated idempotency key is answered as the first was.
            Ok(_) => {
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(batch_err) => {
                // One bad row (or a rare id collision) must not cost the
                // others their response: retry each on its own, twice.
                tracing::warn!("batch of {} responses failed, storing one by one: {batch_err}", subs.len());
                for (sub, reply) in subs.into_iter().zip(replies) {
                    let single = std::slice::from_ref(&sub);
                    let paused = shared.pause();
                    let outcome = conn.store(single, today).or_else(|_| conn.store(single, today));
                    if let Ok(fresh) = &outcome {
                        commit_stored(&shared, single, fresh, today);
                    }
                    drop(paused);
                    let _ = reply.send(outcome.map(|_| ()).map_err(SubmitError::from));
                }
            }
        }
    }
}
