//! Background work on PostgreSQL, shared by every app node on the database: the deadline
//! scan, scheduled jobs, reminders, reports and the rate-limit counters.
//!
//! How "exactly once" holds across nodes:
//! - **Deadline crossings.** A scan first takes the organisation's chain-head lock (as every
//!   event-appending transaction does), then reads the crossings not yet recorded with
//!   `for update of m skip locked`. Two nodes scanning at once therefore run one after the
//!   other, and the second one's query (a new statement, a new snapshot) no longer sees what
//!   the first recorded: the row's `alerted_*_for` columns name the deadline already announced.
//!   `skip locked` lets a scan pass over a matter some other transaction holds instead of
//!   queueing behind it; it is picked up by the next scan.
//! - **Scheduled jobs.** A run is claimed by one conditional `update … where next_run_at <= now`:
//!   the row lock makes a second node's update wait, re-check the condition against the new
//!   `next_run_at`, and change nothing.
//! - **Reports** have a unique key per kind and period, and **rate limits** are one upsert.

use super::matters::push_scope;
use super::{NewEvent, PgStore, Writer, map_unique, micros};
use crate::model::*;
use crate::shared::Crossing;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;
use xinfang_core::deadline::DeadlineKind;
use xinfang_core::ids::{OrganisationId, PetitionId, ReminderId, ReportId, UnitId, UserId};
use xinfang_core::matter::State;
use xinfang_core::org::{Actor, StaffActor};

pub(super) async fn scan_deadlines(s: &PgStore, org: OrganisationId, limit: u32) -> Result<ScanOutcome> {
    let mut w = Writer::begin(s).await?;
    let done = scan_in(s, &mut w, org, limit).await;
    w.finish(done).await
}

async fn scan_in(s: &PgStore, w: &mut Writer, org: OrganisationId, limit: u32) -> Result<ScanOutcome> {
    w.lock(org).await?;
    let now = micros(s.now());
    // The terms repeat matters_alert_idx's own `where`, so the planner may use that index.
    let rows = sqlx::query(
        "select m.id, m.state, m.lead_unit_id, m.deadline_kind, m.due_at, m.due_soon_at from matters m
         where m.organisation_id = $1 and m.due_at is not null
           and m.alerted_overdue_for is distinct from m.due_at
           and coalesce(m.due_soon_at, m.due_at) <= $2
           and (m.due_at <= $2 or (not m.paused and m.alerted_due_soon_for is distinct from m.due_at))
         order by coalesce(m.due_soon_at, m.due_at)
         limit $3
         for update of m skip locked",
    )
    .bind(org.as_uuid())
    .bind(now)
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
        // A plain insert: a second reminder for one crossing would be a bug, and the unique
        // key makes it fail the whole batch (events included) rather than repeat itself.
        sqlx::query(
            "insert into reminders (organisation_id, id, matter_id, kind, unit_id, deadline_kind, due_at, event_seq, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(org.as_uuid())
        .bind(ReminderId::new().as_uuid())
        .bind(c.matter_id.as_uuid())
        .bind(c.kind.code())
        .bind(c.unit_id.map(|u| u.as_uuid()))
        .bind(c.deadline_kind.map(DeadlineKind::code))
        .bind(c.due_at)
        .bind(seq)
        .bind(now)
        .execute(w.conn())
        .await
        .map_err(|e| map_unique(e, "reminders_crossing_key", None))?;
        sqlx::query(
            "update matters set alerted_due_soon_for = due_at,
                 alerted_overdue_for = case when $1 then due_at else alerted_overdue_for end
             where organisation_id = $2 and id = $3",
        )
        .bind(c.kind == ReminderKind::Overdue)
        .bind(org.as_uuid())
        .bind(c.matter_id.as_uuid())
        .execute(w.conn())
        .await?;
        match c.kind {
            ReminderKind::DueSoon => out.due_soon += 1,
            ReminderKind::Overdue => out.overdue += 1,
            // Raised at intake, never by the deadline scan.
            ReminderKind::SafetyAlert => {}
        }
    }
    Ok(out)
}

fn crossing(r: &PgRow, now: DateTime<Utc>) -> Result<Crossing> {
    let state: &str = r.get("state");
    Ok(Crossing::new(
        PetitionId::from_uuid(r.get("id")),
        State::parse(state).ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
        r.get::<Option<Uuid>, _>("lead_unit_id").map(UnitId::from_uuid),
        r.get::<Option<&str>, _>("deadline_kind")
            .and_then(DeadlineKind::parse),
        r.get("due_at"),
        r.get("due_soon_at"),
        now,
    ))
}

pub(super) async fn claim_job(
    s: &PgStore,
    org: OrganisationId,
    name: &str,
    node: &str,
    next_run_at: DateTime<Utc>,
) -> Result<bool> {
    let now = micros(s.now());
    sqlx::query(
        "insert into jobs (organisation_id, name, next_run_at) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(org.as_uuid())
    .bind(name)
    .bind(now)
    .execute(&s.pool)
    .await?;
    let done = sqlx::query(
        "update jobs set next_run_at = $1, runs = runs + 1, last_node = $2, last_started_at = $3
         where organisation_id = $4 and name = $5 and next_run_at <= $3",
    )
    .bind(micros(next_run_at))
    .bind(node)
    .bind(now)
    .bind(org.as_uuid())
    .bind(name)
    .execute(&s.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn finish_job(s: &PgStore, org: OrganisationId, name: &str, result: &str) -> Result<()> {
    sqlx::query(
        "update jobs set last_finished_at = $1, last_result = $2 where organisation_id = $3 and name = $4",
    )
    .bind(micros(s.now()))
    .bind(result)
    .bind(org.as_uuid())
    .bind(name)
    .execute(&s.pool)
    .await?;
    Ok(())
}

pub(super) async fn jobs(s: &PgStore, org: OrganisationId) -> Result<Vec<JobStatus>> {
    let rows = sqlx::query(
        "select name, next_run_at, runs, last_node, last_started_at, last_finished_at, last_result
         from jobs where organisation_id = $1 order by name collate \"C\"",
    )
    .bind(org.as_uuid())
    .fetch_all(&s.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| JobStatus {
            name: r.get("name"),
            next_run_at: r.get("next_run_at"),
            runs: r.get("runs"),
            last_node: r.get("last_node"),
            last_started_at: r.get("last_started_at"),
            last_finished_at: r.get("last_finished_at"),
            last_result: r.get("last_result"),
        })
        .collect())
}

const REMINDER_COLUMNS: &str =
    "select r.id, r.matter_id, m.tracking_code, m.title, r.kind, r.unit_id, r.deadline_kind,
    r.due_at, r.created_at, r.acknowledged_at, r.acknowledged_by
    from reminders r join matters m on m.organisation_id = r.organisation_id and m.id = r.matter_id where";

fn reminder(r: &PgRow) -> Result<Reminder> {
    let kind: &str = r.get("kind");
    let kind =
        ReminderKind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("reminder kind {kind}")))?;
    Ok(Reminder {
        id: ReminderId::from_uuid(r.get("id")),
        matter_id: PetitionId::from_uuid(r.get("matter_id")),
        tracking_code: r.get("tracking_code"),
        title: r.get("title"),
        kind,
        label_zh: kind.label_zh(),
        unit_id: r.get::<Option<Uuid>, _>("unit_id").map(UnitId::from_uuid),
        deadline_kind: r
            .get::<Option<&str>, _>("deadline_kind")
            .and_then(DeadlineKind::parse),
        due_at: r.get("due_at"),
        created_at: r.get("created_at"),
        acknowledged_at: r.get("acknowledged_at"),
        acknowledged_by: r.get::<Option<Uuid>, _>("acknowledged_by").map(UserId::from_uuid),
    })
}

pub(super) async fn reminders(s: &PgStore, viewer: &StaffActor, f: ReminderFilter) -> Result<Vec<Reminder>> {
    let mut q = QueryBuilder::<Postgres>::new(REMINDER_COLUMNS);
    push_scope(&mut q, &viewer.scope());
    if f.open_only {
        q.push(" and r.acknowledged_at is null");
    }
    q.push(" order by r.created_at desc, r.id desc limit ")
        .push_bind(i64::from(f.limit.clamp(1, 500)));
    let rows = q.build().fetch_all(&s.pool).await?;
    rows.iter().map(reminder).collect()
}

pub(super) async fn acknowledge_reminder(
    s: &PgStore,
    viewer: &StaffActor,
    id: ReminderId,
) -> Result<Reminder> {
    // Only a reminder the viewer may see; the first acknowledgement stays.
    let mut q = QueryBuilder::<Postgres>::new(
        "update reminders r set acknowledged_at = coalesce(r.acknowledged_at, ",
    );
    q.push_bind(micros(s.now()))
        .push("), acknowledged_by = coalesce(r.acknowledged_by, ")
        .push_bind(viewer.user_id.as_uuid())
        .push(
            ") from matters m where m.organisation_id = r.organisation_id and m.id = r.matter_id and r.id = ",
        )
        .push_bind(id.as_uuid())
        .push(" and");
    push_scope(&mut q, &viewer.scope());
    let done = q.build().execute(&s.pool).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let mut q = QueryBuilder::<Postgres>::new(REMINDER_COLUMNS);
    q.push(" r.organisation_id = ")
        .push_bind(viewer.organisation_id.as_uuid())
        .push(" and r.id = ")
        .push_bind(id.as_uuid());
    let row = q.build().fetch_one(&s.pool).await?;
    reminder(&row)
}

pub(super) async fn deadline_lines(
    s: &PgStore,
    org: OrganisationId,
    now: DateTime<Utc>,
) -> Result<Vec<UnitDeadlineLine>> {
    let open: Vec<&str> = State::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.code())
        .collect();
    let rows = sqlx::query(
        "select m.lead_unit_id, u.name, count(*) as open,
             count(*) filter (where not m.paused and m.due_at > $2 and m.due_soon_at <= $2) as due_soon,
             count(*) filter (where not m.paused and m.due_at <= $2) as overdue,
             count(*) filter (where m.paused) as paused
         from matters m left join units u on u.organisation_id = m.organisation_id and u.id = m.lead_unit_id
         where m.organisation_id = $1 and m.state = any($3)
         group by m.lead_unit_id, u.name
         order by overdue desc, open desc, u.name collate \"C\"",
    )
    .bind(org.as_uuid())
    .bind(now)
    .bind(open)
    .fetch_all(&s.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| UnitDeadlineLine {
            unit_id: r.get::<Option<Uuid>, _>("lead_unit_id").map(UnitId::from_uuid),
            unit_name: r.get("name"),
            open: r.get::<i64, _>("open").max(0) as u64,
            due_soon: r.get::<i64, _>("due_soon").max(0) as u64,
            overdue: r.get::<i64, _>("overdue").max(0) as u64,
            paused: r.get::<i64, _>("paused").max(0) as u64,
        })
        .collect())
}

pub(super) async fn period_counts(
    s: &PgStore,
    org: OrganisationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let row = sqlx::query(
        "select (select count(*) from matters where organisation_id = $1 and registered_at >= $2 and registered_at < $3),
                (select count(*) from events where organisation_id = $1 and kind = 'deliver_reply'
                     and occurred_at >= $2 and occurred_at < $3)",
    )
    .bind(org.as_uuid())
    .bind(from)
    .bind(to)
    .fetch_one(&s.pool)
    .await?;
    Ok((
        row.get::<i64, _>(0).max(0) as u64,
        row.get::<i64, _>(1).max(0) as u64,
    ))
}

pub(super) async fn save_report(s: &PgStore, org: OrganisationId, n: NewReport) -> Result<bool> {
    let done = sqlx::query(
        "insert into reports (organisation_id, id, kind, period_start, period_end, created_at, node, body)
         values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) on conflict (organisation_id, kind, period_start) do nothing",
    )
    .bind(org.as_uuid())
    .bind(ReportId::new().as_uuid())
    .bind(&n.kind)
    .bind(micros(n.period_start))
    .bind(micros(n.period_end))
    .bind(micros(s.now()))
    .bind(&n.node)
    .bind(n.body.to_string())
    .execute(&s.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn reports(
    s: &PgStore,
    org: OrganisationId,
    kind: Option<&str>,
    limit: u32,
) -> Result<Vec<Report>> {
    let rows = sqlx::query(
        "select id, kind, period_start, period_end, created_at, node, body::text as body from reports
         where organisation_id = $1 and ($2::text is null or kind = $2)
         order by period_start desc limit $3",
    )
    .bind(org.as_uuid())
    .bind(kind)
    .bind(i64::from(limit.clamp(1, 366)))
    .fetch_all(&s.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Report {
                id: ReportId::from_uuid(r.get("id")),
                kind: r.get("kind"),
                period_start: r.get("period_start"),
                period_end: r.get("period_end"),
                created_at: r.get("created_at"),
                node: r.get("node"),
                body: serde_json::from_str(r.get("body"))
                    .map_err(|e| StoreError::Corrupt(format!("report body: {e}")))?,
            })
        })
        .collect()
}

pub(super) async fn rate_limit_hit(
    s: &PgStore,
    key: &str,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<u32> {
    let hits: i32 = sqlx::query_scalar(
        "insert into rate_limits (key, window_start, hits) values ($1, $2, 1)
         on conflict (key) do update set
             hits = case when rate_limits.window_start <= $3 then 1 else rate_limits.hits + 1 end,
             window_start = case when rate_limits.window_start <= $3 then excluded.window_start
                                 else rate_limits.window_start end
         returning hits",
    )
    .bind(key)
    .bind(micros(now))
    .bind(micros(now - window))
    .fetch_one(&s.pool)
    .await?;
    Ok(hits.max(0) as u32)
}

pub(super) async fn rate_limit_count(
    s: &PgStore,
    key: &str,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<u32> {
    let hits: Option<i32> =
        sqlx::query_scalar("select hits from rate_limits where key = $1 and window_start > $2")
            .bind(key)
            .bind(micros(now - window))
            .fetch_optional(&s.pool)
            .await?;
    Ok(hits.unwrap_or(0).max(0) as u32)
}

pub(super) async fn rate_limit_clear(s: &PgStore, key: &str) -> Result<()> {
    sqlx::query("delete from rate_limits where key = $1")
        .bind(key)
        .execute(&s.pool)
        .await?;
    Ok(())
}
