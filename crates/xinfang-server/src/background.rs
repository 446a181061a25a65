//! Background work of an app node: the deadline scan and the daily deadline report.
//!
//! Every node runs the same loop; none is special. Each tick, for every organisation, a node
//! asks the store to claim each job's due run ([`Store::claim_job`]); the store lets exactly one
//! node win each run, so with two nodes behind a load balancer the report is written once and
//! the scan runs once per interval. The scan itself is also safe to run twice at the same moment
//! (the store records each crossing once), which is what lets an admin trigger it by hand on
//! any node.
//!
//! - **Deadline scan** (`deadline_scan`, every `scan_every`): records each matter's crossing
//!   into due-soon and into overdue as an audit event and a reminder for the lead unit.
//! - **Daily deadline report** (`daily_deadline_report`, each morning at 07:00 Beijing time):
//!   yesterday's registrations and replies, and per unit the open, due-soon, overdue and paused
//!   matters, stored as a report every node can serve.
//! - **Intake backfill** (`intake_backfill`, every `scan_every`): triage and duplicate links
//!   for matters that have none (bulk-loaded, or an intake that failed), batch after batch
//!   for up to half the interval.
//! - **Search index upkeep** ([`run_upkeep`], every second by default, on every node, in a
//!   loop of its own so that a node without the jobs above still does it): merges the
//!   full-text index's recent entries ([`Store::tidy_search_index`]), so searches do not read
//!   them one by one. Not claimed: two nodes at once wait for each other and the second finds
//!   nothing left.
//! - **Model training** (`model_training`, nightly at 03:00 Beijing time): retrains the routing
//!   model from the matters clerks classified when there is new material
//!   ([`crate::routing::retrain_if_new`]).

use crate::intake::Intake;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use xinfang_core::clock::{Clock, local_date, start_of_local_day};
use xinfang_core::ids::OrganisationId;
use xinfang_store::{NewReport, ScanOutcome, Store, StoreError};

/// The job that records deadline crossings.
pub const DEADLINE_SCAN: &str = "deadline_scan";
/// The job that writes the daily deadline report.
pub const DAILY_REPORT: &str = "daily_deadline_report";
/// The job that retrains the routing model when clerks classified new matters.
pub const MODEL_TRAINING: &str = "model_training";
/// The local hour of the nightly training.
const TRAINING_HOUR: i64 = 3;
/// The job that runs intake (triage, duplicate links) for matters that have none yet.
pub const INTAKE_BACKFILL: &str = "intake_backfill";
/// Matters the backfill takes per run.
const BACKFILL_BATCH: u32 = 200;
/// The kind of the daily report in the `reports` table.
pub const DAILY_REPORT_KIND: &str = "daily_deadlines";
/// The local hour of the daily report.
const REPORT_HOUR: i64 = 7;
/// At most this many batches per scan run, so one huge backlog cannot hold a node forever
/// (the next run continues where this one stopped).
const MAX_BATCHES: u32 = 200;

/// How a node runs its background work.
#[derive(Debug, Clone)]
pub struct Background {
    /// This node's name in the job records (host, process and a random part by default).
    pub node: String,
    /// How often the loop looks for due work, and the deadline scan's interval.
    pub scan_every: std::time::Duration,
    /// Crossings recorded per transaction.
    pub batch: u32,
}

impl Background {
    pub fn new(scan_every: std::time::Duration) -> Self {
        Self {
            node: default_node_name(),
            scan_every,
            batch: 500,
        }
    }
}

/// `host:pid:xxxx`: tells the nodes of a deployment apart in `GET /api/v1/jobs`.
pub fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "node".to_string());
    let tag: u16 = rand::random();
    format!("{host}:{}:{tag:04x}", std::process::id())
}

/// Records every crossing of `org` not yet recorded, batch after batch.
pub async fn scan_organisation(
    store: &dyn Store,
    org: OrganisationId,
    batch: u32,
) -> Result<ScanOutcome, StoreError> {
    let mut total = ScanOutcome::default();
    for _ in 0..MAX_BATCHES {
        let o = store.scan_deadlines(org, batch.max(1)).await?;
        total.due_soon += o.due_soon;
        total.overdue += o.overdue;
        total.more = o.more;
        if !o.more {
            break;
        }
    }
    Ok(total)
}

/// The first `hour`:00 Beijing time after `now`.
fn next_local_hour(now: DateTime<Utc>, hour: i64) -> DateTime<Utc> {
    let today = start_of_local_day(local_date(now)) + Duration::hours(hour);
    if today > now {
        today
    } else {
        today + Duration::days(1)
    }
}

/// The first 07:00 Beijing time after `now`.
fn next_report_time(now: DateTime<Utc>) -> DateTime<Utc> {
    next_local_hour(now, REPORT_HOUR)
}

/// Writes the daily deadline report of `day` (its registrations and replies; the deadline
/// figures as of `now`). False when that day's report already exists.
pub async fn write_daily_report(
    store: &dyn Store,
    org: OrganisationId,
    day: NaiveDate,
    now: DateTime<Utc>,
    node: &str,
) -> Result<bool, StoreError> {
    let from = start_of_local_day(day);
    let to = start_of_local_day(day + Duration::days(1));
    let (registered, replied) = store.period_counts(org, from, to).await?;
    let units = store.deadline_lines(org, now).await?;
    let sum = |f: fn(&xinfang_store::UnitDeadlineLine) -> u64| units.iter().map(f).sum::<u64>();
    let body = json!({
        "date": day,
        "as_of": now,
        "registered": registered,
        "replied": replied,
        "open": sum(|l| l.open),
        "due_soon": sum(|l| l.due_soon),
        "overdue": sum(|l| l.overdue),
        "paused": sum(|l| l.paused),
        "units": units,
    });
    store
        .save_report(
            org,
            NewReport {
                kind: DAILY_REPORT_KIND.to_string(),
                period_start: from,
                period_end: to,
                node: node.to_string(),
                body,
            },
        )
        .await
}

/// Runs intake for matters without it, a batch at a time, oldest first (so links point from
/// the newer matter to the older one, as at registration), one matter after another (a newer
/// near-copy must find the older one already recorded), until none is left or `budget` is
/// spent — at least one batch, whatever the budget. A matter that fails is logged, counted
/// and set aside for a while ([`Store::record_intake_failure`]: longer after each failure), so
/// matters that keep failing cannot hold up the ones behind them. Answers (recorded, failed).
///
/// One batch a run was 200 matters a minute: the backlog of a database of a million matters
/// registered before intake existed would have taken a week.
pub async fn backfill_intake(
    store: &dyn Store,
    intake: &Intake,
    org: OrganisationId,
    now: DateTime<Utc>,
    budget: std::time::Duration,
) -> Result<(u32, u32), StoreError> {
    let started = std::time::Instant::now();
    let (mut done, mut failed) = (0, 0);
    loop {
        let batch = store.matters_without_intake(org, now, BACKFILL_BATCH).await?;
        let full = batch.len() == BACKFILL_BATCH as usize;
        for id in batch {
            match intake.backfill(store, org, id, now - Duration::days(1)).await {
                Ok(_) => done += 1,
                Err(e) => {
                    let attempts = store.record_intake_failure(org, id, &e.to_string(), now).await?;
                    tracing::warn!(matter = %id, error = %e, attempts, "intake backfill failed; the matter is retried later");
                    failed += 1;
                }
            }
        }
        if !full || started.elapsed() >= budget {
            return Ok((done, failed));
        }
    }
}

/// One pass: runs, for every organisation, the jobs this node wins.
pub async fn run_due(
    store: &dyn Store,
    clock: &dyn Clock,
    cfg: &Background,
    intake: &Intake,
) -> Result<(), StoreError> {
    for org in store.organisations().await? {
        let now = clock.now();
        let every = Duration::from_std(cfg.scan_every).unwrap_or(Duration::minutes(1));
        if store
            .claim_job(org.id, DEADLINE_SCAN, &cfg.node, now + every)
            .await?
        {
            let result = match scan_organisation(store, org.id, cfg.batch).await {
                Ok(o) => {
                    if o.due_soon + o.overdue > 0 {
                        tracing::info!(organisation = %org.id, due_soon = o.due_soon, overdue = o.overdue, "deadline crossings recorded");
                    }
                    format!("due_soon={} overdue={} more={}", o.due_soon, o.overdue, o.more)
                }
                Err(e) => format!("error: {e}"),
            };
            store.finish_job(org.id, DEADLINE_SCAN, &result).await?;
        }
        if store
            .claim_job(org.id, DAILY_REPORT, &cfg.node, next_report_time(now))
            .await?
        {
            let yesterday = local_date(now) - Duration::days(1);
            let result = match write_daily_report(store, org.id, yesterday, now, &cfg.node).await {
                Ok(true) => format!("report {yesterday} written"),
                Ok(false) => format!("report {yesterday} already present"),
                Err(e) => format!("error: {e}"),
            };
            store.finish_job(org.id, DAILY_REPORT, &result).await?;
        }
        if store
            .claim_job(
                org.id,
                MODEL_TRAINING,
                &cfg.node,
                next_local_hour(now, TRAINING_HOUR),
            )
            .await?
        {
            let result = match crate::routing::retrain_if_new(store, org.id).await {
                Ok(line) => line,
                Err(e) => format!("error: {e}"),
            };
            store.finish_job(org.id, MODEL_TRAINING, &result).await?;
        }
        if store
            .claim_job(org.id, INTAKE_BACKFILL, &cfg.node, now + every)
            .await?
        {
            // Half the interval, so the run ends before the next one is due and another node
            // (which would claim it) never works the same backlog at the same time.
            let budget = cfg.scan_every / 2;
            let result = match backfill_intake(store, intake, org.id, now, budget).await {
                Ok((done, failed)) => format!("intake recorded for {done} matters, {failed} failed"),
                Err(e) => format!("error: {e}"),
            };
            store.finish_job(org.id, INTAKE_BACKFILL, &result).await?;
        }
    }
    Ok(())
}

/// Merges the search index's recent entries every `every` until `shutdown` turns true, and
/// returns the pages merged in all. The first merge is at once, even when `shutdown` is
/// already true.
///
/// Every second by default (`xinfang serve --index-tidy-interval`): on PostgreSQL each ask of
/// the GIN index reads its whole pending list (up to 4 MB, ≈ 5 ms when full at a million
/// matters), which PostgreSQL itself merges only when it is full or a vacuum comes by. Merged
/// every second, a quiet office's searches read next to nothing there, and the merges of a
/// busy one happen here rather than inside a registration that filled the list. Merging a
/// second's registrations costs a little more per registration than merging 4 MB at once,
/// but only where there are few. A failure (the database role does not own the index, say)
/// costs searches speed, not correctness: it is warned of once per process.
pub async fn run_upkeep(
    store: Arc<dyn Store>,
    every: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> u64 {
    static TIDY_WARNED: AtomicBool = AtomicBool::new(false);
    let every = every.max(std::time::Duration::from_millis(10));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut merged = 0;
    loop {
        match store.tidy_search_index().await {
            Ok(0) => {}
            Ok(pages) => {
                merged += pages;
                tracing::debug!(pages, "search index pending entries merged")
            }
            Err(e) if !TIDY_WARNED.swap(true, Ordering::Relaxed) => {
                tracing::warn!(error = %e, "search index pending entries not merged (warned once)")
            }
            Err(e) => tracing::debug!(error = %e, "search index pending entries not merged"),
        }
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => break,
        }
    }
    merged
}

/// The node's loop, until `shutdown` turns true. A failing database is logged once per outage
/// and retried on the next tick.
pub async fn run(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cfg: Background,
    intake: Arc<Intake>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(cfg.scan_every.max(std::time::Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => break,
        }
        if *shutdown.borrow() {
            break;
        }
        match run_due(store.as_ref(), clock.as_ref(), &cfg, &intake).await {
            Ok(()) => {
                if failing {
                    tracing::info!(node = %cfg.node, "background work resumed");
                }
                failing = false;
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(node = %cfg.node, error = %e, "background work failed; retrying every tick");
                }
                failing = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_report_runs_at_seven_in_beijing() {
        // 06:59 Beijing on 3 Dec → 07:00 the same day; 07:00 exactly → the next day.
        let before = Utc.with_ymd_and_hms(2026, 12, 2, 22, 59, 0).unwrap();
        assert_eq!(
            next_report_time(before),
            Utc.with_ymd_and_hms(2026, 12, 2, 23, 0, 0).unwrap()
        );
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 23, 0, 0).unwrap();
        assert_eq!(
            next_report_time(at),
            Utc.with_ymd_and_hms(2026, 12, 3, 23, 0, 0).unwrap()
        );
    }
}
