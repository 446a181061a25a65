//! Bulk loading: matters built in memory and written in batches read back exactly like the
//! ones registered and moved one at a time, continue the same audit chain, share their
//! petitioners with later ordinary registrations, and come with intake's signature and
//! triage. Run against every backend.

mod suite;

use chrono::Duration;
use suite::*;
use xinfang_core::lifecycle::{Command, Transition};
use xinfang_core::matter::{Channel, DeclineReason, PetitionType, State};
use xinfang_core::org::Actor;
use xinfang_store::bulk::{BulkContext, MatterBuilder};
use xinfang_store::{EventKind, MatterFilter};

fn filter() -> MatterFilter {
    MatterFilter {
        page: 1,
        per_page: 100,
        ..MatterFilter::default()
    }
}

#[tokio::test]
async fn bulk_loaded_matters_read_like_registered_ones_and_continue_the_chain() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let clerk = Actor::Staff(o.clerk.clone());
        let registered_at = t0() - Duration::days(3);

        let mut twin = bus_matter();
        twin.received_at = Some(registered_at);
        let steps = |h: i64| registered_at + Duration::hours(h);
        let plan = [
            (o.clerk.clone(), Command::Accept { note: None }, steps(1)),
            (o.clerk.clone(), o.classify(), steps(2)),
            (o.clerk.clone(), assign(&o.unit_a), steps(3)),
            (o.handler_a.clone(), Command::StartHandling, steps(4)),
        ];
        let cx = BulkContext::of(s, b.vault(), o.id, t0())
            .await
            .expect("rules and calendar");
        let mut assigned = MatterBuilder::register(&cx, &clerk, twin.clone()).expect("bulk register");
        for (actor, cmd, at) in &plan {
            assigned
                .apply(&Actor::Staff(actor.clone()), cmd, *at)
                .expect("bulk step");
        }
        // A step the lifecycle refuses changes nothing.
        assert!(
            assigned
                .apply(&clerk, &Command::Accept { note: None }, steps(5))
                .is_err()
        );
        let mut letter = matter(
            Channel::Letter,
            PetitionType::Appeal,
            "小区噪音扰民",
            "夜间货运航班起降噪音很大，影响休息。",
            vec![caller("李四", "13900001111")],
        );
        letter.received_at = Some(t0() - Duration::hours(2));
        let mut declined = MatterBuilder::register(&cx, &clerk, letter).expect("bulk register");
        declined
            .apply(
                &clerk,
                &Command::Decline {
                    reason: DeclineReason::OutOfScope,
                    text: "不属于本单位职责范围".into(),
                },
                t0() - Duration::hours(1),
            )
            .expect("decline");
        let assigned = assigned.finish().expect("rows");
        let declined = declined.finish().expect("rows");
        let (bulk_a, bulk_d) = (assigned.matter().id, declined.matter().id);
        let mut loader = s.bulk_loader(o.id).await.expect("loader");
        loader.load(vec![assigned]).await.expect("first batch");
        loader.load(vec![declined]).await.expect("second batch");
        loader.finish().await.expect("finish");

        // Ordinary registrations after the load: the same chain, the same petitioner record.
        // The reference is the bulk matter's twin, registered and moved at the same times.
        let reference = o.register(s, twin).await;
        for (actor, cmd, at) in &plan {
            s.transition(actor, reference.id, cmd.clone(), Some(*at))
                .await
                .expect("reference step");
        }
        let after = o.register(s, bus_matter()).await;

        let report = s.verify_audit().await.expect("verify");
        assert!(report.broken.is_none(), "{:?}", report.broken);
        let page = s.list_matters(&o.supervisor, &filter()).await.expect("list");
        assert_eq!(page.total, 4);
        let row = |id| page.items.iter().find(|m| m.id == id).expect("listed").clone();
        let (r, a) = (row(reference.id), row(bulk_a));
        assert_eq!(a.state, State::InProgress);
        assert_eq!((a.due_at, a.deadline_status), (r.due_at, r.deadline_status));
        assert_eq!(
            (a.lead_unit_id, a.category_id),
            (Some(o.unit_a.id), Some(o.category.id))
        );
        assert_eq!(row(bulk_d).state, State::NotAccepted);

        let view = s.matter(&o.supervisor, bulk_a).await.expect("view");
        let reference_view = s.matter(&o.supervisor, reference.id).await.expect("view");
        assert_eq!(
            view.deadline.map(|d| d.due_at),
            reference_view.deadline.map(|d| d.due_at)
        );
        assert_eq!(view.petitioners.len(), 1);
        assert_eq!(view.petitioners[0].phone.as_deref(), Some(PHONE_MASKED));
        let revealed = s.reveal_petitioners(&o.supervisor, bulk_a).await.expect("reveal");
        assert_eq!(revealed[0].phone.as_deref(), Some(PHONE));
        // Scoped like any other: unit A's handler sees it, unit B's does not.
        assert!(s.matter(&o.handler_a, bulk_a).await.is_ok());
        assert!(s.matter(&o.handler_b, bulk_a).await.is_err());

        let timeline = s.timeline(&o.supervisor, bulk_a).await.expect("timeline");
        let kinds: Vec<EventKind> = timeline.iter().map(|e| e.kind).collect();
        use Transition::*;
        assert_eq!(
            kinds,
            [Register, Accept, Classify, Assign, StartHandling]
                .map(EventKind::Transition)
                .into_iter()
                .chain([EventKind::Reveal])
                .collect::<Vec<_>>()
        );
        assert_eq!(timeline[4].occurred_at, steps(4));
        assert_eq!(
            timeline[4].actor_name.as_deref(),
            Some(o.handler_a.display_name.as_str())
        );

        // Full-text search finds the bulk matters by their words, newest recorded first.
        let found = s
            .list_matters(
                &o.supervisor,
                &MatterFilter {
                    q: Some("噪音".into()),
                    ..filter()
                },
            )
            .await
            .expect("search");
        assert_eq!(found.items.iter().map(|m| m.id).collect::<Vec<_>>(), [bulk_d]);

        // The later registrations found 张三's record from the load by his numbers.
        let later = s.matter(&o.supervisor, after.id).await.expect("view");
        assert_eq!(later.petitioners[0].id, view.petitioners[0].id);
        let his = s
            .petitioner_matters(&o.supervisor, view.petitioners[0].id)
            .await
            .expect("his matters");
        assert_eq!(his.len(), 3, "the bulk matter, its twin and the later one");

        // Intake's record came with the load: the triage reads back as intake would have made
        // it, a node's duplicate index finds the loaded matter by its text, and the backfill
        // has nothing left to do for the loaded matters.
        let text = "小区噪音扰民\n夜间货运航班起降噪音很大，影响休息。";
        let triage = s
            .triage(&o.supervisor, bulk_d)
            .await
            .expect("triage")
            .expect("recorded by the load");
        assert_eq!(triage.assessment, xinfang_nlp::triage::assess(text));
        assert_eq!(triage.lexicon_revision, 0);
        let index = xinfang_store::CandidateIndex::new();
        let signature = xinfang_nlp::dedup::signature(text);
        let probe = xinfang_store::Probe {
            signature: &signature,
            petitioners: &[],
            exclude: after.id,
        };
        let found = index
            .candidates(s, o.id, &probe, 0.4, 10)
            .await
            .expect("candidates");
        assert_eq!(found.iter().map(|c| c.matter_id).collect::<Vec<_>>(), [bulk_d]);
        let left = s
            .matters_without_intake(o.id, t0(), 100)
            .await
            .expect("work list");
        assert!(
            !left.contains(&bulk_a) && !left.contains(&bulk_d),
            "{}: {left:?}",
            b.name
        );
    }
}
