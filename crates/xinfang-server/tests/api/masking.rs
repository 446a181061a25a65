//! Personal data: numbers masked for every role, revealed only to the petition office with an
//! audit event, and the reporter of a 检举控告 hidden from the unit it concerns.

use crate::helpers::{Auth, NAME, PHONE, PHONE_MASKED, USERS, resident_id, spawn_app};
use serde_json::json;

#[tokio::test]
async fn numbers_are_masked_for_every_role() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let id_number = resident_id("11010519491231002");
    let reg = app
        .register_with(json!({
            "channel": "phone",
            "title": "停车场出口拥堵",
            "content": "P2停车场出口排队半小时",
            "petitioner": {"name": NAME, "phone": PHONE, "id_number": id_number, "address": "北京市朝阳区某路1号"},
        }))
        .await;
    // Assigned to 地面交通中心 with the leader as case owner, so every seeded role but the
    // other unit's handler can see it.
    app.assign_to_ground(&s, &reg.id, "appeal").await;

    for who in USERS.iter().filter(|u| **u != "handler2") {
        let r = app
            .get_as(s.get(who), &format!("/api/v1/matters/{}", reg.id))
            .await;
        let m = r.expect(200);
        assert_eq!(m["reporter_confidential"], false, "{who}");
        let p = &m["petitioners"][0];
        assert_eq!(p["phone"], PHONE_MASKED, "{who}");
        assert_eq!(p["name"], NAME, "{who}");
        assert_eq!(p["id_kind"], "resident_id", "{who}");
        assert_eq!(p["id_number"], "110105********002X", "{who}");
        assert!(!r.text.contains(PHONE), "{who} sees the phone: {}", r.text);
        assert!(!r.text.contains(&id_number), "{who} sees the ID number");
        assert!(!r.text.contains("朝阳区"), "{who} sees the address");

        let list = app.get_as(s.get(who), "/api/v1/matters").await;
        assert_eq!(list.expect(200)["total"], 1, "{who}");
        assert!(!list.text.contains(PHONE), "{who}: {}", list.text);
        assert!(!list.text.contains(&id_number), "{who}");
        let tl = app
            .get_as(s.get(who), &format!("/api/v1/matters/{}/timeline", reg.id))
            .await;
        tl.expect(200);
        assert!(!tl.text.contains(PHONE), "{who}: {}", tl.text);
    }
}

#[tokio::test]
async fn reveal_is_for_the_office_and_audited() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = app.register_matter("行李破损赔偿", "托运行李箱轮子被摔坏").await;
    app.assign_to_ground(&s, &reg.id, "appeal").await;
    let reveal = format!("/api/v1/matters/{}/reveal", reg.id);

    for who in ["handler", "unit_head", "leader", "analyst", "admin"] {
        app.post_as(s.get(who), &reveal, json!({}))
            .await
            .expect_error(403, "reveal_forbidden", None);
    }
    let before = app.timeline(s.get("clerk"), &reg.id).await;
    assert!(
        before.iter().all(|e| e["kind"] != "reveal"),
        "a refused reveal left an event"
    );

    let r = app
        .request(
            reqwest::Method::POST,
            &reveal,
            Auth::Session(s.get("clerk")),
            None,
        )
        .await;
    let people = r.expect(200);
    assert_eq!(people[0]["phone"], PHONE);
    assert_eq!(people[0]["name"], NAME);

    let events = app.timeline(s.get("clerk"), &reg.id).await;
    let last = events.last().expect("events");
    // (`kind` itself is checked in `reveal_events_are_named_reveal`.)
    assert_eq!(last["label_zh"], "查看信访人个人信息");
    assert_eq!(last["actor_name"], "李登记");
    // A reveal changes nothing about the matter itself.
    assert_eq!(last["before_state"], last["after_state"]);
    assert_eq!(events.len(), before.len() + 1);

    // The supervisor is part of the office too; the view stays masked afterwards.
    app.post_as(s.get("supervisor"), &reveal, json!({}))
        .await
        .expect(200);
    let m = app
        .get_as(s.get("clerk"), &format!("/api/v1/matters/{}", reg.id))
        .await;
    assert_eq!(m.expect(200)["petitioners"][0]["phone"], PHONE_MASKED);
}

#[tokio::test]
async fn the_reporter_of_a_report_is_hidden_from_the_unit() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = app
        .register_with(json!({
            "channel": "letter",
            "title": "反映某车队负责人收受好处费",
            "content": "某车队负责人向出租车司机收取排队好处费",
            "petition_type": "report",
            "petitioner": {"name": NAME, "phone": PHONE},
        }))
        .await;
    let assigned = app.assign_to_ground(&s, &reg.id, "report").await;
    // The clerk who assigned it sees the reporter.
    assert_eq!(assigned["reporter_confidential"], false);
    assert_eq!(assigned["petitioners"][0]["name"], NAME);

    for who in ["handler", "unit_head", "leader", "analyst", "admin"] {
        let r = app
            .get_as(s.get(who), &format!("/api/v1/matters/{}", reg.id))
            .await;
        let m = r.expect(200);
        assert_eq!(m["reporter_confidential"], true, "{who}");
        assert_eq!(m["petitioners"], json!([]), "{who}");
        assert_eq!(m["matter"]["petitioner_ids"], json!([]), "{who}");
        assert!(!r.text.contains(NAME), "{who} sees the reporter: {}", r.text);
        assert!(!r.text.contains(PHONE_MASKED), "{who}");
        let tl = app
            .get_as(s.get(who), &format!("/api/v1/matters/{}/timeline", reg.id))
            .await;
        tl.expect(200);
        assert!(!tl.text.contains(NAME), "{who}: {}", tl.text);
    }
    // The unit's own transitions answer the same confidential view.
    let r = app
        .transition(s.get("handler"), &reg.id, "start_handling", json!({}))
        .await;
    let m = r.expect(200);
    assert_eq!(m["reporter_confidential"], true);
    assert_eq!(m["petitioners"], json!([]));

    // The office still sees and may reveal the reporter.
    let r = app
        .get_as(s.get("supervisor"), &format!("/api/v1/matters/{}", reg.id))
        .await;
    assert_eq!(r.expect(200)["petitioners"][0]["phone"], PHONE_MASKED);
    let r = app
        .post_as(
            s.get("clerk"),
            &format!("/api/v1/matters/{}/reveal", reg.id),
            json!({}),
        )
        .await;
    assert_eq!(r.expect(200)[0]["phone"], PHONE);
}

#[tokio::test]
async fn reveal_events_are_named_reveal() {
    let app = spawn_app().await;
    let s = app.login("clerk").await;
    let reg = app.register_matter("行李破损赔偿", "托运行李箱轮子被摔坏").await;
    app.post_as(&s, &format!("/api/v1/matters/{}/reveal", reg.id), json!({}))
        .await
        .expect(200);
    let events = app.timeline(&s, &reg.id).await;
    assert_eq!(events.last().expect("events")["kind"], "reveal");
}

/// The petitioner id is the key to every other matter of the same person, so a reveal event
/// must not hand it to the unit of a confidential report.
#[tokio::test]
async fn reveal_events_do_not_leak_the_reporter_to_the_unit() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = app
        .register_with(json!({
            "channel": "letter",
            "title": "反映某车队负责人收受好处费",
            "content": "某车队负责人向出租车司机收取排队好处费",
            "petition_type": "report",
            "petitioner": {"name": NAME, "phone": PHONE},
        }))
        .await;
    let assigned = app.assign_to_ground(&s, &reg.id, "report").await;
    let pid = assigned["petitioners"][0]["id"]
        .as_str()
        .expect("petitioner id")
        .to_string();
    app.post_as(
        s.get("clerk"),
        &format!("/api/v1/matters/{}/reveal", reg.id),
        json!({}),
    )
    .await
    .expect(200);
    let tl = app
        .get_as(s.get("handler"), &format!("/api/v1/matters/{}/timeline", reg.id))
        .await;
    tl.expect(200);
    assert!(!tl.text.contains(&pid), "the reporter's id leaks: {}", tl.text);
}

#[tokio::test]
async fn numbers_typed_into_the_text_are_masked_outside_the_office() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let id_number = resident_id("11010519491231002");
    let reg = app
        .register_with(json!({
            "channel": "phone",
            "title": "回电13912345678：停车费多收",
            "content": format!("停车费多收了二十元，请回电13912345678，身份证{id_number}。"),
            "petitioner": {"name": NAME, "phone": PHONE},
        }))
        .await;
    app.assign_to_ground(&s, &reg.id, "appeal").await;

    // The unit's handler: masked in the matter, the list and the timeline's matter answers.
    let v = app
        .get_as(s.get("handler"), &format!("/api/v1/matters/{}", reg.id))
        .await;
    let v = v.expect(200);
    let content = v["matter"]["content"].as_str().unwrap_or_default();
    assert!(content.contains("139****5678"), "{content}");
    assert!(
        !content.contains("13912345678") && !content.contains(&id_number),
        "{content}"
    );
    assert_eq!(v["matter"]["title"], "回电139****5678：停车费多收");
    let list = app.get_as(s.get("handler"), "/api/v1/matters").await;
    assert!(!list.text.contains("13912345678"), "{}", list.text);
    let moved = app
        .transition(s.get("handler"), &reg.id, "start_handling", json!({}))
        .await;
    assert!(!moved.expect(200).to_string().contains("13912345678"));

    // The petition office's clerk sees the text as written.
    let v = app
        .get_as(s.get("clerk"), &format!("/api/v1/matters/{}", reg.id))
        .await;
    let content = v.expect(200)["matter"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        content.contains("13912345678") && content.contains(&id_number),
        "{content}"
    );
}
