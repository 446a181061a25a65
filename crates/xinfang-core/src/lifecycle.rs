//! The lifecycle state machine of a petition matter: 受理-分类-交办-督办-反馈-归档.
//!
//! [`apply`] is the single place that decides whether a transition is allowed — for this actor,
//! in this unit, in this state, at this time — and what it changes. It is pure: it takes the
//! matter as it is and returns the matter as it becomes, and the store writes that together
//! with an audit event in one transaction. Every refusal is a [`LifecycleError`] with a stable
//! machine code, so a client can tell "not your unit" from "not in this state".
//!
//! The transitions and who may perform them:
//!
//! | transition | from | to | who |
//! |---|---|---|---|
//! | accept / decline | registered | accepted / not_accepted | clerk, supervisor |
//! | classify | accepted, classified | classified | clerk, supervisor |
//! | assign | classified | assigned | clerk, supervisor |
//! | return_misrouted | assigned, in_progress | classified | handler or unit head of the lead unit |
//! | start_handling | assigned | in_progress | handler of the lead unit |
//! | pause / resume | in_progress | in_progress | handler of the lead unit |
//! | request_extension | in_progress | in_progress | handler of the lead unit |
//! | approve / refuse_extension | in_progress | in_progress | unit head of the lead unit, supervisor |
//! | draft_reply | in_progress | in_progress | handler of the lead unit |
//! | approve_reply | in_progress | in_progress | unit head of the lead unit |
//! | deliver_reply | in_progress (approved) | replied | handler of the lead unit, clerk |
//! | record_satisfaction | replied | follow_up | clerk, petitioner |
//! | reopen | replied, follow_up | in_progress | clerk, supervisor |
//! | request_review | replied, follow_up | review | clerk, petitioner (within the window) |
//! | answer_review | review | reviewed | supervisor, leader |
//! | request_recheck | reviewed | recheck | clerk, petitioner (within the window) |
//! | answer_recheck | recheck | concluded | supervisor, leader |
//! | conclude | replied, follow_up, reviewed (window passed) | concluded | clerk, supervisor, system |
//! | archive | not_accepted, concluded | archived | clerk, admin |

use crate::calendar::Calendar;
use crate::deadline::{self, DeadlineError, DeadlineFacts, DeadlineKind, RuleSet};
use crate::ids::{CategoryId, UnitId, UserId};
use crate::matter::{
    DeclineReason, ExtensionRequest, Matter, PauseSpan, PetitionType, ReplyDraft, Satisfaction, State,
    Urgency, coded_enum,
};
use crate::org::{Actor, Role, StaffActor};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// Every kind of event in a matter's history. The codes double as the URL segment of the
    /// transition endpoint (`POST /api/v1/matters/{id}/{code}`).
    Transition {
        Register = "register" / "登记",
        Accept = "accept" / "受理",
        Decline = "decline" / "不予受理",
        Classify = "classify" / "分类",
        Assign = "assign" / "交办",
        ReturnMisrouted = "return_misrouted" / "退回（交办错误）",
        StartHandling = "start_handling" / "开始办理",
        Pause = "pause" / "暂停计时（补充材料）",
        Resume = "resume" / "恢复计时",
        RequestExtension = "request_extension" / "申请延期",
        ApproveExtension = "approve_extension" / "批准延期",
        RefuseExtension = "refuse_extension" / "不批准延期",
        DraftReply = "draft_reply" / "拟写答复",
        ApproveReply = "approve_reply" / "审核答复",
        DeliverReply = "deliver_reply" / "送达答复",
        RecordSatisfaction = "record_satisfaction" / "满意度评价",
        Reopen = "reopen" / "重新办理",
        RequestReview = "request_review" / "申请复查",
        AnswerReview = "answer_review" / "复查答复",
        RequestRecheck = "request_recheck" / "申请复核",
        AnswerRecheck = "answer_recheck" / "复核答复",
        Conclude = "conclude" / "终结",
        Archive = "archive" / "归档",
    }
}

/// A transition with its fields, as requested by a client. Text fields are already parsed
/// (bounded, trimmed) at the edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "transition", rename_all = "snake_case")]
pub enum Command {
    Accept {
        note: Option<String>,
    },
    Decline {
        reason: DeclineReason,
        text: String,
    },
    Classify {
        category_id: CategoryId,
        petition_type: PetitionType,
        urgency: Urgency,
    },
    Assign {
        lead_unit_id: UnitId,
        co_unit_ids: Vec<UnitId>,
        owning_leader_id: Option<UserId>,
        note: Option<String>,
    },
    ReturnMisrouted {
        reason: String,
    },
    StartHandling,
    Pause {
        reason: String,
    },
    Resume,
    RequestExtension {
        days: u32,
        reason: String,
    },
    ApproveExtension,
    RefuseExtension {
        reason: String,
    },
    DraftReply {
        text: String,
    },
    ApproveReply,
    DeliverReply {
        method: Option<String>,
    },
    RecordSatisfaction {
        satisfaction: Satisfaction,
        comment: Option<String>,
    },
    Reopen {
        reason: String,
    },
    RequestReview {
        reason: String,
    },
    AnswerReview {
        text: String,
    },
    RequestRecheck {
        reason: String,
    },
    AnswerRecheck {
        text: String,
    },
    Conclude {
        reason: Option<String>,
    },
    Archive,
}

impl Command {
    pub fn transition(&self) -> Transition {
        match self {
            Self::Accept { .. } => Transition::Accept,
            Self::Decline { .. } => Transition::Decline,
            Self::Classify { .. } => Transition::Classify,
            Self::Assign { .. } => Transition::Assign,
            Self::ReturnMisrouted { .. } => Transition::ReturnMisrouted,
            Self::StartHandling => Transition::StartHandling,
            Self::Pause { .. } => Transition::Pause,
            Self::Resume => Transition::Resume,
            Self::RequestExtension { .. } => Transition::RequestExtension,
            Self::ApproveExtension => Transition::ApproveExtension,
            Self::RefuseExtension { .. } => Transition::RefuseExtension,
            Self::DraftReply { .. } => Transition::DraftReply,
            Self::ApproveReply => Transition::ApproveReply,
            Self::DeliverReply { .. } => Transition::DeliverReply,
            Self::RecordSatisfaction { .. } => Transition::RecordSatisfaction,
            Self::Reopen { .. } => Transition::Reopen,
            Self::RequestReview { .. } => Transition::RequestReview,
            Self::AnswerReview { .. } => Transition::AnswerReview,
            Self::RequestRecheck { .. } => Transition::RequestRecheck,
            Self::AnswerRecheck { .. } => Transition::AnswerRecheck,
            Self::Conclude { .. } => Transition::Conclude,
            Self::Archive => Transition::Archive,
        }
    }

    /// The free-text reason or note carried by the command, for the audit event.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Accept { note } | Self::Assign { note, .. } => note.as_deref(),
            Self::Decline { text, .. } => Some(text),
            Self::ReturnMisrouted { reason }
            | Self::Pause { reason }
            | Self::RequestExtension { reason, .. }
            | Self::RefuseExtension { reason }
            | Self::Reopen { reason }
            | Self::RequestReview { reason }
            | Self::RequestRecheck { reason } => Some(reason),
            Self::RecordSatisfaction { comment, .. } => comment.as_deref(),
            Self::Conclude { reason } => reason.as_deref(),
            _ => None,
        }
    }
}

/// Why a transition was refused. `code()` is the stable machine code of the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("{transition} is not allowed in state {state}")]
    InvalidState { transition: Transition, state: State },
    #[error("{transition} requires one of the roles: {required}")]
    Forbidden {
        transition: Transition,
        required: &'static str,
    },
    #[error("{transition} may only be done by the lead unit")]
    NotLeadUnit { transition: Transition },
    #[error("an extension request is already pending")]
    ExtensionPending,
    #[error("no extension request is pending")]
    NoExtensionPending,
    #[error(transparent)]
    Extension(#[from] DeadlineError),
    #[error("no reply has been drafted")]
    ReplyNotDrafted,
    #[error("the reply has not been approved by the unit head")]
    ReplyNotApproved,
    #[error("the reply is already approved; draft a new one to change it")]
    ReplyAlreadyApproved,
    #[error("the window for this request closed at {closed_at}")]
    WindowClosed { closed_at: DateTime<Utc> },
    #[error("a misrouted matter could be returned only until {closed_at}")]
    ReturnWindowClosed { closed_at: DateTime<Utc> },
    #[error("the window for appeals is still open until {closes_at}")]
    WindowStillOpen { closes_at: DateTime<Utc> },
    #[error("the clock is already paused")]
    AlreadyPaused,
    #[error("the clock is not paused")]
    NotPaused,
    #[error("the clock is paused; resume it first")]
    Paused,
    #[error("a co-handling unit cannot also be the lead unit")]
    LeadAlsoCoUnit,
    #[error("the time of the event lies before the previous event")]
    TimeBeforePrevious,
    #[error("anonymous petitions are accepted only as suggestions or reports")]
    AnonymousNotAllowed,
}

impl LifecycleError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidState { .. } => "invalid_state",
            Self::Forbidden { .. } => "forbidden_transition",
            Self::NotLeadUnit { .. } => "not_lead_unit",
            Self::ExtensionPending => "extension_pending",
            Self::NoExtensionPending => "no_extension_pending",
            Self::Extension(DeadlineError::ExtensionAlreadyUsed) => "extension_already_used",
            Self::Extension(DeadlineError::ExtensionTooLong { .. }) => "extension_too_long",
            Self::Extension(_) => "invalid_extension",
            Self::ReplyNotDrafted => "reply_not_drafted",
            Self::ReplyNotApproved => "reply_not_approved",
            Self::ReplyAlreadyApproved => "reply_already_approved",
            Self::WindowClosed { .. } => "window_closed",
            Self::ReturnWindowClosed { .. } => "return_window_closed",
            Self::WindowStillOpen { .. } => "window_still_open",
            Self::AlreadyPaused => "already_paused",
            Self::NotPaused => "not_paused",
            Self::Paused => "clock_paused",
            Self::LeadAlsoCoUnit => "lead_also_co_unit",
            Self::TimeBeforePrevious => "time_before_previous",
            Self::AnonymousNotAllowed => "anonymous_not_allowed",
        }
    }

    /// A message in Simplified Chinese for the people who use the console.
    pub fn message_zh(&self) -> String {
        match self {
            Self::InvalidState { transition, state } => {
                format!(
                    "当前状态为“{}”，不能执行“{}”",
                    state.label_zh(),
                    transition.label_zh()
                )
            }
            Self::Forbidden { transition, .. } => format!("您的角色无权执行“{}”", transition.label_zh()),
            Self::NotLeadUnit { transition } => format!("只有主办单位可以执行“{}”", transition.label_zh()),
            Self::ExtensionPending => "已有待审批的延期申请".into(),
            Self::NoExtensionPending => "没有待审批的延期申请".into(),
            Self::Extension(DeadlineError::ExtensionAlreadyUsed) => "办理期限只能延长一次".into(),
            Self::Extension(DeadlineError::ExtensionTooLong { max }) => format!("延期不得超过{max}日"),
            Self::Extension(_) => "延期天数无效".into(),
            Self::ReplyNotDrafted => "尚未拟写答复意见".into(),
            Self::ReplyNotApproved => "答复意见尚未经单位负责人审核".into(),
            Self::ReplyAlreadyApproved => "答复意见已审核，如需修改请重新拟写".into(),
            Self::WindowClosed { .. } => "已超过申请期限".into(),
            Self::ReturnWindowClosed { closed_at } => format!(
                "已超过退回期限（{}前），请与信访办协商转办",
                closed_at
                    .with_timezone(&crate::clock::china_offset())
                    .format("%Y-%m-%d %H:%M")
            ),
            Self::WindowStillOpen { .. } => "信访人申请复查复核的期限尚未届满".into(),
            Self::AlreadyPaused => "已处于暂停计时状态".into(),
            Self::NotPaused => "当前未暂停计时".into(),
            Self::Paused => "正在暂停计时，请先恢复计时".into(),
            Self::LeadAlsoCoUnit => "协办单位不能同时是主办单位".into(),
            Self::TimeBeforePrevious => "事件时间早于上一事件".into(),
            Self::AnonymousNotAllowed => "只有建议意见和检举控告类信访可以匿名提出，请填写信访人信息".into(),
        }
    }
}

/// Everything `apply` needs besides the matter and the command.
pub struct Context<'a> {
    pub actor: &'a Actor,
    /// When the event happened (a reply delivered by post yesterday happened yesterday).
    pub at: DateTime<Utc>,
    pub rules: &'a RuleSet,
    pub calendar: &'a Calendar,
}

/// Applies `cmd` to `matter` and returns the matter as it becomes, or why it may not.
pub fn apply(matter: &Matter, cmd: &Command, ctx: &Context<'_>) -> Result<Matter, LifecycleError> {
    use State::*;
    let t = cmd.transition();
    let at = ctx.at;
    let mut m = matter.clone();
    m.last_event_at = Some(at);
    let staff = match ctx.actor {
        Actor::Staff(s) => Some(s),
        _ => None,
    };
    let state_in = |allowed: &[State]| -> Result<(), LifecycleError> {
        if allowed.contains(&matter.state) {
            Ok(())
        } else {
            Err(LifecycleError::InvalidState {
                transition: t,
                state: matter.state,
            })
        }
    };
    // The petition office: clerks and supervisors, and the system for scheduled work.
    let office = |extra: &[Role]| -> Result<(), LifecycleError> {
        match ctx.actor {
            Actor::System => Ok(()),
            Actor::Staff(s) if s.in_petition_office() || s.has_any_role(extra) => Ok(()),
            _ => Err(LifecycleError::Forbidden {
                transition: t,
                required: "clerk, supervisor",
            }),
        }
    };
    let lead = |roles: &[Role], also: &[Role]| -> Result<(), LifecycleError> {
        lead_unit_check(matter, staff, t, roles, also)
    };

    match cmd {
        Command::Accept { .. } => {
            state_in(&[Registered])?;
            office(&[])?;
            m.state = Accepted;
            m.accepted_at = Some(at);
            m.decided_at = Some(at);
        }
        Command::Decline { reason, .. } => {
            state_in(&[Registered])?;
            office(&[])?;
            m.state = NotAccepted;
            m.decided_at = Some(at);
            m.decline_reason = Some(*reason);
        }
        Command::Classify {
            category_id,
            petition_type,
            urgency,
        } => {
            state_in(&[Accepted, Classified])?;
            office(&[])?;
            m.state = Classified;
            m.category_id = Some(*category_id);
            m.petition_type = Some(*petition_type);
            m.urgency = *urgency;
        }
        Command::Assign {
            lead_unit_id,
            co_unit_ids,
            owning_leader_id,
            ..
        } => {
            state_in(&[Classified])?;
            office(&[])?;
            if co_unit_ids.contains(lead_unit_id) {
                return Err(LifecycleError::LeadAlsoCoUnit);
            }
            m.state = Assigned;
            m.lead_unit_id = Some(*lead_unit_id);
            let mut co = co_unit_ids.clone();
            co.sort();
            co.dedup();
            m.co_unit_ids = co;
            m.owning_leader_id = *owning_leader_id;
            // 首接首办: the first unit that received the matter stays on record.
            if m.first_unit_id.is_none() {
                m.first_unit_id = Some(*lead_unit_id);
            }
            m.assigned_at = Some(at);
        }
        Command::ReturnMisrouted { .. } => {
            state_in(&[Assigned, InProgress])?;
            lead(&[Role::Handler, Role::UnitHead], &[])?;
            if let (Some(limit), Some(assigned_at)) = (&ctx.rules.misroute_return, m.assigned_at)
                && let Some(closed_at) = deadline::window_closes(assigned_at, limit, ctx.calendar)
                && at >= closed_at
            {
                return Err(LifecycleError::ReturnWindowClosed { closed_at });
            }
            m.state = Classified;
            m.lead_unit_id = None;
            m.co_unit_ids.clear();
            m.reroute_count += 1;
            m.reply = None;
            m.extension_request = None;
        }
        Command::StartHandling => {
            state_in(&[Assigned])?;
            lead(&[Role::Handler, Role::UnitHead], &[])?;
            m.state = InProgress;
        }
        Command::Pause { .. } => {
            state_in(&[InProgress])?;
            lead(&[Role::Handler, Role::UnitHead], &[])?;
            if m.is_paused() {
                return Err(LifecycleError::AlreadyPaused);
            }
            m.pauses.push(PauseSpan {
                from: at,
                until: None,
            });
        }
        Command::Resume => {
            state_in(&[InProgress])?;
            lead(&[Role::Handler, Role::UnitHead], &[])?;
            match m.pauses.last_mut() {
                Some(p) if p.until.is_none() => {
                    if at < p.from {
                        return Err(LifecycleError::TimeBeforePrevious);
                    }
                    p.until = Some(at);
                }
                _ => return Err(LifecycleError::NotPaused),
            }
        }
        Command::RequestExtension { days, reason } => {
            state_in(&[InProgress])?;
            lead(&[Role::Handler, Role::UnitHead], &[])?;
            if m.extension_request.is_some() {
                return Err(LifecycleError::ExtensionPending);
            }
            deadline::check_extension(*days, m.extension_used, ctx.rules)?;
            let requested_by = staff.map(|s| s.user_id).ok_or(LifecycleError::Forbidden {
                transition: t,
                required: "handler",
            })?;
            m.extension_request = Some(ExtensionRequest {
                days: *days,
                reason: reason.clone(),
                requested_by,
                requested_at: at,
            });
        }
        Command::ApproveExtension => {
            state_in(&[InProgress])?;
            lead(&[Role::UnitHead], &[Role::Supervisor])?;
            let req = m
                .extension_request
                .take()
                .ok_or(LifecycleError::NoExtensionPending)?;
            let days = deadline::check_extension(req.days, m.extension_used, ctx.rules)?;
            m.extension_days += days;
            m.extension_used = true;
        }
        Command::RefuseExtension { .. } => {
            state_in(&[InProgress])?;
            lead(&[Role::UnitHead], &[Role::Supervisor])?;
            m.extension_request
                .take()
                .ok_or(LifecycleError::NoExtensionPending)?;
        }
        Command::DraftReply { text } => {
            state_in(&[InProgress])?;
            lead(&[Role::Handler, Role::UnitHead], &[])?;
            let drafted_by = staff.map(|s| s.user_id).ok_or(LifecycleError::Forbidden {
                transition: t,
                required: "handler",
            })?;
            m.reply = Some(ReplyDraft {
                text: text.clone(),
                drafted_by,
                drafted_at: at,
                approved_by: None,
                approved_at: None,
            });
        }
        Command::ApproveReply => {
            state_in(&[InProgress])?;
            lead(&[Role::UnitHead], &[])?;
            let approver = staff.map(|s| s.user_id).ok_or(LifecycleError::Forbidden {
                transition: t,
                required: "unit_head",
            })?;
            let reply = m.reply.as_mut().ok_or(LifecycleError::ReplyNotDrafted)?;
            if reply.approved_by.is_some() {
                return Err(LifecycleError::ReplyAlreadyApproved);
            }
            reply.approved_by = Some(approver);
            reply.approved_at = Some(at);
        }
        Command::DeliverReply { .. } => {
            state_in(&[InProgress])?;
            if !staff.is_some_and(StaffActor::in_petition_office) {
                lead(&[Role::Handler, Role::UnitHead], &[])?;
            }
            let reply = m.reply.as_ref().ok_or(LifecycleError::ReplyNotDrafted)?;
            if reply.approved_by.is_none() {
                return Err(LifecycleError::ReplyNotApproved);
            }
            if m.is_paused() {
                return Err(LifecycleError::Paused);
            }
            m.state = Replied;
            m.replied_at = Some(at);
        }
        Command::RecordSatisfaction { satisfaction, .. } => {
            state_in(&[Replied])?;
            petitioner_or_office(ctx.actor, t)?;
            m.state = FollowUp;
            m.satisfaction = Some(*satisfaction);
            m.rated_at = Some(at);
        }
        Command::Reopen { .. } => {
            state_in(&[Replied, FollowUp])?;
            office(&[])?;
            // The earlier reply no longer answers the matter: a new one must be drafted,
            // approved and delivered, and rated afresh. The old ones stay in the event history.
            m.state = InProgress;
            m.reply = None;
            m.replied_at = None;
            m.satisfaction = None;
            m.rated_at = None;
            m.reopen_count += 1;
        }
        Command::RequestReview { .. } => {
            state_in(&[Replied, FollowUp])?;
            petitioner_or_office(ctx.actor, t)?;
            let replied = m.replied_at.unwrap_or(at);
            check_window(replied, &ctx.rules.review_request, ctx.calendar, at)?;
            m.state = Review;
            m.review_requested_at = Some(at);
        }
        Command::AnswerReview { .. } => {
            state_in(&[Review])?;
            reviewer(ctx.actor, t)?;
            m.state = Reviewed;
            m.review_answered_at = Some(at);
        }
        Command::RequestRecheck { .. } => {
            state_in(&[Reviewed])?;
            petitioner_or_office(ctx.actor, t)?;
            let answered = m.review_answered_at.unwrap_or(at);
            check_window(answered, &ctx.rules.recheck_request, ctx.calendar, at)?;
            m.state = Recheck;
            m.recheck_requested_at = Some(at);
        }
        Command::AnswerRecheck { .. } => {
            state_in(&[Recheck])?;
            reviewer(ctx.actor, t)?;
            m.state = Concluded;
            m.concluded_at = Some(at);
        }
        Command::Conclude { .. } => {
            state_in(&[Replied, FollowUp, Reviewed])?;
            office(&[])?;
            // The same request on the same facts is closed only once the petitioner's window
            // to appeal has passed.
            let (start, limit) = if m.state == Reviewed {
                (m.review_answered_at, &ctx.rules.recheck_request)
            } else {
                (m.replied_at, &ctx.rules.review_request)
            };
            if let Some(closes_at) = start.and_then(|s| deadline::window_closes(s, limit, ctx.calendar))
                && at < closes_at
            {
                return Err(LifecycleError::WindowStillOpen { closes_at });
            }
            m.state = Concluded;
            m.concluded_at = Some(at);
        }
        Command::Archive => {
            state_in(&[NotAccepted, Concluded])?;
            office(&[Role::Admin])?;
            m.state = Archived;
            m.archived_at = Some(at);
        }
    }
    // Checked last, so that a refusal for the state or the role takes precedence.
    if matter.last_event_at.is_some_and(|last| at < last) {
        return Err(LifecycleError::TimeBeforePrevious);
    }
    Ok(m)
}

fn lead_unit_check(
    matter: &Matter,
    staff: Option<&StaffActor>,
    t: Transition,
    roles: &[Role],
    also: &[Role],
) -> Result<(), LifecycleError> {
    let Some(s) = staff else {
        return Err(LifecycleError::Forbidden {
            transition: t,
            required: "handler, unit_head",
        });
    };
    if s.has_any_role(also) {
        return Ok(());
    }
    if !s.has_any_role(roles) {
        return Err(LifecycleError::Forbidden {
            transition: t,
            required: if roles == [Role::UnitHead] {
                "unit_head"
            } else {
                "handler, unit_head"
            },
        });
    }
    let in_lead = matter
        .lead_unit_id
        .is_some_and(|u| roles.iter().any(|&r| s.has_role_in(r, u)));
    if in_lead {
        Ok(())
    } else {
        Err(LifecycleError::NotLeadUnit { transition: t })
    }
}

fn petitioner_or_office(actor: &Actor, t: Transition) -> Result<(), LifecycleError> {
    match actor {
        Actor::Petitioner => Ok(()),
        Actor::Staff(s) if s.in_petition_office() => Ok(()),
        _ => Err(LifecycleError::Forbidden {
            transition: t,
            required: "petitioner, clerk",
        }),
    }
}

fn reviewer(actor: &Actor, t: Transition) -> Result<(), LifecycleError> {
    match actor {
        Actor::Staff(s) if s.has_any_role(&[Role::Supervisor, Role::Leader]) => Ok(()),
        _ => Err(LifecycleError::Forbidden {
            transition: t,
            required: "supervisor, leader",
        }),
    }
}

fn check_window(
    start: DateTime<Utc>,
    limit: &deadline::Limit,
    cal: &Calendar,
    at: DateTime<Utc>,
) -> Result<(), LifecycleError> {
    match deadline::window_closes(start, limit, cal) {
        Some(closed_at) if at >= closed_at => Err(LifecycleError::WindowClosed { closed_at }),
        _ => Ok(()),
    }
}

/// The deadline that is running in the matter's current state, if any.
pub fn running_deadline(m: &Matter) -> Option<DeadlineKind> {
    use State::*;
    match m.state {
        Registered => Some(DeadlineKind::Acceptance),
        Accepted | Classified | Assigned | InProgress => Some(DeadlineKind::Handling),
        Review => Some(DeadlineKind::ReviewAnswer),
        Recheck => Some(DeadlineKind::RecheckAnswer),
        _ => None,
    }
}

/// The facts of a matter that the deadline engine reads.
pub fn deadline_facts(m: &Matter) -> DeadlineFacts {
    DeadlineFacts {
        registered_at: m.registered_at,
        accepted_at: m.accepted_at,
        extension_days: m.extension_days,
        replied_at: m.replied_at,
        review_requested_at: m.review_requested_at,
        review_answered_at: m.review_answered_at,
        recheck_requested_at: m.recheck_requested_at,
        recheck_answered_at: if m.recheck_requested_at.is_some() {
            m.concluded_at
        } else {
            None
        },
        pauses: m.pauses.clone(),
    }
}

/// The running deadline of a matter, assessed at `now`, or `None` when no clock runs.
pub fn current_deadline(
    m: &Matter,
    rules: &RuleSet,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Option<(deadline::Deadline, deadline::DeadlineAssessment)> {
    let kind = running_deadline(m)?;
    let d = deadline::compute(kind, &deadline_facts(m), rules, cal)?;
    let paused = kind == DeadlineKind::Handling && m.is_paused();
    let a = deadline::assess(&d, paused, None, now);
    Some((d, a))
}

/// Every deadline of the matter (running or finished), assessed at `now`: what the timeline
/// view shows.
pub fn all_deadlines(
    m: &Matter,
    rules: &RuleSet,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Vec<deadline::DeadlineAssessment> {
    let facts = deadline_facts(m);
    let running = running_deadline(m);
    [
        (DeadlineKind::Acceptance, m.decided_at),
        (
            DeadlineKind::Handling,
            m.replied_at.filter(|_| running != Some(DeadlineKind::Handling)),
        ),
        (DeadlineKind::ReviewAnswer, m.review_answered_at),
        (DeadlineKind::RecheckAnswer, facts.recheck_answered_at),
    ]
    .into_iter()
    .filter(|(kind, finished)| running == Some(*kind) || finished.is_some())
    .filter_map(|(kind, finished)| {
        let d = deadline::compute(kind, &facts, rules, cal)?;
        let paused = running == Some(kind) && kind == DeadlineKind::Handling && m.is_paused();
        Some(deadline::assess(&d, paused, finished, now))
    })
    .collect()
}

/// The facts of a new matter, as the store has prepared them (ids generated, petitioner
/// records linked).
#[derive(Debug, Clone)]
pub struct Registration {
    pub id: crate::ids::PetitionId,
    pub organisation_id: crate::ids::OrganisationId,
    pub tracking_code: crate::ids::TrackingCode,
    pub channel: crate::matter::Channel,
    pub external_id: Option<String>,
    pub title: String,
    pub content: String,
    pub location: Option<String>,
    pub petition_type: Option<PetitionType>,
    pub urgency: Urgency,
    pub people_count: u32,
    pub petitioner_ids: Vec<crate::ids::PetitionerId>,
    pub rule_set_id: crate::ids::RuleSetId,
    pub rule_set_version: u32,
    pub registered_at: DateTime<Utc>,
}

/// Registers a matter (登记). Staff of the petition office register walk-in, phone and letter
/// matters; petitioners submit through public channels; the system imports.
/// Anonymity is allowed only for 建议意见 and 检举控告.
pub fn register(r: Registration, actor: &Actor) -> Result<Matter, LifecycleError> {
    if let Actor::Staff(s) = actor
        && !s.in_petition_office()
        && !s.has_role(Role::Admin)
    {
        return Err(LifecycleError::Forbidden {
            transition: Transition::Register,
            required: "clerk, supervisor",
        });
    }
    let anonymous = r.petitioner_ids.is_empty();
    if anonymous && !r.petition_type.is_some_and(PetitionType::allows_anonymous) {
        return Err(LifecycleError::AnonymousNotAllowed);
    }
    Ok(Matter {
        id: r.id,
        organisation_id: r.organisation_id,
        tracking_code: r.tracking_code,
        channel: r.channel,
        external_id: r.external_id,
        title: r.title,
        content: r.content,
        location: r.location,
        petition_type: r.petition_type,
        category_id: None,
        urgency: r.urgency,
        people_count: r.people_count.max(r.petitioner_ids.len() as u32).max(1),
        petitioner_ids: r.petitioner_ids,
        anonymous,
        first_unit_id: None,
        lead_unit_id: None,
        co_unit_ids: Vec::new(),
        owning_leader_id: None,
        state: State::Registered,
        rule_set_id: r.rule_set_id,
        rule_set_version: r.rule_set_version,
        registered_at: r.registered_at,
        accepted_at: None,
        decided_at: None,
        decline_reason: None,
        assigned_at: None,
        extension_days: 0,
        extension_request: None,
        extension_used: false,
        reply: None,
        replied_at: None,
        satisfaction: None,
        rated_at: None,
        review_requested_at: None,
        review_answered_at: None,
        recheck_requested_at: None,
        concluded_at: None,
        archived_at: None,
        reroute_count: 0,
        reopen_count: 0,
        pauses: Vec::new(),
        last_event_at: Some(r.registered_at),
    })
}
