//! Intake at registration: a safety alert for the petition office at once, the triage a clerk
//! confirms, duplicate/repeat/joint links to earlier matters, and the lexicon admins edit.

use crate::helpers::{PHONE, Registered, Session, TestApp, spawn_app};
use chrono::Duration;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

const TAXI: &str = "T2航站楼到达层出租车排队秩序混乱，有人插队加价，保安不管，多次反映没有结果，请尽快整治。";
/// [`TAXI`] as the same person writes it again a few days later.
const TAXI_AGAIN: &str =
    "T2航站楼到达层出租车排队秩序很乱，有人插队加价，保安不管，多次反映都没有结果，请尽快整治。";
const TOILETS: &str = "候机区卫生间长时间没有保洁，地面湿滑，洗手液也经常缺货，希望加强管理。";

async fn register(app: &TestApp, content: &str, phone: &str) -> Registered {
    app.register_with(json!({
        "channel": "phone",
        "title": "来电反映",
        "content": content,
        "petitioner": {"name": "王建国", "phone": phone},
    }))
    .await
}

async fn links(app: &TestApp, s: &Session, id: &str) -> Vec<Value> {
    app.get_as(s, &format!("/api/v1/matters/{id}/links"))
        .await
        .expect(200)
        .as_array()
        .expect("links are an array")
        .clone()
}

/// The reminders of kind `safety_alert` that `s` sees.
async fn safety_alerts(app: &TestApp, s: &Session) -> Vec<Value> {
    app.get_as(s, "/api/v1/reminders")
        .await
        .expect(200)
        .as_array()
        .expect("reminders")
        .iter()
        .filter(|r| r["kind"] == "safety_alert")
        .cloned()
        .collect()
}

async fn put_lexicon(app: &TestApp, s: &Session, content_type: &str, body: String) -> crate::helpers::Reply {
    let resp = app
        .client
        .put(app.url("/api/v1/admin/lexicon"))
        .header(COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("request reaches the server");
    TestApp::read(resp).await
}

/// A letter too long to be read on the request's own thread (a pasted essay) goes to the
/// blocking pool, with the same outcome as a short one: its alert is raised, and the same
/// letter sent again is linked to it as the same petition received twice.
#[tokio::test]
async fn a_pasted_essay_is_read_like_a_short_letter() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let essay = format!("我要跳楼！{}今天再不解决我就从航站楼上跳下去。", TAXI.repeat(40));
    assert!(essay.len() > 4 * 1024, "longer than what is read inline");
    let first = register(&app, &essay, PHONE).await;
    let again = register(&app, &essay, PHONE).await;

    let seen = safety_alerts(&app, s.get("supervisor")).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    let l = links(&app, s.get("clerk"), &again.id).await;
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0]["kind"], "duplicate");
    assert_eq!(l[0]["matter_id"], first.id.as_str());
}

#[tokio::test]
async fn self_harm_words_alert_the_petition_office_at_once() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let m = register(
        &app,
        "我要跳楼！停车场收费的事拖了半年没人管，今天再不解决我就从航站楼上跳下去。",
        PHONE,
    )
    .await;

    let seen = safety_alerts(&app, s.get("supervisor")).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["matter_id"], m.id.as_str());
    assert_eq!(seen[0]["label_zh"], "安全预警");
    assert_eq!(seen[0]["unit_id"], app.units.office.to_string());
    assert_eq!(seen[0]["tracking_code"], m.tracking_code.as_str());
    assert!(safety_alerts(&app, s.get("handler2")).await.is_empty());

    let events: Vec<Value> = app
        .timeline(s.get("supervisor"), &m.id)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "safety_alert")
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor_kind"], "system");

    let t = app
        .get_as(s.get("clerk"), &format!("/api/v1/matters/{}/triage", m.id))
        .await;
    let t = t.expect(200);
    assert_eq!(t["alerts"][0]["category"], "self_harm");
    assert_eq!(t["alerts"][0]["label_zh"], "自伤");
    assert_eq!(t["suggested_urgency"], "critical");
    assert_eq!(t["current_urgency"], "normal");
    assert_eq!(
        t["raise_urgency"], true,
        "the clerk confirms the urgency at classification"
    );
    assert!(t["emotional_intensity"].as_f64().expect("intensity") > 0.5);

    // Once handled by 航站楼管理部's neighbour unit, still nothing for 航站楼管理部's handler.
    app.assign_to_ground(&s, &m.id, "appeal").await;
    assert!(safety_alerts(&app, s.get("handler2")).await.is_empty());
    app.get_as(s.get("handler2"), &format!("/api/v1/matters/{}/triage", m.id))
        .await
        .expect_error(404, "not_found", None);
}

#[tokio::test]
async fn public_submissions_are_triaged_too() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let r = app
        .post_public(
            "/api/v1/public/matters",
            json!({
                "title": "投诉无门",
                "content": "行李丢失一个月没有答复，我真的不想活了。",
                "petitioner": {"name": "林晓梅", "phone": "13698765432"},
            }),
        )
        .await;
    let m = TestApp::registered(r.expect(201));
    let seen = safety_alerts(&app, s.get("supervisor")).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["matter_id"], m.id.as_str());
}

#[tokio::test]
async fn the_same_phone_again_is_linked_to_the_first_matter() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let first = register(&app, TAXI, PHONE).await;
    app.advance(Duration::days(3));
    let again = register(&app, TAXI_AGAIN, PHONE).await;

    let l = links(&app, s.get("clerk"), &again.id).await;
    assert_eq!(l.len(), 1, "{l:?}");
    // Unanswered and days apart: the same petition received twice (重复登记).
    assert_eq!(l[0]["kind"], "duplicate");
    assert_eq!(l[0]["label_zh"], "重复登记");
    assert_eq!(l[0]["direction"], "earlier");
    assert_eq!(l[0]["matter_id"], first.id.as_str());
    assert_eq!(l[0]["tracking_code"], first.tracking_code.as_str());
    assert_eq!(l[0]["title"], "来电反映");
    assert!(l[0]["similarity"].as_f64().expect("similarity") >= 0.7);
    let back = links(&app, s.get("clerk"), &first.id).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["direction"], "later");
    assert_eq!(back[0]["matter_id"], again.id.as_str());

    // Answered, and the petitioner comes back three weeks later: a repeat petition (重复信访).
    app.in_progress(&s, &first.id).await;
    app.reply(&s, &first.id, "已协调出租车调度站加强现场管理。").await;
    app.advance(Duration::days(21));
    let third = register(&app, TAXI_AGAIN, PHONE).await;
    let l = links(&app, s.get("clerk"), &third.id).await;
    let first_link = l
        .iter()
        .find(|x| x["matter_id"] == first.id.as_str())
        .expect("linked to the answered matter");
    assert_eq!(first_link["kind"], "repeat");
    assert_eq!(first_link["label_zh"], "重复信访");

    // The repeat rate counts the third matter only: the second was the same petition twice.
    let day = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&xinfang_core::clock::china_offset())
            .format("%Y-%m-%d")
            .to_string()
    };
    let (from, to) = (day(app.now() - Duration::days(24)), day(app.now()));
    let path = format!("/api/v1/metrics/repeat-rate?from={from}&to={to}");
    let r = app.get_as(s.get("analyst"), &path).await;
    let r = r.expect(200);
    assert_eq!(r["label_zh"], "重复信访率");
    assert_eq!(r["current"]["registered"], 3, "{r}");
    assert_eq!(r["current"]["repeats"], 1);
    assert!((r["current"]["rate"]["value"].as_f64().unwrap_or(0.0) - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(r["previous_month"]["registered"], 0);
    assert!(r["mom"].is_null(), "no change from nothing: {r}");
    // Only the third day counted: no repeat yet.
    let first_days = format!(
        "/api/v1/metrics/repeat-rate?from={from}&to={}",
        day(app.now() - Duration::days(21))
    );
    let r = app.get_as(s.get("leader"), &first_days).await;
    assert_eq!(r.expect(200)["current"]["repeats"], 0);
    app.get_as(s.get("handler"), &path)
        .await
        .expect_error(403, "role_required", None);
    app.get_as(s.get("analyst"), "/api/v1/metrics/repeat-rate?from=2026-13-01")
        .await
        .expect_error(422, "invalid_date", Some("from"));
}

#[tokio::test]
async fn another_phone_with_the_same_text_is_a_joint_petition_and_other_texts_are_not_linked() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let first = register(&app, TAXI, PHONE).await;
    let other = register(&app, TAXI, "13900002222").await;
    let l = links(&app, s.get("clerk"), &other.id).await;
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0]["kind"], "joint");
    assert_eq!(l[0]["label_zh"], "联名信访");
    assert_eq!(l[0]["matter_id"], first.id.as_str());

    let unrelated = register(&app, TOILETS, PHONE).await;
    assert!(links(&app, s.get("clerk"), &unrelated.id).await.is_empty());
    // Replaying an external id runs nothing again and links nothing.
    let body = json!({"channel": "hotline12345", "external_id": "GD-2025-0001", "title": "来电反映",
        "content": TOILETS, "petitioner": {"name": "王建国", "phone": PHONE}});
    let r = app.register_with(body.clone()).await;
    let replay = app.post_bearer(&app.clerk_token, "/api/v1/matters", body).await;
    assert_eq!(replay.expect(200)["id"], r.id.as_str());
    let l = links(&app, s.get("clerk"), &r.id).await;
    assert_eq!(l.len(), 1, "only the toilets matter, once: {l:?}");
}

#[tokio::test]
async fn admins_edit_the_lexicon_and_bad_lines_save_nothing() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let admin = s.get("admin");
    const TERM: &str = "冲跑道";
    let text = format!("机场噪音扰民多年无人理睬，我们准备组织村民去{TERM}讨说法。");

    let current = app.get_as(admin, "/api/v1/admin/lexicon").await;
    let current = current.expect(200);
    assert_eq!(current["source"], "builtin");
    assert_eq!(current["revision"], 0);
    let csv = current["csv"].as_str().expect("csv").to_string();
    app.get_as(s.get("clerk"), "/api/v1/admin/lexicon")
        .await
        .expect_error(403, "role_required", None);

    // Before: the term means nothing.
    let before = register(&app, &text, PHONE).await;
    let t = app
        .get_as(s.get("clerk"), &format!("/api/v1/matters/{}/triage", before.id))
        .await;
    assert!(t.expect(200)["alerts"].as_array().expect("alerts").is_empty());

    // Two bad lines (3 and 5 of the file): both reported, nothing saved.
    let bad = "term,kind,value,weight\n举报,petition_type,report,2\n闹事,alarm,violence,\n投诉,petition_type,appeal,1\n气死,emotion,,heavy\n";
    let r = put_lexicon(&app, admin, "text/csv", bad.to_string()).await;
    let err = r.expect_error(422, "invalid_lexicon", Some("lines:3,5"));
    let msg = err["message"].as_str().expect("message");
    assert!(msg.contains("第 3 行") && msg.contains("第 5 行"), "{msg}");
    assert!(err["message_en"].as_str().expect("en").contains("line 3"));
    let after_bad = app.get_as(admin, "/api/v1/admin/lexicon").await;
    assert_eq!(after_bad.expect(200)["revision"], 0, "nothing was saved");

    let with_term = format!("{}\n{TERM},alert,group_gathering,\n", csv.trim_end());
    let r = put_lexicon(&app, admin, "text/csv", with_term).await;
    let saved = r.expect(200);
    assert_eq!(saved["source"], "organisation");
    assert_eq!(saved["revision"], 1);
    assert!(saved["csv"].as_str().expect("csv").contains(TERM));

    let after = register(&app, &text, "13900003333").await;
    let seen = safety_alerts(&app, s.get("supervisor")).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["matter_id"], after.id.as_str());
    let t = app
        .get_as(s.get("clerk"), &format!("/api/v1/matters/{}/triage", after.id))
        .await;
    let t = t.expect(200);
    assert_eq!(t["alerts"][0]["term"], TERM);
    assert_eq!(t["lexicon_revision"], 1);

    // JSON works too, and a non-admin may not save.
    let json_body = json!({"entries": [{"term": TERM, "kind": "alert", "category": "group_gathering"}]});
    let r = put_lexicon(&app, admin, "application/json", json_body.to_string()).await;
    assert_eq!(r.expect(200)["revision"], 2);
    let r = put_lexicon(&app, s.get("clerk"), "application/json", json_body.to_string()).await;
    r.expect_error(403, "role_required", None);
}

/// A matter registered behind the server's back (as the bulk loader does): no intake ran.
async fn register_without_intake(app: &TestApp, content: &str) -> String {
    use xinfang_core::matter::{Channel, PetitionType, Urgency};
    use xinfang_core::org::Actor;
    use xinfang_core::petitioner::PhoneNumber;
    use xinfang_core::text::{Content, PersonName, Title};
    let m = xinfang_store::NewMatter {
        channel: Channel::Letter,
        external_id: None,
        title: Title::parse("来信反映").expect("title"),
        content: Content::parse(content).expect("content"),
        location: None,
        petition_type: Some(PetitionType::Appeal),
        urgency: Urgency::Normal,
        people_count: 1,
        petitioners: vec![xinfang_store::NewPetitioner {
            name: Some(PersonName::parse("王建国").expect("name")),
            phone: Some(PhoneNumber::parse(PHONE).expect("phone")),
            id_document: None,
            address: None,
        }],
        received_at: None,
        raw_payload: None,
    };
    app.store
        .register_matter(app.org, &Actor::System, m)
        .await
        .expect("registered")
        .id
        .to_string()
}

#[tokio::test]
async fn the_backfill_gives_matters_without_intake_their_links_and_no_stale_alarm() {
    let app = spawn_app().await;
    let supervisor = app.login("supervisor").await;
    let first = register_without_intake(&app, TAXI).await;
    let alarming = register_without_intake(&app, "我在航站楼等了三天没人管，再不解决我就去跳楼。").await;
    app.advance(Duration::days(3));
    let second = register_without_intake(&app, TAXI_AGAIN).await;
    let triage = |id: String| {
        let (app, s) = (&app, &supervisor);
        async move { app.get_as(s, &format!("/api/v1/matters/{id}/triage")).await }
    };
    triage(second.clone())
        .await
        .expect_error(404, "not_assessed", None);

    let intake = xinfang_server::intake::Intake::default();
    let done = backfill(&app, &intake, Duration::zero()).await;
    assert_eq!(done, (3, 0));
    let links = app
        .get_as(&supervisor, &format!("/api/v1/matters/{second}/links"))
        .await;
    let links = links.expect(200).as_array().cloned().unwrap_or_default();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0]["matter_id"], first.as_str());
    // The old letter's alert is recorded in its triage, but nobody is alarmed three days late.
    let t = triage(alarming.clone()).await;
    assert!(
        t.expect(200)["alerts"].as_array().is_some_and(|a| !a.is_empty()),
        "{}",
        t.text
    );
    let reminders = app.get_as(&supervisor, "/api/v1/reminders").await;
    assert_eq!(reminders.expect(200).as_array().map(Vec::len), Some(0));
    // Nothing left to do.
    let again = backfill(&app, &intake, Duration::zero()).await;
    assert_eq!(again, (0, 0));
}

/// One backfill run with `budget` of time.
async fn backfill(app: &TestApp, intake: &xinfang_server::intake::Intake, budget: Duration) -> (u32, u32) {
    let budget = budget.to_std().expect("a budget is not negative");
    xinfang_server::background::backfill_intake(app.store.as_ref(), intake, app.org, app.now(), budget)
        .await
        .expect("backfill")
}

/// A backlog larger than a batch (200) is worked through in one run when the run has the time,
/// and a run without time still takes one whole batch, so every run makes progress.
#[tokio::test]
async fn one_backfill_run_takes_batch_after_batch_while_it_has_time() {
    let app = spawn_app().await;
    for i in 0..450 {
        register_without_intake(
            &app,
            &format!("第{i}号来信：航站楼{i}号登机口附近的座椅损坏，希望尽快维修。"),
        )
        .await;
    }
    let intake = xinfang_server::intake::Intake::default();
    assert_eq!(backfill(&app, &intake, Duration::zero()).await, (200, 0));
    assert_eq!(backfill(&app, &intake, Duration::hours(1)).await, (250, 0));
    assert_eq!(backfill(&app, &intake, Duration::hours(1)).await, (0, 0));
}
