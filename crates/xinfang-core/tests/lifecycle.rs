//! The lifecycle state machine as the petition office lives it: one matter driven from
//! registration to the archive by the people who really do each step, and every way a step is
//! refused, each with the machine code a client sees.
//!
//! All times are fixed instants in Asia/Shanghai (2025, away from public holidays unless a test
//! says otherwise); nothing reads the system clock.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use xinfang_core::calendar::Calendar;
use xinfang_core::clock::china_offset;
use xinfang_core::deadline::{DeadlineKind, DeadlineStatus, RuleSet};
use xinfang_core::ids::{
    CategoryId, OrganisationId, PetitionId, PetitionerId, RuleSetId, TrackingCode, UnitId, UserId,
};
use xinfang_core::lifecycle::{
    Command, Context, LifecycleError, Registration, all_deadlines, apply, current_deadline, register,
};
use xinfang_core::matter::{Channel, DeclineReason, Matter, PetitionType, Satisfaction, State, Urgency};
use xinfang_core::org::{Actor, Role, RoleGrant, StaffActor};

/// An instant given in Shanghai local time.
fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    china_offset()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid test instant")
        .with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// Registered on Wednesday 2025-06-11 at 09:00.
fn registered_at() -> DateTime<Utc> {
    sh(2025, 6, 11, 9, 0)
}

/// Accepted on Thursday 2025-06-12 at 10:00: 60 days end on Monday 2025-08-11.
fn accepted_at() -> DateTime<Utc> {
    sh(2025, 6, 12, 10, 0)
}

/// An airport group with a petition office and two units, and one person for every role.
struct Office {
    org: OrganisationId,
    unit_a: UnitId,
    unit_b: UnitId,
    clerk: Actor,
    supervisor: Actor,
    handler_a: Actor,
    head_a: Actor,
    handler_b: Actor,
    head_b: Actor,
    leader: Actor,
    admin: Actor,
    analyst: Actor,
    rules: RuleSet,
    calendar: Calendar,
}

fn staff(org: OrganisationId, name: &str, grants: &[(Role, UnitId)]) -> Actor {
    Actor::Staff(StaffActor {
        user_id: UserId::new(),
        organisation_id: org,
        display_name: name.to_string(),
        grants: grants
            .iter()
            .map(|&(role, unit_id)| RoleGrant { role, unit_id })
            .collect(),
    })
}

fn user_id(a: &Actor) -> UserId {
    match a {
        Actor::Staff(s) => s.user_id,
        _ => panic!("not a staff member"),
    }
}

impl Office {
    fn new() -> Office {
        let org = OrganisationId::new();
        let office = UnitId::new();
        let unit_a = UnitId::new();
        let unit_b = UnitId::new();
        Office {
            org,
            unit_a,
            unit_b,
            clerk: staff(org, "王登记", &[(Role::Clerk, office)]),
            supervisor: staff(org, "李督办", &[(Role::Supervisor, office)]),
            handler_a: staff(org, "张承办", &[(Role::Handler, unit_a)]),
            head_a: staff(org, "赵主任", &[(Role::UnitHead, unit_a)]),
            handler_b: staff(org, "陈承办", &[(Role::Handler, unit_b)]),
            head_b: staff(org, "周主任", &[(Role::UnitHead, unit_b)]),
            leader: staff(org, "刘书记", &[(Role::Leader, office)]),
            admin: staff(org, "系统管理员", &[(Role::Admin, office)]),
            analyst: staff(org, "孙分析", &[(Role::Analyst, office)]),
            rules: RuleSet::regulation_2022(RuleSetId::new()),
            calendar: Calendar::builtin(),
        }
    }

    fn registration(&self, petition_type: Option<PetitionType>, petitioners: usize) -> Registration {
        Registration {
            id: PetitionId::new(),
            organisation_id: self.org,
            tracking_code: TrackingCode::parse("XF7K3M9Q2T").expect("valid code"),
            channel: Channel::WalkIn,
            external_id: None,
            title: "夜间航班落地后机场大巴已停运".to_string(),
            content: "希望增开夜间机场大巴线路。".to_string(),
            location: Some("T2航站楼".to_string()),
            petition_type,
            urgency: Urgency::Normal,
            people_count: 1,
            petitioner_ids: (0..petitioners).map(|_| PetitionerId::new()).collect(),
            rule_set_id: self.rules.id,
            rule_set_version: self.rules.version,
            registered_at: registered_at(),
        }
    }

    /// A matter registered by the clerk at [`registered_at`].
    fn registered(&self) -> Matter {
        register(self.registration(Some(PetitionType::Appeal), 1), &self.clerk).expect("registered")
    }

    fn try_apply(
        &self,
        m: &Matter,
        actor: &Actor,
        cmd: Command,
        at: DateTime<Utc>,
    ) -> Result<Matter, LifecycleError> {
        apply(
            m,
            &cmd,
            &Context {
                actor,
                at,
                rules: &self.rules,
                calendar: &self.calendar,
            },
        )
    }

    /// Applies a transition that must succeed.
    fn step(&self, m: &Matter, actor: &Actor, cmd: Command, at: DateTime<Utc>) -> Matter {
        let what = format!("{cmd:?}");
        self.try_apply(m, actor, cmd, at)
            .unwrap_or_else(|e| panic!("{what} refused in state {}: {e}", m.state))
    }

    /// Applies a transition that must be refused, and returns the error's code.
    fn refused(&self, m: &Matter, actor: &Actor, cmd: Command, at: DateTime<Utc>) -> &'static str {
        match self.try_apply(m, actor, cmd, at) {
            Ok(next) => panic!("expected a refusal, the matter moved to {}", next.state),
            Err(e) => e.code(),
        }
    }

    fn classify(&self) -> Command {
        Command::Classify {
            category_id: CategoryId::new(),
            petition_type: PetitionType::Appeal,
            urgency: Urgency::Normal,
        }
    }

    fn assign(&self, unit: UnitId) -> Command {
        Command::Assign {
            lead_unit_id: unit,
            co_unit_ids: Vec::new(),
            owning_leader_id: None,
            note: None,
        }
    }

    /// Accepted on 06-12, classified and assigned to unit A the same day.
    fn assigned_to_a(&self) -> Matter {
        let m = self.registered();
        let m = self.step(&m, &self.clerk, Command::Accept { note: None }, accepted_at());
        let m = self.step(&m, &self.clerk, self.classify(), sh(2025, 6, 12, 11, 0));
        self.step(&m, &self.clerk, self.assign(self.unit_a), sh(2025, 6, 12, 14, 0))
    }

    /// Unit A started handling on 06-13.
    fn in_progress_at_a(&self) -> Matter {
        let m = self.assigned_to_a();
        self.step(&m, &self.handler_a, Command::StartHandling, sh(2025, 6, 13, 9, 0))
    }

    /// A reply drafted on 07-10 and approved by the head of unit A on 07-11.
    fn reply_approved(&self) -> Matter {
        let m = self.in_progress_at_a();
        let m = self.step(
            &m,
            &self.handler_a,
            draft("经核实，已增开夜间线路。"),
            sh(2025, 7, 10, 9, 0),
        );
        self.step(&m, &self.head_a, Command::ApproveReply, sh(2025, 7, 11, 9, 0))
    }

    /// The reply delivered on Tuesday 2025-07-15 at 10:00: the review window closes at the end
    /// of Thursday 2025-08-14.
    fn replied(&self) -> Matter {
        let m = self.reply_approved();
        self.step(&m, &self.handler_a, deliver(), sh(2025, 7, 15, 10, 0))
    }

    /// Reviewed: requested on 07-20, answered on Tuesday 2025-08-05 at 10:00; the re-check
    /// window closes at the end of Thursday 2025-09-04.
    fn reviewed(&self) -> Matter {
        let m = self.replied();
        let m = self.step(
            &m,
            &Actor::Petitioner,
            review("对答复不满意"),
            sh(2025, 7, 20, 9, 0),
        );
        self.step(&m, &self.supervisor, answer_review(), sh(2025, 8, 5, 10, 0))
    }

    fn handling_deadline(&self, m: &Matter, now: DateTime<Utc>) -> (Option<NaiveDate>, DeadlineStatus) {
        let (d, a) = current_deadline(m, &self.rules, &self.calendar, now).expect("a running deadline");
        assert_eq!(d.kind, DeadlineKind::Handling);
        (a.due_date, a.status)
    }
}

fn draft(text: &str) -> Command {
    Command::DraftReply {
        text: text.to_string(),
    }
}

fn deliver() -> Command {
    Command::DeliverReply {
        method: Some("邮寄".to_string()),
    }
}

fn review(reason: &str) -> Command {
    Command::RequestReview {
        reason: reason.to_string(),
    }
}

fn answer_review() -> Command {
    Command::AnswerReview {
        text: "复查维持原处理意见".to_string(),
    }
}

fn recheck() -> Command {
    Command::RequestRecheck {
        reason: "仍不满意".to_string(),
    }
}

fn extension(days: u32) -> Command {
    Command::RequestExtension {
        days,
        reason: "需协调航空公司调取记录".to_string(),
    }
}

fn pause() -> Command {
    Command::Pause {
        reason: "等待信访人补充材料".to_string(),
    }
}

fn conclude() -> Command {
    Command::Conclude { reason: None }
}

// ---- the whole lifecycle --------------------------------------------------------------------

#[test]
fn a_matter_goes_from_registration_to_the_archive() {
    let o = Office::new();

    // 登记: the clerk registers a walk-in appeal.
    let m = o.registered();
    assert_eq!(m.state, State::Registered);
    assert_eq!(m.registered_at, registered_at());
    assert!(!m.anonymous);
    assert_eq!(m.rule_set_version, 1);
    let (d, a) = current_deadline(&m, &o.rules, &o.calendar, registered_at()).expect("acceptance clock");
    assert_eq!(d.kind, DeadlineKind::Acceptance);
    assert_eq!(a.due_date, Some(date(2025, 6, 26)), "15 days after 06-11");

    // 受理 and 分类 by the petition office.
    let m = o.step(&m, &o.clerk, Command::Accept { note: None }, accepted_at());
    assert_eq!(m.state, State::Accepted);
    assert_eq!(m.accepted_at, Some(accepted_at()));
    assert_eq!(m.decided_at, Some(accepted_at()));
    let category = CategoryId::new();
    let m = o.step(
        &m,
        &o.clerk,
        Command::Classify {
            category_id: category,
            petition_type: PetitionType::Appeal,
            urgency: Urgency::Urgent,
        },
        sh(2025, 6, 12, 11, 0),
    );
    assert_eq!(m.state, State::Classified);
    assert_eq!(m.category_id, Some(category));
    assert_eq!(m.urgency, Urgency::Urgent);

    // 交办 to unit B, which returns it as misrouted; the supervisor re-assigns it to unit A.
    let m = o.step(&m, &o.clerk, o.assign(o.unit_b), sh(2025, 6, 12, 14, 0));
    assert_eq!(
        (m.state, m.lead_unit_id, m.first_unit_id),
        (State::Assigned, Some(o.unit_b), Some(o.unit_b))
    );
    let m = o.step(
        &m,
        &o.handler_b,
        Command::ReturnMisrouted {
            reason: "不属于本单位职责".to_string(),
        },
        sh(2025, 6, 13, 9, 0),
    );
    assert_eq!(m.state, State::Classified);
    assert_eq!(m.lead_unit_id, None);
    assert_eq!(m.reroute_count, 1);
    let m = o.step(&m, &o.supervisor, o.assign(o.unit_a), sh(2025, 6, 13, 10, 0));
    assert_eq!(m.state, State::Assigned);
    assert_eq!(m.lead_unit_id, Some(o.unit_a));
    assert_eq!(
        m.first_unit_id,
        Some(o.unit_b),
        "首接首办: the first receiving unit stays on record"
    );
    assert_eq!(m.reroute_count, 1);

    // 办理 by unit A: a pause for material, an extension, a reply drafted and approved.
    let m = o.step(&m, &o.handler_a, Command::StartHandling, sh(2025, 6, 13, 11, 0));
    assert_eq!(m.state, State::InProgress);
    let m = o.step(&m, &o.handler_a, pause(), sh(2025, 6, 20, 10, 0));
    assert!(m.is_paused());
    let m = o.step(&m, &o.handler_a, Command::Resume, sh(2025, 6, 22, 10, 0));
    assert!(!m.is_paused());
    let m = o.step(&m, &o.handler_a, extension(30), sh(2025, 7, 1, 9, 0));
    assert_eq!(m.extension_request.as_ref().map(|r| r.days), Some(30));
    let m = o.step(&m, &o.head_a, Command::ApproveExtension, sh(2025, 7, 2, 9, 0));
    assert_eq!((m.extension_days, m.extension_used), (30, true));
    assert!(m.extension_request.is_none());
    // 60 + 30 days from 06-12 is 09-10; the pause (06-21, 06-22 excluded) adds two days.
    assert_eq!(
        o.handling_deadline(&m, sh(2025, 7, 2, 9, 0)),
        (Some(date(2025, 9, 12)), DeadlineStatus::OnTrack)
    );
    let m = o.step(
        &m,
        &o.handler_a,
        draft("经核实，已增开夜间线路。"),
        sh(2025, 7, 10, 9, 0),
    );
    let m = o.step(&m, &o.head_a, Command::ApproveReply, sh(2025, 7, 11, 9, 0));
    let reply = m.reply.clone().expect("a reply");
    assert_eq!(reply.drafted_by, user_id(&o.handler_a));
    assert_eq!(reply.approved_by, Some(user_id(&o.head_a)));
    assert_eq!(
        m.state,
        State::InProgress,
        "approval alone does not answer the petitioner"
    );

    // 答复: delivered, so the handling clock stops, on time.
    let m = o.step(&m, &o.handler_a, deliver(), sh(2025, 7, 15, 10, 0));
    assert_eq!(m.state, State::Replied);
    assert_eq!(m.replied_at, Some(sh(2025, 7, 15, 10, 0)));
    assert!(current_deadline(&m, &o.rules, &o.calendar, sh(2025, 7, 15, 10, 0)).is_none());

    // 回访: the petitioner is dissatisfied and asks for a review, then a re-check.
    let m = o.step(
        &m,
        &Actor::Petitioner,
        Command::RecordSatisfaction {
            satisfaction: Satisfaction::Dissatisfied,
            comment: Some("没有解决".to_string()),
        },
        sh(2025, 7, 16, 9, 0),
    );
    assert_eq!(
        (m.state, m.satisfaction),
        (State::FollowUp, Some(Satisfaction::Dissatisfied))
    );
    let m = o.step(
        &m,
        &Actor::Petitioner,
        review("对答复不满意"),
        sh(2025, 7, 20, 9, 0),
    );
    assert_eq!(m.state, State::Review);
    let (d, _) = current_deadline(&m, &o.rules, &o.calendar, sh(2025, 7, 20, 9, 0)).expect("review clock");
    assert_eq!(
        (d.kind, d.due_date),
        (DeadlineKind::ReviewAnswer, Some(date(2025, 8, 19)))
    );
    let m = o.step(&m, &o.supervisor, answer_review(), sh(2025, 8, 5, 10, 0));
    assert_eq!(m.state, State::Reviewed);
    let m = o.step(&m, &Actor::Petitioner, recheck(), sh(2025, 8, 10, 9, 0));
    assert_eq!(m.state, State::Recheck);
    let m = o.step(
        &m,
        &o.leader,
        Command::AnswerRecheck {
            text: "复核维持".to_string(),
        },
        sh(2025, 8, 20, 9, 0),
    );
    assert_eq!(m.state, State::Concluded);
    assert_eq!(m.concluded_at, Some(sh(2025, 8, 20, 9, 0)));

    // Every deadline the matter had, all met.
    let kinds: Vec<(DeadlineKind, DeadlineStatus)> =
        all_deadlines(&m, &o.rules, &o.calendar, sh(2025, 9, 1, 0, 0))
            .iter()
            .map(|a| (a.kind, a.status))
            .collect();
    assert_eq!(
        kinds,
        [
            (DeadlineKind::Acceptance, DeadlineStatus::OnTrack),
            (DeadlineKind::Handling, DeadlineStatus::OnTrack),
            (DeadlineKind::ReviewAnswer, DeadlineStatus::OnTrack),
            (DeadlineKind::RecheckAnswer, DeadlineStatus::OnTrack),
        ]
    );

    // 归档.
    let m = o.step(&m, &o.clerk, Command::Archive, sh(2025, 8, 21, 9, 0));
    assert_eq!(
        (m.state, m.archived_at),
        (State::Archived, Some(sh(2025, 8, 21, 9, 0)))
    );
    assert_eq!(
        o.refused(&m, &o.clerk, Command::Archive, sh(2025, 8, 22, 9, 0)),
        "invalid_state"
    );
}

#[test]
fn a_declined_matter_is_archived_with_its_reason() {
    let o = Office::new();
    let m = o.registered();
    let m = o.step(
        &m,
        &o.supervisor,
        Command::Decline {
            reason: DeclineReason::LitigationOrArbitration,
            text: "已进入诉讼程序".to_string(),
        },
        accepted_at(),
    );
    assert_eq!(m.state, State::NotAccepted);
    assert_eq!(m.decline_reason, Some(DeclineReason::LitigationOrArbitration));
    assert_eq!(m.decided_at, Some(accepted_at()));
    assert_eq!(
        m.accepted_at, None,
        "a declined matter never starts the handling clock"
    );
    assert!(current_deadline(&m, &o.rules, &o.calendar, accepted_at()).is_none());
    assert_eq!(
        o.refused(&m, &o.clerk, o.classify(), accepted_at()),
        "invalid_state"
    );
    let m = o.step(&m, &o.admin, Command::Archive, sh(2025, 6, 13, 9, 0));
    assert_eq!(m.state, State::Archived);
}

#[test]
fn a_matter_without_appeal_is_concluded_when_the_window_has_passed() {
    let o = Office::new();
    let m = o.replied();
    let m = o.step(
        &m,
        &o.clerk,
        Command::RecordSatisfaction {
            satisfaction: Satisfaction::Satisfied,
            comment: None,
        },
        sh(2025, 7, 16, 9, 0),
    );
    let m = o.step(&m, &Actor::System, conclude(), sh(2025, 8, 15, 0, 0));
    assert_eq!(m.state, State::Concluded);
    let m = o.step(&m, &o.clerk, Command::Archive, sh(2025, 8, 16, 9, 0));
    assert_eq!(m.state, State::Archived);
}

#[test]
fn a_dissatisfied_petitioner_can_have_the_matter_reopened() {
    let o = Office::new();
    let m = o.replied();
    let m = o.step(
        &m,
        &Actor::Petitioner,
        Command::RecordSatisfaction {
            satisfaction: Satisfaction::Dissatisfied,
            comment: None,
        },
        sh(2025, 7, 16, 9, 0),
    );
    let m = o.step(
        &m,
        &o.supervisor,
        Command::Reopen {
            reason: "答复未回应核心诉求".to_string(),
        },
        sh(2025, 7, 17, 9, 0),
    );
    assert_eq!(m.state, State::InProgress);
    assert_eq!(m.reopen_count, 1);
    assert!(m.reply.is_none(), "the old reply is withdrawn");
    assert_eq!(
        o.refused(&m, &o.handler_a, deliver(), sh(2025, 7, 18, 9, 0)),
        "reply_not_drafted"
    );
    assert_eq!(
        o.refused(
            &m,
            &o.handler_a,
            Command::Reopen {
                reason: "x".to_string()
            },
            sh(2025, 7, 18, 9, 0)
        ),
        "invalid_state"
    );
}

// ---- registration ---------------------------------------------------------------------------

#[test]
fn only_the_petition_office_registers() {
    let o = Office::new();
    let r = || o.registration(Some(PetitionType::Appeal), 1);
    for actor in [
        &o.clerk,
        &o.supervisor,
        &o.admin,
        &Actor::Petitioner,
        &Actor::System,
    ] {
        assert_eq!(register(r(), actor).map(|m| m.state), Ok(State::Registered));
    }
    for actor in [&o.handler_a, &o.head_a, &o.leader, &o.analyst] {
        assert_eq!(
            register(r(), actor).map_err(|e| e.code()),
            Err("forbidden_transition")
        );
    }
}

#[test]
fn anonymity_is_allowed_only_for_suggestions_and_reports() {
    let o = Office::new();
    for t in [PetitionType::Suggestion, PetitionType::Report] {
        let m = register(o.registration(Some(t), 0), &Actor::Petitioner).expect("anonymous allowed");
        assert!(m.anonymous);
        assert_eq!(m.people_count, 1);
    }
    for t in [Some(PetitionType::Appeal), Some(PetitionType::Inquiry), None] {
        let err = register(o.registration(t, 0), &Actor::Petitioner).expect_err("needs a petitioner");
        assert_eq!(err, LifecycleError::AnonymousNotAllowed);
        assert_eq!(err.code(), "anonymous_not_allowed");
    }
    // A named appeal is fine, and the people count covers every co-signer.
    let m = register(o.registration(Some(PetitionType::Appeal), 6), &o.clerk).expect("named");
    assert!(!m.anonymous);
    assert_eq!(m.people_count, 6);
    assert!(m.is_group());
}

// ---- refusals -------------------------------------------------------------------------------

#[test]
fn a_transition_in_the_wrong_state_is_refused() {
    let o = Office::new();
    let m = o.registered();
    let at = accepted_at();
    assert_eq!(o.refused(&m, &o.clerk, o.classify(), at), "invalid_state");
    assert_eq!(o.refused(&m, &o.clerk, o.assign(o.unit_a), at), "invalid_state");
    assert_eq!(
        o.refused(&m, &o.handler_a, Command::StartHandling, at),
        "invalid_state"
    );
    assert_eq!(o.refused(&m, &o.clerk, Command::Archive, at), "invalid_state");
    assert_eq!(o.refused(&m, &o.clerk, conclude(), at), "invalid_state");

    let m = o.step(&m, &o.clerk, Command::Accept { note: None }, at);
    assert_eq!(
        o.refused(&m, &o.clerk, Command::Accept { note: None }, at),
        "invalid_state"
    );
    let err = o
        .try_apply(&m, &o.clerk, o.assign(o.unit_a), at)
        .expect_err("must be classified first");
    assert_eq!(
        err,
        LifecycleError::InvalidState {
            transition: xinfang_core::lifecycle::Transition::Assign,
            state: State::Accepted
        }
    );
    assert_eq!(err.message_zh(), "当前状态为“受理”，不能执行“交办”");

    let m = o.in_progress_at_a();
    assert_eq!(
        o.refused(&m, &o.handler_a, Command::StartHandling, at),
        "invalid_state"
    );
    assert_eq!(
        o.refused(&m, &Actor::Petitioner, review("x"), at),
        "invalid_state"
    );
    assert_eq!(o.refused(&m, &o.supervisor, answer_review(), at), "invalid_state");
}

#[test]
fn a_transition_by_the_wrong_role_is_refused() {
    let o = Office::new();
    let at = accepted_at();

    let m = o.registered();
    for actor in [&o.handler_a, &o.head_a, &o.leader, &o.analyst, &Actor::Petitioner] {
        assert_eq!(
            o.refused(&m, actor, Command::Accept { note: None }, at),
            "forbidden_transition"
        );
    }
    // The system may accept (an import from a channel that accepts by itself).
    assert_eq!(
        o.step(&m, &Actor::System, Command::Accept { note: None }, at)
            .state,
        State::Accepted
    );

    let m = o.step(&m, &o.clerk, Command::Accept { note: None }, at);
    assert_eq!(
        o.refused(&m, &o.handler_a, o.classify(), at),
        "forbidden_transition"
    );
    let m = o.step(&m, &o.clerk, o.classify(), at);
    assert_eq!(
        o.refused(&m, &o.head_a, o.assign(o.unit_a), at),
        "forbidden_transition"
    );

    // Handling is the unit's work, not the office's.
    let m = o.assigned_to_a();
    assert_eq!(
        o.refused(&m, &o.clerk, Command::StartHandling, at),
        "forbidden_transition"
    );
    assert_eq!(
        o.refused(&m, &Actor::Petitioner, Command::StartHandling, at),
        "forbidden_transition"
    );

    let m = o.in_progress_at_a();
    let later = sh(2025, 7, 1, 9, 0);
    assert_eq!(
        o.refused(&m, &o.supervisor, draft("x"), later),
        "forbidden_transition"
    );
    let m = o.step(&m, &o.handler_a, draft("答复意见"), later);
    // Only the unit head approves a reply: not the handler, not even the supervisor.
    assert_eq!(
        o.refused(&m, &o.handler_a, Command::ApproveReply, later),
        "forbidden_transition"
    );
    assert_eq!(
        o.refused(&m, &o.supervisor, Command::ApproveReply, later),
        "forbidden_transition"
    );
    let m = o.step(&m, &o.handler_a, extension(10), later);
    assert_eq!(
        o.refused(&m, &o.handler_a, Command::ApproveExtension, later),
        "forbidden_transition"
    );

    // The petitioner's steps, the reviewers' steps, the archive.
    let m = o.replied();
    let rating = || Command::RecordSatisfaction {
        satisfaction: Satisfaction::Satisfied,
        comment: None,
    };
    assert_eq!(
        o.refused(&m, &o.handler_a, rating(), later),
        "forbidden_transition"
    );
    assert_eq!(
        o.refused(&m, &o.handler_a, review("x"), sh(2025, 7, 20, 9, 0)),
        "forbidden_transition"
    );
    assert_eq!(
        o.refused(&m, &o.handler_a, Command::Reopen { reason: "x".into() }, later),
        "forbidden_transition"
    );
    assert_eq!(
        o.refused(&m, &o.handler_a, conclude(), sh(2025, 8, 20, 0, 0)),
        "forbidden_transition"
    );
    let m = o.step(&m, &Actor::Petitioner, review("不满意"), sh(2025, 7, 20, 9, 0));
    for actor in [&o.clerk, &o.handler_a, &o.head_a, &Actor::Petitioner] {
        assert_eq!(
            o.refused(&m, actor, answer_review(), sh(2025, 8, 1, 9, 0)),
            "forbidden_transition"
        );
    }
    let m = o.reviewed();
    let m = o.step(&m, &o.clerk, conclude(), sh(2025, 9, 5, 0, 0));
    assert_eq!(
        o.refused(&m, &o.handler_a, Command::Archive, sh(2025, 9, 6, 0, 0)),
        "forbidden_transition"
    );
    assert_eq!(
        o.refused(&m, &o.leader, Command::Archive, sh(2025, 9, 6, 0, 0)),
        "forbidden_transition"
    );
}

#[test]
fn a_handler_of_another_unit_is_refused() {
    let o = Office::new();
    let at = sh(2025, 6, 13, 9, 0);
    let m = o.assigned_to_a();
    assert_eq!(
        o.refused(&m, &o.handler_b, Command::StartHandling, at),
        "not_lead_unit"
    );
    assert_eq!(
        o.refused(
            &m,
            &o.handler_b,
            Command::ReturnMisrouted { reason: "x".into() },
            at
        ),
        "not_lead_unit"
    );

    let m = o.in_progress_at_a();
    let later = sh(2025, 7, 1, 9, 0);
    assert_eq!(o.refused(&m, &o.handler_b, pause(), later), "not_lead_unit");
    assert_eq!(o.refused(&m, &o.handler_b, extension(10), later), "not_lead_unit");
    assert_eq!(o.refused(&m, &o.handler_b, draft("x"), later), "not_lead_unit");
    let m = o.step(&m, &o.handler_a, extension(10), later);
    assert_eq!(
        o.refused(&m, &o.head_b, Command::ApproveExtension, later),
        "not_lead_unit"
    );
    let m = o.step(&m, &o.handler_a, draft("答复"), later);
    assert_eq!(
        o.refused(&m, &o.head_b, Command::ApproveReply, later),
        "not_lead_unit"
    );
    let m = o.step(&m, &o.head_a, Command::ApproveReply, later);
    assert_eq!(o.refused(&m, &o.handler_b, deliver(), later), "not_lead_unit");
    // The petition office may deliver the approved reply itself.
    assert_eq!(o.step(&m, &o.clerk, deliver(), later).state, State::Replied);
}

#[test]
fn a_co_handling_unit_does_not_lead() {
    let o = Office::new();
    let m = o.registered();
    let m = o.step(&m, &o.clerk, Command::Accept { note: None }, accepted_at());
    let m = o.step(&m, &o.clerk, o.classify(), accepted_at());
    let with_co = |co: Vec<UnitId>| Command::Assign {
        lead_unit_id: o.unit_a,
        co_unit_ids: co,
        owning_leader_id: Some(user_id(&o.leader)),
        note: Some("请B单位协办".to_string()),
    };
    assert_eq!(
        o.refused(&m, &o.clerk, with_co(vec![o.unit_b, o.unit_a]), accepted_at()),
        "lead_also_co_unit"
    );
    let m = o.step(&m, &o.clerk, with_co(vec![o.unit_b, o.unit_b]), accepted_at());
    assert_eq!(m.co_unit_ids, vec![o.unit_b]);
    assert_eq!(m.owning_leader_id, Some(user_id(&o.leader)));
    assert_eq!(
        o.refused(&m, &o.handler_b, Command::StartHandling, accepted_at()),
        "not_lead_unit"
    );
    assert_eq!(
        o.step(&m, &o.head_a, Command::StartHandling, accepted_at()).state,
        State::InProgress
    );
}

#[test]
fn the_handling_limit_is_extended_once_by_at_most_thirty_days() {
    let o = Office::new();
    let m = o.in_progress_at_a();
    let at = sh(2025, 7, 1, 9, 0);
    assert_eq!(
        o.handling_deadline(&m, at),
        (Some(date(2025, 8, 11)), DeadlineStatus::OnTrack)
    );

    let err = o
        .try_apply(&m, &o.handler_a, extension(31), at)
        .expect_err("too long");
    assert_eq!(err.code(), "extension_too_long");
    assert_eq!(err.message_zh(), "延期不得超过30日");
    assert_eq!(o.refused(&m, &o.handler_a, extension(0), at), "invalid_extension");
    assert_eq!(
        o.refused(&m, &o.head_a, Command::ApproveExtension, at),
        "no_extension_pending"
    );

    let m = o.step(&m, &o.handler_a, extension(15), at);
    let req = m.extension_request.clone().expect("pending");
    assert_eq!(
        (req.days, req.requested_by, req.requested_at),
        (15, user_id(&o.handler_a), at)
    );
    assert_eq!(
        o.refused(&m, &o.handler_a, extension(10), at),
        "extension_pending"
    );
    // A pending request does not move the deadline yet.
    assert_eq!(o.handling_deadline(&m, at).0, Some(date(2025, 8, 11)));

    let m = o.step(&m, &o.head_a, Command::ApproveExtension, sh(2025, 7, 2, 9, 0));
    assert_eq!(m.extension_days, 15);
    assert_eq!(
        o.handling_deadline(&m, at).0,
        Some(date(2025, 8, 26)),
        "moved by 15 days"
    );

    let err = o
        .try_apply(&m, &o.handler_a, extension(5), at)
        .expect_err("second extension");
    assert_eq!(err.code(), "extension_already_used");
    assert_eq!(err.message_zh(), "办理期限只能延长一次");
}

#[test]
fn the_supervisor_may_approve_and_a_refusal_leaves_the_limit_unchanged() {
    let o = Office::new();
    let at = sh(2025, 7, 1, 9, 0);
    let m = o.step(&o.in_progress_at_a(), &o.handler_a, extension(30), at);
    let approved = o.step(&m, &o.supervisor, Command::ApproveExtension, at);
    assert_eq!(
        o.handling_deadline(&approved, at).0,
        Some(date(2025, 9, 10)),
        "60 + 30 days"
    );

    let refused = o.step(
        &m,
        &o.head_a,
        Command::RefuseExtension {
            reason: "理由不充分".to_string(),
        },
        at,
    );
    assert!(refused.extension_request.is_none());
    assert!(
        !refused.extension_used,
        "a refused request does not use up the extension"
    );
    assert_eq!(o.handling_deadline(&refused, at).0, Some(date(2025, 8, 11)));
    assert_eq!(
        o.step(&refused, &o.handler_a, extension(20), at)
            .extension_request
            .map(|r| r.days),
        Some(20)
    );
}

#[test]
fn a_reply_is_delivered_only_after_the_unit_head_approved_it() {
    let o = Office::new();
    let at = sh(2025, 7, 10, 9, 0);
    let m = o.in_progress_at_a();
    assert_eq!(o.refused(&m, &o.handler_a, deliver(), at), "reply_not_drafted");
    assert_eq!(
        o.refused(&m, &o.head_a, Command::ApproveReply, at),
        "reply_not_drafted"
    );

    let m = o.step(&m, &o.handler_a, draft("初稿"), at);
    let err = o
        .try_apply(&m, &o.handler_a, deliver(), at)
        .expect_err("not approved");
    assert_eq!(err.code(), "reply_not_approved");
    assert_eq!(err.message_zh(), "答复意见尚未经单位负责人审核");
    assert_eq!(o.refused(&m, &o.clerk, deliver(), at), "reply_not_approved");

    let m = o.step(&m, &o.head_a, Command::ApproveReply, at);
    assert_eq!(
        o.refused(&m, &o.head_a, Command::ApproveReply, at),
        "reply_already_approved"
    );
    // Redrafting withdraws the approval.
    let redrafted = o.step(&m, &o.handler_a, draft("修改稿"), at);
    assert_eq!(redrafted.reply.as_ref().and_then(|r| r.approved_by), None);
    assert_eq!(
        o.refused(&redrafted, &o.handler_a, deliver(), at),
        "reply_not_approved"
    );

    assert_eq!(o.step(&m, &o.handler_a, deliver(), at).state, State::Replied);
}

#[test]
fn pause_and_resume_follow_their_rules() {
    let o = Office::new();
    let at = sh(2025, 6, 20, 10, 0);

    let assigned = o.assigned_to_a();
    assert_eq!(o.refused(&assigned, &o.handler_a, pause(), at), "invalid_state");

    let m = o.in_progress_at_a();
    assert_eq!(o.refused(&m, &o.handler_a, Command::Resume, at), "not_paused");
    assert_eq!(o.refused(&m, &o.clerk, pause(), at), "forbidden_transition");
    assert_eq!(o.refused(&m, &o.handler_b, pause(), at), "not_lead_unit");

    let paused = o.step(&m, &o.handler_a, pause(), at);
    assert_eq!(paused.pauses.len(), 1);
    assert_eq!(o.refused(&paused, &o.handler_a, pause(), at), "already_paused");
    assert_eq!(
        o.refused(&paused, &o.handler_a, Command::Resume, at - Duration::hours(1)),
        "time_before_previous"
    );
    assert_eq!(
        o.refused(&paused, &o.handler_b, Command::Resume, at),
        "not_lead_unit"
    );

    // While paused the due date is unknown and the status says so.
    assert_eq!(
        o.handling_deadline(&paused, sh(2025, 6, 21, 9, 0)),
        (None, DeadlineStatus::Paused)
    );

    // An approved reply cannot be delivered while the clock stands still.
    let drafted = o.step(&paused, &o.handler_a, draft("答复"), at);
    let approved = o.step(&drafted, &o.head_a, Command::ApproveReply, at);
    assert_eq!(o.refused(&approved, &o.handler_a, deliver(), at), "clock_paused");

    let resumed = o.step(&paused, &o.handler_a, Command::Resume, sh(2025, 6, 22, 10, 0));
    assert_eq!(resumed.pauses[0].until, Some(sh(2025, 6, 22, 10, 0)));
    assert_eq!(
        o.refused(&resumed, &o.handler_a, Command::Resume, at),
        "not_paused"
    );
    // A second pause later is fine.
    let again = o.step(&resumed, &o.head_a, pause(), sh(2025, 7, 1, 9, 0));
    assert_eq!(again.pauses.len(), 2);
}

#[test]
fn a_pause_moves_the_handling_deadline() {
    let o = Office::new();
    let m = o.in_progress_at_a();
    let at = sh(2025, 6, 20, 10, 0);
    assert_eq!(o.handling_deadline(&m, at).0, Some(date(2025, 8, 11)));
    let m = o.step(&m, &o.handler_a, pause(), at);
    let m = o.step(&m, &o.handler_a, Command::Resume, sh(2025, 6, 22, 10, 0));
    // 06-21 and 06-22 do not count: two days later.
    assert_eq!(
        o.handling_deadline(&m, sh(2025, 6, 22, 10, 0)),
        (Some(date(2025, 8, 13)), DeadlineStatus::OnTrack)
    );
}

#[test]
fn the_handling_deadline_becomes_due_soon_then_overdue() {
    let o = Office::new();
    let m = o.in_progress_at_a();
    // Due on Monday 2025-08-11: the deadline instant is 00:00 on 08-12, due soon 3 days before.
    let (d, _) = current_deadline(&m, &o.rules, &o.calendar, accepted_at()).expect("running");
    assert_eq!(d.due_at, Some(sh(2025, 8, 12, 0, 0)));
    let status = |now| o.handling_deadline(&m, now).1;
    assert_eq!(status(sh(2025, 7, 1, 9, 0)), DeadlineStatus::OnTrack);
    assert_eq!(status(sh(2025, 8, 8, 23, 59)), DeadlineStatus::OnTrack);
    assert_eq!(status(sh(2025, 8, 9, 0, 0)), DeadlineStatus::DueSoon);
    assert_eq!(status(sh(2025, 8, 11, 23, 59)), DeadlineStatus::DueSoon);
    assert_eq!(status(sh(2025, 8, 12, 0, 0)), DeadlineStatus::Overdue);
    let (_, a) = current_deadline(&m, &o.rules, &o.calendar, sh(2025, 8, 13, 0, 0)).expect("running");
    assert_eq!(a.remaining_seconds, Some(-86_400));

    // A reply delivered after the instant stays late in the record.
    let m = o.step(&m, &o.handler_a, draft("答复"), sh(2025, 8, 12, 9, 0));
    let m = o.step(&m, &o.head_a, Command::ApproveReply, sh(2025, 8, 12, 10, 0));
    let m = o.step(&m, &o.handler_a, deliver(), sh(2025, 8, 12, 11, 0));
    let handling = all_deadlines(&m, &o.rules, &o.calendar, sh(2025, 12, 1, 0, 0))
        .into_iter()
        .find(|a| a.kind == DeadlineKind::Handling)
        .expect("finished handling deadline");
    assert_eq!(handling.status, DeadlineStatus::Overdue);
    assert_eq!(handling.remaining_seconds, Some(-11 * 3600));
}

#[test]
fn the_acceptance_deadline_runs_until_the_decision() {
    let o = Office::new();
    let m = o.registered();
    let status =
        |m: &Matter, now| current_deadline(m, &o.rules, &o.calendar, now).map(|(d, a)| (d.kind, a.status));
    assert_eq!(
        status(&m, sh(2025, 6, 27, 0, 0)),
        Some((DeadlineKind::Acceptance, DeadlineStatus::Overdue))
    );
    // Accepted late: the acceptance deadline is recorded as missed, the handling clock starts.
    let late = o.step(
        &m,
        &o.clerk,
        Command::Accept { note: None },
        sh(2025, 6, 27, 9, 0),
    );
    assert_eq!(
        status(&late, sh(2025, 6, 27, 9, 0)),
        Some((DeadlineKind::Handling, DeadlineStatus::OnTrack))
    );
    let all = all_deadlines(&late, &o.rules, &o.calendar, sh(2025, 6, 27, 9, 0));
    assert_eq!(
        all.iter().map(|a| (a.kind, a.status)).collect::<Vec<_>>(),
        [
            (DeadlineKind::Acceptance, DeadlineStatus::Overdue),
            (DeadlineKind::Handling, DeadlineStatus::OnTrack),
        ]
    );
}

#[test]
fn a_review_must_be_requested_within_thirty_days_of_the_reply() {
    let o = Office::new();
    let m = o.replied();
    let closes = sh(2025, 8, 15, 0, 0);
    let err = o
        .try_apply(&m, &Actor::Petitioner, review("不满意"), closes)
        .expect_err("window closed");
    assert_eq!(err, LifecycleError::WindowClosed { closed_at: closes });
    assert_eq!(err.code(), "window_closed");
    let m = o.step(
        &m,
        &Actor::Petitioner,
        review("不满意"),
        closes - Duration::minutes(1),
    );
    assert_eq!(m.state, State::Review);
    assert_eq!(m.review_requested_at, Some(closes - Duration::minutes(1)));
}

#[test]
fn a_recheck_must_be_requested_within_thirty_days_of_the_review_answer() {
    let o = Office::new();
    let m = o.reviewed();
    let closes = sh(2025, 9, 5, 0, 0);
    assert_eq!(
        o.refused(&m, &Actor::Petitioner, recheck(), closes),
        "window_closed"
    );
    assert_eq!(o.refused(&m, &o.clerk, recheck(), closes), "window_closed");
    let m = o.step(&m, &o.clerk, recheck(), closes - Duration::minutes(1));
    assert_eq!(m.state, State::Recheck);
}

#[test]
fn a_matter_is_not_concluded_while_the_petitioner_may_still_appeal() {
    let o = Office::new();
    let m = o.replied();
    let closes = sh(2025, 8, 15, 0, 0);
    let err = o
        .try_apply(&m, &o.clerk, conclude(), closes - Duration::minutes(1))
        .expect_err("window open");
    assert_eq!(err, LifecycleError::WindowStillOpen { closes_at: closes });
    assert_eq!(err.code(), "window_still_open");
    assert_eq!(o.step(&m, &o.clerk, conclude(), closes).state, State::Concluded);

    // After a review answer, the re-check window counts.
    let m = o.reviewed();
    let closes = sh(2025, 9, 5, 0, 0);
    assert_eq!(
        o.refused(&m, &o.supervisor, conclude(), closes - Duration::minutes(1)),
        "window_still_open"
    );
    let m = o.step(&m, &o.supervisor, conclude(), closes);
    assert_eq!((m.state, m.concluded_at), (State::Concluded, Some(closes)));
    // Once concluded, the same request is not taken up again.
    assert_eq!(
        o.refused(&m, &Actor::Petitioner, recheck(), closes),
        "invalid_state"
    );
    assert_eq!(
        o.refused(&m, &o.clerk, Command::Reopen { reason: "x".into() }, closes),
        "invalid_state"
    );
}

#[test]
fn every_refusal_has_a_chinese_message() {
    let o = Office::new();
    let m = o.assigned_to_a();
    let err = o
        .try_apply(&m, &o.handler_b, Command::StartHandling, accepted_at())
        .expect_err("not the lead unit");
    assert_eq!(err.message_zh(), "只有主办单位可以执行“开始办理”");
    let err = o
        .try_apply(&m, &o.clerk, Command::StartHandling, accepted_at())
        .expect_err("not a handler");
    assert_eq!(err.message_zh(), "您的角色无权执行“开始办理”");
}

#[test]
fn a_misrouted_matter_goes_back_only_within_five_working_days_of_its_assignment() {
    let o = Office::new();
    // Assigned to unit A on Thursday 06-12 at 14:00: days 1–5 are 06-13 (Fri) and 06-16 to
    // 06-19 (Mon–Thu), so the window closes at the end of Thursday 06-19.
    let m = o.assigned_to_a();
    let back = Command::ReturnMisrouted {
        reason: "不属于本单位职责".to_string(),
    };
    assert_eq!(
        o.refused(&m, &o.handler_a, back.clone(), sh(2025, 6, 20, 9, 0)),
        "return_window_closed"
    );
    let m = o.step(&m, &o.handler_a, back, sh(2025, 6, 19, 17, 0));
    assert_eq!((m.state, m.reroute_count), (State::Classified, 1));

    // Without a limit in the rule set (one stored before the limit existed), no refusal.
    let mut o = Office::new();
    o.rules.misroute_return = None;
    let m = o.assigned_to_a();
    let late = Command::ReturnMisrouted {
        reason: "不属于本单位职责".to_string(),
    };
    assert_eq!(
        o.step(&m, &o.handler_a, late, sh(2025, 7, 20, 9, 0)).state,
        State::Classified
    );
}
