//! List filters, paging and Chinese full-text search over HTTP.

use crate::helpers::{TestApp, ids, spawn_app, with_query};
use serde_json::json;
use std::collections::BTreeSet;

/// (channel, title, content, about parking)
const MATTERS: [(&str, &str, &str, bool); 10] = [
    (
        "walk_in",
        "停车场收费过高",
        "T2航站楼停车场收费标准太高，希望降低费用。",
        true,
    ),
    (
        "phone",
        "夜间停车位不足",
        "晚上停车位紧张，接人时没有地方停车。",
        true,
    ),
    (
        "hotline12345",
        "机场大巴夜间停运",
        "夜间航班落地后机场大巴已停运，希望增开线路。",
        false,
    ),
    (
        "letter",
        "出租车拒载短途乘客",
        "出租车司机拒载短途乘客，要求加价。",
        false,
    ),
    (
        "phone",
        "行李丢失要求赔偿",
        "托运行李到达后丢失，航空公司迟迟不赔偿。",
        false,
    ),
    (
        "walk_in",
        "安检排队时间太长",
        "早高峰安检排队超过一小时，险些误机。",
        false,
    ),
    (
        "email",
        "卫生间保洁不及时",
        "C区卫生间地面湿滑，保洁不及时。",
        false,
    ),
    (
        "phone",
        "航班延误无人解释",
        "航班延误三小时，登机口没有工作人员解释。",
        false,
    ),
    (
        "website",
        "餐饮价格过高",
        "航站楼内一碗面卖到八十元，价格过高。",
        false,
    ),
    (
        "walk_in",
        "临时停车区被占用",
        "到达层临时停车区被私家车长期占用。",
        true,
    ),
];

async fn register_all(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (channel, title, content, _)) in MATTERS.iter().enumerate() {
        let reg = app
            .register_with(json!({
                "channel": channel,
                "title": title,
                "content": content,
                "petitioner": {"name": format!("旅客{i}"), "phone": format!("1390000{:04}", i)},
            }))
            .await;
        out.push(reg.id);
        // Distinct registration times, so "newest first" is well defined.
        app.advance(chrono::Duration::minutes(10));
    }
    out
}

fn set(v: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

#[tokio::test]
async fn search_filters_and_pages() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let clerk = s.get("clerk");
    let all = register_all(&app).await;

    let list = app.get_as(clerk, "/api/v1/matters").await;
    let list = list.expect(200);
    assert_eq!(list["total"], 10);
    assert_eq!(list["page"], 1);
    assert_eq!(list["per_page"], 20);
    // Newest first.
    let newest_first: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(ids(list), newest_first);
    let first = &list["items"][0];
    assert_eq!(first["title"], "临时停车区被占用");
    assert_eq!(first["channel"], "walk_in");
    assert_eq!(first["state"], "registered");
    assert_eq!(first["deadline_status"], "on_track");

    // Full-text search in Chinese: only the parking matters.
    let parking: Vec<String> = MATTERS
        .iter()
        .zip(&all)
        .filter(|(m, _)| m.3)
        .map(|(_, id)| id.clone())
        .collect();
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "停车")]))
        .await;
    let found = r.expect(200);
    assert_eq!(set(ids(found)), set(parking.clone()), "{}", r.text);
    assert_eq!(found["total"], 3);
    // Content is searched, not only titles; every word must match.
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "安检")]))
        .await;
    assert_eq!(ids(r.expect(200)), [all[5].as_str()]);
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "机场大巴")]))
        .await;
    assert_eq!(ids(r.expect(200)), [all[2].as_str()]);
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "停车 行李")]))
        .await;
    assert_eq!(r.expect(200)["total"], 0);
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "高铁")]))
        .await;
    assert_eq!(r.expect(200)["total"], 0);
    // Query syntax is only text: quotes and stars are dropped, and "OR" is one more word that
    // must match.
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "\"停车\"*")]))
        .await;
    assert_eq!(set(ids(r.expect(200))), set(parking.clone()));
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "停车 OR 行李")]))
        .await;
    assert_eq!(r.expect(200)["total"], 0);
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "，。！")]))
        .await;
    assert_eq!(r.expect(200)["total"], 0);

    // By channel.
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("channel", "phone")]))
        .await;
    assert_eq!(
        set(ids(r.expect(200))),
        set([all[1].clone(), all[4].clone(), all[7].clone()])
    );
    let r = app
        .get_as(
            clerk,
            &with_query("/api/v1/matters", &[("channel", "walk_in"), ("q", "停车")]),
        )
        .await;
    assert_eq!(set(ids(r.expect(200))), set([all[0].clone(), all[9].clone()]));

    // By state, one or several.
    for id in [&all[0], &all[3]] {
        app.transition(clerk, id, "accept", json!({})).await.expect(200);
    }
    app.transition(
        clerk,
        &all[6],
        "decline",
        json!({"reason": "out_of_scope", "text": "不属于本单位"}),
    )
    .await
    .expect(200);
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("state", "accepted")]))
        .await;
    assert_eq!(set(ids(r.expect(200))), set([all[0].clone(), all[3].clone()]));
    let r = app
        .get_as(
            clerk,
            &with_query("/api/v1/matters", &[("state", "accepted,not_accepted")]),
        )
        .await;
    assert_eq!(r.expect(200)["total"], 3);
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("state", "registered")]))
        .await;
    assert_eq!(r.expect(200)["total"], 7);

    // By unit and by category once assigned.
    app.transition(
        clerk,
        &all[0],
        "classify",
        json!({"category_id": app.categories.parking, "petition_type": "appeal"}),
    )
    .await
    .expect(200);
    app.transition(
        clerk,
        &all[0],
        "assign",
        json!({"lead_unit_id": app.units.ground}),
    )
    .await
    .expect(200);
    let r = app
        .get_as(
            clerk,
            &with_query("/api/v1/matters", &[("unit_id", &app.units.ground.to_string())]),
        )
        .await;
    assert_eq!(ids(r.expect(200)), [all[0].as_str()]);
    let r = app
        .get_as(
            clerk,
            &with_query(
                "/api/v1/matters",
                &[("category_id", &app.categories.parking.to_string())],
            ),
        )
        .await;
    assert_eq!(ids(r.expect(200)), [all[0].as_str()]);
    // The unit's handler finds its matter by search, and only that one.
    let r = app
        .get_as(s.get("handler"), &with_query("/api/v1/matters", &[("q", "停车")]))
        .await;
    assert_eq!(ids(r.expect(200)), [all[0].as_str()]);

    // Paging: total counts every match on every page.
    let mut seen = Vec::new();
    for page in 1..=4 {
        let page = page.to_string();
        let r = app
            .get_as(
                clerk,
                &with_query("/api/v1/matters", &[("per_page", "3"), ("page", &page)]),
            )
            .await;
        let p = r.expect(200);
        assert_eq!(p["total"], 10, "page {page}");
        assert_eq!(p["per_page"], 3);
        let got = ids(p);
        assert_eq!(got.len(), if page == "4" { 1 } else { 3 }, "page {page}");
        seen.extend(got);
    }
    assert_eq!(seen, newest_first);
    let r = app
        .get_as(
            clerk,
            &with_query("/api/v1/matters", &[("per_page", "3"), ("page", "5")]),
        )
        .await;
    let p = r.expect(200);
    assert_eq!(p["items"], json!([]));
    assert_eq!(p["total"], 10);

    // By registration date (Beijing days): all ten were registered on 10 March 2025.
    let r = app
        .get_as(
            clerk,
            &with_query("/api/v1/matters", &[("from", "2025-03-10"), ("to", "2025-03-11")]),
        )
        .await;
    assert_eq!(r.expect(200)["total"], 10);
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("from", "2025-03-11")]))
        .await;
    assert_eq!(r.expect(200)["total"], 0);
}

#[tokio::test]
async fn deadline_status_follows_the_clock() {
    let app = spawn_app().await;
    let s = app.login("clerk").await;
    let reg = app.register_matter("停车场收费过高", "收费标准太高").await;
    let status = |st: &'static str| with_query("/api/v1/matters", &[("deadline_status", st)]);

    assert_eq!(
        ids(app.get_as(&s, &status("on_track")).await.expect(200)),
        [reg.id.as_str()]
    );
    assert_eq!(app.get_as(&s, &status("overdue")).await.expect(200)["total"], 0);
    // The office has 15 days to decide on acceptance.
    app.advance(chrono::Duration::days(16));
    assert_eq!(
        ids(app.get_as(&s, &status("overdue")).await.expect(200)),
        [reg.id.as_str()]
    );
    assert_eq!(app.get_as(&s, &status("on_track")).await.expect(200)["total"], 0);
    let m = app.get_as(&s, &format!("/api/v1/matters/{}", reg.id)).await;
    let m = m.expect(200);
    assert_eq!(m["deadline"]["status"], "overdue");
    assert_eq!(m["deadline"]["kind"], "acceptance");
}

/// `sort=relevance`: the matter that is most about the words comes first, whenever it was
/// registered; the total is the same as newest first; filters still apply; and asking for it
/// without words, or for an order that does not exist, is a clear error.
#[tokio::test]
async fn search_by_relevance() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let clerk = s.get("clerk");
    let letters = [
        // (channel, title, content), oldest first.
        ("letter", "停车问题", "停车难，停车贵，停车场停车秩序混乱。"),
        (
            "phone",
            "出租车排队太久",
            "出租车排队一个小时，附近也没有地方停车，接人很不方便，希望增加运力。",
        ),
        (
            "walk_in",
            "行李丢失要求赔偿",
            "托运行李到达后丢失，航空公司迟迟不赔偿。",
        ),
        (
            "phone",
            "航站楼收费不合理",
            "停车收费太高，餐饮也贵，停车缴费还要排队。",
        ),
    ];
    let mut ids_in_order = Vec::new();
    for (i, (channel, title, content)) in letters.iter().enumerate() {
        let reg = app
            .register_with(json!({
                "channel": channel,
                "title": title,
                "content": content,
                "petitioner": {"name": format!("旅客{i}"), "phone": format!("1380000{i:04}")},
            }))
            .await;
        ids_in_order.push(reg.id);
        app.advance(chrono::Duration::minutes(10));
    }
    let [much, once, _luggage, twice] = [0, 1, 2, 3].map(|i| ids_in_order[i].clone());

    let newest = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "停车")]))
        .await;
    let newest = newest.expect(200);
    assert_eq!(ids(newest), [twice.as_str(), once.as_str(), much.as_str()]);
    let r = app
        .get_as(
            clerk,
            &with_query("/api/v1/matters", &[("q", "停车"), ("sort", "relevance")]),
        )
        .await;
    let ranked = r.expect(200);
    assert_eq!(
        ids(ranked),
        [much.as_str(), twice.as_str(), once.as_str()],
        "{}",
        r.text
    );
    assert_eq!(ranked["total"], 3);
    assert_eq!(ranked["total_exact"], true);

    // Paging goes through the ranking, and a page past it is empty with the same total.
    let r = app
        .get_as(
            clerk,
            &with_query(
                "/api/v1/matters",
                &[
                    ("q", "停车"),
                    ("sort", "relevance"),
                    ("per_page", "2"),
                    ("page", "2"),
                ],
            ),
        )
        .await;
    assert_eq!(ids(r.expect(200)), [once.as_str()]);
    let r = app
        .get_as(
            clerk,
            &with_query(
                "/api/v1/matters",
                &[
                    ("q", "停车"),
                    ("sort", "relevance"),
                    ("per_page", "2"),
                    ("page", "3"),
                ],
            ),
        )
        .await;
    let past = r.expect(200);
    assert!(past["items"].as_array().is_some_and(|a| a.is_empty()));
    assert_eq!(past["total"], 3);

    // With a filter the ranking is of the filtered matches.
    let r = app
        .get_as(
            clerk,
            &with_query(
                "/api/v1/matters",
                &[("q", "停车"), ("sort", "relevance"), ("channel", "phone")],
            ),
        )
        .await;
    assert_eq!(ids(r.expect(200)), [twice.as_str(), once.as_str()]);
    // And of the matches in a state (an open one, which both engines find their own way).
    for id in [&much, &once] {
        app.transition(clerk, id, "accept", json!({})).await.expect(200);
    }
    let r = app
        .get_as(
            clerk,
            &with_query(
                "/api/v1/matters",
                &[("q", "停车"), ("sort", "relevance"), ("state", "accepted")],
            ),
        )
        .await;
    assert_eq!(ids(r.expect(200)), [much.as_str(), once.as_str()]);

    app.get_as(clerk, &with_query("/api/v1/matters", &[("sort", "relevance")]))
        .await
        .expect_error(422, "needs_query", Some("sort"));
    app.get_as(
        clerk,
        &with_query("/api/v1/matters", &[("q", "停车"), ("sort", "best")]),
    )
    .await
    .expect_error(422, "invalid_value", Some("sort"));
    let r = app
        .get_as(
            clerk,
            &with_query("/api/v1/matters", &[("q", "停车"), ("sort", "newest")]),
        )
        .await;
    assert_eq!(ids(r.expect(200)), [twice.as_str(), once.as_str(), much.as_str()]);
}

/// A node's index upkeep merges the search index's recent entries (on PostgreSQL the GIN
/// pending list, which every search reads whole) at its first tick: the registrations' pages
/// are merged, nothing is left, and the search box finds the same letters. Only the
/// PostgreSQL run (CI's) can fail the first checks: SQLite never has anything to merge.
#[tokio::test]
async fn the_index_upkeep_merges_the_search_index() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let clerk = s.get("clerk");
    let all = register_all(&app).await;
    // Told to stop before it starts: it merges once and returns.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    stop.send(true).expect("the loop listens");
    let merged = xinfang_server::background::run_upkeep(
        app.store.clone(),
        std::time::Duration::from_secs(3600),
        stopped,
    )
    .await;
    if app.on_postgres() {
        assert!(merged > 0, "the registrations' entries were pending");
    } else {
        assert_eq!(merged, 0);
    }
    assert_eq!(
        app.store.tidy_search_index().await.expect("tidy"),
        0,
        "the upkeep left nothing to merge"
    );
    let r = app
        .get_as(clerk, &with_query("/api/v1/matters", &[("q", "停车")]))
        .await;
    let parking: BTreeSet<String> = MATTERS
        .iter()
        .zip(&all)
        .filter(|(m, _)| m.3)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(set(ids(r.expect(200))), parking, "{}", r.text);
}
