//! Safety alerts (安全预警) on PostgreSQL, raised in the transaction of a registration batch.
//!
//! An alert appends an event to the organisation's audit chain, so it needs the chain lock,
//! which the registration batcher ([`super::batch`]) holds nearly all the time under a crowd of
//! registrations. Raised on its own, each alert queued for the lock behind the batch and then
//! held it for six round trips and a commit, while the next batch waited: with one new matter
//! in twenty calling for an alert (real messages mention fires, fights and threats that
//! often), the batches spent a third of their time waiting. So alerts are queued to the same
//! batcher and written in its transaction, under the lock it already holds: one statement
//! reads what every alert of the batch needs (the matter's state, whether it was raised
//! before, the petition office) and one appends the events, the reminders and the moved heads.
//!
//! An alert is answered after the batch commits, like a registration; an alert whose matter
//! does not exist fails alone ([`StoreError::NotFound`]); one already raised (by an earlier
//! batch, or earlier in this one) is `None`.

use super::registrations::{Appended, EVENTS_AND_HEADS};
use super::{PgStore, Writer, micros};
use crate::bulk::BulkEvent;
use crate::intake::alert_event_data;
use crate::model::{ActorKind, EventKind, ReminderKind};
use crate::{Result, StoreError};
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashSet;
use std::sync::LazyLock;
use uuid::Uuid;
use xinfang_core::ids::{OrganisationId, PetitionId, ReminderId};
use xinfang_core::matter::State;
use xinfang_nlp::triage::Alert;

/// One alert to raise.
pub(super) struct NewAlert<'a> {
    pub org: OrganisationId,
    pub matter: PetitionId,
    pub alerts: &'a [Alert],
}

/// Raises one alert in `w`'s transaction, taking its organisation's chain lock (or reading the
/// head again under the lock it holds): [`raise_all`] of one, for a store without group commit
/// and for a batch written again job by job.
pub(super) async fn raise_one(
    s: &PgStore,
    w: &mut Writer,
    org: OrganisationId,
    matter: PetitionId,
    alerts: &[Alert],
) -> Result<Option<ReminderId>> {
    w.lock(org).await?;
    let one = NewAlert { org, matter, alerts };
    raise_all(s, w, &[one])
        .await?
        .into_iter()
        .next()
        .unwrap_or(Err(StoreError::NotFound))
}

/// Raises every alert of the batch in `w`'s transaction, which holds each organisation's chain
/// lock; answers in the batch's order. An error fails the statement, and with it the attempt.
pub(super) async fn raise_all(
    s: &PgStore,
    w: &mut Writer,
    batch: &[NewAlert<'_>],
) -> Result<Vec<Result<Option<ReminderId>>>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let orgs: Vec<Uuid> = batch.iter().map(|a| a.org.as_uuid()).collect();
    let matters: Vec<Uuid> = batch.iter().map(|a| a.matter.as_uuid()).collect();
    let rows = sqlx::query(
        "select k.n, m.state,
             exists (select 1 from reminders r where r.organisation_id = k.org and r.matter_id = k.id
                 and r.kind = $3) as raised,
             (select u.id from units u where u.organisation_id = k.org and u.petition_office
                 order by u.name, u.id limit 1) as office
         from unnest($1::uuid[], $2::uuid[]) with ordinality as k (org, id, n)
         left join matters m on m.organisation_id = k.org and m.id = k.id
         order by k.n",
    )
    .bind(&orgs)
    .bind(&matters)
    .bind(ReminderKind::SafetyAlert.code())
    .fetch_all(w.conn())
    .await?;

    let now = micros(s.now());
    let mut answers: Vec<Result<Option<ReminderId>>> = Vec::with_capacity(batch.len());
    let mut events = Appended::default();
    let (mut r_org, mut r_id, mut r_matter, mut r_unit, mut r_seq) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut raised_now: HashSet<(OrganisationId, PetitionId)> = HashSet::new();
    for (a, row) in batch.iter().zip(&rows) {
        let Some(state) = row.get::<Option<String>, _>("state") else {
            answers.push(Err(StoreError::NotFound));
            continue;
        };
        let state = State::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?;
        if row.get::<bool, _>("raised") || !raised_now.insert((a.org, a.matter)) {
            answers.push(Ok(None));
            continue;
        }
        let event = BulkEvent {
            kind: EventKind::SafetyAlert.code(),
            actor_kind: ActorKind::System,
            actor_user_id: None,
            actor_name: None,
            occurred_at: now,
            recorded_at: now,
            reason: None,
            before_state: Some(state.code()),
            after_state: Some(state.code()),
            data: alert_event_data(a.alerts).to_string(),
        };
        let seq = events.push(s, w, a.org, a.matter, &event)?;
        let reminder = ReminderId::new();
        r_org.push(a.org.as_uuid());
        r_id.push(reminder.as_uuid());
        r_matter.push(a.matter.as_uuid());
        r_unit.push(row.get::<Option<Uuid>, _>("office"));
        r_seq.push(seq);
        answers.push(Ok(Some(reminder)));
    }
    if r_id.is_empty() {
        return Ok(answers);
    }
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "with {EVENTS_AND_HEADS},
             reminded as (
                 insert into reminders (organisation_id, id, matter_id, kind, unit_id, deadline_kind, due_at,
                     event_seq, created_at)
                 select r.org, r.id, r.matter, $26, r.unit, null, null, r.seq, $27
                 from unnest($21::uuid[], $22::uuid[], $23::uuid[], $24::uuid[], $25::bigint[])
                     as r (org, id, matter, unit, seq)
             )
             select count(*) from moved"
        )
    });
    let moved: i64 = events
        .bind(sqlx::query(AssertSqlSafe(SQL.as_str())))
        .bind(&r_org)
        .bind(&r_id)
        .bind(&r_matter)
        .bind(&r_unit)
        .bind(&r_seq)
        .bind(ReminderKind::SafetyAlert.code())
        .bind(now)
        .fetch_one(w.conn())
        .await?
        .get(0);
    events.finish(w, moved)?;
    Ok(answers)
}
