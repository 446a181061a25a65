//! Two app nodes on one PostgreSQL database behave as one system: a session made on one works
//! on the other, both nodes run their background loops and yet a deadline crossing is one event
//! and one reminder, a daily report is written once, registrations on both stay unique, and a
//! matter registered on one node is found as a duplicate by the other's in-memory index.
//!
//! Runs only with `XINFANG_TEST_POSTGRES_URL` (SQLite is one process's file). The nodes' clock
//! is the tests' fixed clock: a background job is due again only when the test moves it, so
//! what runs is decided by the test, and the test waits for the record of a run, never a time.

use crate::helpers::*;
use chrono::Duration;
use serde_json::{Value, json};
use std::future::Future;
use xinfang_server::Config;
use xinfang_server::background::Background;

fn node_config(name: &str) -> Config {
    Config {
        session_hours: 24 * 365,
        background: Some(Background {
            node: name.to_string(),
            scan_every: std::time::Duration::from_millis(20),
            batch: 500,
        }),
        ..Config::default()
    }
}

/// Polls `check` until it answers `Some`, for at most 20 seconds (a wedged node fails the test
/// instead of hanging it).
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(std::time::Instant::now() < give_up, "gave up waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The record of `job` once its run number `run` has finished (on whichever node).
async fn finished_run(app: &TestApp, s: &Session, job: &str, run: i64) -> Value {
    eventually(&format!("run {run} of {job}"), || async {
        let jobs = app.get_as(s, "/api/v1/jobs").await;
        let jobs = jobs.expect(200).as_array().cloned().unwrap_or_default();
        jobs.into_iter().find(|j| {
            j["name"] == job
                && j["runs"].as_i64() == Some(run)
                && j["last_result"].is_string()
                && j["last_finished_at"].as_str() >= j["last_started_at"].as_str()
        })
    })
    .await
}

fn count_kind(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["kind"] == kind).count()
}

#[tokio::test]
async fn a_session_made_on_one_node_works_on_the_other() {
    let Some((a, b)) = spawn_two_nodes(|_| Config {
        session_hours: 24 * 365,
        ..Config::default()
    })
    .await
    else {
        return;
    };
    let s = a.login("supervisor").await;
    let me = b.get_as(&s, "/api/v1/auth/me").await;
    assert_eq!(
        me.expect(200)["id"],
        a.users["supervisor"].to_string(),
        "{}",
        me.text
    );
    // A write with the session's CSRF token, on the other node.
    let clerk = a.login("clerk").await;
    let r = b.post_as(
        &clerk,
        "/api/v1/matters",
        json!({"channel": "walk_in", "title": "停车场收费标准不清楚", "content": "P2停车场收费标准没有公示，希望公开。",
               "petitioner": {"name": NAME, "phone": PHONE}}),
    );
    let created = TestApp::registered(r.await.expect(201));
    a.get_as(&s, &format!("/api/v1/matters/{}", created.id))
        .await
        .expect(200);
    // Signing out on B ends the session on A too.
    let out = b
        .request(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            Auth::Session(&s),
            None,
        )
        .await;
    assert_eq!(out.status.as_u16(), 204, "{}", out.text);
    a.get_as(&s, "/api/v1/auth/me")
        .await
        .expect_error(401, "session_expired", None);
}

#[tokio::test]
async fn a_deadline_crossing_is_one_event_and_one_reminder_with_two_nodes_scanning() {
    let Some((a, b)) = spawn_two_nodes(node_config).await else {
        return;
    };
    let sup_a = a.login("supervisor").await;
    let sup_b = b.login("supervisor").await;
    // Both nodes tick every 20 ms; the first run of each job happens at start-up.
    let first = finished_run(&a, &sup_a, "deadline_scan", 1).await;
    assert_eq!(first["last_result"], "due_soon=0 overdue=0 more=false");
    // The daily report: written once, by one of the two nodes, and both serve it.
    let report_job = finished_run(&b, &sup_b, "daily_deadline_report", 1).await;
    let training = finished_run(&a, &sup_a, "model_training", 1).await;
    finished_run(&b, &sup_b, "intake_backfill", 1).await;
    assert_eq!(training["last_result"], "skipped: 0 labelled matters (need 30)");
    for (app, s) in [(&a, &sup_a), (&b, &sup_b)] {
        let reports = app.get_as(s, "/api/v1/reports").await;
        let reports = reports.expect(200).as_array().cloned().unwrap_or_default();
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0]["node"], report_job["last_node"]);
        assert_eq!(reports[0]["body"]["registered"], 0);
    }
    let jobs = a.get_as(&sup_a, "/api/v1/jobs").await;
    let runs: Vec<(String, i64)> = jobs
        .expect(200)
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|j| {
            (
                j["name"].as_str().unwrap_or("").to_string(),
                j["runs"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        runs,
        vec![
            ("daily_deadline_report".to_string(), 1),
            ("deadline_scan".to_string(), 1),
            ("intake_backfill".to_string(), 1),
            ("model_training".to_string(), 1)
        ],
        "each job ran once although both nodes tick every 20 ms while the clock stands"
    );

    // Registered on B, left unaccepted; the acceptance deadline passes.
    let m = b
        .register_matter("出租车排队秩序混乱", "T2出租车上客区排队秩序混乱，有人插队。")
        .await;
    a.advance(Duration::days(30));
    finished_run(&b, &sup_b, "deadline_scan", 2).await;
    // And both nodes force a scan at the same time, several times, on top of their loops.
    let forced = futures_join(vec![
        a.post_as(&sup_a, "/api/v1/jobs/deadline_scan/run", json!({})),
        b.post_as(&sup_b, "/api/v1/jobs/deadline_scan/run", json!({})),
        a.post_as(&sup_a, "/api/v1/jobs/deadline_scan/run", json!({})),
        b.post_as(&sup_b, "/api/v1/jobs/deadline_scan/run", json!({})),
    ])
    .await;
    for r in &forced {
        assert_eq!(
            r.expect(200)["overdue"],
            0,
            "already recorded by the loop: {}",
            r.text
        );
    }
    let timeline = a.timeline(&sup_a, &m.id).await;
    assert_eq!(count_kind(&timeline, "deadline_overdue"), 1, "{timeline:?}");
    assert_eq!(
        count_kind(&timeline, "deadline_due_soon"),
        0,
        "first seen already overdue"
    );
    let reminders = b.get_as(&sup_b, "/api/v1/reminders").await;
    let reminders = reminders.expect(200).as_array().cloned().unwrap_or_default();
    let mine: Vec<&Value> = reminders
        .iter()
        .filter(|r| r["matter_id"] == m.id.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{reminders:?}");
    assert_eq!(mine[0]["kind"], "overdue");
    assert_eq!(mine[0]["label_zh"], "已超期");

    // A crossing raced by the forced scans of both nodes and by both loops (due again: the clock moved).
    let second = a
        .register_matter("行李提取等待时间过长", "航班落地后等了一个多小时才拿到行李。")
        .await;
    a.advance(Duration::days(30));
    let raced = futures_join(vec![
        a.post_as(&sup_a, "/api/v1/jobs/deadline_scan/run", json!({})),
        b.post_as(&sup_b, "/api/v1/jobs/deadline_scan/run", json!({})),
        b.post_as(&sup_b, "/api/v1/jobs/deadline_scan/run", json!({})),
        a.post_as(&sup_a, "/api/v1/jobs/deadline_scan/run", json!({})),
    ])
    .await;
    finished_run(&a, &sup_a, "deadline_scan", 3).await;
    for r in &raced {
        r.expect(200);
    }
    let timeline = b.timeline(&sup_b, &second.id).await;
    assert_eq!(count_kind(&timeline, "deadline_overdue"), 1, "{timeline:?}");
    let reminders = a.get_as(&sup_a, "/api/v1/reminders").await;
    let reminders = reminders.expect(200).as_array().cloned().unwrap_or_default();
    assert_eq!(
        reminders
            .iter()
            .filter(|r| r["matter_id"] == second.id.as_str())
            .count(),
        1,
        "{reminders:?}"
    );

    let audit = a.store.verify_audit().await.expect("verify");
    assert!(audit.broken.is_none(), "{:?}", audit.broken);
}

#[tokio::test]
async fn registrations_on_both_nodes_get_distinct_tracking_codes() {
    let Some((a, b)) = spawn_two_nodes(|_| Config::default()).await else {
        return;
    };
    let mut pending = Vec::new();
    for i in 0..16 {
        let node = if i % 2 == 0 { &a } else { &b };
        pending.push(node.post_bearer(
            &node.clerk_token,
            "/api/v1/matters",
            json!({"channel": "hotline12345", "external_id": format!("WO-{i}"),
                   "title": format!("工单{i}：航站楼空调温度过低"), "content": "候机区空调温度太低，老人孩子受不了。",
                   "petitioner": {"name": NAME, "phone": PHONE}}),
        ));
    }
    let answers = futures_join(pending).await;
    let mut codes: Vec<String> = answers
        .iter()
        .map(|r| TestApp::registered(r.expect(201)).tracking_code)
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 16, "every registration has its own code");
    // The same work order pushed to the other node is the same matter.
    let again = b
        .post_bearer(
            &b.clerk_token,
            "/api/v1/matters",
            json!({"channel": "hotline12345", "external_id": "WO-0",
                   "title": "工单0：航站楼空调温度过低", "content": "候机区空调温度太低，老人孩子受不了。",
                   "petitioner": {"name": NAME, "phone": PHONE}}),
        )
        .await;
    let again = again.expect(200);
    assert!(again["secret"].is_null(), "a replay: {again}");
}

#[tokio::test]
async fn a_matter_registered_on_one_node_is_a_duplicate_on_the_other() {
    let Some((a, b)) = spawn_two_nodes(|_| Config::default()).await else {
        return;
    };
    let body = |content: &str| {
        json!({"channel": "phone", "title": "来电反映", "content": content,
               "petitioner": {"name": NAME, "phone": PHONE}})
    };
    const TAXI: &str =
        "T2航站楼到达层出租车排队秩序混乱，有人插队加价，保安不管，多次反映没有结果，请尽快整治。";
    const TAXI_AGAIN: &str =
        "T2航站楼到达层出租车排队秩序很乱，有人插队加价，保安不管，多次反映都没有结果，请尽快整治。";
    // Both nodes have read the (empty) log before either registers: B's index must catch up
    // with A's write, not load it at start.
    let warm = b
        .register_with(body("候机区卫生间长时间没有保洁，地面湿滑，希望加强管理。"))
        .await;
    let first = a.register_with(body(TAXI)).await;
    let again = b.register_with(body(TAXI_AGAIN)).await;
    let s = b.login("clerk").await;
    let links = b.get_as(&s, &format!("/api/v1/matters/{}/links", again.id)).await;
    let links = links.expect(200).as_array().cloned().unwrap_or_default();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0]["kind"], "duplicate");
    assert_eq!(links[0]["matter_id"], first.id.as_str());
    // And the other way round.
    let third = a.register_with(body(TAXI_AGAIN)).await;
    let s = a.login("clerk").await;
    let links = a.get_as(&s, &format!("/api/v1/matters/{}/links", third.id)).await;
    let ids: Vec<String> = links
        .expect(200)
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|l| l["matter_id"].as_str().map(str::to_string))
        .collect();
    assert!(ids.contains(&first.id) && ids.contains(&again.id), "{ids:?}");
    assert!(!ids.contains(&warm.id), "{ids:?}");
}

/// Awaits all futures concurrently (no extra crate for one join).
async fn futures_join<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
