//! Registrations that arrive together (which PostgreSQL writes in one transaction, see
//! `postgres/batch.rs`) each get their own answer: a failing one fails alone, a replayed work
//! order is still one matter, and the audit chain stays whole. Run against every backend.

mod suite;

use std::sync::Arc;
use suite::*;
use xinfang_core::matter::{Channel, PetitionType};
use xinfang_core::org::Actor;
use xinfang_store::{MatterFilter, StoreError};

#[tokio::test]
async fn registrations_arriving_together_each_get_their_own_answer() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let o = Org::create(&*b.store, "某机场集团", "airport").await;
        let clerk = Actor::Staff(o.clerk.clone());
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
        let tasks: Vec<_> = orders
            .iter()
            .map(|e| {
                let (store, clerk, m, org) = (Arc::clone(&b.store), clerk.clone(), order(e), o.id);
                tokio::spawn(async move { store.register_matter(org, &clerk, m).await })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.expect("the task ran"));
        }

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
        let page = b
            .store
            .list_matters(
                &o.supervisor,
                &MatterFilter {
                    page: 1,
                    per_page: 100,
                    ..MatterFilter::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(page.total, stored);
        let report = b.store.verify_audit().await.expect("verify");
        assert!(report.broken.is_none(), "{:?}", report.broken);
    }
}
