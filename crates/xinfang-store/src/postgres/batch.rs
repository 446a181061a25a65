//! Group commit of registrations on PostgreSQL.
//!
//! A registration appends to its organisation's audit chain and commits, each a round trip and
//! a WAL flush; one registration per transaction, a crowd of them spends its time waiting. The
//! batcher lifts that bound without loosening anything: registrations are queued, and each of
//! [`WRITERS`] tasks per store takes every registration waiting (up to [`MAX_BATCH`]) into ONE
//! transaction — one lock per organisation, one commit, one WAL flush — and a registration that
//! fails still fails alone, its caller getting its own error (see below). Every caller is
//! answered only after the commit, so no acknowledged registration can be lost; when the
//! commit fails, all of the batch fail.
//!
//! A batch is first written whole, with a handful of multi-row statements
//! ([`super::registrations`]), and takes the organisation's chain lock only at the end, for its
//! events and the commit: so the writers (and those of other nodes) write their matters at the
//! same time and queue for the chain only for a moment each. Nearly every batch succeeds so.
//! Only when a statement fails is that attempt rolled back and the batch written again one
//! registration at a time, each in a savepoint of its own, so that the failing one fails alone
//! (a failed commit is never retried: it may have committed).
//!
//! There is no waiting for a batch to fill: a batch is whatever queued up while the writers
//! were busy, so a lone request is as fast as before and a crowd is served in few
//! transactions.
//!
//! Safety alerts ride in the same batches ([`super::alerts`]): they append to the chain too,
//! and taking the lock on their own they kept the batches waiting.
//!
//! The queues themselves ([`Queues`], [`submit`]) also carry the intake records that follow
//! registrations ([`super::intake_records`]) and intake's duplicate look-ups ([`super::lookups`]).

use super::alerts::{NewAlert, raise_all, raise_one};
use super::matters::register_in;
use super::registrations::{Pending, prepare, serialising_keys};
use super::{PgStore, Writer, classify};
use crate::model::{NewMatter, Registered};
use crate::{Result, StoreError};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};
use xinfang_core::ids::{OrganisationId, PetitionId, ReminderId};
use xinfang_core::org::Actor;
use xinfang_nlp::triage::Alert;

/// The most registrations and alerts in one transaction.
pub(crate) const MAX_BATCH: usize = 64;

/// Registration batches a store writes at the same time. Each holds a connection while it
/// writes; they queue for an organisation's chain lock only for their events and commit, so
/// one prepares its statements while the other appends and commits. (Measured on 2 cores at
/// 128 registrations in flight: one writer 1,220–1,300/s, two 1,340–1,420/s, three
/// 1,200–1,350/s: smaller batches cost more per registration.)
const WRITERS: usize = 2;

/// One piece of queued work: a registration or a safety alert.
pub(crate) enum Job {
    /// Boxed: a registration carries the whole new matter, an alert a few words.
    Register(Box<Registration>),
    Alert(AlertJob),
}

/// One queued registration with the channel its answer goes back on.
pub(crate) struct Registration {
    org: OrganisationId,
    actor: Actor,
    matter: NewMatter,
    search_tokens: String,
    reply: oneshot::Sender<Result<Registered>>,
}

/// One queued safety alert with the channel its answer goes back on.
pub(crate) struct AlertJob {
    org: OrganisationId,
    matter: PetitionId,
    alerts: Vec<Alert>,
    reply: oneshot::Sender<Result<Option<ReminderId>>>,
}

/// A store's group-commit queues, each with one task that drains it, started by its first job.
#[derive(Default)]
pub(crate) struct Queues {
    registrations: OnceLock<mpsc::Sender<Job>>,
    /// Intake records ([`super::intake_records`]).
    pub(crate) intake: OnceLock<mpsc::Sender<super::intake_records::Job>>,
    /// Duplicate look-ups ([`super::lookups`]).
    pub(crate) lookups: OnceLock<mpsc::Sender<super::lookups::Job>>,
}

/// A store's queues, shared by its clones.
pub(crate) type Queue = Arc<Queues>;

/// Sends the job `make(reply)` to the task draining `cell`, started with `run` on the first
/// job, and waits for its answer (`what` names the job if none comes). The task's own store
/// shares everything but the queues, so that dropping the last store closes them and ends the
/// tasks.
pub(crate) async fn submit<J, F, T>(
    s: &PgStore,
    cell: &OnceLock<mpsc::Sender<J>>,
    run: fn(PgStore, mpsc::Receiver<J>) -> F,
    what: &str,
    make: impl FnOnce(oneshot::Sender<Result<T>>) -> J,
) -> Result<T>
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
    let (reply, answer) = oneshot::channel();
    queue
        .send(make(reply))
        .await
        .map_err(|_| StoreError::Unavailable("the group-commit queue is closed".into()))?;
    answer
        .await
        .map_err(|_| StoreError::Unavailable(format!("the {what} was abandoned")))?
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
    submit(s, &queues.registrations, run, "registration", |reply| {
        Job::Register(Box::new(Registration {
            org,
            actor: actor.clone(),
            matter,
            search_tokens,
            reply,
        }))
    })
    .await
}

/// Raises a safety alert in the store's next registration batch ([`super::alerts`]).
pub(crate) async fn raise_alert(
    s: &PgStore,
    org: OrganisationId,
    matter: PetitionId,
    alerts: &[Alert],
) -> Result<Option<ReminderId>> {
    let Some(queues) = &s.batcher else {
        return Err(StoreError::Unavailable("group commit is off".into()));
    };
    submit(s, &queues.registrations, run, "safety alert", |reply| {
        Job::Alert(AlertJob {
            org,
            matter,
            alerts: alerts.to_vec(),
            reply,
        })
    })
    .await
}

/// Starts the store's [`WRITERS`], which share the queue, and waits for them (they end when
/// the last store is dropped and the queue closes).
async fn run(s: PgStore, rx: mpsc::Receiver<Job>) {
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..WRITERS {
        writers.spawn(write_from(s.clone(), Arc::clone(&rx)));
    }
    while writers.join_next().await.is_some() {}
}

/// One writer: takes whatever is waiting, writes it as one batch, again.
async fn write_from(s: PgStore, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    loop {
        // The queue is held only while taking jobs, not while writing them.
        let taken = rx.lock().await.recv_many(&mut jobs, MAX_BATCH).await;
        if taken == 0 {
            break;
        }
        let (mut registrations, mut alerts) = (Vec::new(), Vec::new());
        for job in jobs.drain(..) {
            match job {
                Job::Register(r) => registrations.push(*r),
                Job::Alert(a) => alerts.push(a),
            }
        }
        write_batch(&s, registrations, alerts).await;
    }
}

/// The organisations a batch writes to, each once, in order (the order locks are taken in).
fn organisations(registrations: &[Registration], alerts: &[AlertJob]) -> Vec<OrganisationId> {
    let mut orgs: Vec<OrganisationId> = registrations
        .iter()
        .map(|j| j.org)
        .chain(alerts.iter().map(|a| a.org))
        .collect();
    orgs.sort();
    orgs.dedup();
    orgs
}

/// How an attempt with multi-row statements ended, when it did not succeed.
enum Whole {
    /// A statement failed: nothing was committed, the batch can be written again.
    Retry,
    /// The commit failed: all of the batch fail.
    Commit(StoreError),
}

/// What a batch written whole answers: each registration, then each alert.
type Answers = (Vec<Registered>, Vec<Result<Option<ReminderId>>>);

/// Writes the batch in one transaction with multi-row statements (see the module docs).
async fn write_whole(
    s: &PgStore,
    registrations: &[Registration],
    alerts: &[AlertJob],
) -> std::result::Result<Answers, Whole> {
    let mut w = Writer::begin(s).await.map_err(|e| Whole::Commit(classify(e)))?;
    let batch: Vec<Pending> = registrations
        .iter()
        .map(|j| Pending {
            org: j.org,
            actor: &j.actor,
            matter: &j.matter,
            search_tokens: &j.search_tokens,
        })
        .collect();
    let raised: Vec<NewAlert> = alerts
        .iter()
        .map(|a| NewAlert {
            org: a.org,
            matter: a.matter,
            alerts: &a.alerts,
        })
        .collect();
    let written = async {
        // Everything but the events first, then the chains, in one order for every writer.
        let prepared = prepare(s, &mut w, &batch).await?;
        for org in organisations(registrations, alerts) {
            w.lock(org).await?;
        }
        let done = prepared.append(s, &mut w).await?;
        let raised = raise_all(s, &mut w, &raised).await?;
        Ok::<_, StoreError>((done, raised))
    }
    .await;
    match written {
        Err(e) => {
            tracing::debug!(error = %e, registrations = registrations.len(), alerts = alerts.len(), "batch written again one job at a time");
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
async fn write_batch(s: &PgStore, registrations: Vec<Registration>, alerts: Vec<AlertJob>) {
    match write_whole(s, &registrations, &alerts).await {
        Ok((done, raised)) => {
            for (job, r) in registrations.into_iter().zip(done) {
                let _ = job.reply.send(Ok(r));
            }
            for (job, r) in alerts.into_iter().zip(raised) {
                let _ = job.reply.send(r);
            }
        }
        Err(Whole::Commit(e)) => fail_all(registrations, alerts, &e),
        Err(Whole::Retry) => write_with_savepoints(s, registrations, alerts).await,
    }
}

/// The answer of one job written in a savepoint, kept until the commit decides.
enum Pended {
    Registration(oneshot::Sender<Result<Registered>>, Result<Registered>),
    Alert(
        oneshot::Sender<Result<Option<ReminderId>>>,
        Result<Option<ReminderId>>,
    ),
}

impl Pended {
    /// Sends the job's own result, or `e` when it had succeeded but the commit failed.
    fn send(self, committed: std::result::Result<(), &StoreError>) {
        match self {
            Pended::Registration(reply, result) => {
                let _ = reply.send(answer(result, committed));
            }
            Pended::Alert(reply, result) => {
                let _ = reply.send(answer(result, committed));
            }
        }
    }
}

/// A job's result after the commit: its own error if it failed, the commit's if that failed.
fn answer<T>(result: Result<T>, committed: std::result::Result<(), &StoreError>) -> Result<T> {
    match (result, committed) {
        (Err(own), _) => Err(classify(own)),
        (Ok(_), Err(e)) => Err(again(e)),
        (Ok(v), Ok(())) => Ok(v),
    }
}

/// Writes a batch in one transaction, each registration and each alert in a savepoint of its
/// own, and answers every job.
async fn write_with_savepoints(s: &PgStore, registrations: Vec<Registration>, alerts: Vec<AlertJob>) {
    let mut w = match Writer::begin(s).await {
        Ok(w) => w,
        Err(e) => return fail_all(registrations, alerts, &classify(e)),
    };
    // The people's and work orders' locks, then the chain locks, are taken before the first
    // savepoint: a lock taken inside one would be released by its rollback, and the
    // registrations after it would write unlocked.
    let keys: Vec<i64> = registrations
        .iter()
        .flat_map(|j| serialising_keys(s, j.org, &j.matter))
        .collect();
    if let Err(e) = w.lock_keys(keys).await {
        let e = classify(e);
        let _ = w.finish::<()>(Err(StoreError::Unavailable(e.to_string()))).await;
        return fail_all(registrations, alerts, &e);
    }
    let mut missing = Vec::new();
    for org in organisations(&registrations, &alerts) {
        match w.lock(org).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => missing.push(org),
            Err(e) => {
                let e = classify(e);
                let _ = w.finish::<()>(Err(StoreError::Unavailable(e.to_string()))).await;
                return fail_all(registrations, alerts, &e);
            }
        }
    }
    let mut pended: Vec<Pended> = Vec::with_capacity(registrations.len() + alerts.len());
    let mut broken: Option<StoreError> = None;
    for job in registrations {
        let work = async |w: &mut Writer| {
            register_in(s, w, job.org, &job.actor, job.matter, &job.search_tokens).await
        };
        if let Some((reply, result)) =
            one_by_one(&mut w, &missing, &mut broken, job.org, job.reply, work).await
        {
            pended.push(Pended::Registration(reply, result));
        }
    }
    for job in alerts {
        let work = async |w: &mut Writer| raise_one(s, w, job.org, job.matter, &job.alerts).await;
        if let Some((reply, result)) =
            one_by_one(&mut w, &missing, &mut broken, job.org, job.reply, work).await
        {
            pended.push(Pended::Alert(reply, result));
        }
    }
    // A savepoint that could not be released or rolled back leaves the transaction unusable:
    // everything of this batch fails.
    let committed = match broken {
        Some(e) => {
            let _ = w.finish::<()>(Err(StoreError::Unavailable(e.to_string()))).await;
            Err(e)
        }
        None => w.commit().await.map_err(classify),
    };
    for p in pended {
        p.send(committed.as_ref().map(|_| ()));
    }
}

/// One job of a batch written job by job: answered at once when its organisation does not
/// exist or the transaction is already unusable (`broken`), else run in a savepoint of its
/// own and handed back with its result, to be answered after the commit. A savepoint that
/// fails breaks the transaction for every job after it.
async fn one_by_one<T>(
    w: &mut Writer,
    missing: &[OrganisationId],
    broken: &mut Option<StoreError>,
    org: OrganisationId,
    reply: oneshot::Sender<Result<T>>,
    work: impl AsyncFnOnce(&mut Writer) -> Result<T>,
) -> Option<(oneshot::Sender<Result<T>>, Result<T>)> {
    if missing.contains(&org) {
        let _ = reply.send(Err(StoreError::NotFound));
        return None;
    }
    if let Some(e) = broken {
        let _ = reply.send(Err(again(e)));
        return None;
    }
    match in_savepoint(w, work).await {
        Ok(result) => Some((reply, result)),
        Err(e) => {
            let _ = reply.send(Err(again(&e)));
            *broken = Some(e);
            None
        }
    }
}

/// Runs `work` in a savepoint, released when it succeeds and rolled back when it fails.
/// `Ok(its result)`, or `Err` when the savepoint itself failed (the transaction is unusable).
async fn in_savepoint<T>(
    w: &mut Writer,
    work: impl AsyncFnOnce(&mut Writer) -> Result<T>,
) -> std::result::Result<Result<T>, StoreError> {
    savepoint(w, "savepoint job").await?;
    let done = work(w).await;
    let end = if done.is_ok() {
        "release savepoint job"
    } else {
        "rollback to savepoint job"
    };
    savepoint(w, end).await?;
    Ok(done)
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
fn fail_all(registrations: Vec<Registration>, alerts: Vec<AlertJob>, e: &StoreError) {
    for r in registrations {
        let _ = r.reply.send(Err(again(e)));
    }
    for a in alerts {
        let _ = a.reply.send(Err(again(e)));
    }
}
