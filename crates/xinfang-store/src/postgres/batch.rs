//! Group commit of registrations on PostgreSQL.
//!
//! A registration appends to its organisation's audit chain, so it holds the chain-head row
//! lock until it commits: registrations of one organisation run one after the other, and their
//! throughput is at most one per transaction latency (lock, statements, commit and its WAL
//! flush). The batcher lifts that bound without loosening anything: registrations are queued
//! to one task per store, which runs every registration waiting (up to [`MAX_BATCH`]) in ONE
//! transaction — one lock per organisation, one commit, one WAL flush — and a registration that
//! fails still fails alone, its caller getting its own error (see below). Every caller is
//! answered only after the commit, so no acknowledged registration can be lost; when the
//! commit fails, all of the batch fail.
//!
//! The batch's statements run one after another while the batch holds the locks, so a batch is
//! first written whole, with a handful of multi-row statements ([`super::registrations`]):
//! nearly every batch succeeds so. Only when a statement fails is that attempt rolled back and
//! the batch written again one registration at a time, each in a savepoint of its own, so that
//! the failing one fails alone (a failed commit is never retried: it may have committed).
//!
//! There is no waiting for a batch to fill: a batch is whatever queued up while the previous
//! one was being written, so a lone request is as fast as before and a crowd is served in few
//! transactions.
//!
//! The queues themselves ([`Queues`], [`submit`]) also carry the intake records that follow
//! registrations ([`super::intake_records`]).

use super::matters::register_in;
use super::registrations::{Pending, register_all};
use super::{PgStore, Writer, classify};
use crate::model::{NewMatter, Registered};
use crate::{Result, StoreError};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};
use xinfang_core::ids::OrganisationId;
use xinfang_core::org::Actor;

/// The most registrations in one transaction.
pub(crate) const MAX_BATCH: usize = 64;

/// One queued registration with the channel its answer goes back on.
pub(crate) struct Job {
    org: OrganisationId,
    actor: Actor,
    matter: NewMatter,
    search_tokens: String,
    reply: oneshot::Sender<Result<Registered>>,
}

/// A store's group-commit queues, each with one task that drains it, started by its first job.
#[derive(Default)]
pub(crate) struct Queues {
    registrations: OnceLock<mpsc::Sender<Job>>,
    /// Intake records ([`super::intake_records`]).
    pub(crate) intake: OnceLock<mpsc::Sender<super::intake_records::Job>>,
}

/// A store's queues, shared by its clones.
pub(crate) type Queue = Arc<Queues>;

/// Sends `job` to the task draining `cell`, started with `run` on the first job. The task's own
/// store shares everything but the queues, so that dropping the last store closes them and
/// ends the tasks.
pub(crate) async fn submit<J, F>(
    s: &PgStore,
    cell: &OnceLock<mpsc::Sender<J>>,
    run: fn(PgStore, mpsc::Receiver<J>) -> F,
    job: J,
) -> Result<()>
where
    J: Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let queue = cell.get_or_init(|| {
        let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
        let mut own = s.clone();
        own.batcher = None;
        tokio::spawn(run(own, rx));
        tx
    });
    queue
        .send(job)
        .await
        .map_err(|_| StoreError::Unavailable("the group-commit queue is closed".into()))
}

/// Registers through the store's batcher.
pub(crate) async fn register(
    s: &PgStore,
    org: OrganisationId,
    actor: &Actor,
    matter: NewMatter,
    search_tokens: String,
) -> Result<Registered> {
    let Some(queues) = &s.batcher else {
        return Err(StoreError::Unavailable("group commit is off".into()));
    };
    let (reply, answer) = oneshot::channel();
    let job = Job {
        org,
        actor: actor.clone(),
        matter,
        search_tokens,
        reply,
    };
    submit(s, &queues.registrations, run, job).await?;
    answer
        .await
        .map_err(|_| StoreError::Unavailable("the registration was abandoned".into()))?
}

async fn run(s: PgStore, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        write_batch(&s, std::mem::take(&mut jobs)).await;
    }
}

/// How an attempt with multi-row statements ended, when it did not succeed.
enum Whole {
    /// A statement failed: nothing was committed, the batch can be written again.
    Retry,
    /// The commit failed: all of the batch fail.
    Commit(StoreError),
}

/// Writes the batch in one transaction with multi-row statements (see the module docs).
async fn write_whole(s: &PgStore, jobs: &[Job]) -> std::result::Result<Vec<Registered>, Whole> {
    let mut w = Writer::begin(s).await.map_err(|e| Whole::Commit(classify(e)))?;
    let mut orgs: Vec<OrganisationId> = jobs.iter().map(|j| j.org).collect();
    orgs.sort();
    orgs.dedup();
    let mut written = Ok(Vec::new());
    for org in orgs {
        if let Err(e) = w.lock(org).await {
            written = Err(e);
            break;
        }
    }
    if written.is_ok() {
        let batch: Vec<Pending> = jobs
            .iter()
            .map(|j| Pending {
                org: j.org,
                actor: &j.actor,
                matter: &j.matter,
                search_tokens: &j.search_tokens,
            })
            .collect();
        written = register_all(s, &mut w, &batch).await;
    }
    match written {
        Err(e) => {
            tracing::debug!(error = %e, registrations = jobs.len(), "batch written again one registration at a time");
            let _ = w.finish::<()>(Err(StoreError::Unavailable(e.to_string()))).await;
            Err(Whole::Retry)
        }
        Ok(done) => match w.commit().await {
            Ok(()) => Ok(done),
            Err(e) => Err(Whole::Commit(classify(e))),
        },
    }
}

/// Writes a batch in one transaction and answers every job.
async fn write_batch(s: &PgStore, jobs: Vec<Job>) {
    match write_whole(s, &jobs).await {
        Ok(done) => {
            for (job, r) in jobs.into_iter().zip(done) {
                let _ = job.reply.send(Ok(r));
            }
        }
        Err(Whole::Commit(e)) => fail_all(jobs, &e),
        Err(Whole::Retry) => write_with_savepoints(s, jobs).await,
    }
}

/// Writes a batch in one transaction, each registration in a savepoint of its own, and
/// answers every job.
async fn write_with_savepoints(s: &PgStore, jobs: Vec<Job>) {
    let mut w = match Writer::begin(s).await {
        Ok(w) => w,
        Err(e) => return fail_all(jobs, &classify(e)),
    };
    // The chain locks are taken before the first savepoint: a lock taken inside one would be
    // released by its rollback, and the registrations after it would write unlocked.
    let mut orgs: Vec<OrganisationId> = jobs.iter().map(|j| j.org).collect();
    orgs.sort();
    orgs.dedup();
    let mut missing = Vec::new();
    for org in orgs {
        match w.lock(org).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => missing.push(org),
            Err(e) => {
                let e = classify(e);
                let _ = w.finish::<()>(Err(StoreError::Unavailable(e.to_string()))).await;
                return fail_all(jobs, &e);
            }
        }
    }
    let mut answers = Vec::with_capacity(jobs.len());
    for job in jobs {
        if missing.contains(&job.org) {
            let _ = job.reply.send(Err(StoreError::NotFound));
            continue;
        }
        let result = match savepoint(&mut w, "savepoint registration").await {
            Err(e) => Err(e),
            Ok(()) => {
                let done = register_in(s, &mut w, job.org, &job.actor, job.matter, &job.search_tokens).await;
                let end = if done.is_ok() {
                    "release savepoint registration"
                } else {
                    "rollback to savepoint registration"
                };
                match savepoint(&mut w, end).await {
                    Ok(()) => done,
                    // The transaction is unusable: everything of this batch fails.
                    Err(e) => {
                        let _ = job.reply.send(Err(StoreError::Unavailable(e.to_string())));
                        let _ = w.finish::<()>(Err(StoreError::Unavailable(e.to_string()))).await;
                        return fail_all(answers.into_iter().map(|(j, _)| j).collect(), &e);
                    }
                }
            }
        };
        answers.push((job.reply, result));
    }
    match w.commit().await.map_err(classify) {
        Ok(()) => {
            for (reply, result) in answers {
                let _ = reply.send(result.map_err(classify));
            }
        }
        Err(e) => {
            for (reply, result) in answers {
                // A registration that had failed anyway keeps its own error.
                let _ = reply.send(match result {
                    Ok(_) => Err(again(&e)),
                    Err(own) => Err(classify(own)),
                });
            }
        }
    }
}

async fn savepoint(w: &mut Writer, statement: &'static str) -> Result<()> {
    sqlx::query(statement).execute(w.conn()).await?;
    Ok(())
}

/// The same failure for another caller (errors are not `Clone`).
pub(crate) fn again(e: &StoreError) -> StoreError {
    match e {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// Answers every job with `e`.
fn fail_all<R>(replies: Vec<R>, e: &StoreError)
where
    R: Into<oneshot::Sender<Result<Registered>>>,
{
    for r in replies {
        let _ = r.into().send(Err(again(e)));
    }
}

impl From<Job> for oneshot::Sender<Result<Registered>> {
    fn from(j: Job) -> Self {
        j.reply
    }
}
