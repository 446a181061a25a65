//! The store's story: one organisation's petition office using the store the way the server
//! does, told once and run against every backend ([`suite::backends`]), so the backends cannot
//! drift apart. Every story starts from a fresh database and moves the store's clock instead of
//! sleeping.

mod suite;

use chrono::{Duration, NaiveDate};
use std::collections::BTreeSet;
use suite::*;
use xinfang_core::calendar::Calendar;
use xinfang_core::deadline::{DeadlineKind, DeadlineStatus, RuleSet};
use xinfang_core::ids::{PetitionId, RuleSetId, TrackingCode};
use xinfang_core::lifecycle::{Command, Transition};
use xinfang_core::matter::{Channel, PetitionType, Satisfaction, State};
use xinfang_core::org::{Actor, Role, RoleGrant, UnitKind};
use xinfang_store::{
    ActorKind, EventKind, ListOrder, MatterFilter, MatterSummary, NewUnit, NewUser, StoreError,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn ids<'a>(items: impl IntoIterator<Item = &'a MatterSummary>) -> BTreeSet<PetitionId> {
    items.into_iter().map(|s| s.id).collect()
}

fn set<const N: usize>(ids: [PetitionId; N]) -> BTreeSet<PetitionId> {
    ids.into_iter().collect()
}

fn all() -> MatterFilter {
    MatterFilter {
        page: 1,
        per_page: 100,
        ..MatterFilter::default()
    }
}

// ---- organisation ---------------------------------------------------------------------------

#[tokio::test]
async fn an_organisation_has_units_users_grants_and_categories() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;

        let orgs = s.organisations().await.expect("organisations");
        assert_eq!(orgs.len(), 1);
        assert_eq!((orgs[0].id, orgs[0].name.as_str()), (o.id, "某机场集团"));

        let units = s.units(o.id).await.expect("units");
        let names: BTreeSet<&str> = units.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(
            names,
            BTreeSet::from(["某机场集团", "信访办", "地面交通中心", "航站楼管理部"])
        );
        let office = units
            .iter()
            .find(|u| u.petition_office)
            .expect("a petition office");
        assert_eq!((office.id, office.parent_id), (o.office.id, Some(o.group.id)));
        let a = units.iter().find(|u| u.id == o.unit_a.id).expect("unit A");
        assert_eq!((a.kind, a.parent_id), (UnitKind::Subsidiary, Some(o.group.id)));
        let group = units.iter().find(|u| u.id == o.group.id).expect("group");
        assert_eq!((group.kind, group.parent_id), (UnitKind::Group, None));

        // Users carry every grant; the actor the server builds from them has the same.
        let users = s.users(o.id).await.expect("users");
        assert_eq!(users.len(), 8);
        let head = users
            .iter()
            .find(|u| u.username == "airport.head_a")
            .expect("unit head");
        assert_eq!(head.display_name, "赵主任");
        assert!(head.active);
        assert_eq!(
            head.grants,
            [RoleGrant {
                role: Role::UnitHead,
                unit_id: o.unit_a.id
            }]
        );
        assert!(o.head_a.has_role_in(Role::UnitHead, o.unit_a.id));
        assert!(o.clerk.in_petition_office());
        assert!(!o.handler_a.in_petition_office());

        // A user with roles in two units.
        let both = s
            .create_user(
                o.id,
                NewUser {
                    username: "airport.both".to_string(),
                    display_name: "钱两头".to_string(),
                    password_hash: PASSWORD_HASH.to_string(),
                    grants: vec![
                        RoleGrant {
                            role: Role::Handler,
                            unit_id: o.unit_a.id,
                        },
                        RoleGrant {
                            role: Role::UnitHead,
                            unit_id: o.unit_b.id,
                        },
                    ],
                },
            )
            .await
            .expect("user with two grants");
        let actor = s.staff_actor(o.id, both.id).await.expect("actor");
        assert!(actor.has_role_in(Role::Handler, o.unit_a.id));
        assert!(actor.has_role_in(Role::UnitHead, o.unit_b.id));
        assert_eq!(actor.scope().units.len(), 2);

        // Login finds the hash by username; a username is taken once.
        let creds = s
            .credentials("airport.clerk")
            .await
            .expect("query")
            .expect("known user");
        assert_eq!((creds.organisation_id, creds.user_id), (o.id, o.clerk.user_id));
        assert_eq!(creds.password_hash, PASSWORD_HASH);
        assert!(s.credentials("nobody").await.expect("query").is_none());
        let dup = s
            .create_user(
                o.id,
                NewUser {
                    username: "airport.clerk".to_string(),
                    display_name: "另一个".to_string(),
                    password_hash: PASSWORD_HASH.to_string(),
                    grants: Vec::new(),
                },
            )
            .await;
        assert!(
            matches!(
                dup,
                Err(StoreError::Conflict {
                    constraint: "users_username_key",
                    field: Some("username")
                })
            ),
            "{dup:?}"
        );
        let dup_unit = s
            .create_unit(
                o.id,
                NewUnit {
                    name: "信访办".to_string(),
                    parent_id: None,
                    kind: UnitKind::Department,
                    petition_office: false,
                },
            )
            .await;
        assert!(
            matches!(dup_unit, Err(StoreError::Conflict { .. })),
            "{dup_unit:?}"
        );

        // Another organisation's unit is no parent here.
        let other = Org::create(s, "另一集团", "other").await;
        let orphan = s
            .create_unit(
                o.id,
                NewUnit {
                    name: "跨组织部门".to_string(),
                    parent_id: Some(other.group.id),
                    kind: UnitKind::Team,
                    petition_office: false,
                },
            )
            .await;
        assert!(
            matches!(orphan, Err(StoreError::InvalidReference { field: "parent_id" })),
            "{orphan:?}"
        );
        assert!(matches!(
            s.staff_actor(other.id, o.clerk.user_id).await,
            Err(StoreError::NotFound)
        ));

        // Categories know their path; the default rule set is the regulation's.
        let cats = s.categories(o.id).await.expect("categories");
        let bus = cats.iter().find(|c| c.id == o.category.id).expect("category");
        assert_eq!(bus.path, "交通接驳 / 机场大巴班次");
        assert_eq!(bus.default_unit_id, Some(o.unit_a.id));
        // Routing looks the default unit up on its own, in the organisation only.
        assert_eq!(
            s.category_default_unit(o.id, o.category.id)
                .await
                .expect("default unit"),
            Some(o.unit_a.id)
        );
        assert_eq!(
            s.category_default_unit(other.id, o.category.id)
                .await
                .expect("other org"),
            None
        );
        let parent = bus.parent_id.expect("a sub-category");
        assert_eq!(s.category_default_unit(o.id, parent).await.expect("parent"), None);
        let rules = s.default_rule_set(o.id).await.expect("default rules");
        assert_eq!((rules.version, rules.handling.days), (1, 60));
    }
}

// ---- registration ---------------------------------------------------------------------------

#[tokio::test]
async fn registration_returns_a_tracking_code_and_a_secret() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;

        let r = o.register(s, bus_matter()).await;
        assert_eq!(r.state, State::Registered);
        assert!(!r.replayed);
        assert!(TrackingCode::parse(r.tracking_code.as_str()).is_ok());
        assert!(r.tracking_code.as_str().starts_with("XF"));
        let secret = r.secret.expect("the secret is shown once");
        assert_eq!(secret.as_str().len(), 12);

        let v = s.matter(&o.clerk, r.id).await.expect("the clerk sees it");
        assert_eq!(v.matter.state, State::Registered);
        assert_eq!(v.matter.tracking_code, r.tracking_code);
        assert_eq!(v.matter.title, "夜间航班落地后机场大巴已停运");
        assert_eq!(v.matter.registered_at, t0());
        assert_eq!(v.matter.rule_set_version, 1);
        let d = v.deadline.expect("the acceptance clock runs");
        assert_eq!(
            (d.kind, d.due_date),
            (DeadlineKind::Acceptance, Some(date(2025, 6, 26)))
        );

        let events = s.timeline(&o.clerk, r.id).await.expect("timeline");
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.kind, EventKind::Transition(Transition::Register));
        assert_eq!((e.before_state, e.after_state), (None, Some(State::Registered)));
        assert_eq!(e.actor_kind, ActorKind::Staff);
        assert_eq!(e.actor_name.as_deref(), Some("王登记"));
        assert_eq!((e.occurred_at, e.recorded_at), (t0(), t0()));

        // A letter received yesterday was registered yesterday, recorded today.
        b.clock.advance(Duration::hours(3));
        let yesterday = t0() - Duration::days(1);
        let mut letter = bus_matter();
        letter.channel = Channel::Letter;
        letter.received_at = Some(yesterday);
        let r = o.register(s, letter).await;
        let v = s.matter(&o.clerk, r.id).await.expect("letter");
        assert_eq!(v.matter.registered_at, yesterday);
        let e = &s.timeline(&o.clerk, r.id).await.expect("timeline")[0];
        assert_eq!(
            (e.occurred_at, e.recorded_at),
            (yesterday, t0() + Duration::hours(3))
        );

        // Only the petition office registers for others.
        let refused = s
            .register_matter(o.id, &Actor::Staff(o.handler_a.clone()), bus_matter())
            .await;
        assert_eq!(lifecycle_code(refused), "forbidden_transition");
        // An anonymous appeal is refused; an anonymous report is not.
        let anonymous = matter(
            Channel::Website,
            PetitionType::Appeal,
            "匿名申诉",
            "内容",
            Vec::new(),
        );
        assert_eq!(
            lifecycle_code(s.register_matter(o.id, &Actor::Petitioner, anonymous).await),
            "anonymous_not_allowed"
        );
        let report = matter(
            Channel::Website,
            PetitionType::Report,
            "匿名举报",
            "内容",
            Vec::new(),
        );
        let r = s
            .register_matter(o.id, &Actor::Petitioner, report)
            .await
            .expect("anonymous report");
        let v = s.matter(&o.clerk, r.id).await.expect("report");
        assert!(v.matter.anonymous);
        assert!(v.petitioners.is_empty());
        assert_eq!(s.list_matters(&o.clerk, &all()).await.expect("list").total, 3);
    }
}

#[tokio::test]
async fn a_work_order_pushed_twice_is_one_matter() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let order = || {
            let mut m = bus_matter();
            m.channel = Channel::Hotline12345;
            m.external_id = Some("GD20250611000123".to_string());
            m
        };
        let first = o.register(s, order()).await;
        b.clock.advance(Duration::minutes(5));
        let again = o.register(s, order()).await;
        assert!(!first.replayed);
        assert!(again.replayed);
        assert_eq!((again.id, &again.tracking_code), (first.id, &first.tracking_code));
        assert!(again.secret.is_none(), "the secret is never shown twice");
        assert_eq!(again.state, State::Registered);
        assert_eq!(s.list_matters(&o.clerk, &all()).await.expect("list").total, 1);
        assert_eq!(s.timeline(&o.clerk, first.id).await.expect("timeline").len(), 1);
        let v = s.matter(&o.clerk, first.id).await.expect("matter");
        assert_eq!(v.matter.external_id.as_deref(), Some("GD20250611000123"));

        // The same number on another channel is another work order.
        let mut web = order();
        web.channel = Channel::Website;
        let other = o.register(s, web).await;
        assert!(!other.replayed);
        assert_ne!(other.id, first.id);
    }
}

#[tokio::test]
async fn the_same_phone_number_is_the_same_petitioner() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let first = o.register(s, bus_matter()).await;
        b.clock.advance(Duration::days(3));
        // Called in again, number written differently, name given as a nickname.
        let again = o
            .register(
                s,
                matter(
                    Channel::Phone,
                    PetitionType::Appeal,
                    "机场大巴仍未增开夜班",
                    "上次反映的问题仍未解决。",
                    vec![caller("老张", "+86 138-1234-5678")],
                ),
            )
            .await;
        let stranger = o
            .register(
                s,
                matter(
                    Channel::Phone,
                    PetitionType::Inquiry,
                    "行李寄存咨询",
                    "请问行李寄存在哪里？",
                    vec![caller("李四", "13987654321")],
                ),
            )
            .await;

        let p1 = s.matter(&o.clerk, first.id).await.expect("first").petitioners;
        let p2 = s.matter(&o.clerk, again.id).await.expect("again").petitioners;
        let p3 = s
            .matter(&o.clerk, stranger.id)
            .await
            .expect("stranger")
            .petitioners;
        assert_eq!(p1.len(), 1);
        assert_eq!(p1[0].id, p2[0].id, "one record for one phone number");
        assert_ne!(p1[0].id, p3[0].id);
        assert_eq!(
            p2[0].name.as_deref(),
            Some("张三"),
            "the first name given is kept"
        );

        let history = s.petitioner_matters(&o.clerk, p1[0].id).await.expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].id, again.id, "newest first");
        assert_eq!(ids(&history), set([first.id, again.id]));
        // Outside the office, a unit sees only the history it handles.
        o.assign_to(s, first.id, &o.unit_a).await;
        let seen = s
            .petitioner_matters(&o.handler_a, p1[0].id)
            .await
            .expect("history");
        assert_eq!(ids(&seen), set([first.id]));
        assert!(
            s.petitioner_matters(&o.handler_b, p1[0].id)
                .await
                .expect("history")
                .is_empty()
        );
    }
}

// ---- the lifecycle through the store --------------------------------------------------------

#[tokio::test]
async fn a_matter_goes_through_every_transition_and_each_is_an_event() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let id = o.register(s, bus_matter()).await.id;
        let hour = || b.clock.advance(Duration::hours(1));

        hour();
        let v = o
            .step(
                s,
                &o.clerk,
                id,
                Command::Accept {
                    note: Some("属于受理范围".into()),
                },
            )
            .await;
        assert_eq!(v.matter.state, State::Accepted);
        hour();
        let v = o.step(s, &o.clerk, id, o.classify()).await;
        assert_eq!(
            (v.matter.state, v.matter.category_id),
            (State::Classified, Some(o.category.id))
        );
        hour();
        let v = o.step(s, &o.clerk, id, assign(&o.unit_b)).await;
        assert_eq!(v.matter.lead_unit_id, Some(o.unit_b.id));

        // Unit B returns it; the office re-assigns it to unit A, B stays the first unit.
        hour();
        let v = o
            .step(
                s,
                &o.handler_b,
                id,
                Command::ReturnMisrouted {
                    reason: "不属于本单位职责".into(),
                },
            )
            .await;
        assert_eq!((v.matter.state, v.matter.reroute_count), (State::Classified, 1));
        assert!(
            matches!(s.matter(&o.handler_b, id).await, Err(StoreError::NotFound)),
            "once returned, unit B no longer sees it"
        );
        hour();
        // The leader takes ownership (领导包案): they will answer the re-check.
        let v = o
            .step(
                s,
                &o.supervisor,
                id,
                Command::Assign {
                    lead_unit_id: o.unit_a.id,
                    co_unit_ids: Vec::new(),
                    owning_leader_id: Some(o.leader.user_id),
                    note: Some("改派地面交通中心".into()),
                },
            )
            .await;
        assert_eq!(v.matter.lead_unit_id, Some(o.unit_a.id));
        assert_eq!(v.matter.owning_leader_id, Some(o.leader.user_id));
        assert_eq!(v.matter.first_unit_id, Some(o.unit_b.id), "首接首办");
        let refused = s
            .transition(&o.handler_a, id, Command::DraftReply { text: "x".into() }, None)
            .await;
        assert_eq!(lifecycle_code(refused), "invalid_state");

        // Handling: accepted on 06-11, due 60 days later (Sunday 08-10, moved to Monday 08-11).
        hour();
        let v = o.step(s, &o.handler_a, id, Command::StartHandling).await;
        assert_eq!(v.matter.state, State::InProgress);
        let d = v.deadline.expect("handling clock");
        assert_eq!(
            (d.kind, d.due_date),
            (DeadlineKind::Handling, Some(date(2025, 8, 11)))
        );
        b.clock.set(sh(2025, 6, 20, 10, 0));
        let v = o
            .step(
                s,
                &o.handler_a,
                id,
                Command::Pause {
                    reason: "等待补充材料".into(),
                },
            )
            .await;
        assert_eq!(v.deadline.map(|d| d.status), Some(DeadlineStatus::Paused));
        b.clock.set(sh(2025, 6, 22, 10, 0));
        let v = o.step(s, &o.handler_a, id, Command::Resume).await;
        assert_eq!(
            v.deadline.and_then(|d| d.due_date),
            Some(date(2025, 8, 12)),
            "two days paused"
        );
        b.clock.set(sh(2025, 7, 1, 9, 0));
        o.step(
            s,
            &o.handler_a,
            id,
            Command::RequestExtension {
                days: 30,
                reason: "需调取监控".into(),
            },
        )
        .await;
        let v = o.step(s, &o.head_a, id, Command::ApproveExtension).await;
        assert_eq!(
            v.deadline.and_then(|d| d.due_date),
            Some(date(2025, 9, 11)),
            "30 days more"
        );
        let refused = s
            .transition(
                &o.handler_a,
                id,
                Command::RequestExtension {
                    days: 5,
                    reason: "再延".into(),
                },
                None,
            )
            .await;
        assert_eq!(lifecycle_code(refused), "extension_already_used");

        b.clock.set(sh(2025, 7, 10, 9, 0));
        o.step(
            s,
            &o.handler_a,
            id,
            Command::DraftReply {
                text: "已协调增开夜间大巴。".into(),
            },
        )
        .await;
        let refused = s
            .transition(&o.handler_a, id, Command::DeliverReply { method: None }, None)
            .await;
        assert_eq!(lifecycle_code(refused), "reply_not_approved");
        hour();
        o.step(s, &o.head_a, id, Command::ApproveReply).await;

        // Delivered by post yesterday, recorded today: the reply counts from yesterday.
        b.clock.set(sh(2025, 7, 15, 10, 0));
        let yesterday = sh(2025, 7, 14, 16, 30);
        let v = s
            .transition(
                &o.handler_a,
                id,
                Command::DeliverReply {
                    method: Some("邮寄".into()),
                },
                Some(yesterday),
            )
            .await
            .expect("delivered");
        assert_eq!(
            (v.matter.state, v.matter.replied_at),
            (State::Replied, Some(yesterday))
        );
        assert!(v.deadline.is_none(), "no clock runs while the petitioner decides");
        let handling = v
            .deadlines
            .iter()
            .find(|d| d.kind == DeadlineKind::Handling)
            .expect("the finished handling deadline");
        assert_eq!(handling.status, DeadlineStatus::OnTrack);

        hour();
        o.step(
            s,
            &o.clerk,
            id,
            Command::RecordSatisfaction {
                satisfaction: Satisfaction::Dissatisfied,
                comment: Some("电话回访：不满意".into()),
            },
        )
        .await;
        hour();
        o.step(
            s,
            &o.clerk,
            id,
            Command::RequestReview {
                reason: "信访人来电申请复查".into(),
            },
        )
        .await;
        b.clock.set(sh(2025, 8, 5, 10, 0));
        o.step(
            s,
            &o.supervisor,
            id,
            Command::AnswerReview {
                text: "复查维持".into(),
            },
        )
        .await;
        hour();
        o.step(
            s,
            &o.clerk,
            id,
            Command::RequestRecheck {
                reason: "申请复核".into(),
            },
        )
        .await;
        b.clock.set(sh(2025, 8, 20, 10, 0));
        let v = o
            .step(
                s,
                &o.leader,
                id,
                Command::AnswerRecheck {
                    text: "复核维持".into(),
                },
            )
            .await;
        assert_eq!(v.matter.state, State::Concluded);
        hour();
        let v = o.step(s, &o.clerk, id, Command::Archive).await;
        assert_eq!(v.matter.state, State::Archived);

        // The timeline tells the whole story, one event per step, states before and after.
        let events = s.timeline(&o.clerk, id).await.expect("timeline");
        let steps: Vec<(&str, Option<State>, Option<State>)> = events
            .iter()
            .map(|e| (e.kind.code(), e.before_state, e.after_state))
            .collect();
        use State::*;
        assert_eq!(
            steps,
            [
                ("register", None, Some(Registered)),
                ("accept", Some(Registered), Some(Accepted)),
                ("classify", Some(Accepted), Some(Classified)),
                ("assign", Some(Classified), Some(Assigned)),
                ("return_misrouted", Some(Assigned), Some(Classified)),
                ("assign", Some(Classified), Some(Assigned)),
                ("start_handling", Some(Assigned), Some(InProgress)),
                ("pause", Some(InProgress), Some(InProgress)),
                ("resume", Some(InProgress), Some(InProgress)),
                ("request_extension", Some(InProgress), Some(InProgress)),
                ("approve_extension", Some(InProgress), Some(InProgress)),
                ("draft_reply", Some(InProgress), Some(InProgress)),
                ("approve_reply", Some(InProgress), Some(InProgress)),
                ("deliver_reply", Some(InProgress), Some(Replied)),
                ("record_satisfaction", Some(Replied), Some(FollowUp)),
                ("request_review", Some(FollowUp), Some(Review)),
                ("answer_review", Some(Review), Some(Reviewed)),
                ("request_recheck", Some(Reviewed), Some(Recheck)),
                ("answer_recheck", Some(Recheck), Some(Concluded)),
                ("archive", Some(Concluded), Some(Archived)),
            ]
        );
        assert!(events.windows(2).all(|w| w[0].seq < w[1].seq), "in chain order");
        let deliver = events
            .iter()
            .find(|e| e.kind.code() == "deliver_reply")
            .expect("deliver");
        assert_eq!(deliver.occurred_at, yesterday);
        assert_eq!(deliver.recorded_at, sh(2025, 7, 15, 10, 0));
        assert_eq!(deliver.actor_name.as_deref(), Some("张承办"));
        assert_eq!(deliver.actor_user_id, Some(o.handler_a.user_id));
        assert_eq!(deliver.label_zh, "送达答复");
        let returned = &events[4];
        assert_eq!(returned.reason.as_deref(), Some("不属于本单位职责"));
        assert_eq!(returned.actor_name.as_deref(), Some("陈承办"));
        let extension = &events[9];
        assert_eq!(extension.data["days"], 30);
        let others: Vec<_> = events
            .iter()
            .filter(|e| e.kind.code() != "deliver_reply")
            .collect();
        assert!(
            others.iter().all(|e| e.occurred_at == e.recorded_at),
            "the rest happened when recorded"
        );

        // A refused transition writes nothing.
        let refused = s.transition(&o.clerk, id, Command::Archive, None).await;
        assert_eq!(lifecycle_code(refused), "invalid_state");
        assert_eq!(
            s.timeline(&o.clerk, id).await.expect("timeline").len(),
            events.len()
        );
    }
}

#[tokio::test]
async fn references_must_exist_in_the_organisation() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let other = Org::create(s, "另一集团", "other").await;
        let id = o.register(s, bus_matter()).await.id;
        o.step(s, &o.clerk, id, Command::Accept { note: None }).await;
        let foreign_category = Command::Classify {
            category_id: other.category.id,
            petition_type: PetitionType::Appeal,
            urgency: xinfang_core::matter::Urgency::Normal,
        };
        let r = s.transition(&o.clerk, id, foreign_category, None).await;
        assert!(
            matches!(r, Err(StoreError::InvalidReference { field: "category_id" })),
            "{r:?}"
        );
        o.step(s, &o.clerk, id, o.classify()).await;
        let r = s.transition(&o.clerk, id, assign(&other.unit_a), None).await;
        assert!(
            matches!(
                r,
                Err(StoreError::InvalidReference {
                    field: "lead_unit_id"
                })
            ),
            "{r:?}"
        );
        let not_a_leader = Command::Assign {
            lead_unit_id: o.unit_a.id,
            co_unit_ids: vec![o.unit_b.id],
            owning_leader_id: Some(o.clerk.user_id),
            note: None,
        };
        let r = s.transition(&o.clerk, id, not_a_leader, None).await;
        assert!(
            matches!(
                r,
                Err(StoreError::InvalidReference {
                    field: "owning_leader_id"
                })
            ),
            "{r:?}"
        );
        let v = s.matter(&o.clerk, id).await.expect("matter");
        assert_eq!(
            (v.matter.state, v.matter.lead_unit_id),
            (State::Classified, None),
            "nothing changed"
        );
        assert_eq!(s.timeline(&o.clerk, id).await.expect("timeline").len(), 3);
    }
}

// ---- who sees what --------------------------------------------------------------------------

#[tokio::test]
async fn a_unit_sees_only_its_own_matters() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let for_a = o.register(s, bus_matter()).await.id;
        o.in_progress_at(s, for_a, &o.unit_a).await;
        let for_b = o
            .register(
                s,
                matter(
                    Channel::Website,
                    PetitionType::Suggestion,
                    "航站楼座椅不足",
                    "候机区座椅太少。",
                    vec![],
                ),
            )
            .await
            .id;
        o.assign_to(s, for_b, &o.unit_b).await;
        let owned = o.register(s, bus_matter()).await.id;
        o.step(s, &o.clerk, owned, Command::Accept { note: None }).await;
        o.step(s, &o.clerk, owned, o.classify()).await;
        o.step(
            s,
            &o.clerk,
            owned,
            Command::Assign {
                lead_unit_id: o.unit_b.id,
                co_unit_ids: Vec::new(),
                owning_leader_id: Some(o.leader.user_id),
                note: Some("领导包案".into()),
            },
        )
        .await;

        // Unit B's handler: unit A's matter does not exist for them.
        assert!(matches!(
            s.matter(&o.handler_b, for_a).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.timeline(&o.handler_b, for_a).await,
            Err(StoreError::NotFound)
        ));
        let r = s
            .transition(&o.handler_b, for_a, Command::Pause { reason: "x".into() }, None)
            .await;
        assert!(
            matches!(r, Err(StoreError::NotFound)),
            "not even a refusal: {r:?}"
        );
        let seen = s.list_matters(&o.handler_b, &all()).await.expect("list");
        assert_eq!(ids(&seen.items), set([for_b, owned]));
        assert_eq!(seen.total, 2);
        let filtered = MatterFilter {
            unit_id: Some(o.unit_a.id),
            ..all()
        };
        assert!(
            s.list_matters(&o.handler_b, &filtered)
                .await
                .expect("list")
                .items
                .is_empty()
        );
        let searched = MatterFilter {
            q: Some("机场大巴".into()),
            ..all()
        };
        assert_eq!(
            ids(&s.list_matters(&o.handler_b, &searched).await.expect("list").items),
            set([owned])
        );

        // Unit A's handler and head see theirs only.
        assert_eq!(
            ids(&s.list_matters(&o.handler_a, &all()).await.expect("list").items),
            set([for_a])
        );
        assert_eq!(
            ids(&s.list_matters(&o.head_a, &all()).await.expect("list").items),
            set([for_a])
        );
        assert!(matches!(
            s.matter(&o.head_a, for_b).await,
            Err(StoreError::NotFound)
        ));

        // The owning leader sees the matter they own; the office and analysts see everything.
        assert_eq!(
            ids(&s.list_matters(&o.leader, &all()).await.expect("list").items),
            set([owned])
        );
        assert!(s.matter(&o.leader, owned).await.is_ok());
        for viewer in [&o.clerk, &o.supervisor, &o.analyst, &o.admin] {
            assert_eq!(s.list_matters(viewer, &all()).await.expect("list").total, 3);
        }

        // Another organisation sees none of it.
        let other = Org::create(s, "另一集团", "other").await;
        assert!(matches!(
            s.matter(&other.clerk, for_a).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(s.list_matters(&other.clerk, &all()).await.expect("list").total, 0);
        let r = s
            .transition(&other.clerk, for_b, Command::StartHandling, None)
            .await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    }
}

#[tokio::test]
async fn numbers_are_masked_and_revealed_only_to_the_office_with_an_audit_event() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let id = o.register(s, bus_matter()).await.id;
        o.in_progress_at(s, id, &o.unit_a).await;

        let id_masked = format!("310115********{}", &id_number()[14..]);
        for viewer in [&o.clerk, &o.handler_a] {
            let p = &s.matter(viewer, id).await.expect("visible").petitioners[0];
            assert_eq!(p.name.as_deref(), Some("张三"));
            assert_eq!(p.phone.as_deref(), Some(PHONE_MASKED));
            assert_eq!(p.id_number.as_deref(), Some(id_masked.as_str()));
        }
        let listed =
            serde_json::to_string(&s.list_matters(&o.clerk, &all()).await.expect("list")).expect("json");
        assert!(
            !listed.contains(PHONE) && !listed.contains("张三"),
            "lists carry no personal data"
        );

        // The unit's handler may not reveal; nothing is written.
        let before = s.timeline(&o.clerk, id).await.expect("timeline").len();
        let r = s.reveal_petitioners(&o.handler_a, id).await;
        assert!(
            matches!(
                r,
                Err(StoreError::Forbidden {
                    code: "reveal_forbidden"
                })
            ),
            "{r:?}"
        );
        let r = s.reveal_petitioners(&o.head_a, id).await;
        assert!(matches!(r, Err(StoreError::Forbidden { .. })), "{r:?}");
        assert_eq!(s.timeline(&o.clerk, id).await.expect("timeline").len(), before);

        // The clerk may, and the reveal is on the record.
        b.clock.advance(Duration::hours(2));
        let revealed = s.reveal_petitioners(&o.clerk, id).await.expect("revealed");
        assert_eq!(revealed.len(), 1);
        assert_eq!(revealed[0].phone.as_deref(), Some(PHONE));
        assert_eq!(revealed[0].id_number.as_deref(), Some(id_number().as_str()));
        assert_eq!(revealed[0].address.as_deref(), Some(ADDRESS));
        let events = s.timeline(&o.clerk, id).await.expect("timeline");
        assert_eq!(events.len(), before + 1);
        let e = events.last().expect("the reveal event");
        assert_eq!(e.kind, EventKind::Reveal);
        assert_eq!(e.label_zh, "查看信访人个人信息");
        assert_eq!(e.actor_user_id, Some(o.clerk.user_id));
        assert_eq!(
            (e.before_state, e.after_state),
            (Some(State::InProgress), Some(State::InProgress))
        );
        assert_eq!(e.recorded_at, t0() + Duration::hours(2));
        assert_eq!(e.data["petitioners"][0], revealed[0].id.to_string());
        // Revealing does not change what views show.
        let p = &s.matter(&o.clerk, id).await.expect("visible").petitioners[0];
        assert_eq!(p.phone.as_deref(), Some(PHONE_MASKED));
        // A reveal by someone who cannot see the matter is "not found", also for the office of
        // another organisation.
        let other = Org::create(s, "另一集团", "other").await;
        assert!(matches!(
            s.reveal_petitioners(&other.clerk, id).await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn a_reporter_is_hidden_from_the_unit_reported_on() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let report = matter(
            Channel::LeaderMailbox,
            PetitionType::Report,
            "地面交通中心调度员收受好处",
            "举报地面交通中心调度员违规安排车辆。",
            vec![zhang_san()],
        );
        let id = o.register(s, report).await.id;
        o.step(s, &o.clerk, id, Command::Accept { note: None }).await;
        o.step(
            s,
            &o.clerk,
            id,
            Command::Classify {
                category_id: o.category.id,
                petition_type: PetitionType::Report,
                urgency: xinfang_core::matter::Urgency::Urgent,
            },
        )
        .await;
        o.step(s, &o.clerk, id, assign(&o.unit_a)).await;

        let seen = s
            .matter(&o.handler_a, id)
            .await
            .expect("the unit handles the matter");
        assert!(seen.reporter_confidential);
        assert!(seen.petitioners.is_empty());
        assert!(seen.matter.petitioner_ids.is_empty());
        let json = serde_json::to_string(&seen).expect("json");
        assert!(
            !json.contains("张三") && !json.contains(PHONE_MASKED),
            "nothing identifies the reporter"
        );
        let events = s.timeline(&o.handler_a, id).await.expect("timeline");
        assert!(
            events[0].data.is_null(),
            "the registration's details are withheld"
        );
        assert!(matches!(
            s.reveal_petitioners(&o.head_a, id).await,
            Err(StoreError::Forbidden { .. })
        ));

        // The office sees the reporter, and the report in the reporter's history; the unit
        // cannot even find the link.
        let office = s.matter(&o.clerk, id).await.expect("office view");
        assert!(!office.reporter_confidential);
        assert_eq!(office.petitioners.len(), 1);
        let pid = office.petitioners[0].id;
        assert_eq!(
            ids(&s.petitioner_matters(&o.clerk, pid).await.expect("history")),
            set([id])
        );
        assert!(
            s.petitioner_matters(&o.handler_a, pid)
                .await
                .expect("history")
                .is_empty()
        );
    }
}

// ---- lists ----------------------------------------------------------------------------------

#[tokio::test]
async fn lists_filter_by_every_field_and_page() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        // One matter a day from 06-11 to 06-15, each by another caller on another channel.
        let mut registered = Vec::new();
        for (i, (channel, petition_type, title, content)) in [
            (
                Channel::Hotline12345,
                PetitionType::Suggestion,
                "夜间航班落地后机场大巴已停运",
                "希望增开夜间线路。",
            ),
            (
                Channel::WalkIn,
                PetitionType::Appeal,
                "停车场收费标准不透明",
                "停车费比公示的高。",
            ),
            (
                Channel::Website,
                PetitionType::Inquiry,
                "行李延误赔偿咨询",
                "行李延误如何申请赔偿？",
            ),
            (
                Channel::Letter,
                PetitionType::Report,
                "安检人员态度恶劣",
                "安检时被大声呵斥。",
            ),
            (
                Channel::Phone,
                PetitionType::Appeal,
                "出租车拒载短途乘客",
                "出租车司机拒绝短途。",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                b.clock.advance(Duration::days(1));
            }
            let who = caller("市民", &format!("1380000000{i}"));
            registered.push(
                o.register(s, matter(channel, petition_type, title, content, vec![who]))
                    .await
                    .id,
            );
        }
        let [bus, parking, luggage, security, taxi] = registered[..] else {
            unreachable!("five matters")
        };
        // Now Sunday 06-15: bus assigned to A, parking in progress at B, luggage accepted.
        o.assign_to(s, bus, &o.unit_a).await;
        o.in_progress_at(s, parking, &o.unit_b).await;
        o.step(s, &o.clerk, luggage, Command::Accept { note: None }).await;

        let list = async |f: MatterFilter| s.list_matters(&o.clerk, &f).await.expect("list");
        let found = async |f: MatterFilter| ids(&list(f).await.items);
        let q = |text: &str| MatterFilter {
            q: Some(text.to_string()),
            ..all()
        };

        let f = |states: Vec<State>| MatterFilter { states, ..all() };
        assert_eq!(found(f(vec![State::Registered])).await, set([security, taxi]));
        assert_eq!(
            found(f(vec![State::Assigned, State::InProgress])).await,
            set([bus, parking])
        );
        let f = |unit: &xinfang_store::Unit| MatterFilter {
            unit_id: Some(unit.id),
            ..all()
        };
        assert_eq!(found(f(&o.unit_a)).await, set([bus]));
        assert_eq!(found(f(&o.unit_b)).await, set([parking]));
        let f = MatterFilter {
            category_id: Some(o.category.id),
            ..all()
        };
        assert_eq!(found(f).await, set([bus, parking]));
        let f = |channel| MatterFilter {
            channel: Some(channel),
            ..all()
        };
        assert_eq!(found(f(Channel::Hotline12345)).await, set([bus]));
        assert_eq!(found(f(Channel::Letter)).await, set([security]));
        assert!(found(f(Channel::Email)).await.is_empty());
        // Classification made both assigned matters 申诉求决.
        let f = |t| MatterFilter {
            petition_type: Some(t),
            ..all()
        };
        assert_eq!(found(f(PetitionType::Appeal)).await, set([bus, parking, taxi]));
        assert_eq!(found(f(PetitionType::Inquiry)).await, set([luggage]));
        // Registered from 06-12 09:00 up to (not including) 06-14 09:00.
        let f = MatterFilter {
            registered_from: Some(t0() + Duration::days(1)),
            registered_to: Some(t0() + Duration::days(3)),
            ..all()
        };
        assert_eq!(found(f).await, set([parking, luggage]));
        // Full text in Chinese: a word of the title, of the content, two words at once.
        assert_eq!(found(q("机场大巴")).await, set([bus]));
        assert_eq!(found(q("赔偿")).await, set([luggage]));
        assert_eq!(found(q("出租车 短途")).await, set([taxi]));
        assert_eq!(found(q("停车费")).await, set([parking]));
        assert!(found(q("高铁")).await.is_empty());
        assert!(
            found(q("！？")).await.is_empty(),
            "punctuation alone matches nothing"
        );
        // Filters combine.
        let f = MatterFilter {
            unit_id: Some(o.unit_b.id),
            ..q("机场大巴")
        };
        assert!(found(f).await.is_empty());

        // Pages: newest first, the total counts every match.
        let page = |page, per_page| MatterFilter {
            page,
            per_page,
            ..MatterFilter::default()
        };
        let order =
            |p: &xinfang_store::Page<_>| p.items.iter().map(|m: &MatterSummary| m.id).collect::<Vec<_>>();
        let p1 = list(page(1, 2)).await;
        assert_eq!((p1.total, p1.page, p1.per_page), (5, 1, 2));
        assert_eq!(order(&p1), [taxi, security]);
        let p2 = list(page(2, 2)).await;
        assert_eq!((p2.total, order(&p2)), (5, vec![luggage, parking]));
        let p3 = list(page(3, 2)).await;
        assert_eq!((p3.total, order(&p3)), (5, vec![bus]));
        assert!(list(page(4, 2)).await.items.is_empty());
        assert_eq!(list(page(1, 1000)).await.per_page, MatterFilter::MAX_PER_PAGE);
        assert_eq!(
            list(page(0, 0)).await.items.len(),
            1,
            "page and size are clamped to 1"
        );

        // A row says what a clerk needs.
        let row = list(q("机场大巴")).await.items.remove(0);
        assert_eq!(row.title, "夜间航班落地后机场大巴已停运");
        assert_eq!((row.state, row.channel), (State::Assigned, Channel::Hotline12345));
        assert_eq!((row.lead_unit_id, row.registered_at), (Some(o.unit_a.id), t0()));

        // Deadlines. The last two were registered 06-14 and 06-15 and wait for acceptance, due
        // 06-29 (a Sunday, moved to 06-30) and 06-30; the others are handled, due 08-14.
        let by_status = async |st| {
            let f = MatterFilter {
                deadline_status: Some(st),
                ..all()
            };
            found(f).await
        };
        assert_eq!(
            by_status(DeadlineStatus::OnTrack).await,
            set([bus, parking, luggage, security, taxi])
        );
        assert!(by_status(DeadlineStatus::Overdue).await.is_empty());
        b.clock.set(sh(2025, 6, 28, 12, 0));
        assert_eq!(by_status(DeadlineStatus::DueSoon).await, set([security, taxi]));
        assert_eq!(
            by_status(DeadlineStatus::OnTrack).await,
            set([bus, parking, luggage])
        );
        b.clock.set(sh(2025, 7, 1, 0, 0));
        assert_eq!(by_status(DeadlineStatus::Overdue).await, set([security, taxi]));
        assert!(by_status(DeadlineStatus::DueSoon).await.is_empty());
        for row in list(all()).await.items {
            let d = s
                .matter(&o.clerk, row.id)
                .await
                .expect("view")
                .deadline
                .expect("running");
            assert_eq!(
                row.deadline_status,
                Some(d.status),
                "list and view agree on {}",
                row.title
            );
            assert_eq!(row.due_at, d.due_at);
        }
        o.step(
            s,
            &o.handler_b,
            parking,
            Command::Pause {
                reason: "等待材料".into(),
            },
        )
        .await;
        assert_eq!(by_status(DeadlineStatus::Paused).await, set([parking]));
        assert_eq!(by_status(DeadlineStatus::OnTrack).await, set([bus, luggage]));
        b.clock.set(sh(2025, 8, 15, 0, 0));
        assert_eq!(
            by_status(DeadlineStatus::Overdue).await,
            set([bus, luggage, security, taxi])
        );
        assert_eq!(
            by_status(DeadlineStatus::Paused).await,
            set([parking]),
            "its count stands still"
        );
    }
}

/// New search vectors wait in PostgreSQL's GIN pending list, which every search reads whole,
/// until they are merged; the nodes merge them every scan interval. Merged or waiting, a search
/// finds the same letters, and a merge with nothing waiting merges nothing.
#[tokio::test]
async fn the_search_index_merges_recent_entries_and_finds_them_still() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let mut parking = BTreeSet::new();
        for i in 0..30 {
            let (title, content) = if i % 3 == 0 {
                ("停车场收费标准不透明", "停车费比公示的高。")
            } else {
                ("行李延误赔偿咨询", "行李延误如何申请赔偿？")
            };
            let who = caller("市民", &format!("1390000{i:04}"));
            let id = o
                .register(
                    s,
                    matter(Channel::Website, PetitionType::Appeal, title, content, vec![who]),
                )
                .await
                .id;
            if i % 3 == 0 {
                parking.insert(id);
            }
        }
        let searched = MatterFilter {
            q: Some("停车费".into()),
            ..all()
        };
        let before = s.list_matters(&o.clerk, &searched).await.expect("search");
        assert_eq!(ids(&before.items), parking, "{}", b.name);

        let merged = s.tidy_search_index().await.expect("tidy");
        if b.name == "sqlite" {
            assert_eq!(merged, 0, "FTS5 has nothing waiting");
        } else {
            assert!(merged > 0, "{}: thirty letters were waiting", b.name);
        }
        assert_eq!(s.tidy_search_index().await.expect("tidy again"), 0, "{}", b.name);
        let after = s.list_matters(&o.clerk, &searched).await.expect("search");
        assert_eq!(ids(&after.items), parking, "{}", b.name);
        assert_eq!(after.total, 10, "{}", b.name);
    }
}

/// On PostgreSQL a long letter's search vector stays in its row, uncompressed (migration 0011):
/// moved out to TOAST, or compressed, every search that tests or ranks it would fetch or
/// decompress it first. It is found by a ranked search and by a word only it holds.
#[tokio::test]
async fn a_long_letters_search_vector_stays_in_its_row() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        // Two hundred different numbers: a vector of about 4 KB that compression cannot
        // bring under the 2 KB at which PostgreSQL would otherwise move it out.
        let numbers: Vec<String> = (0..200u64)
            .map(|i| format!("编号{}", (i * 7919 + 12_345) % 99_991 + 10_000))
            .collect();
        let content = format!("登机口排队混乱，涉及航班：{}。", numbers.join("，"));
        let long = o
            .register(
                s,
                matter(
                    Channel::Website,
                    PetitionType::Appeal,
                    "登机口排队混乱",
                    &content,
                    vec![caller("旅客", "13900009999")],
                ),
            )
            .await
            .id;
        let short = o
            .register(
                s,
                matter(
                    Channel::Website,
                    PetitionType::Appeal,
                    "登机口广播听不清",
                    "登机口广播声音太小。",
                    vec![caller("旅客", "13900008888")],
                ),
            )
            .await
            .id;
        if let Some((compression, size, toast)) = b.search_vector_storage(long).await {
            assert_eq!(compression, None, "{}: stored uncompressed", b.name);
            assert!(
                size > 2_032,
                "{}: a vector PostgreSQL would toast by default ({size} bytes)",
                b.name
            );
            assert_eq!(toast, 0, "{}: no vector was moved out of its row", b.name);
        }
        let find = |q: &str, order: ListOrder| MatterFilter {
            q: Some(q.into()),
            order,
            ..all()
        };
        let found = s
            .list_matters(&o.clerk, &find("登机口", ListOrder::Relevance))
            .await
            .expect("ranked search");
        assert_eq!(ids(&found.items), BTreeSet::from([long, short]), "{}", b.name);
        let number = numbers[199].trim_start_matches("编号");
        let found = s
            .list_matters(&o.clerk, &find(number, ListOrder::Newest))
            .await
            .expect("search");
        assert_eq!(ids(&found.items), BTreeSet::from([long]), "{}: {number}", b.name);
    }
}

#[tokio::test]
async fn a_pause_never_hides_a_missed_deadline_in_lists() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let id = o.register(s, bus_matter()).await.id;
        o.in_progress_at(s, id, &o.unit_a).await;
        // Due Monday 08-11; paused on that very day, which still counts.
        b.clock.set(sh(2025, 8, 11, 10, 0));
        let v = o
            .step(
                s,
                &o.handler_a,
                id,
                Command::Pause {
                    reason: "等待材料".into(),
                },
            )
            .await;
        let d = v.deadline.expect("running");
        assert_eq!(
            (d.due_date, d.status),
            (Some(date(2025, 8, 11)), DeadlineStatus::Paused)
        );

        b.clock.set(sh(2025, 8, 12, 9, 0));
        let d = s
            .matter(&o.supervisor, id)
            .await
            .expect("view")
            .deadline
            .expect("running");
        assert_eq!(d.status, DeadlineStatus::Overdue);
        let overdue = MatterFilter {
            deadline_status: Some(DeadlineStatus::Overdue),
            ..all()
        };
        let rows = s.list_matters(&o.supervisor, &overdue).await.expect("list").items;
        assert_eq!(ids(&rows), set([id]), "the supervisor's overdue list shows it");
        assert_eq!(rows[0].deadline_status, Some(DeadlineStatus::Overdue));
        let paused = MatterFilter {
            deadline_status: Some(DeadlineStatus::Paused),
            ..all()
        };
        assert!(
            s.list_matters(&o.supervisor, &paused)
                .await
                .expect("list")
                .items
                .is_empty()
        );
    }
}

// ---- the petitioner -------------------------------------------------------------------------

#[tokio::test]
async fn a_petitioner_tracks_and_rates_with_code_and_secret() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let r = o.register(s, bus_matter()).await;
        let code = r.tracking_code.as_str().to_string();
        let secret = r.secret.expect("secret").as_str().to_string();

        let t = s.track(&code, &secret).await.expect("tracked");
        assert_eq!((t.state, t.state_label), (State::Registered, "登记"));
        assert_eq!(t.title, "夜间航班落地后机场大巴已停运");
        assert_eq!(t.registered_at, t0());
        assert_eq!(t.timeline.iter().map(|e| e.label).collect::<Vec<_>>(), ["已登记"]);
        assert!(t.reply.is_none() && !t.can_rate);
        // Typed in lower case with spaces: still the petitioner's matter.
        let typed = format!("  {}  ", code.to_lowercase());
        assert!(s.track(&typed, &secret.to_lowercase()).await.is_ok());

        // A wrong secret, an unknown code, garbage: all simply not found.
        let wrong = if secret.starts_with('A') { "B" } else { "A" };
        let wrong_secret = format!("{wrong}{}", &secret[1..]);
        assert!(matches!(
            s.track(&code, &wrong_secret).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.track("XF22222222", &secret).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.track("'; drop table matters; --", "x").await,
            Err(StoreError::NotFound)
        ));

        // Internal steps stay internal; the reply appears only once delivered.
        b.clock.advance(Duration::hours(1));
        o.step(s, &o.clerk, r.id, Command::Accept { note: None }).await;
        o.step(s, &o.clerk, r.id, o.classify()).await;
        o.step(s, &o.clerk, r.id, assign(&o.unit_b)).await;
        o.step(
            s,
            &o.handler_b,
            r.id,
            Command::ReturnMisrouted {
                reason: "不属于本单位".into(),
            },
        )
        .await;
        o.step(s, &o.clerk, r.id, assign(&o.unit_a)).await;
        o.step(s, &o.handler_a, r.id, Command::StartHandling).await;
        let reply = "已协调公交公司增开夜间大巴线路。";
        o.step(s, &o.handler_a, r.id, Command::DraftReply { text: reply.into() })
            .await;
        o.step(s, &o.head_a, r.id, Command::ApproveReply).await;
        let t = s.track(&code, &secret).await.expect("tracked");
        assert_eq!(t.state, State::InProgress);
        assert!(
            t.reply.is_none(),
            "an approved but undelivered reply is not shown"
        );
        let steps: Vec<&str> = t.timeline.iter().map(|e| e.step).collect();
        assert_eq!(
            steps,
            ["register", "accept", "assign", "assign", "start_handling"]
        );
        let json = serde_json::to_string(&t).expect("json");
        for secret_thing in [
            "张三",
            PHONE,
            PHONE_MASKED,
            "地面交通中心",
            "航站楼管理部",
            "张承办",
            "不属于本单位",
        ] {
            assert!(!json.contains(secret_thing), "{secret_thing} leaked into {json}");
        }

        b.clock.advance(Duration::days(1));
        o.step(
            s,
            &o.handler_a,
            r.id,
            Command::DeliverReply {
                method: Some("短信".into()),
            },
        )
        .await;
        let t = s.track(&code, &secret).await.expect("tracked");
        assert_eq!(t.state, State::Replied);
        assert_eq!(t.reply.as_deref(), Some(reply));
        assert!(t.can_rate);

        // The petitioner rates; a staff-only step is refused; a wrong secret changes nothing.
        let r2 = s
            .public_transition(
                &code,
                &wrong_secret,
                Command::RecordSatisfaction {
                    satisfaction: Satisfaction::Satisfied,
                    comment: None,
                },
            )
            .await;
        assert!(matches!(r2, Err(StoreError::NotFound)), "{r2:?}");
        let r2 = s.public_transition(&code, &secret, Command::Archive).await;
        assert!(
            matches!(
                r2,
                Err(StoreError::Forbidden {
                    code: "forbidden_transition"
                })
            ),
            "{r2:?}"
        );
        b.clock.advance(Duration::hours(1));
        let t = s
            .public_transition(
                &code,
                &secret,
                Command::RecordSatisfaction {
                    satisfaction: Satisfaction::BasicallySatisfied,
                    comment: Some("基本解决".into()),
                },
            )
            .await
            .expect("rated");
        assert_eq!(
            (t.state, t.satisfaction, t.can_rate),
            (State::FollowUp, Some(Satisfaction::BasicallySatisfied), false)
        );
        assert_eq!(t.timeline.last().map(|e| e.label), Some("已评价"));
        let again = s
            .public_transition(
                &code,
                &secret,
                Command::RecordSatisfaction {
                    satisfaction: Satisfaction::Dissatisfied,
                    comment: None,
                },
            )
            .await;
        assert_eq!(lifecycle_code(again), "invalid_state");

        let v = s.matter(&o.clerk, r.id).await.expect("view");
        assert_eq!(v.matter.satisfaction, Some(Satisfaction::BasicallySatisfied));
        let rated = s
            .timeline(&o.clerk, r.id)
            .await
            .expect("timeline")
            .pop()
            .expect("event");
        assert_eq!(rated.kind, EventKind::Transition(Transition::RecordSatisfaction));
        assert_eq!(
            (rated.actor_kind, rated.actor_user_id),
            (ActorKind::Petitioner, None)
        );
        assert_eq!(rated.reason.as_deref(), Some("基本解决"));

        // The petitioner asks for a review within the window, and only within it.
        let t = s
            .public_transition(
                &code,
                &secret,
                Command::RequestReview {
                    reason: "仍有疑问".into(),
                },
            )
            .await
            .expect("review requested");
        assert_eq!(
            (t.state, t.timeline.last().map(|e| e.label)),
            (State::Review, Some("已申请复查"))
        );
    }
}

#[tokio::test]
async fn a_review_requested_after_the_window_is_refused() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let r = o.register(s, bus_matter()).await;
        let secret = r.secret.expect("secret");
        o.reply_approved(s, r.id, "答复意见").await;
        b.clock.set(sh(2025, 7, 15, 10, 0));
        o.step(s, &o.handler_a, r.id, Command::DeliverReply { method: None })
            .await;
        // 30 days from 07-15 end with Thursday 08-14.
        b.clock.set(sh(2025, 8, 15, 0, 0));
        let late = s
            .public_transition(
                r.tracking_code.as_str(),
                secret.as_str(),
                Command::RequestReview {
                    reason: "不满意".into(),
                },
            )
            .await;
        assert_eq!(lifecycle_code(late), "window_closed");
        let t = s
            .track(r.tracking_code.as_str(), secret.as_str())
            .await
            .expect("tracked");
        assert_eq!(t.state, State::Replied);
        // The office closes the matter now that the window has passed.
        let v = o
            .step(s, &o.clerk, r.id, Command::Conclude { reason: None })
            .await;
        assert_eq!(v.matter.state, State::Concluded);
    }
}

// ---- audit ----------------------------------------------------------------------------------

/// Two organisations with some history; returns the first, and the seq of its matter's
/// deliver_reply event.
async fn history(b: &Backend) -> (Org, PetitionId, i64) {
    let s = &*b.store;
    let o = Org::create(s, "某机场集团", "airport").await;
    let other = Org::create(s, "另一集团", "other").await;
    let id = o.register(s, bus_matter()).await.id;
    o.reply_approved(s, id, "答复意见").await;
    b.clock.set(sh(2025, 8, 20, 10, 0));
    o.step(s, &o.handler_a, id, Command::DeliverReply { method: None })
        .await;
    s.reveal_petitioners(&o.clerk, id).await.expect("reveal");
    let later = o.register(s, bus_matter()).await.id;
    o.step(s, &o.clerk, later, Command::Accept { note: None }).await;
    let theirs = other.register(s, bus_matter()).await.id;
    other
        .step(s, &other.clerk, theirs, Command::Accept { note: None })
        .await;
    let deliver = s
        .timeline(&o.clerk, id)
        .await
        .expect("timeline")
        .into_iter()
        .find(|e| e.kind == EventKind::Transition(Transition::DeliverReply))
        .expect("deliver event")
        .seq;
    (o, id, deliver)
}

#[tokio::test]
async fn the_audit_chain_finds_an_edited_event() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let (o, id, deliver) = history(&b).await;

        let report = s.verify_audit().await.expect("verify");
        assert!(report.broken.is_none(), "{report:?}");
        assert_eq!(report.organisations, 2);
        // 7 to the approved reply, deliver, reveal, 2 for the second matter; 2 in the other
        // organisation.
        assert_eq!(report.events, 13);
        assert!(b.events_refuse_updates().await, "the store itself refuses edits");

        // Someone with the file makes the late reply look on time.
        b.tamper(Tamper::RewriteOccurredAt {
            organisation: o.id,
            seq: deliver,
            occurred_at: sh(2025, 8, 1, 10, 0),
        })
        .await;
        let report = s.verify_audit().await.expect("verify");
        let broken = report.broken.expect("the edit is found");
        assert_eq!((broken.organisation_id, broken.seq), (o.id, deliver));
        assert!(broken.reason.contains("altered"), "{}", broken.reason);
        assert!(!broken.event_id.is_empty());
        let e = s
            .timeline(&o.clerk, id)
            .await
            .expect("timeline")
            .into_iter()
            .find(|e| e.seq == deliver)
            .expect("the edited event");
        assert_eq!(
            e.occurred_at,
            sh(2025, 8, 1, 10, 0),
            "the edit is what the table now says"
        );
    }
}

#[tokio::test]
async fn the_audit_chain_finds_a_removed_event() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let (o, _, deliver) = history(&b).await;
        b.tamper(Tamper::DeleteEvent {
            organisation: o.id,
            seq: deliver,
        })
        .await;
        let broken = s
            .verify_audit()
            .await
            .expect("verify")
            .broken
            .expect("the gap is found");
        assert_eq!(broken.organisation_id, o.id);
        assert_eq!(broken.seq, deliver + 1, "the first event after the gap");
        assert!(
            broken.reason.contains(&format!("#{deliver}")),
            "{}",
            broken.reason
        );
    }
}

#[tokio::test]
async fn the_audit_chain_finds_events_cut_off_at_the_end() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let (o, _, _) = history(&b).await;
        let last = s.verify_audit().await.expect("verify");
        assert!(last.broken.is_none());
        // The first organisation's last event is the acceptance of its second matter, #11.
        b.tamper(Tamper::DeleteEvent {
            organisation: o.id,
            seq: 11,
        })
        .await;
        let broken = s
            .verify_audit()
            .await
            .expect("verify")
            .broken
            .expect("the cut is found");
        assert_eq!(
            (broken.organisation_id, broken.seq),
            (o.id, 11),
            "the head still says #11"
        );
        assert!(broken.reason.contains("#10"), "{}", broken.reason);
    }
}

// ---- operations -----------------------------------------------------------------------------

#[tokio::test]
async fn a_backup_opens_with_the_same_matters() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let (o, id, _) = history(&b).await;
        let path = b.scratch("backup.db");
        s.backup(&path).await.expect("backup");
        // The store stays in use; later work is not in the backup.
        let after = o.register(s, bus_matter()).await.id;
        let again = s.backup(&path).await;
        assert!(
            matches!(again, Err(StoreError::Invalid { field: "out", .. })),
            "never overwrites: {again:?}"
        );

        let restored = b.restore(&path).await;
        let original = s.list_matters(&o.clerk, &all()).await.expect("list");
        let copy = restored.list_matters(&o.clerk, &all()).await.expect("list");
        assert_eq!(copy.total + 1, original.total);
        let kept: Vec<_> = original
            .items
            .iter()
            .filter(|m| m.id != after)
            .map(|m| (m.id, m.state))
            .collect();
        assert_eq!(
            copy.items.iter().map(|m| (m.id, m.state)).collect::<Vec<_>>(),
            kept
        );
        let v = restored.matter(&o.clerk, id).await.expect("the matter");
        assert_eq!(v.matter.state, State::Replied);
        assert_eq!(v.petitioners[0].phone.as_deref(), Some(PHONE_MASKED));
        let revealed = restored
            .reveal_petitioners(&o.clerk, id)
            .await
            .expect("same key opens it");
        assert_eq!(revealed[0].phone.as_deref(), Some(PHONE));
        assert_eq!(
            restored.timeline(&o.clerk, id).await.expect("timeline").len(),
            s.timeline(&o.clerk, id).await.expect("timeline").len() + 1,
            "the reveal on the copy is recorded on the copy"
        );
        let report = restored.verify_audit().await.expect("verify");
        assert!(report.broken.is_none(), "{report:?}");
        let bytes = std::fs::read(&path).expect("backup file");
        assert!(
            !contains(&bytes, PHONE.as_bytes()),
            "the backup holds no plain phone number"
        );
    }
}

#[tokio::test]
async fn no_personal_number_is_stored_in_the_clear() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        // A 12345 work order, with the caller's number in the pushed payload too.
        let mut order = bus_matter();
        order.channel = Channel::Hotline12345;
        order.external_id = Some("GD20250611000456".into());
        order.raw_payload = Some(serde_json::json!({
            "gdbh": "GD20250611000456",
            "ldhm": PHONE,
            "zjhm": id_number(),
            "dz": ADDRESS,
        }));
        let id = o.register(s, order).await.id;
        o.in_progress_at(s, id, &o.unit_a).await;
        s.reveal_petitioners(&o.clerk, id).await.expect("reveal");
        o.register(s, bus_matter()).await;

        let id_number = id_number();
        for (file, bytes) in b.raw_files() {
            for secret in [PHONE, id_number.as_str(), ADDRESS] {
                assert!(
                    !contains(&bytes, secret.as_bytes()),
                    "{secret} in the clear in {file}"
                );
            }
        }
        // The numbers are still there for those allowed to see them.
        let revealed = s.reveal_petitioners(&o.clerk, id).await.expect("reveal");
        assert_eq!(revealed[0].id_number.as_deref(), Some(id_number.as_str()));
    }
}

// ---- reference data -------------------------------------------------------------------------

#[tokio::test]
async fn a_changed_rule_set_is_a_new_version_and_running_matters_keep_theirs() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let old = o.register(s, bus_matter()).await.id;

        let mut stricter = s.default_rule_set(o.id).await.expect("default");
        stricter.name = "集团内部标准".into();
        stricter.handling.days = 30;
        let saved = s
            .save_rule_set(o.id, stricter.clone(), true)
            .await
            .expect("saved");
        assert_eq!(
            (saved.id, saved.version, saved.handling.days),
            (stricter.id, 2, 30)
        );
        let again = s
            .save_rule_set(o.id, stricter.clone(), true)
            .await
            .expect("saved");
        assert_eq!(again.version, 3, "the version counts up whatever the caller sent");
        assert_eq!(s.default_rule_set(o.id).await.expect("default").version, 3);

        let new = o.register(s, bus_matter()).await.id;
        for id in [old, new] {
            o.step(s, &o.clerk, id, Command::Accept { note: None }).await;
        }
        let old_v = s.matter(&o.clerk, old).await.expect("old");
        let new_v = s.matter(&o.clerk, new).await.expect("new");
        assert_eq!(
            (old_v.matter.rule_set_id, old_v.matter.rule_set_version),
            (stricter.id, 1)
        );
        assert_eq!(new_v.matter.rule_set_version, 3);
        // Accepted 06-11: 60 days end Sunday 08-10 (moved to 08-11); 30 days end Friday 07-11.
        assert_eq!(old_v.deadline.and_then(|d| d.due_date), Some(date(2025, 8, 11)));
        assert_eq!(new_v.deadline.and_then(|d| d.due_date), Some(date(2025, 7, 11)));

        // A second rule set of its own, not the default; a broken one is refused.
        let hotline = s
            .save_rule_set(o.id, RuleSet::hotline_12345(RuleSetId::new()), false)
            .await
            .expect("hotline");
        assert_eq!(hotline.version, 1);
        let mut broken = RuleSet::regulation_2022(RuleSetId::new());
        broken.handling.days = 0;
        let r = s.save_rule_set(o.id, broken, true).await;
        assert!(
            matches!(r, Err(StoreError::Invalid { field: "rules", .. })),
            "{r:?}"
        );

        let stored = s.rule_sets(o.id).await.expect("rule sets");
        let versions: BTreeSet<(String, u32, bool)> = stored
            .iter()
            .map(|r| (r.rules.name.clone(), r.rules.version, r.is_default))
            .collect();
        assert_eq!(
            versions,
            BTreeSet::from([
                ("12345热线工单".to_string(), 1, false),
                ("信访工作条例（2022）".to_string(), 1, false),
                ("集团内部标准".to_string(), 2, false),
                ("集团内部标准".to_string(), 3, true),
            ])
        );
        // Another organisation is untouched.
        let other = Org::create(s, "另一集团", "other").await;
        assert_eq!(
            s.default_rule_set(other.id).await.expect("default").handling.days,
            60
        );
    }
}

#[tokio::test]
async fn a_new_years_holidays_are_added_to_the_calendar() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let other = Org::create(s, "另一集团", "other").await;
        let before = s.calendar(o.id).await.expect("calendar");
        assert!(before.covers_year(2026));
        assert!(!before.covers_year(2027));
        assert!(before.is_working_day(date(2027, 10, 1)), "a Friday, without data");

        // The State Council's 2027 notice, as the admin uploads it.
        let csv = "date,kind,name,name_zh,in_lieu\n\
                   2027-01-01,holiday,New Year's Day,元旦,0\n\
                   2027-02-20,workday,Spring Festival,春节,0\n\
                   2027-10-01,holiday,National Day,国庆节,0\n\
                   2027-10-02,holiday,National Day,国庆节,0\n\
                   2027-10-03,holiday,National Day,国庆节,0\n\
                   2027-10-04,holiday,National Day,国庆节,0\n\
                   2027-10-05,holiday,National Day,国庆节,0\n\
                   2027-10-06,holiday,National Day,国庆节,1\n\
                   2027-10-07,holiday,National Day,国庆节,1\n";
        let entries = Calendar::parse_csv(csv).expect("valid calendar");
        assert_eq!(s.add_calendar_entries(o.id, entries).await.expect("added"), 9);
        let cal = s.calendar(o.id).await.expect("calendar");
        assert!(cal.covers_year(2027));
        assert!(cal.covers_year(2025), "the built-in years stay");
        assert!(!cal.is_working_day(date(2027, 10, 1)));
        assert!(cal.is_working_day(date(2027, 2, 20)), "a Saturday worked in lieu");
        assert_eq!(
            cal.entry(date(2027, 10, 1)).map(|e| e.name_zh.as_str()),
            Some("国庆节")
        );
        assert!(!s.calendar(other.id).await.expect("calendar").covers_year(2027));

        // Deadlines use it: registered 2027-09-16, 15 days end on 10-01, a holiday now.
        b.clock.set(sh(2027, 9, 16, 10, 0));
        let ours = o.register(s, bus_matter()).await.id;
        let theirs = other.register(s, bus_matter()).await.id;
        let due = |v: xinfang_store::MatterView| v.deadline.and_then(|d| d.due_date);
        assert_eq!(
            due(s.matter(&o.clerk, ours).await.expect("ours")),
            Some(date(2027, 10, 8))
        );
        assert_eq!(
            due(s.matter(&other.clerk, theirs).await.expect("theirs")),
            Some(date(2027, 10, 1))
        );

        // A correction replaces a day instead of adding it twice.
        let fix = Calendar::parse_csv(
            "date,kind,name,name_zh,in_lieu\n2027-10-07,holiday,National Day,国庆节（更正）,1\n",
        )
        .expect("valid");
        s.add_calendar_entries(o.id, fix).await.expect("corrected");
        let cal = s.calendar(o.id).await.expect("calendar");
        assert_eq!(
            cal.entries()
                .filter(|e| e.date.format("%Y").to_string() == "2027")
                .count(),
            9
        );
        assert_eq!(
            cal.entry(date(2027, 10, 7)).map(|e| e.name_zh.as_str()),
            Some("国庆节（更正）")
        );
    }
}

#[tokio::test]
async fn a_node_with_another_key_refuses_to_open_the_database() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        o.register(s, bus_matter()).await;
        // The right key opens it again (a second node with the copied key file).
        let again = b.reopen_with_key(&b.key()).await.expect("the same key opens it");
        assert_eq!(again.organisations().await.expect("organisations").len(), 1);
        // Another key is refused before anything is written with it.
        let other = xinfang_store::Vault::generate_key();
        match b.reopen_with_key(&other).await {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "key"),
            Err(e) => panic!("expected the wrong-key refusal, got {e}"),
            Ok(_) => panic!("a store opened with another key"),
        }
    }
}

#[tokio::test]
async fn the_audit_chain_verifies_intact_while_matters_are_registered() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let o = Org::create(&*b.store, "机场集团", b.name).await;
        let clerk = xinfang_core::org::Actor::Staff(o.clerk.clone());
        // Registrations commit all the while the chain is walked.
        let writer = {
            let (store, org) = (std::sync::Arc::clone(&b.store), o.id);
            tokio::spawn(async move {
                for _ in 0..150 {
                    store
                        .register_matter(org, &clerk, bus_matter())
                        .await
                        .expect("registered");
                }
            })
        };
        let mut walks = 0;
        while !writer.is_finished() {
            let report = b.store.verify_audit().await.expect("verify");
            assert!(report.broken.is_none(), "walk {walks}: {:?}", report.broken);
            walks += 1;
        }
        writer.await.expect("the writer ran");
        assert!(walks > 1, "the chain was walked during the registrations");
        let report = b.store.verify_audit().await.expect("verify");
        assert!(report.broken.is_none());
        assert!(report.events >= 150);
    }
}
