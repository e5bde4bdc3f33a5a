//! One writer thread takes submissions from a queue and commits them in
//! batches: one transaction (and one disk sync) for many residents, which is
//! what lets SQLite keep up with a crowd. Each submitter waits for its own
//! commit, so a 201 always means stored.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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

#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
    generation: Arc<AtomicU64>,
}

impl Writer {
    pub fn start(pool: Pool) -> std::io::Result<Writer> {
        let (queue, rx) = mpsc::channel(QUEUE);
        let generation = Arc::new(AtomicU64::new(0));
        let gen = generation.clone();
        std::thread::Builder::new().name("response-writer".into()).spawn(move || run(pool, rx, gen))?;
        Ok(Writer { queue, generation })
    }

    /// Queues a submission and waits until it is committed.
    pub async fn submit(&self, submission: Submission) -> Result<(), SubmitError> {
        let (tx, rx) = oneshot::channel();
        self.queue.send((submission, tx)).await.map_err(|_| SubmitError::Stopped)?;
        rx.await.map_err(|_| SubmitError::Stopped)?
    }

    /// Grows with every committed batch; results caches key on it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
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
    fn store(&mut self, batch: &[Submission], today: chrono::NaiveDate) -> Result<(), DbError> {
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

fn run(pool: Pool, mut rx: mpsc::Receiver<Job>, generation: Arc<AtomicU64>) {
    let mut conn = Connection { pool, conn: None };
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let today = chrono::Local::now().date_naive();
        let (subs, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        match conn.store(&subs, today) {
            Ok(()) => {
                generation.fetch_add(1, Ordering::AcqRel);
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
                    let outcome = conn.store(single, today).or_else(|_| conn.store(single, today));
                    if outcome.is_ok() {
                        generation.fetch_add(1, Ordering::AcqRel);
                    }
                    let _ = reply.send(outcome.map_err(SubmitError::from));
                }
            }
        }
    }
}
