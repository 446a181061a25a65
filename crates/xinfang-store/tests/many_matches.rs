//! Lists and searches whose filter matches more than the count cap (1,000), which the store
//! answers by other plans than small results (walks of per-state, per-unit and deadline
//! indexes, the state facet of the search index): the same pages, newest first, as a brute
//! force over what was loaded, and a state change moves a matter between filtered searches
//! at once. Run against every backend.

mod suite;

use chrono::Duration;
use std::collections::HashSet;
use suite::*;
use xinfang_core::deadline::DeadlineStatus;
use xinfang_core::ids::PetitionId;
use xinfang_core::lifecycle::Command;
use xinfang_core::matter::{Channel, PetitionType, State};
use xinfang_core::org::Actor;
use xinfang_store::bulk::{BulkContext, MatterBuilder};
use xinfang_store::{ListOrder, MatterFilter};

/// The count cap of every backend (`Page::total`).
const COUNT_CAP: u64 = 1_000;

/// Matters loaded; the largest filtered set below is half of them, over the cap.
const N: usize = 2_200;

fn filter() -> MatterFilter {
    MatterFilter {
        page: 1,
        per_page: 20,
        ..MatterFilter::default()
    }
}

#[tokio::test]
async fn pages_of_large_results_are_the_newest_matches() {
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let clerk = Actor::Staff(o.clerk.clone());
        let cx = BulkContext::of(s, b.vault(), o.id, t0())
            .await
            .expect("rules and calendar");
        // Matter i is received i minutes after a start 90 days ago (all deadlines of the open
        // ones have passed): even i assigned to unit A, i ≡ 1 (mod 4) in progress at unit B,
        // i ≡ 3 (mod 4) left registered. Every title says 停车, every third one 收费 too.
        let start = t0() - Duration::days(90);
        let mut ids: Vec<PetitionId> = Vec::with_capacity(N);
        let mut states = Vec::with_capacity(N);
        let mut batch = Vec::new();
        let mut loader = s.bulk_loader(o.id).await.expect("loader");
        for i in 0..N {
            let title = if i % 3 == 0 {
                format!("停车场收费过高 第{i}号")
            } else {
                format!("停车场排队太久 第{i}号")
            };
            let mut m = matter(
                Channel::Phone,
                PetitionType::Appeal,
                &title,
                "晚上停车排队很久，希望改进。",
                vec![caller("市民", &format!("139{:08}", i))],
            );
            let at = start + Duration::minutes(i as i64);
            m.received_at = Some(at);
            let mut built = MatterBuilder::register(&cx, &clerk, m).expect("bulk register");
            let state = if i % 4 == 3 {
                State::Registered
            } else {
                let unit = if i % 2 == 0 { &o.unit_a } else { &o.unit_b };
                let step = |h: i64| at + Duration::seconds(h);
                built
                    .apply(&clerk, &Command::Accept { note: None }, step(1))
                    .expect("accept");
                built.apply(&clerk, &o.classify(), step(2)).expect("classify");
                built.apply(&clerk, &assign(unit), step(3)).expect("assign");
                if i % 2 == 0 {
                    State::Assigned
                } else {
                    built
                        .apply(
                            &Actor::Staff(o.handler_b.clone()),
                            &Command::StartHandling,
                            step(4),
                        )
                        .expect("start");
                    State::InProgress
                }
            };
            ids.push(built.matter().id);
            states.push(state);
            batch.push(built.finish().expect("rows"));
            if batch.len() == 500 {
                loader.load(std::mem::take(&mut batch)).await.expect("batch");
            }
        }
        loader.load(batch).await.expect("last batch");
        loader.finish().await.expect("finish");

        // The newest first of the matters i that `keep` admits, page `page` of 20.
        let expect = |keep: &dyn Fn(usize) -> bool, page: usize| -> Vec<PetitionId> {
            (0..N)
                .rev()
                .filter(|&i| keep(i))
                .skip((page - 1) * 20)
                .take(20)
                .map(|i| ids[i])
                .collect()
        };
        let got = async |f: MatterFilter| {
            let p = s.list_matters(&o.supervisor, &f).await.expect("list");
            (
                p.items.iter().map(|m| m.id).collect::<Vec<_>>(),
                p.total,
                p.total_exact,
            )
        };
        let capped = (COUNT_CAP, false);

        let both = |i: usize| states[i] != State::Registered;
        for page in [1, 3] {
            let f = MatterFilter {
                states: vec![State::Assigned, State::InProgress],
                page: page as u32,
                ..filter()
            };
            let (items, total, exact) = got(f).await;
            assert_eq!(items, expect(&both, page), "two states, page {page}");
            assert_eq!((total, exact), capped);
        }

        let at_a = |i: usize| i.is_multiple_of(2);
        for page in [1, 2] {
            let f = MatterFilter {
                unit_id: Some(o.unit_a.id),
                page: page as u32,
                ..filter()
            };
            let (items, total, exact) = got(f).await;
            assert_eq!(items, expect(&at_a, page), "unit A, page {page}");
            assert_eq!((total, exact), capped);
        }
        // The same unit with a second filter, few matches.
        let f = MatterFilter {
            unit_id: Some(o.unit_b.id),
            states: vec![State::InProgress],
            ..filter()
        };
        let in_b = |i: usize| states[i] == State::InProgress;
        assert_eq!(got(f).await, (expect(&in_b, 1), 550, true));

        let f = MatterFilter {
            deadline_status: Some(DeadlineStatus::Overdue),
            page: 2,
            ..filter()
        };
        let (items, total, _) = got(f).await;
        assert!(total > 0, "the open matters are overdue");
        let overdue = s
            .list_matters(
                &o.supervisor,
                &MatterFilter {
                    deadline_status: Some(DeadlineStatus::Overdue),
                    per_page: 100,
                    ..filter()
                },
            )
            .await
            .expect("overdue");
        assert!(
            overdue
                .items
                .iter()
                .all(|m| m.deadline_status == Some(DeadlineStatus::Overdue))
        );
        let newest: Vec<PetitionId> = overdue.items.iter().skip(20).take(20).map(|m| m.id).collect();
        assert_eq!(items, newest, "page 2 continues page 1 of the overdue list");

        // Searches: the words alone, with an open state (the facet), with two.
        let search = |q: &str, states: Vec<State>, page: u32| MatterFilter {
            q: Some(q.to_string()),
            states,
            page,
            ..filter()
        };
        let (items, total, exact) = got(search("停车", vec![], 1)).await;
        assert_eq!(items, expect(&|_| true, 1));
        assert_eq!((total, exact), capped);
        let assigned = |i: usize| states[i] == State::Assigned;
        for page in [1, 4] {
            let (items, total, exact) = got(search("停车", vec![State::Assigned], page)).await;
            assert_eq!(
                items,
                expect(&assigned, page as usize),
                "停车 assigned, page {page}"
            );
            assert_eq!((total, exact), capped);
        }
        let fee_open = |i: usize| i.is_multiple_of(3) && states[i] != State::Registered;
        let (items, total, exact) =
            got(search("停车 收费", vec![State::Assigned, State::InProgress], 1)).await;
        assert_eq!(items, expect(&fee_open, 1));
        assert_eq!(
            (total, exact),
            ((0..N).filter(|&i| fee_open(i)).count() as u64, true)
        );
        // Past the last match: an empty page, the total still right.
        let (items, total, _) = got(search("收费", vec![State::InProgress], 40)).await;
        assert!(items.is_empty());
        assert_eq!(
            total,
            (0..N)
                .filter(|&i| i.is_multiple_of(3) && states[i] == State::InProgress)
                .count() as u64
        );

        // By relevance: a common word ranks its newest COUNT_CAP matches (asked again, the same
        // page), pages reach the last of them and no further; fewer matches are all ranked,
        // ties newest first.
        let ranked = |q: &str, page: u32| MatterFilter {
            order: ListOrder::Relevance,
            ..search(q, vec![], page)
        };
        let newest_cap: HashSet<PetitionId> = ids[N - COUNT_CAP as usize..].iter().copied().collect();
        let (first, total, exact) = got(ranked("停车", 1)).await;
        assert_eq!(first.len(), 20);
        assert!(first.iter().all(|id| newest_cap.contains(id)));
        assert_eq!((total, exact), capped);
        assert_eq!(got(ranked("停车", 1)).await, (first, COUNT_CAP, false));
        let (items, _, _) = got(ranked("停车", 50)).await;
        assert_eq!(items.len(), 20);
        assert!(items.iter().all(|id| newest_cap.contains(id)));
        let (items, total, exact) = got(ranked("停车", 51)).await;
        assert!(items.is_empty());
        assert_eq!((total, exact), capped);
        let fee = |i: usize| i.is_multiple_of(3);
        let (items, total, exact) = got(ranked("收费", 2)).await;
        assert_eq!(items, expect(&fee, 2));
        assert_eq!((total, exact), ((0..N).filter(|&i| fee(i)).count() as u64, true));
        // Newest first again, after the store has seen 停车 reach the cap: the same pages.
        let (items, total, exact) = got(search("停车", vec![], 2)).await;
        assert_eq!(items, expect(&|_| true, 2));
        assert_eq!((total, exact), capped);

        // The newest assigned matter starts handling: it leaves the assigned search and
        // heads the in-progress one, in the same transaction as the transition.
        let newest_assigned = (0..N).rev().find(|&i| assigned(i)).expect("one");
        let id = ids[newest_assigned];
        o.step(s, &o.handler_a, id, Command::StartHandling).await;
        let (items, _, _) = got(search("停车", vec![State::Assigned], 1)).await;
        assert!(!items.contains(&id));
        let (items, total, exact) = got(search("停车", vec![State::InProgress], 1)).await;
        assert_eq!(items.first(), Some(&id));
        assert_eq!((total, exact), (551, true));
    }
}

/// A search's newest matches when the newest letters use other words: 1,500 letters about
/// parking (three in four of them in progress, one in seven about fees too), spread on
/// PostgreSQL over half a million seqs as a shared database's other organisations
/// would spread them, then 2,500 letters about the terminal's air conditioning on top. Every
/// search still pages its newest matches, counts them up to the cap and ranks the newest
/// thousand, however far below the newest letters they lie.
#[tokio::test]
async fn searches_reach_matches_far_below_the_newest_letters() {
    const PARKING: usize = 1_500;
    const BURST: usize = 2_500;
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let clerk = Actor::Staff(o.clerk.clone());
        let cx = BulkContext::of(s, b.vault(), o.id, t0())
            .await
            .expect("rules and calendar");
        let start = t0() - Duration::days(30);
        let mut ids: Vec<PetitionId> = Vec::with_capacity(PARKING);
        let mut burst: Vec<PetitionId> = Vec::with_capacity(BURST);
        let in_progress = |i: usize| !i.is_multiple_of(4);
        let fee = |i: usize| i.is_multiple_of(7);
        let mut loader = s.bulk_loader(o.id).await.expect("loader");
        let mut batch = Vec::new();
        for i in 0..PARKING + BURST {
            let (title, content) = if i < PARKING && fee(i) {
                (format!("停车场收费过高 第{i}号"), "晚上停车排队很久，希望改进。")
            } else if i < PARKING {
                (format!("停车场排队太久 第{i}号"), "晚上停车排队很久，希望改进。")
            } else {
                (format!("航站楼空调太冷 第{i}号"), "候机厅温度太低，希望调高。")
            };
            let mut m = matter(
                Channel::Website,
                PetitionType::Suggestion,
                &title,
                content,
                vec![caller("旅客", &format!("137{:08}", i))],
            );
            let at = start + Duration::minutes(i as i64);
            m.received_at = Some(at);
            let mut built = MatterBuilder::register(&cx, &clerk, m).expect("bulk register");
            if i < PARKING && in_progress(i) {
                let step = |h: i64| at + Duration::seconds(h);
                built
                    .apply(&clerk, &Command::Accept { note: None }, step(1))
                    .expect("accept");
                built.apply(&clerk, &o.classify(), step(2)).expect("classify");
                built.apply(&clerk, &assign(&o.unit_b), step(3)).expect("assign");
                built
                    .apply(
                        &Actor::Staff(o.handler_b.clone()),
                        &Command::StartHandling,
                        step(4),
                    )
                    .expect("start");
            }
            if i < PARKING {
                ids.push(built.matter().id);
            } else {
                burst.push(built.matter().id);
            }
            batch.push(built.finish().expect("rows"));
            if i < PARKING && batch.len() == 50 {
                loader.load(std::mem::take(&mut batch)).await.expect("batch");
                b.skip_seqs(18_000).await;
            } else if batch.len() == 500 {
                loader.load(std::mem::take(&mut batch)).await.expect("batch");
            }
        }
        loader.load(batch).await.expect("last batch");
        loader.finish().await.expect("finish");

        // The newest first of the parking letters i that `keep` admits, page `page` of 20.
        let expect = |keep: &dyn Fn(usize) -> bool, page: usize| -> Vec<PetitionId> {
            (0..PARKING)
                .rev()
                .filter(|&i| keep(i))
                .skip((page - 1) * 20)
                .take(20)
                .map(|i| ids[i])
                .collect()
        };
        let count = |keep: &dyn Fn(usize) -> bool| (0..PARKING).filter(|&i| keep(i)).count() as u64;
        let got = async |f: MatterFilter| {
            let p = s.list_matters(&o.supervisor, &f).await.expect("list");
            (
                p.items.iter().map(|m| m.id).collect::<Vec<_>>(),
                p.total,
                p.total_exact,
            )
        };
        let search = |q: &str, states: Vec<State>, order: ListOrder, page: u32| MatterFilter {
            q: Some(q.to_string()),
            states,
            order,
            page,
            ..filter()
        };
        let newest = |q: &str, states: Vec<State>, page: u32| search(q, states, ListOrder::Newest, page);
        let capped = (COUNT_CAP, false);

        for page in [1, 3, 50] {
            let (items, total, exact) = got(newest("停车", vec![], page)).await;
            assert_eq!(items, expect(&|_| true, page as usize), "停车, page {page}");
            assert_eq!((total, exact), capped);
        }
        for page in [1, 2] {
            let (items, total, exact) = got(newest("停车", vec![State::InProgress], page)).await;
            assert_eq!(
                items,
                expect(&in_progress, page as usize),
                "停车 in progress, page {page}"
            );
            assert_eq!((total, exact), capped);
        }
        let (items, total, exact) = got(newest("停车", vec![State::Registered], 1)).await;
        let registered = |i: usize| !in_progress(i);
        assert_eq!(items, expect(&registered, 1));
        assert_eq!((total, exact), (count(&registered), true));
        for page in [1, 11] {
            let (items, total, exact) = got(newest("停车 收费", vec![], page)).await;
            assert_eq!(items, expect(&fee, page as usize), "停车 收费, page {page}");
            assert_eq!((total, exact), (count(&fee), true));
        }
        let (items, total, exact) = got(newest("空调", vec![], 1)).await;
        let newest_burst: Vec<PetitionId> = burst.iter().rev().take(20).copied().collect();
        assert_eq!(items, newest_burst);
        assert_eq!((total, exact), capped);
        assert_eq!(got(newest("行李", vec![], 1)).await, (vec![], 0, true));

        // Ranked: the newest thousand parking letters, none older, and no page past them.
        let newest_cap: HashSet<PetitionId> = ids[PARKING - COUNT_CAP as usize..].iter().copied().collect();
        for page in [1, 50] {
            let (items, total, exact) = got(search("停车", vec![], ListOrder::Relevance, page)).await;
            assert_eq!(items.len(), 20, "ranked 停车, page {page}");
            assert!(items.iter().all(|id| newest_cap.contains(id)));
            assert_eq!((total, exact), capped);
        }
        let (items, total, exact) = got(search("停车", vec![], ListOrder::Relevance, 51)).await;
        assert!(items.is_empty());
        assert_eq!((total, exact), capped);
        // Ranks that differ, all far below the newest letters: every parking letter says 排队
        // in its text, those not about fees in their title too, so these rank first (newest
        // first among equals) and the fee letters of the thousand come last.
        let in_cap = |i: usize| i >= PARKING - COUNT_CAP as usize;
        let (items, total, exact) = got(search("排队", vec![], ListOrder::Relevance, 1)).await;
        assert_eq!(items, expect(&|i| in_cap(i) && !fee(i), 1), "ranked 排队, page 1");
        assert_eq!((total, exact), capped);
        let fees_last: Vec<PetitionId> = (0..PARKING)
            .rev()
            .filter(|&i| in_cap(i) && fee(i))
            .map(|i| ids[i])
            .collect();
        let (items, _, _) = got(search("排队", vec![], ListOrder::Relevance, 50)).await;
        assert_eq!(items, fees_last[fees_last.len() - 20..], "ranked 排队, page 50");
        // Every fee letter says 收费 once in a text of the same length: ties, newest first.
        let (items, total, exact) = got(search("收费", vec![], ListOrder::Relevance, 2)).await;
        assert_eq!(items, expect(&fee, 2));
        assert_eq!((total, exact), (count(&fee), true));
    }
}

/// A word in one letter of four among letters that arrive in bursts between other
/// organisations' (on PostgreSQL, 2,000 seqs skipped after every 50 letters): the walk of the
/// newest 2,048 letters finds 512 of its matches spread over 84,000 seqs, and the older ones
/// are asked of the index by eras for a page just past the walk and by blocks of eras for
/// deeper pages and the ranked thousand (postgres/search.rs `Groups`). Every page is the
/// brute force's, and ranked ties come newest first.
#[tokio::test]
async fn pages_below_the_walk_are_found_by_eras_and_by_blocks() {
    const LETTERS: usize = 6_000;
    for b in backends().await {
        eprintln!("backend: {}", b.name);
        let s = &*b.store;
        let o = Org::create(s, "某机场集团", "airport").await;
        let clerk = Actor::Staff(o.clerk.clone());
        let cx = BulkContext::of(s, b.vault(), o.id, t0())
            .await
            .expect("rules and calendar");
        let start = t0() - Duration::days(30);
        let parking = |i: usize| i.is_multiple_of(4);
        // 行李: every other letter of the newest 2,400 (1,536 of them in the walk), one in
        // fifty of the older ones.
        let luggage = |i: usize| !parking(i) && (i >= 3_600 || i % 50 == 1);
        let mut ids: Vec<PetitionId> = Vec::with_capacity(LETTERS);
        let mut loader = s.bulk_loader(o.id).await.expect("loader");
        let mut batch = Vec::new();
        for i in 0..LETTERS {
            // Titles of one length, so every parking letter ranks the same.
            let (title, content) = if parking(i) {
                (
                    format!("停车场排队太久 第{i:04}号"),
                    "晚上停车排队很久，希望改进。",
                )
            } else if luggage(i) {
                (
                    format!("航站楼空调太冷 第{i:04}号"),
                    "候机厅温度太低，行李也很重。",
                )
            } else {
                (format!("航站楼空调太冷 第{i:04}号"), "候机厅温度太低，希望调高。")
            };
            let mut m = matter(
                Channel::Website,
                PetitionType::Suggestion,
                &title,
                content,
                vec![caller("旅客", &format!("137{:08}", i))],
            );
            m.received_at = Some(start + Duration::minutes(i as i64));
            let built = MatterBuilder::register(&cx, &clerk, m).expect("bulk register");
            ids.push(built.matter().id);
            batch.push(built.finish().expect("rows"));
            if batch.len() == 50 {
                loader.load(std::mem::take(&mut batch)).await.expect("batch");
                b.skip_seqs(2_000).await;
            }
        }
        loader.load(batch).await.expect("last batch");
        loader.finish().await.expect("finish");

        let newest = |keep: &dyn Fn(usize) -> bool| -> Vec<PetitionId> {
            (0..LETTERS).rev().filter(|&i| keep(i)).map(|i| ids[i]).collect()
        };
        let parking_letters = newest(&parking);
        let page_of = |page: usize| parking_letters[(page - 1) * 20..page * 20].to_vec();
        let got_of = async |q: &str, order: ListOrder, page: u32| {
            let f = MatterFilter {
                q: Some(q.to_string()),
                order,
                page,
                ..filter()
            };
            let p = s.list_matters(&o.supervisor, &f).await.expect("list");
            assert_eq!((p.total, p.total_exact), (COUNT_CAP, false));
            p.items.iter().map(|m| m.id).collect::<Vec<_>>()
        };
        let got = async |order: ListOrder, page: u32| got_of("停车", order, page).await;
        // Page 26 needs 8 matches below the walk, page 30 88 (eras), page 40 288 and page 50
        // 488 (blocks, more than a block's expected 200).
        for page in [1, 26, 30, 40, 50] {
            assert_eq!(
                got(ListOrder::Newest, page).await,
                page_of(page as usize),
                "page {page}"
            );
        }
        for page in [1, 26, 27, 49, 50] {
            assert_eq!(
                got(ListOrder::Relevance, page).await,
                page_of(page as usize),
                "ranked page {page}"
            );
        }
        assert!(got(ListOrder::Relevance, 51).await.is_empty());
        // The last page of 行李 (1,872 letters) needs 336 matches below the walk: by eras, as
        // the walk's density promises, then by blocks for the one-in-fifty letters below them.
        let luggage_letters = newest(&luggage);
        assert_eq!(luggage_letters.len(), 1_872);
        for page in [77, 90, 94] {
            let start = (page - 1) * 20;
            let expected = &luggage_letters[start..(start + 20).min(luggage_letters.len())];
            assert_eq!(
                got_of("行李", ListOrder::Newest, page as u32).await,
                expected,
                "行李 page {page}"
            );
        }
    }
}
