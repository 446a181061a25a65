//! The audit trail of configuration, told once and run against every backend: each change of
//! the user dictionary, the triage lexicon, the routing table, the training material and the
//! active model is a `settings_changed` event on the organisation's hash chain, by its author,
//! saying what changed; a change that fails records nothing; and a registration says which
//! lexicon and model it committed under.

mod suite;

use chrono::Duration;
use suite::*;
use xinfang_core::org::Actor;
use xinfang_core::routing::RoutingRule;
use xinfang_nlp::triage::Lexicon;
use xinfang_store::{
    ActorKind, EventKind, IntakeRevisions, NewModel, RoutingConfig, StoreError, TrainingExample,
};

fn model(by: Option<xinfang_core::ids::UserId>) -> NewModel {
    NewModel {
        trained_by: by,
        training_size: 40,
        info: serde_json::json!({"labels": 2}),
        body: vec![1, 2, 3],
        activate: true,
    }
}

#[tokio::test]
async fn every_configuration_change_is_audited() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let admin = Actor::Staff(o.admin.clone());

        s.save_user_dictionary(o.id, "T3航站楼 100 ns\n空港物流\n", &admin)
            .await
            .expect("dictionary");
        b.clock.advance(Duration::minutes(1));
        s.save_user_dictionary(o.id, "T3航站楼 100 ns\n卫星厅\n捷运\n", &admin)
            .await
            .expect("dictionary again");

        let mut lexicon = Lexicon::builtin();
        let terms = lexicon.entries.len();
        lexicon.entries.truncate(terms - 2);
        s.save_lexicon(o.id, &admin, &lexicon).await.expect("lexicon");

        let rule = RoutingRule {
            category_id: o.category.id,
            unit_id: o.unit_b.id,
            location_contains: Some("T2".into()),
            channel: None,
            priority: 0,
        };
        s.save_routing_config(
            o.id,
            &admin,
            RoutingConfig {
                threshold: 0.75,
                rules: vec![rule],
            },
        )
        .await
        .expect("routing");

        let examples = vec![TrainingExample {
            text: "夜间航班落地后机场大巴停运".into(),
            category_id: o.category.id,
        }];
        assert_eq!(
            s.add_training_examples(o.id, &admin, examples)
                .await
                .expect("examples"),
            1
        );
        let v1 = s
            .save_model(o.id, &Actor::System, model(None))
            .await
            .expect("model 1");
        let v2 = s
            .save_model(o.id, &admin, model(Some(o.admin.user_id)))
            .await
            .expect("model 2");
        s.activate_model(o.id, &admin, v1.version)
            .await
            .expect("rollback");

        let history = s.settings_history(o.id, 100).await.expect("history");
        let settings: Vec<&str> = history
            .iter()
            .filter_map(|e| e.data["setting"].as_str())
            .collect();
        assert_eq!(
            settings,
            [
                "model_activated",
                "model_trained",
                "model_trained",
                "training_examples",
                "routing",
                "triage_lexicon",
                "user_dictionary",
                "user_dictionary",
            ],
            "{}: newest first",
            b.name
        );
        assert!(
            history
                .iter()
                .all(|e| e.kind == EventKind::SettingsChanged && e.label_zh == "配置变更")
        );
        assert!(history.windows(2).all(|w| w[0].seq > w[1].seq));

        // Who: the admin by name, the nightly training as the system.
        let by_admin = history
            .iter()
            .filter(|e| e.actor_kind == ActorKind::Staff)
            .count();
        assert_eq!(by_admin, 7, "{}", b.name);
        assert_eq!(
            history[0].actor_name.as_deref(),
            Some(o.admin.display_name.as_str())
        );
        assert_eq!(history[2].actor_kind, ActorKind::System);

        // What: the dictionary's second save added two words and removed one.
        let dict = &history[6].data;
        assert_eq!(dict["label_zh"], "分词用户词典");
        assert_eq!(dict["added"], serde_json::json!(["卫星厅", "捷运"]));
        assert_eq!(dict["removed"], serde_json::json!(["空港物流"]));
        assert_eq!(dict["count"], 3);
        assert_eq!(
            history[7].data["added_count"], 2,
            "the first save adds every word"
        );
        assert_eq!(
            history[6].occurred_at,
            history[7].occurred_at + Duration::minutes(1)
        );

        // The lexicon's first save is measured against the built-in one.
        let lex = &history[5].data;
        assert_eq!(lex["revision"], 1);
        assert_eq!(lex["entries"], terms - 2);
        assert!(
            lex["removed_count"]
                .as_u64()
                .is_some_and(|n| (1..=2).contains(&n)),
            "{lex}"
        );
        assert_eq!(lex["added_count"], 0);

        let routing = &history[4].data;
        assert_eq!(
            (routing["threshold"].as_f64(), routing["rules"].as_u64()),
            (Some(0.75), Some(1))
        );
        assert_eq!(routing["rules_before"], 0);
        assert_eq!(history[3].data["added"], 1);
        assert_eq!(history[1].data["version"], v2.version);
        assert_eq!(history[0].data["version"], v1.version);
        assert_eq!(history[0].data["version_before"], v2.version);

        // A change that fails records nothing.
        let bad = RoutingRule {
            category_id: o.category.id,
            unit_id: xinfang_core::ids::UnitId::new(),
            location_contains: None,
            channel: None,
            priority: 0,
        };
        let refused = s
            .save_routing_config(
                o.id,
                &admin,
                RoutingConfig {
                    threshold: 0.5,
                    rules: vec![bad],
                },
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::InvalidReference { .. })),
            "{refused:?}"
        );
        assert!(matches!(
            s.activate_model(o.id, &admin, 99).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(s.settings_history(o.id, 100).await.expect("history").len(), 8);
        assert_eq!(s.routing_config(o.id).await.expect("config").threshold, 0.75);

        // The events are links of the organisation's chain like any other.
        let report = s.verify_audit().await.expect("verify");
        assert!(report.broken.is_none(), "{}: {report:?}", b.name);
        assert_eq!(s.settings_history(o.id, 3).await.expect("limited").len(), 3);
    }
}

#[tokio::test]
async fn a_registration_tells_which_lexicon_and_model_it_committed_under() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let admin = Actor::Staff(o.admin.clone());
        let revisions = |r: &xinfang_store::Registered| r.revisions.expect("revisions of a new matter");

        let first = o.register(s, bus_matter()).await;
        assert_eq!(
            revisions(&first),
            IntakeRevisions {
                lexicon: 0,
                model: None
            },
            "{}: built-in lexicon, no model yet",
            b.name
        );

        s.save_lexicon(o.id, &admin, &Lexicon::builtin())
            .await
            .expect("lexicon");
        let v1 = s.save_model(o.id, &admin, model(None)).await.expect("model 1");
        let v2 = s.save_model(o.id, &admin, model(None)).await.expect("model 2");
        let second = o.register(s, bus_matter()).await;
        assert_eq!(
            revisions(&second),
            IntakeRevisions {
                lexicon: 1,
                model: Some(v2.version)
            },
            "{}",
            b.name
        );

        s.activate_model(o.id, &admin, v1.version)
            .await
            .expect("rollback");
        let mut order = bus_matter();
        order.channel = xinfang_core::matter::Channel::Hotline12345;
        order.external_id = Some("GD-2026-0001".into());
        let third = o.register(s, order.clone()).await;
        assert_eq!(
            revisions(&third).model,
            Some(v1.version),
            "{}: after the rollback",
            b.name
        );
        let replay = o.register(s, order).await;
        assert!(replay.replayed && replay.revisions.is_none(), "{}", b.name);
    }
}
