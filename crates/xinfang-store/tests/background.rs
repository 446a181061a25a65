//! The store's background work, told once and run against every backend: deadline crossings
//! recorded exactly once with a reminder for the unit that must act, scheduled job runs claimed
//! by one node, reports kept once per period, and rate-limit counters. Concurrency is real
//! (several scans or claims in flight on one store, which on PostgreSQL means several
//! connections); time moves by the store's clock, never by sleeping.

mod suite;

use chrono::Duration;
use std::future::Future;
use std::sync::Arc;
use suite::*;
use xinfang_core::clock::Clock;
use xinfang_core::deadline::{DeadlineKind, DeadlineStatus};
use xinfang_core::ids::{PetitionId, ReminderId};
use xinfang_core::lifecycle::Command;
use xinfang_store::{
    ActorKind, EventKind, NewReport, ReminderFilter, ReminderKind, ScanOutcome, Store, StoreError,
};

fn open() -> ReminderFilter {
    ReminderFilter {
        open_only: true,
        limit: 100,
    }
}

fn every() -> ReminderFilter {
    ReminderFilter {
        open_only: false,
        limit: 100,
    }
}

/// The crossing events of a matter, oldest first.
async fn crossings(s: &dyn Store, o: &Org, id: PetitionId) -> Vec<EventKind> {
    s.timeline(&o.supervisor, id)
        .await
        .expect("timeline")
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::DeadlineDueSoon | EventKind::DeadlineOverdue))
        .inspect(|e| assert_eq!(e.actor_kind, ActorKind::System, "the system records crossings"))
        .map(|e| e.kind)
        .collect()
}

/// Runs the futures `f(0)`, …, `f(n - 1)` at the same time, each as a task of its own.
async fn concurrently<T, Fut>(n: usize, f: impl Fn(usize) -> Fut) -> Vec<T>
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        set.spawn(f(i));
    }
    let mut out = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        out.push(r.expect("task"));
    }
    out
}

/// Runs `n` scans at once and adds up what they recorded.
async fn scan_concurrently(s: &Arc<dyn Store>, o: &Org, n: usize) -> ScanOutcome {
    let org = o.id;
    let outcomes = concurrently(n, |_| {
        let s = s.clone();
        async move { s.scan_deadlines(org, 100).await }
    })
    .await;
    outcomes.into_iter().fold(ScanOutcome::default(), |acc, r| {
        let r = r.expect("scan");
        ScanOutcome {
            due_soon: acc.due_soon + r.due_soon,
            overdue: acc.overdue + r.overdue,
            more: acc.more || r.more,
        }
    })
}

#[tokio::test]
async fn each_deadline_crossing_is_recorded_once_with_a_reminder_for_the_lead_unit() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let id = o.register(s, bus_matter()).await.id;
        let v = o.in_progress_at(s, id, &o.unit_a).await;
        let handling = v.deadline.expect("the handling deadline runs");
        assert_eq!(handling.kind, DeadlineKind::Handling);
        let due_at = handling.due_at.expect("a due instant");
        let soon_days = s.default_rule_set(o.id).await.expect("rules").due_soon_days;
        let due_soon_at = due_at - Duration::days(i64::from(soon_days));

        // Nothing to announce yet, however often the scan runs.
        assert_eq!(scan_concurrently(&b.store, &o, 3).await, ScanOutcome::default());

        // Into the due-soon window: four scans at once record it once.
        b.clock.set(due_soon_at + Duration::minutes(1));
        let o1 = scan_concurrently(&b.store, &o, 4).await;
        assert_eq!((o1.due_soon, o1.overdue), (1, 0));
        assert_eq!(crossings(s, &o, id).await, vec![EventKind::DeadlineDueSoon]);
        let seen = s.reminders(&o.handler_a, every()).await.expect("reminders");
        assert_eq!(seen.len(), 1, "the lead unit's handler is reminded");
        assert_eq!(seen[0].kind, ReminderKind::DueSoon);
        assert_eq!(seen[0].matter_id, id);
        assert_eq!(seen[0].unit_id, Some(o.unit_a.id));
        assert_eq!(seen[0].deadline_kind, Some(DeadlineKind::Handling));
        assert_eq!(seen[0].due_at, Some(due_at));
        assert!(
            s.reminders(&o.handler_b, every())
                .await
                .expect("reminders")
                .is_empty(),
            "another unit's handler sees none of it"
        );
        assert_eq!(
            s.reminders(&o.supervisor, every())
                .await
                .expect("reminders")
                .len(),
            1
        );

        // Past the deadline: the overdue crossing, once.
        b.clock.set(due_at + Duration::hours(2));
        let o2 = scan_concurrently(&b.store, &o, 4).await;
        assert_eq!((o2.due_soon, o2.overdue), (0, 1));
        assert_eq!(scan_concurrently(&b.store, &o, 2).await, ScanOutcome::default());
        assert_eq!(
            crossings(s, &o, id).await,
            vec![EventKind::DeadlineDueSoon, EventKind::DeadlineOverdue]
        );
        let timeline = s.timeline(&o.supervisor, id).await.expect("timeline");
        let overdue = timeline
            .iter()
            .find(|e| e.kind == EventKind::DeadlineOverdue)
            .expect("overdue event");
        assert_eq!(overdue.occurred_at, due_at, "dated when it became overdue");
        assert_eq!(
            overdue.recorded_at,
            due_at + Duration::hours(2),
            "recorded when found"
        );
        assert_eq!(overdue.label_zh, "超期提醒");

        let reminders = s.reminders(&o.handler_a, every()).await.expect("reminders");
        assert_eq!(
            reminders.iter().map(|r| r.kind).collect::<Vec<_>>(),
            vec![ReminderKind::Overdue, ReminderKind::DueSoon],
            "newest first"
        );
        // The handler sees to the overdue one; the other stays open.
        let ack = s
            .acknowledge_reminder(&o.handler_a, reminders[0].id)
            .await
            .expect("acknowledge");
        assert_eq!(ack.acknowledged_by, Some(o.handler_a.user_id));
        assert!(ack.acknowledged_at.is_some());
        let again = s
            .acknowledge_reminder(&o.head_a, reminders[0].id)
            .await
            .expect("acknowledge twice");
        assert_eq!(
            again.acknowledged_by,
            Some(o.handler_a.user_id),
            "the first one stays"
        );
        let still_open = s.reminders(&o.handler_a, open()).await.expect("open reminders");
        assert_eq!(
            still_open.iter().map(|r| r.kind).collect::<Vec<_>>(),
            vec![ReminderKind::DueSoon]
        );
        assert!(matches!(
            s.acknowledge_reminder(&o.handler_b, reminders[1].id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.acknowledge_reminder(&o.supervisor, ReminderId::new()).await,
            Err(StoreError::NotFound)
        ));

        // The crossings are part of the audit chain like every other event.
        let chain = s.verify_audit().await.expect("verify");
        assert!(chain.broken.is_none(), "{:?}", chain.broken);
    }
}

#[tokio::test]
async fn a_new_deadline_is_announced_again_and_a_late_scan_records_only_the_overdue() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        // Registered and never accepted: the acceptance deadline runs.
        let id = o.register(s, bus_matter()).await.id;
        let acceptance = s
            .matter(&o.supervisor, id)
            .await
            .expect("view")
            .deadline
            .expect("acceptance deadline");
        assert_eq!(acceptance.kind, DeadlineKind::Acceptance);
        let due = acceptance.due_at.expect("due");

        // Nobody scanned during the due-soon window: only the overdue is recorded.
        b.clock.set(due + Duration::days(1));
        let out = s.scan_deadlines(o.id, 100).await.expect("scan");
        assert_eq!((out.due_soon, out.overdue, out.more), (0, 1, false));
        assert_eq!(crossings(s, &o, id).await, vec![EventKind::DeadlineOverdue]);
        let r = s.reminders(&o.supervisor, every()).await.expect("reminders");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].unit_id, None, "no lead unit yet: the petition office's own");
        assert_eq!(r[0].deadline_kind, Some(DeadlineKind::Acceptance));

        // Accepted late: the handling deadline is a new one, armed again.
        o.step(s, &o.clerk, id, Command::Accept { note: None }).await;
        assert_eq!(
            s.scan_deadlines(o.id, 100).await.expect("scan"),
            ScanOutcome::default()
        );
        let handling = s
            .matter(&o.supervisor, id)
            .await
            .expect("view")
            .deadline
            .expect("handling deadline");
        assert_eq!(handling.kind, DeadlineKind::Handling);
        b.clock.set(handling.due_at.expect("due") - Duration::hours(1));
        let out = s.scan_deadlines(o.id, 100).await.expect("scan");
        assert_eq!((out.due_soon, out.overdue), (1, 0));

        // A paused deadline is not announced while paused.
        let paused = o.register(s, bus_matter()).await.id;
        o.in_progress_at(s, paused, &o.unit_a).await;
        o.step(
            s,
            &o.handler_a,
            paused,
            Command::Pause {
                reason: "等待信访人补充材料".into(),
            },
        )
        .await;
        b.clock.advance(Duration::days(200));
        let out = s.scan_deadlines(o.id, 100).await.expect("scan");
        assert_eq!(
            (out.due_soon, out.overdue),
            (0, 1),
            "only the first matter's handling deadline"
        );
        assert!(crossings(s, &o, paused).await.is_empty());
        let view = s.matter(&o.supervisor, paused).await.expect("view");
        assert_eq!(view.deadline.map(|d| d.status), Some(DeadlineStatus::Paused));
    }
}

#[tokio::test]
async fn a_scan_works_through_a_backlog_in_batches() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let mut ids = Vec::new();
        for _ in 0..7 {
            ids.push(o.register(s, bus_matter()).await.id);
        }
        b.clock.advance(Duration::days(60));
        let first = s.scan_deadlines(o.id, 3).await.expect("scan");
        assert_eq!((first.overdue, first.more), (3, true));
        let second = s.scan_deadlines(o.id, 3).await.expect("scan");
        assert_eq!((second.overdue, second.more), (3, true));
        let last = s.scan_deadlines(o.id, 3).await.expect("scan");
        assert_eq!((last.overdue, last.more), (1, false));
        for id in ids {
            assert_eq!(crossings(s, &o, id).await, vec![EventKind::DeadlineOverdue]);
        }
        // Another organisation's scan touches none of this organisation's matters.
        let other = Org::create(s, "另一集团", "other").await;
        assert_eq!(
            s.scan_deadlines(other.id, 100).await.expect("scan"),
            ScanOutcome::default()
        );
    }
}

#[tokio::test]
async fn a_job_run_is_claimed_by_exactly_one_node() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let now = b.clock.now();
        let next = now + Duration::minutes(1);
        let nodes = ["node-a", "node-b", "node-c", "node-d", "node-e"];
        let claim = |at: chrono::DateTime<chrono::Utc>| {
            let (store, org) = (b.store.clone(), o.id);
            concurrently(nodes.len(), move |i| {
                let store = store.clone();
                async move {
                    (
                        nodes[i],
                        store.claim_job(org, "deadline_scan", nodes[i], at).await,
                    )
                }
            })
        };
        let winners: Vec<&str> = claim(next)
            .await
            .into_iter()
            .filter_map(|(n, c)| c.expect("claim").then_some(n))
            .collect();
        assert_eq!(winners.len(), 1, "one node runs the job: {winners:?}");
        s.finish_job(o.id, "deadline_scan", "due_soon=0 overdue=0")
            .await
            .expect("finish");
        let jobs = s.jobs(o.id).await.expect("jobs");
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].name, "deadline_scan");
        assert_eq!(jobs[0].runs, 1);
        assert_eq!(jobs[0].last_node.as_deref(), Some(winners[0]));
        assert_eq!(jobs[0].next_run_at, next);
        assert_eq!(jobs[0].last_result.as_deref(), Some("due_soon=0 overdue=0"));

        // Not due again until its next run; then one node again.
        assert!(
            !s.claim_job(o.id, "deadline_scan", "node-b", next)
                .await
                .expect("claim")
        );
        b.clock.set(next);
        let claims = claim(next + Duration::minutes(1)).await;
        assert_eq!(
            claims
                .into_iter()
                .filter(|(_, c)| *c.as_ref().expect("claim"))
                .count(),
            1
        );
        assert_eq!(s.jobs(o.id).await.expect("jobs")[0].runs, 2);
    }
}

#[tokio::test]
async fn a_report_is_kept_once_per_period_with_the_units_deadline_figures() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let late = o.register(s, bus_matter()).await.id;
        o.in_progress_at(s, late, &o.unit_a).await;
        let fresh = o.register(s, bus_matter()).await.id;
        o.assign_to(s, fresh, &o.unit_b).await;
        let waiting = o.register(s, bus_matter()).await.id;
        let start = b.clock.now();
        // The handling deadlines of `late` and `fresh` are two months ahead; move past them.
        b.clock.advance(Duration::days(70));
        o.step(s, &o.clerk, waiting, Command::Accept { note: None }).await;

        let lines = s.deadline_lines(o.id, b.clock.now()).await.expect("lines");
        let line = |unit: Option<xinfang_core::ids::UnitId>| {
            lines
                .iter()
                .find(|l| l.unit_id == unit)
                .map(|l| (l.open, l.due_soon, l.overdue, l.paused))
        };
        assert_eq!(line(Some(o.unit_a.id)), Some((1, 0, 1, 0)));
        assert_eq!(line(Some(o.unit_b.id)), Some((1, 0, 1, 0)));
        assert_eq!(line(None), Some((1, 0, 0, 0)), "accepted, not yet assigned");
        assert_eq!(
            lines
                .iter()
                .find(|l| l.unit_id == Some(o.unit_a.id))
                .and_then(|l| l.unit_name.as_deref()),
            Some("地面交通中心")
        );
        let (registered, replied) = s
            .period_counts(o.id, start - Duration::hours(1), start + Duration::hours(1))
            .await
            .expect("counts");
        assert_eq!((registered, replied), (3, 0));

        let report = |node: &str| NewReport {
            kind: "daily_deadlines".into(),
            period_start: start,
            period_end: start + Duration::days(1),
            node: node.into(),
            body: serde_json::json!({"overdue": 2, "units": lines.len()}),
        };
        let reports = [report("a"), report("b")];
        let saved = concurrently(2, |i| {
            let (store, org, r) = (b.store.clone(), o.id, reports[i].clone());
            async move { store.save_report(org, r).await }
        })
        .await;
        assert_eq!(
            saved.into_iter().filter(|r| *r.as_ref().expect("save")).count(),
            1
        );
        let kept = s
            .reports(o.id, Some("daily_deadlines"), 10)
            .await
            .expect("reports");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].body["overdue"], 2);
        assert_eq!(kept[0].period_start, start);
        assert!(
            s.reports(o.id, Some("other"), 10)
                .await
                .expect("reports")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn rate_limit_hits_are_counted_per_key_and_window() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let w = Duration::minutes(15);
        let now = b.clock.now();
        let hits = concurrently(5, |_| {
            let store = b.store.clone();
            async move { store.rate_limit_hit("user:clerk", w, now).await }
        })
        .await;
        let mut counts: Vec<u32> = hits.into_iter().map(|h| h.expect("hit")).collect();
        counts.sort_unstable();
        assert_eq!(counts, vec![1, 2, 3, 4, 5], "concurrent hits are all counted");
        assert_eq!(s.rate_limit_count("user:clerk", w, now).await.expect("count"), 5);
        assert_eq!(s.rate_limit_hit("login:10.0.0.1", w, now).await.expect("hit"), 1);
        // A new window starts at one.
        let later = now + w + Duration::seconds(1);
        assert_eq!(
            s.rate_limit_count("user:clerk", w, later).await.expect("count"),
            0
        );
        assert_eq!(s.rate_limit_hit("user:clerk", w, later).await.expect("hit"), 1);
        s.rate_limit_clear("user:clerk").await.expect("clear");
        assert_eq!(
            s.rate_limit_count("user:clerk", w, later).await.expect("count"),
            0
        );
        assert_eq!(
            s.rate_limit_count("login:10.0.0.1", w, now).await.expect("count"),
            1
        );
    }
}
