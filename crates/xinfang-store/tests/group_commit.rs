//! Registrations that arrive together (which PostgreSQL writes in one transaction, see
//! `postgres/batch.rs`) each get their own answer: a failing one fails alone, a replayed work
//! order is still one matter, safety alerts among them are raised once each, and the audit
//! chain stays whole. Run against every backend.

mod suite;

use std::sync::Arc;
use suite::*;
use xinfang_core::matter::{Channel, PetitionType, State};
use xinfang_core::org::Actor;
use xinfang_core::petitioner::{DocumentKind, IdDocument};
use xinfang_store::{
    EventKind, MatterFilter, NewMatter, NewPetitioner, Registered, ReminderFilter, ReminderKind, StoreError,
};

/// How many matters the organisation's supervisor sees.
async fn listed(b: &Backend, o: &Org) -> u64 {
    b.store
        .list_matters(
            &o.supervisor,
            &MatterFilter {
                page: 1,
                per_page: 20,
                ..MatterFilter::default()
            },
        )
        .await
        .expect("list")
        .total
}

async fn assert_chain_intact(b: &Backend) {
    let report = b.store.verify_audit().await.expect("verify");
    assert!(report.broken.is_none(), "{}: {:?}", b.name, report.broken);
}

/// Registers `letters` by `o`'s clerk all at once, each in a task of its own (so the store's
/// batcher sees them arrive together), and returns the answers in the letters' order.
async fn register_together(
    b: &Backend,
    o: &Org,
    letters: Vec<NewMatter>,
) -> Vec<Result<Registered, StoreError>> {
    let clerk = Actor::Staff(o.clerk.clone());
    let tasks: Vec<_> = letters
        .into_iter()
        .map(|m| {
            let (store, clerk, org) = (Arc::clone(&b.store), clerk.clone(), o.id);
            tokio::spawn(async move { store.register_matter(org, &clerk, m).await })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for t in tasks {
        answers.push(t.await.expect("the task ran"));
    }
    answers
}

#[tokio::test]
async fn registrations_arriving_together_each_get_their_own_answer() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let o = Org::create(&*b.store, "某机场集团", "airport").await;
        let order = |external_id: &str| {
            let mut m = matter(
                Channel::Hotline12345,
                PetitionType::Appeal,
                "出租车排队时间过长",
                "晚上到达后出租车上客点排队超过一小时，希望增加运力。",
                vec![caller("王五", "13700002222")],
            );
            m.external_id = Some(external_id.to_string());
            m
        };
        let mut orders: Vec<String> = (0..30).map(|i| format!("GD2025061100{i:02}")).collect();
        orders.extend([
            "GD-SAME".to_string(),
            "GD-SAME".to_string(),
            "GD-SAME".to_string(),
        ]);
        // PostgreSQL cannot store a NUL character: this one fails inside the shared transaction.
        orders.push("GD-BAD\0".to_string());
        let results = register_together(&b, &o, orders.iter().map(|e| order(e)).collect()).await;

        for r in &results[..30] {
            let r = r.as_ref().expect("registered");
            assert!(!r.replayed && r.secret.is_some());
        }
        let same: Vec<_> = results[30..33]
            .iter()
            .map(|r| r.as_ref().expect("registered"))
            .collect();
        assert_eq!(
            same.iter().filter(|r| !r.replayed).count(),
            1,
            "one registration, two replays"
        );
        assert!(same.iter().all(|r| r.id == same[0].id));
        let bad = &results[33];
        let stored = if b.name == "postgres" {
            assert!(matches!(bad, Err(StoreError::Invalid { .. })), "{bad:?}");
            31
        } else {
            assert!(bad.is_ok());
            32
        };
        assert_eq!(listed(&b, &o).await, stored);
        assert_chain_intact(&b).await;
    }
}

/// Registrations arriving together that name the same people find them as registrations one
/// after another would: one record per phone number, a record completed by one registration
/// (its ID number added) found by that number in the others and afterwards, and different
/// people kept apart.
#[tokio::test]
async fn petitioners_arriving_together_are_one_record_per_person() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let o = Org::create(&*b.store, "某机场集团", "airport").await;
        let letter = |who: Vec<NewPetitioner>| {
            matter(
                Channel::Letter,
                PetitionType::Suggestion,
                "建议增设母婴室",
                "T2航站楼候机区母婴室太少，建议增设并配备热水。",
                who,
            )
        };
        // 张三 is known by his phone alone before the crowd arrives.
        let known = o.register(&*b.store, letter(vec![caller("张三", PHONE)])).await;
        let with_id = NewPetitioner {
            id_document: Some(IdDocument::parse(DocumentKind::ResidentId, &id_number()).expect("id")),
            ..caller("张三", PHONE)
        };
        let mut crowd: Vec<Vec<NewPetitioner>> = Vec::new();
        crowd.extend((0..8).map(|_| vec![with_id.clone()]));
        crowd.extend((0..8).map(|_| vec![caller("李四", "13900004444")]));
        crowd.extend((0..4).map(|i| vec![caller("王五", &format!("1370000{i:04}"))]));
        let mut people = Vec::new();
        for r in register_together(&b, &o, crowd.into_iter().map(letter).collect()).await {
            let r = r.expect("registered");
            let v = b.store.matter(&o.clerk, r.id).await.expect("visible");
            assert_eq!(v.petitioners.len(), 1);
            people.push(v.petitioners[0].clone());
        }
        let first = b
            .store
            .matter(&o.clerk, known.id)
            .await
            .expect("visible")
            .petitioners[0]
            .clone();
        for p in &people[..8] {
            assert_eq!(p.id, first.id, "张三 is found by his phone");
            assert!(p.id_number.is_some(), "and his ID number is kept");
        }
        assert!(
            people[8..16].iter().all(|p| p.id == people[8].id),
            "李四 is one record"
        );
        assert_ne!(people[8].id, first.id);
        let mut others: Vec<_> = people[16..].iter().map(|p| p.id).collect();
        others.sort();
        others.dedup();
        assert_eq!(others.len(), 4, "four different phones, four people");
        assert!(!others.contains(&people[8].id) && !others.contains(&first.id));

        // The ID number added in the crowd is stored: a letter signed with it alone finds him.
        let by_id = NewPetitioner {
            name: None,
            phone: None,
            id_document: Some(IdDocument::parse(DocumentKind::ResidentId, &id_number()).expect("id")),
            address: None,
        };
        let later = o.register(&*b.store, letter(vec![by_id])).await;
        let found = b
            .store
            .matter(&o.clerk, later.id)
            .await
            .expect("visible")
            .petitioners[0]
            .clone();
        assert_eq!(found.id, first.id);
        assert_eq!(found.phone.as_deref(), Some(PHONE_MASKED));
        assert_chain_intact(&b).await;
    }
}

/// Safety alerts arriving among registrations (PostgreSQL writes them in the registrations'
/// transaction, see `postgres/alerts.rs`) are raised once per matter, each with its event and
/// its reminder; one for a matter that does not exist fails alone, in a batch written whole and
/// in one written again job by job (a registration PostgreSQL refuses forces that).
#[tokio::test]
async fn safety_alerts_arriving_with_registrations_are_raised_once_each() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let o = Org::create(&*b.store, "某机场集团", "airport").await;
        let clerk = Actor::Staff(o.clerk.clone());
        let text = "拖了半年没人管，再不解决我就从航站楼跳楼！";
        let alerts = xinfang_nlp::triage::assess(text).alerts;
        assert!(!alerts.is_empty());
        let letter = |external: Option<&str>| {
            let mut m = matter(
                Channel::Hotline12345,
                PetitionType::Appeal,
                "行李破损无人处理",
                text,
                vec![caller("赵六", "13600006666")],
            );
            m.external_id = external.map(str::to_string);
            m
        };
        for (round, bad) in [(0, None), (1, Some("GD-BAD\0"))] {
            let mut alerted = Vec::new();
            for _ in 0..4 {
                alerted.push(o.register(&*b.store, letter(None)).await.id);
            }
            let nowhere = xinfang_core::ids::PetitionId::new();
            // Alerts: the first matter three times, the others once, and one for no matter.
            let mut targets = vec![alerted[0], alerted[0], alerted[0]];
            targets.extend(&alerted[1..]);
            targets.push(nowhere);
            let raised: Vec<_> = targets
                .iter()
                .map(|id| {
                    let (store, alerts, org, id) = (Arc::clone(&b.store), alerts.clone(), o.id, *id);
                    tokio::spawn(async move { store.raise_safety_alert(org, id, &alerts).await })
                })
                .collect();
            let registered: Vec<_> = (0..12)
                .map(|i| format!("GD-{round}-{i}"))
                .map(Some)
                .chain([bad.map(str::to_string)])
                .flatten()
                .map(|e| {
                    let (store, clerk, m, org) =
                        (Arc::clone(&b.store), clerk.clone(), letter(Some(&e)), o.id);
                    tokio::spawn(async move { store.register_matter(org, &clerk, m).await })
                })
                .collect();
            let mut answers = Vec::new();
            for t in raised {
                answers.push(t.await.expect("the task ran"));
            }
            let registered: Vec<_> = {
                let mut all = Vec::new();
                for t in registered {
                    all.push(t.await.expect("the task ran"));
                }
                all
            };
            for r in &registered[..12] {
                assert!(r.is_ok(), "round {round}: {r:?}");
            }
            let first: Vec<_> = answers[..3]
                .iter()
                .map(|a| a.as_ref().expect("raised or known"))
                .collect();
            assert_eq!(
                first.iter().filter(|r| r.is_some()).count(),
                1,
                "round {round}: one alert for the matter named three times: {first:?}"
            );
            for a in &answers[3..6] {
                assert!(matches!(a, Ok(Some(_))), "round {round}: {a:?}");
            }
            assert!(
                matches!(answers[6], Err(StoreError::NotFound)),
                "round {round}: {:?}",
                answers[6]
            );
            for id in &alerted {
                let events = b
                    .store
                    .timeline(&o.supervisor, *id)
                    .await
                    .expect("timeline")
                    .into_iter()
                    .filter(|e| e.kind == EventKind::SafetyAlert)
                    .count();
                assert_eq!(events, 1, "round {round}: one alert event per matter");
            }
        }
        let every = ReminderFilter {
            open_only: false,
            limit: 100,
        };
        let reminders = b.store.reminders(&o.supervisor, every).await.expect("reminders");
        assert_eq!(
            reminders
                .iter()
                .filter(|r| r.kind == ReminderKind::SafetyAlert && r.unit_id == Some(o.office.id))
                .count(),
            8,
            "one reminder for the petition office per alerted matter"
        );
        assert_chain_intact(&b).await;
    }
}

/// Two nodes registering at the same moment (on PostgreSQL each writes its batches without the
/// chain lock until their events, see `postgres/registrations.rs`) still make one record per
/// person and one matter per work order, and one unbroken chain.
#[tokio::test]
async fn two_nodes_registering_the_same_people_and_work_orders_at_once_agree() {
    for b in backends().await {
        if b.name != "postgres" {
            // An SQLite file is one node's: a second process is refused while the first writes.
            continue;
        }
        let o = Org::create(&*b.store, "某机场集团", "airport").await;
        let nodes = [
            Arc::clone(&b.store),
            b.reopen_with_key(&b.key()).await.expect("a second node"),
        ];
        let clerk = Actor::Staff(o.clerk.clone());
        let letter = |who: Vec<NewPetitioner>, order: Option<String>| {
            let mut m = matter(
                Channel::Hotline12345,
                PetitionType::Appeal,
                "夜间出租车运力不足",
                "凌晨到港旅客打车要排一个多小时，希望增加夜间出租车运力。",
                who,
            );
            m.external_id = order;
            m
        };
        // Sends a crowd, spread over both nodes, and returns the answers in order.
        let send = async |crowd: Vec<(NewPetitioner, Option<String>)>| {
            let tasks: Vec<_> = crowd
                .into_iter()
                .enumerate()
                .map(|(i, (who, order))| {
                    let store = Arc::clone(&nodes[i % 2]);
                    let (clerk, m, org) = (clerk.clone(), letter(vec![who], order), o.id);
                    tokio::spawn(async move { store.register_matter(org, &clerk, m).await })
                })
                .collect();
            let mut done = Vec::new();
            for t in tasks {
                done.push(t.await.expect("the task ran").expect("registered"));
            }
            done
        };
        let person = |r: &xinfang_store::Registered| {
            let subject = r.subject.as_ref().expect("a new matter");
            assert_eq!(subject.petitioners.len(), 1);
            subject.petitioners[0]
        };
        // A new caller many times among callers of their own, then a new work order many times
        // (separately: batches that meet over a work order wait for each other anyway).
        let mut total = 0;
        for round in 0..6 {
            let phone = format!("139{round:04}4444");
            let mut crowd: Vec<(NewPetitioner, Option<String>)> =
                (0..12).map(|_| (caller("李四", &phone), None)).collect();
            crowd.extend((0..8).map(|i| (caller("旅客", &format!("136{round:02}00{i:04}")), None)));
            let done = send(crowd).await;
            let li_si: Vec<_> = done[..12].iter().map(person).collect();
            assert!(
                li_si.iter().all(|p| *p == li_si[0]),
                "round {round}: 李四 is one record: {li_si:?}"
            );
            let others: std::collections::HashSet<_> = done[12..].iter().map(person).collect();
            assert_eq!(others.len(), 8);

            let order = format!("GD-BOTH-{round}");
            let done = send(
                (0..8)
                    .map(|_| (caller("王五", "13700001111"), Some(order.clone())))
                    .collect(),
            )
            .await;
            assert_eq!(
                done.iter().filter(|r| !r.replayed).count(),
                1,
                "round {round}: the work order is registered once, and replayed seven times"
            );
            assert!(done.iter().all(|r| r.id == done[0].id));
            total += 12 + 8 + 1;
        }
        assert_eq!(listed(&b, &o).await, total);
        assert_chain_intact(&b).await;
    }
}

/// Registrations arriving together are found by every word of their letters and by their
/// state, whether their search vectors were written as literals or, for a word the literal
/// does not take (Greek letters here, which the parser reads by the database's locale), put
/// together by the database: both carry the matter's state, era and block.
#[tokio::test]
async fn registrations_arriving_together_are_found_by_their_words_and_state() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let o = Org::create(&*b.store, "某机场集团", "airport").await;
        let letters = [
            ("行李延误", "航班落地后行李等了两个小时才到转盘。"),
            ("停车收费", "停车场按天收费标准不清楚，希望公示。"),
            ("希腊旅客", "希腊旅客的行李牌写着αβγ，柜台不认识。"),
        ];
        let crowd = (0..12)
            .map(|i| {
                let (title, content) = letters[i % letters.len()];
                matter(
                    Channel::Website,
                    PetitionType::Appeal,
                    title,
                    content,
                    vec![caller("旅客", &format!("1370000{i:04}"))],
                )
            })
            .collect();
        for r in register_together(&b, &o, crowd).await {
            r.expect("registered");
        }
        let found = |q: &str, states: Vec<State>| {
            let filter = MatterFilter {
                q: Some(q.to_string()),
                states,
                page: 1,
                per_page: 20,
                ..MatterFilter::default()
            };
            let (store, who) = (Arc::clone(&b.store), o.supervisor.clone());
            async move { store.list_matters(&who, &filter).await.expect("search").total }
        };
        assert_eq!(found("行李", vec![]).await, 8, "{}", b.name);
        assert_eq!(found("停车", vec![]).await, 4, "{}", b.name);
        assert_eq!(found("αβγ", vec![]).await, 4, "{}", b.name);
        assert_eq!(found("αβγ", vec![State::Registered]).await, 4, "{}", b.name);
        assert_eq!(found("行李", vec![State::Registered]).await, 8, "{}", b.name);
        assert_eq!(found("行李", vec![State::Archived]).await, 0, "{}", b.name);
    }
}
