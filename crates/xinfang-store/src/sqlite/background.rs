//! Background work on SQLite: the deadline scan, scheduled jobs, reminders, reports and the
//! rate-limit counters.
//!
//! SQLite has one writer, so "exactly once" needs no row locks here: every write goes through
//! the single writer connection, and the deadline scan runs inside [`Writer`], the same lock
//! every event-appending transaction holds. The PostgreSQL twin (`postgres/background.rs`)
//! carries the same meaning across several app nodes.

use super::matters::push_scope;
use super::{NewEvent, SqliteStore, Writer, map_unique, parse_id, parse_ts, ts};
use crate::model::*;
use crate::shared::Crossing;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use xinfang_core::deadline::DeadlineKind;
use xinfang_core::ids::{OrganisationId, ReminderId, ReportId};
use xinfang_core::matter::State;
use xinfang_core::org::{Actor, StaffActor};

pub(super) async fn scan_deadlines(s: &SqliteStore, org: OrganisationId, limit: u32) -> Result<ScanOutcome> {
    let now = s.now();
    let now_s = ts(now);
    let org_s = org.to_string();
    let mut w = Writer::begin(s).await?;
    // The terms repeat matters_alert_idx's own `where`, so SQLite may use that partial index.
    let rows = sqlx::query(
        "select id, state, lead_unit_id, deadline_kind, due_at, due_soon_at from matters
         where organisation_id = ? and due_at is not null and alerted_overdue_for is not due_at
           and coalesce(due_soon_at, due_at) <= ?
           and (due_at <= ? or (paused = 0 and alerted_due_soon_for is not due_at))
         order by coalesce(due_soon_at, due_at)
         limit ?",
    )
    .bind(&org_s)
    .bind(&now_s)
    .bind(&now_s)
    .bind(i64::from(limit))
    .fetch_all(w.conn())
    .await?;
    let mut out = ScanOutcome {
        more: rows.len() as u64 >= u64::from(limit),
        ..ScanOutcome::default()
    };
    for r in &rows {
        let c = crossing(r, now)?;
        let seq = w
            .append(
                &s.vault,
                NewEvent {
                    organisation_id: org,
                    matter_id: Some(c.matter_id),
                    kind: c.kind.event().code(),
                    actor: &Actor::System,
                    occurred_at: c.crossed_at,
                    recorded_at: now,
                    reason: None,
                    before_state: Some(c.state.code()),
                    after_state: Some(c.state.code()),
                    data: c.event_data(),
                },
            )
            .await?;
        // A plain insert: a second reminder for one crossing is a bug, and the unique key
        // makes it fail the whole batch (events included) rather than repeat itself.
        sqlx::query(
            "insert into reminders (organisation_id, id, matter_id, kind, unit_id, deadline_kind, due_at, event_seq, created_at)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&org_s)
        .bind(ReminderId::new().to_string())
        .bind(c.matter_id.to_string())
        .bind(c.kind.code())
        .bind(c.unit_id.map(|u| u.to_string()))
        .bind(c.deadline_kind.map(DeadlineKind::code))
        .bind(ts(c.due_at))
        .bind(seq)
        .bind(&now_s)
        .execute(w.conn())
        .await
        .map_err(|e| map_unique(e, "reminders_crossing_key", None))?;
        sqlx::query(
            "update matters set alerted_due_soon_for = due_at,
                 alerted_overdue_for = case when ? then due_at else alerted_overdue_for end
             where organisation_id = ? and id = ?",
        )
        .bind(c.kind == ReminderKind::Overdue)
        .bind(&org_s)
        .bind(c.matter_id.to_string())
        .execute(w.conn())
        .await?;
        match c.kind {
            ReminderKind::DueSoon => out.due_soon += 1,
            ReminderKind::Overdue => out.overdue += 1,
            // Raised at intake, never by the deadline scan.
            ReminderKind::SafetyAlert => {}
        }
    }
    w.commit().await?;
    Ok(out)
}

fn crossing(r: &SqliteRow, now: DateTime<Utc>) -> Result<Crossing> {
    let due_soon_at = r
        .get::<Option<&str>, _>("due_soon_at")
        .map(parse_ts)
        .transpose()?;
    let state: &str = r.get("state");
    Ok(Crossing::new(
        parse_id(r.get("id"))?,
        State::parse(state).ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
        r.get::<Option<&str>, _>("lead_unit_id")
            .map(parse_id)
            .transpose()?,
        r.get::<Option<&str>, _>("deadline_kind")
            .and_then(DeadlineKind::parse),
        parse_ts(r.get("due_at"))?,
        due_soon_at,
        now,
    ))
}

pub(super) async fn claim_job(
    s: &SqliteStore,
    org: OrganisationId,
    name: &str,
    node: &str,
    next_run_at: DateTime<Utc>,
) -> Result<bool> {
    let now = ts(s.now());
    let done = sqlx::query(
        "insert into jobs (organisation_id, name, next_run_at) values (?, ?, ?) on conflict do nothing;
         update jobs set next_run_at = ?, runs = runs + 1, last_node = ?, last_started_at = ?
         where organisation_id = ? and name = ? and next_run_at <= ?",
    )
    .bind(org.to_string())
    .bind(name)
    .bind(&now)
    .bind(ts(next_run_at))
    .bind(node)
    .bind(&now)
    .bind(org.to_string())
    .bind(name)
    .bind(&now)
    .execute(&s.writer)
    .await?;
    // rows_affected sums both statements: 2 for a new job (inserted, due at once, claimed),
    // 1 for a due one, 0 when it is not due (the single writer leaves no race between them).
    Ok(done.rows_affected() >= 1)
}

pub(super) async fn finish_job(s: &SqliteStore, org: OrganisationId, name: &str, result: &str) -> Result<()> {
    sqlx::query(
        "update jobs set last_finished_at = ?, last_result = ? where organisation_id = ? and name = ?",
    )
    .bind(ts(s.now()))
    .bind(result)
    .bind(org.to_string())
    .bind(name)
    .execute(&s.writer)
    .await?;
    Ok(())
}

pub(super) async fn jobs(s: &SqliteStore, org: OrganisationId) -> Result<Vec<JobStatus>> {
    let rows = sqlx::query(
        "select name, next_run_at, runs, last_node, last_started_at, last_finished_at, last_result
         from jobs where organisation_id = ? order by name",
    )
    .bind(org.to_string())
    .fetch_all(&s.reader)
    .await?;
    let opt_ts = |r: &SqliteRow, c: &str| r.get::<Option<&str>, _>(c).map(parse_ts).transpose();
    rows.iter()
        .map(|r| {
            Ok(JobStatus {
                name: r.get("name"),
                next_run_at: parse_ts(r.get("next_run_at"))?,
                runs: r.get("runs"),
                last_node: r.get("last_node"),
                last_started_at: opt_ts(r, "last_started_at")?,
                last_finished_at: opt_ts(r, "last_finished_at")?,
                last_result: r.get("last_result"),
            })
        })
        .collect()
}

const REMINDER_COLUMNS: &str =
    "select r.id, r.matter_id, m.tracking_code, m.title, r.kind, r.unit_id, r.deadline_kind,
    r.due_at, r.created_at, r.acknowledged_at, r.acknowledged_by
    from reminders r join matters m on m.organisation_id = r.organisation_id and m.id = r.matter_id where";

fn reminder(r: &SqliteRow) -> Result<Reminder> {
    let kind: &str = r.get("kind");
    let kind =
        ReminderKind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("reminder kind {kind}")))?;
    let opt_ts = |c: &str| r.get::<Option<&str>, _>(c).map(parse_ts).transpose();
    Ok(Reminder {
        id: parse_id(r.get("id"))?,
        matter_id: parse_id(r.get("matter_id"))?,
        tracking_code: r.get("tracking_code"),
        title: r.get("title"),
        kind,
        label_zh: kind.label_zh(),
        unit_id: r.get::<Option<&str>, _>("unit_id").map(parse_id).transpose()?,
        deadline_kind: r
            .get::<Option<&str>, _>("deadline_kind")
            .and_then(DeadlineKind::parse),
        due_at: opt_ts("due_at")?,
        created_at: parse_ts(r.get("created_at"))?,
        acknowledged_at: opt_ts("acknowledged_at")?,
        acknowledged_by: r
            .get::<Option<&str>, _>("acknowledged_by")
            .map(parse_id)
            .transpose()?,
    })
}

pub(super) async fn reminders(
    s: &SqliteStore,
    viewer: &StaffActor,
    f: ReminderFilter,
) -> Result<Vec<Reminder>> {
    let mut q = QueryBuilder::<Sqlite>::new(REMINDER_COLUMNS);
    push_scope(&mut q, &viewer.scope());
    if f.open_only {
        q.push(" and r.acknowledged_at is null");
    }
    q.push(" order by r.created_at desc, r.id desc limit ")
        .push_bind(i64::from(f.limit.clamp(1, 500)));
    let rows = q.build().fetch_all(&s.reader).await?;
    rows.iter().map(reminder).collect()
}

pub(super) async fn acknowledge_reminder(
    s: &SqliteStore,
    viewer: &StaffActor,
    id: ReminderId,
) -> Result<Reminder> {
    // Visible first: a reminder of a matter outside the viewer's scope is "not found".
    let mut q = QueryBuilder::<Sqlite>::new(REMINDER_COLUMNS);
    push_scope(&mut q, &viewer.scope());
    q.push(" and r.id = ").push_bind(id.to_string());
    q.build()
        .fetch_optional(&s.reader)
        .await?
        .ok_or(StoreError::NotFound)?;
    sqlx::query(
        "update reminders set acknowledged_at = ?, acknowledged_by = ?
         where organisation_id = ? and id = ? and acknowledged_at is null",
    )
    .bind(ts(s.now()))
    .bind(viewer.user_id.to_string())
    .bind(viewer.organisation_id.to_string())
    .bind(id.to_string())
    .execute(&s.writer)
    .await?;
    let mut q = QueryBuilder::<Sqlite>::new(REMINDER_COLUMNS);
    q.push(" r.organisation_id = ")
        .push_bind(viewer.organisation_id.to_string())
        .push(" and r.id = ")
        .push_bind(id.to_string());
    let row = q.build().fetch_one(&s.writer).await?;
    reminder(&row)
}

pub(super) async fn deadline_lines(
    s: &SqliteStore,
    org: OrganisationId,
    now: DateTime<Utc>,
) -> Result<Vec<UnitDeadlineLine>> {
    let now = ts(now);
    let open: Vec<&str> = State::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.code())
        .collect();
    let mut q = QueryBuilder::<Sqlite>::new(
        "select m.lead_unit_id, u.name, count(*) as open,
             sum(m.paused = 0 and m.due_at is not null and m.due_at > ",
    );
    q.push_bind(&now)
        .push(" and m.due_soon_at <= ")
        .push_bind(&now)
        .push(") as due_soon, sum(m.paused = 0 and m.due_at <= ")
        .push_bind(&now)
        .push(
            ") as overdue, sum(m.paused = 1) as paused
             from matters m left join units u on u.organisation_id = m.organisation_id and u.id = m.lead_unit_id
             where m.organisation_id = ",
        )
        .push_bind(org.to_string())
        .push(" and m.state in (");
    let mut sep = q.separated(", ");
    for code in open {
        sep.push_bind(code);
    }
    q.push(") group by m.lead_unit_id, u.name order by overdue desc, open desc, u.name");
    let rows = q.build().fetch_all(&s.reader).await?;
    rows.iter()
        .map(|r| {
            Ok(UnitDeadlineLine {
                unit_id: r
                    .get::<Option<&str>, _>("lead_unit_id")
                    .map(parse_id)
                    .transpose()?,
                unit_name: r.get("name"),
                open: r.get::<i64, _>("open").max(0) as u64,
                due_soon: r.get::<Option<i64>, _>("due_soon").unwrap_or(0).max(0) as u64,
                overdue: r.get::<Option<i64>, _>("overdue").unwrap_or(0).max(0) as u64,
                paused: r.get::<Option<i64>, _>("paused").unwrap_or(0).max(0) as u64,
            })
        })
        .collect()
}

pub(super) async fn period_counts(
    s: &SqliteStore,
    org: OrganisationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let (from, to) = (ts(from), ts(to));
    let registered: i64 = sqlx::query_scalar(
        "select count(*) from matters where organisation_id = ? and registered_at >= ? and registered_at < ?",
    )
    .bind(org.to_string())
    .bind(&from)
    .bind(&to)
    .fetch_one(&s.reader)
    .await?;
    let replied: i64 = sqlx::query_scalar(
        "select count(*) from events where organisation_id = ? and kind = 'deliver_reply'
             and occurred_at >= ? and occurred_at < ?",
    )
    .bind(org.to_string())
    .bind(&from)
    .bind(&to)
    .fetch_one(&s.reader)
    .await?;
    Ok((registered.max(0) as u64, replied.max(0) as u64))
}

pub(super) async fn save_report(s: &SqliteStore, org: OrganisationId, n: NewReport) -> Result<bool> {
    let done = sqlx::query(
        "insert into reports (organisation_id, id, kind, period_start, period_end, created_at, node, body)
         values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (organisation_id, kind, period_start) do nothing",
    )
    .bind(org.to_string())
    .bind(ReportId::new().to_string())
    .bind(&n.kind)
    .bind(ts(n.period_start))
    .bind(ts(n.period_end))
    .bind(ts(s.now()))
    .bind(&n.node)
    .bind(n.body.to_string())
    .execute(&s.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn reports(
    s: &SqliteStore,
    org: OrganisationId,
    kind: Option<&str>,
    limit: u32,
) -> Result<Vec<Report>> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "select id, kind, period_start, period_end, created_at, node, body from reports where organisation_id = ",
    );
    q.push_bind(org.to_string());
    if let Some(k) = kind {
        q.push(" and kind = ").push_bind(k.to_string());
    }
    q.push(" order by period_start desc limit ")
        .push_bind(i64::from(limit.clamp(1, 366)));
    let rows = q.build().fetch_all(&s.reader).await?;
    rows.iter()
        .map(|r| {
            Ok(Report {
                id: parse_id(r.get("id"))?,
                kind: r.get("kind"),
                period_start: parse_ts(r.get("period_start"))?,
                period_end: parse_ts(r.get("period_end"))?,
                created_at: parse_ts(r.get("created_at"))?,
                node: r.get("node"),
                body: serde_json::from_str(r.get("body"))
                    .map_err(|e| StoreError::Corrupt(format!("report body: {e}")))?,
            })
        })
        .collect()
}

pub(super) async fn rate_limit_hit(
    s: &SqliteStore,
    key: &str,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<u32> {
    let (now_s, stale) = (ts(now), ts(now - window));
    let hits: i64 = sqlx::query_scalar(
        "insert into rate_limits (key, window_start, hits) values (?, ?, 1)
         on conflict (key) do update set
             hits = case when rate_limits.window_start <= ? then 1 else rate_limits.hits + 1 end,
             window_start = case when rate_limits.window_start <= ? then excluded.window_start else rate_limits.window_start end
         returning hits",
    )
    .bind(key)
    .bind(&now_s)
    .bind(&stale)
    .bind(&stale)
    .fetch_one(&s.writer)
    .await?;
    Ok(hits.clamp(0, i64::from(u32::MAX)) as u32)
}

pub(super) async fn rate_limit_count(
    s: &SqliteStore,
    key: &str,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<u32> {
    let hits: Option<i64> =
        sqlx::query_scalar("select hits from rate_limits where key = ? and window_start > ?")
            .bind(key)
            .bind(ts(now - window))
            .fetch_optional(&s.reader)
            .await?;
    Ok(hits.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32)
}

pub(super) async fn rate_limit_clear(s: &SqliteStore, key: &str) -> Result<()> {
    sqlx::query("delete from rate_limits where key = ?")
        .bind(key)
        .execute(&s.writer)
        .await?;
    Ok(())
}
