//! What every backend shows the same way, whatever its SQL: the deadline status of a list row,
//! the redaction of a confidential reporter in a timeline, the petitioner's public view, and
//! what a deadline crossing found by the background scan records.
//! Kept here so the SQLite and PostgreSQL stores cannot drift apart on what a viewer sees.

use crate::model::{ActorKind, EventKind, EventRecord, PublicEvent, PublicTrack, ReminderKind};
use chrono::{DateTime, Utc};
use xinfang_core::deadline::{DeadlineKind, DeadlineStatus};
use xinfang_core::ids::{PetitionId, UnitId};
use xinfang_core::lifecycle::Transition;
use xinfang_core::matter::{Matter, PetitionType, State};
use xinfang_core::org::StaffActor;

/// The deadline status of a list row from its stored deadline columns, in the same order as
/// `deadline::assess`: a pause never hides a missed deadline.
pub(crate) fn row_deadline_status(
    due_at: Option<DateTime<Utc>>,
    due_soon_at: Option<DateTime<Utc>>,
    paused: bool,
    now: DateTime<Utc>,
) -> Option<DeadlineStatus> {
    match due_at {
        Some(due) if now >= due => Some(DeadlineStatus::Overdue),
        _ if paused => Some(DeadlineStatus::Paused),
        Some(_) if due_soon_at.is_some_and(|s| now >= s) => Some(DeadlineStatus::DueSoon),
        Some(_) => Some(DeadlineStatus::OnTrack),
        None => None,
    }
}

/// For 检举控告 seen from outside the petition office, blanks the data of the events that
/// identify the reporter: registration and reveal events name the petitioners, and what the
/// petitioner did themselves identifies them too.
pub(crate) fn redact_confidential(viewer: &StaffActor, m: &Matter, events: &mut [EventRecord]) {
    if !m.petition_type.is_some_and(PetitionType::identity_confidential)
        || viewer.may_see_confidential_reporter()
    {
        return;
    }
    for e in events {
        if e.actor_kind == ActorKind::Petitioner
            || e.kind == EventKind::Transition(Transition::Register)
            || e.kind == EventKind::Reveal
        {
            e.data = serde_json::Value::Null;
        }
    }
}

/// The steps a petitioner sees, in words for the public. Internal steps (drafts, approvals,
/// extensions, reveals, returns between units) are left out.
fn public_step(kind: EventKind) -> Option<&'static str> {
    use Transition::*;
    let EventKind::Transition(t) = kind else {
        return None;
    };
    Some(match t {
        Register => "已登记",
        Accept => "已受理",
        Decline => "不予受理",
        Assign => "已转交责任单位办理",
        StartHandling => "责任单位正在办理",
        DeliverReply => "已答复",
        RecordSatisfaction => "已评价",
        Reopen => "重新办理",
        RequestReview => "已申请复查",
        AnswerReview => "复查已答复",
        RequestRecheck => "已申请复核",
        AnswerRecheck => "复核已答复，事项终结",
        Conclude => "事项终结",
        Archive => "已归档",
        _ => return None,
    })
}

/// The public tracking view of a matter from its events: no personal data, no internal notes,
/// the reply only once delivered.
pub(crate) fn public_track(m: &Matter, events: &[EventRecord]) -> PublicTrack {
    let timeline = events
        .iter()
        .filter_map(|e| {
            public_step(e.kind).map(|label| PublicEvent {
                step: e.kind.code(),
                label,
                at: e.occurred_at,
            })
        })
        .collect();
    let delivered = matches!(
        m.state,
        State::Replied
            | State::FollowUp
            | State::Review
            | State::Reviewed
            | State::Recheck
            | State::Concluded
            | State::Archived
    ) && m.replied_at.is_some();
    PublicTrack {
        tracking_code: m.tracking_code.clone(),
        title: m.title.clone(),
        state: m.state,
        state_label: m.state.label_zh(),
        registered_at: m.registered_at,
        timeline,
        reply: if delivered {
            m.reply.as_ref().map(|r| r.text.clone())
        } else {
            None
        },
        satisfaction: m.satisfaction,
        can_rate: m.state == State::Replied,
    }
}

/// A deadline crossing found by the background scan: what its event and reminder record.
pub(crate) struct Crossing {
    pub matter_id: PetitionId,
    pub state: State,
    /// The lead unit, which the reminder is for.
    pub unit_id: Option<UnitId>,
    pub deadline_kind: Option<DeadlineKind>,
    pub due_at: DateTime<Utc>,
    pub kind: ReminderKind,
    /// When it happened: the start of the due-soon window, or the deadline itself. The scan
    /// may run later (every minute, or after a node was down); the event says when it was true.
    pub crossed_at: DateTime<Utc>,
}

impl Crossing {
    /// A scanned row: overdue once `now` reached the deadline (as [`row_deadline_status`]
    /// says), else due soon. A deadline first seen already overdue records only the overdue.
    pub(crate) fn new(
        matter_id: PetitionId,
        state: State,
        unit_id: Option<UnitId>,
        deadline_kind: Option<DeadlineKind>,
        due_at: DateTime<Utc>,
        due_soon_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let (kind, crossed_at) = if now >= due_at {
            (ReminderKind::Overdue, due_at)
        } else {
            (ReminderKind::DueSoon, due_soon_at.unwrap_or(due_at))
        };
        Self {
            matter_id,
            state,
            unit_id,
            deadline_kind,
            due_at,
            kind,
            crossed_at,
        }
    }

    /// The event's data: which deadline was crossed.
    pub(crate) fn event_data(&self) -> serde_json::Value {
        serde_json::json!({
            "deadline_kind": self.deadline_kind.map(DeadlineKind::code),
            "due_at": self.due_at,
        })
    }
}

/// What `key_check` holds for `vault`'s key: a keyed hash of a constant, never the key.
pub(crate) fn key_check_value(vault: &crate::Vault) -> String {
    hex::encode(vault.mac("key-check", "xinfang"))
}

/// The refusal when the database was written with another key.
pub(crate) fn wrong_key() -> crate::StoreError {
    crate::StoreError::Invalid {
        field: "key",
        message:
            "this database was written with another key: start every node with the key file of the database"
                .into(),
    }
}
