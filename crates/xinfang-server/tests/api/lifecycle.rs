//! The whole lifecycle over HTTP (受理-分类-交办-办理-答复-回访-复查-复核-终结-归档) and the
//! transitions it refuses.

use crate::helpers::{Auth, spawn_app};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

#[tokio::test]
async fn a_matter_goes_through_the_whole_lifecycle() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let (clerk, head) = (s.get("clerk"), s.get("unit_head"));

    let r = app
        .post_as(
            clerk,
            "/api/v1/matters",
            json!({
                "channel": "walk_in",
                "title": "机场大巴夜间停运",
                "content": "夜间航班落地后机场大巴已停运，希望增开夜间线路。",
                "petitioner": {"name": "王建国", "phone": "13812345678"},
            }),
        )
        .await;
    let reg = r.expect(201);
    assert_eq!(reg["state"], "registered");
    assert_eq!(reg["replayed"], false);
    assert!(reg["tracking_code"].as_str().is_some_and(|c| c.starts_with("XF")));
    assert!(reg["secret"].as_str().is_some_and(|c| !c.is_empty()));
    let id = reg["id"].as_str().expect("id").to_string();

    let step = |name: &'static str, who: &'static str, body: Value| {
        let (app, s, id) = (&app, &s, id.clone());
        async move { app.step(s.get(who), &id, name, body).await }
    };

    assert_eq!(
        step("accept", "clerk", json!({"note": "材料齐全"})).await,
        "accepted"
    );
    assert_eq!(
        step(
            "classify",
            "clerk",
            json!({"category_id": app.categories.transport, "petition_type": "appeal", "urgency": "urgent"}),
        )
        .await,
        "classified"
    );
    assert_eq!(
        step(
            "assign",
            "clerk",
            json!({"lead_unit_id": app.units.ground, "note": "请地面交通中心办理"})
        )
        .await,
        "assigned"
    );
    app.advance(Duration::hours(3));
    assert_eq!(step("start_handling", "handler", json!({})).await, "in_progress");

    // The handling deadline: 60 days from acceptance, then 15 more with the extension.
    let before = app.get_as(clerk, &format!("/api/v1/matters/{id}")).await;
    let due_before = time(&before.expect(200)["deadline"]["due_at"]);
    assert_eq!(before.json["deadline"]["kind"], "handling");

    assert_eq!(
        step(
            "request_extension",
            "handler",
            json!({"days": 15, "reason": "需协调公交公司调整班次"})
        )
        .await,
        "in_progress"
    );
    let r = app.transition(head, &id, "approve_extension", json!({})).await;
    let m = r.expect(200);
    assert_eq!(m["matter"]["state"], "in_progress");
    assert_eq!(m["matter"]["extension_used"], true);
    assert_eq!(m["matter"]["extension_days"], 15);
    let due_after = time(&m["deadline"]["due_at"]);
    assert!(
        due_after - due_before >= Duration::days(15),
        "{due_before} → {due_after}"
    );

    step(
        "draft_reply",
        "handler",
        json!({"text": "已协调增开23:30夜间班车。"}),
    )
    .await;
    let r = app.transition(head, &id, "approve_reply", json!({})).await;
    assert!(r.expect(200)["matter"]["reply"]["approved_by"].is_string());

    // The reply went out by post yesterday and is recorded today.
    app.advance(Duration::days(2));
    let now = app.now();
    let yesterday = now - Duration::days(1);
    assert_eq!(
        step(
            "deliver_reply",
            "handler",
            json!({"method": "邮寄", "occurred_at": yesterday})
        )
        .await,
        "replied"
    );
    assert_eq!(
        step(
            "record_satisfaction",
            "clerk",
            json!({"satisfaction": "dissatisfied", "comment": "班次仍不够"})
        )
        .await,
        "follow_up"
    );
    assert_eq!(
        step(
            "request_review",
            "clerk",
            json!({"reason": "信访人认为增开班次不足"})
        )
        .await,
        "review"
    );
    assert_eq!(
        step(
            "answer_review",
            "supervisor",
            json!({"text": "复查认为处理意见适当，维持。"})
        )
        .await,
        "reviewed"
    );
    assert_eq!(
        step(
            "request_recheck",
            "clerk",
            json!({"reason": "信访人不服复查意见"})
        )
        .await,
        "recheck"
    );
    assert_eq!(
        step(
            "answer_recheck",
            "supervisor",
            json!({"text": "复核维持原处理意见，信访事项终结。"})
        )
        .await,
        "concluded"
    );
    assert_eq!(step("archive", "clerk", json!({})).await, "archived");

    let events = app.timeline(clerk, &id).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap_or("?")).collect();
    assert_eq!(
        kinds,
        [
            "register",
            "accept",
            "classify",
            "assign",
            "start_handling",
            "request_extension",
            "approve_extension",
            "draft_reply",
            "approve_reply",
            "deliver_reply",
            "record_satisfaction",
            "request_review",
            "answer_review",
            "request_recheck",
            "answer_recheck",
            "archive",
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().expect("seq")).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // Each event says which state it left and which it entered, and they chain up.
    for w in events.windows(2) {
        assert_eq!(w[0]["after_state"], w[1]["before_state"], "{} → {}", w[0], w[1]);
    }
    assert_eq!(events.last().expect("events")["after_state"], "archived");

    let deliver = &events[9];
    assert_eq!(deliver["kind"], "deliver_reply");
    assert_eq!(time(&deliver["occurred_at"]), yesterday);
    assert_eq!(time(&deliver["recorded_at"]), now);
    assert_eq!(deliver["actor_name"], "陈承办");
    assert_eq!(deliver["label_zh"], "送达答复");
    // Other events happened when they were recorded.
    let accept = &events[1];
    assert_eq!(accept["occurred_at"], accept["recorded_at"]);
    assert_eq!(accept["reason"], "材料齐全");
    assert_eq!(events[5]["reason"], "需协调公交公司调整班次");

    let m = app.get_as(clerk, &format!("/api/v1/matters/{id}")).await;
    let m = m.expect(200);
    assert_eq!(m["matter"]["state"], "archived");
    assert_eq!(time(&m["matter"]["replied_at"]), yesterday);
    assert_eq!(m["matter"]["satisfaction"], "dissatisfied");
    assert_eq!(m["matter"]["first_unit_id"], json!(app.units.ground));
    assert!(
        m["deadline"].is_null(),
        "no clock runs on an archived matter: {}",
        m["deadline"]
    );
}

#[tokio::test]
async fn conclusion_waits_for_the_appeal_window() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let clerk = s.get("clerk");
    let reg = app.register_matter("候机楼空调太冷", "候机楼空调温度过低").await;
    app.in_progress(&s, &reg.id).await;
    app.reply(&s, &reg.id, "已调整空调温度。").await;

    let r = app.transition(clerk, &reg.id, "conclude", json!({})).await;
    r.expect_error(409, "window_still_open", None);

    // 信访工作条例: a review may be requested within 30 days of the reply.
    app.advance(Duration::days(31));
    app.transition(clerk, &reg.id, "request_review", json!({"reason": "不满意"}))
        .await
        .expect_error(409, "window_closed", None);
    let r = app.transition(clerk, &reg.id, "conclude", json!({})).await;
    assert_eq!(r.expect(200)["matter"]["state"], "concluded");
}

#[tokio::test]
async fn declined_matters_carry_the_reason_and_can_be_archived() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let clerk = s.get("clerk");
    let reg = app
        .register_matter("劳动仲裁结果不服", "对劳动仲裁裁决不服")
        .await;
    app.transition(
        clerk,
        &reg.id,
        "decline",
        json!({"reason": "litigation_or_arbitration"}),
    )
    .await
    .expect_error(422, "required", Some("text"));
    app.transition(clerk, &reg.id, "decline", json!({"reason": "bogus", "text": "x"}))
        .await
        .expect_error(422, "invalid_value", Some("reason"));
    let r = app
        .transition(
            clerk,
            &reg.id,
            "decline",
            json!({"reason": "litigation_or_arbitration", "text": "请通过诉讼途径解决"}),
        )
        .await;
    let m = r.expect(200);
    assert_eq!(m["matter"]["state"], "not_accepted");
    assert_eq!(m["matter"]["decline_reason"], "litigation_or_arbitration");
    app.transition(s.get("handler"), &reg.id, "archive", json!({}))
        .await
        .expect_error(404, "not_found", None);
    // Admins may archive as well as clerks.
    let r = app
        .transition(s.get("admin"), &reg.id, "archive", json!({}))
        .await;
    assert_eq!(r.expect(200)["matter"]["state"], "archived");
    app.transition(clerk, &reg.id, "archive", json!({}))
        .await
        .expect_error(409, "invalid_state", None);
}

#[tokio::test]
async fn misrouted_matters_go_back_to_the_office() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = app
        .register_matter("行李提取转盘故障", "3号行李转盘经常停转")
        .await;
    app.assign_to_ground(&s, &reg.id, "appeal").await;
    let r = app
        .transition(
            s.get("handler"),
            &reg.id,
            "return_misrouted",
            json!({"reason": "属航站楼管理部职责"}),
        )
        .await;
    let m = r.expect(200);
    assert_eq!(m["matter"]["state"], "classified");
    assert_eq!(m["matter"]["reroute_count"], 1);
    assert!(m["matter"]["lead_unit_id"].is_null());
    // 首接首办: the first receiving unit stays on record.
    assert_eq!(m["matter"]["first_unit_id"], json!(app.units.ground));
    // Returned, it is no longer the unit's matter.
    app.get_as(s.get("handler"), &format!("/api/v1/matters/{}", reg.id))
        .await
        .expect_error(404, "not_found", None);
    let r = app
        .transition(
            s.get("clerk"),
            &reg.id,
            "assign",
            json!({"lead_unit_id": app.units.terminal}),
        )
        .await;
    assert_eq!(r.expect(200)["matter"]["state"], "assigned");
    app.get_as(s.get("handler2"), &format!("/api/v1/matters/{}", reg.id))
        .await
        .expect(200);
}

#[tokio::test]
async fn pausing_stops_the_clock_and_blocks_delivery() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let handler = s.get("handler");
    let reg = app.register_matter("出租车绕路", "出租车司机绕路多收费").await;
    app.in_progress(&s, &reg.id).await;
    let r = app
        .transition(handler, &reg.id, "pause", json!({"reason": "等待信访人提供发票"}))
        .await;
    assert_eq!(r.expect(200)["deadline"]["status"], "paused");
    app.transition(handler, &reg.id, "pause", json!({"reason": "再次暂停"}))
        .await
        .expect_error(409, "already_paused", None);
    app.transition(handler, &reg.id, "draft_reply", json!({"text": "答复"}))
        .await
        .expect(200);
    app.transition(s.get("unit_head"), &reg.id, "approve_reply", json!({}))
        .await
        .expect(200);
    app.transition(handler, &reg.id, "deliver_reply", json!({}))
        .await
        .expect_error(409, "clock_paused", None);
    app.advance(Duration::days(5));
    let r = app.transition(handler, &reg.id, "resume", json!({})).await;
    assert_ne!(r.expect(200)["deadline"]["status"], "paused");
    app.transition(handler, &reg.id, "resume", json!({}))
        .await
        .expect_error(409, "not_paused", None);
    // The office may deliver the unit's approved reply too.
    let r = app
        .transition(s.get("clerk"), &reg.id, "deliver_reply", json!({}))
        .await;
    assert_eq!(r.expect(200)["matter"]["state"], "replied");
}

#[tokio::test]
async fn refused_transitions_name_the_reason() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let (clerk, handler, head) = (s.get("clerk"), s.get("handler"), s.get("unit_head"));
    let reg = app
        .register_matter("停车场收费不透明", "停车场收费标准没有公示")
        .await;
    let id = reg.id.as_str();

    // A handler cannot even see a matter not yet assigned to their unit.
    app.transition(handler, id, "accept", json!({}))
        .await
        .expect_error(404, "not_found", None);
    // Staff who see every matter but are outside the petition office may not accept it.
    for who in ["analyst", "admin"] {
        app.transition(s.get(who), id, "accept", json!({}))
            .await
            .expect_error(403, "forbidden_transition", None);
    }

    app.transition(clerk, id, "accept", json!({})).await.expect(200);
    app.transition(clerk, id, "accept", json!({}))
        .await
        .expect_error(409, "invalid_state", None);
    // Skipping classification.
    app.transition(clerk, id, "assign", json!({"lead_unit_id": app.units.ground}))
        .await
        .expect_error(409, "invalid_state", None);
    app.transition(clerk, id, "classify", json!({"petition_type": "appeal"}))
        .await
        .expect_error(422, "required", Some("category_id"));
    app.transition(
        clerk,
        id,
        "classify",
        json!({"category_id": app.categories.parking}),
    )
    .await
    .expect_error(422, "required", Some("petition_type"));
    app.transition(
        clerk,
        id,
        "classify",
        json!({"category_id": "00000000-0000-7000-8000-000000000000", "petition_type": "appeal"}),
    )
    .await
    .expect_error(422, "invalid_reference", Some("category_id"));
    app.transition(
        clerk,
        id,
        "classify",
        json!({"category_id": app.categories.parking, "petition_type": "appeal"}),
    )
    .await
    .expect(200);

    app.transition(clerk, id, "assign", json!({}))
        .await
        .expect_error(422, "required", Some("lead_unit_id"));
    app.transition(clerk, id, "assign", json!({"lead_unit_id": "ground"}))
        .await
        .expect_error(422, "invalid_id", Some("lead_unit_id"));
    app.transition(
        clerk,
        id,
        "assign",
        json!({"lead_unit_id": "00000000-0000-7000-8000-000000000000"}),
    )
    .await
    .expect_error(422, "invalid_reference", Some("lead_unit_id"));
    app.transition(
        clerk,
        id,
        "assign",
        json!({"lead_unit_id": app.units.ground, "co_unit_ids": [app.units.ground]}),
    )
    .await
    .expect_error(422, "lead_also_co_unit", Some("co_unit_ids"));
    app.transition(
        clerk,
        id,
        "assign",
        json!({"lead_unit_id": app.units.ground, "owning_leader_id": app.users["analyst"]}),
    )
    .await
    .expect_error(422, "invalid_reference", Some("owning_leader_id"));
    app.transition(
        clerk,
        id,
        "assign",
        json!({"lead_unit_id": app.units.ground, "co_unit_ids": [app.units.terminal]}),
    )
    .await
    .expect(200);

    // The office routes; it does not handle.
    app.transition(clerk, id, "start_handling", json!({}))
        .await
        .expect_error(403, "forbidden_transition", None);
    // The co-handling unit sees the matter but does not lead it.
    app.transition(s.get("handler2"), id, "start_handling", json!({}))
        .await
        .expect_error(403, "not_lead_unit", None);
    app.transition(handler, id, "start_handling", json!({}))
        .await
        .expect(200);

    // A handler may not do the office's or the unit head's part.
    app.transition(handler, id, "approve_extension", json!({}))
        .await
        .expect_error(403, "forbidden_transition", None);
    app.transition(handler, id, "draft_reply", json!({}))
        .await
        .expect_error(422, "required", Some("text"));
    app.transition(handler, id, "approve_reply", json!({}))
        .await
        .expect_error(403, "forbidden_transition", None);
    app.transition(head, id, "approve_reply", json!({}))
        .await
        .expect_error(409, "reply_not_drafted", None);

    // Extensions: at most 30 days (信访工作条例 art. 32), once.
    app.transition(
        handler,
        id,
        "request_extension",
        json!({"days": 31, "reason": "需要更多时间"}),
    )
    .await
    .expect_error(422, "extension_too_long", Some("days"));
    app.transition(
        handler,
        id,
        "request_extension",
        json!({"reason": "需要更多时间"}),
    )
    .await
    .expect_error(422, "required", Some("days"));
    app.transition(handler, id, "request_extension", json!({"days": 10}))
        .await
        .expect_error(422, "required", Some("reason"));
    app.transition(head, id, "approve_extension", json!({}))
        .await
        .expect_error(409, "no_extension_pending", None);
    app.transition(
        handler,
        id,
        "request_extension",
        json!({"days": 30, "reason": "需协调停车场运营方"}),
    )
    .await
    .expect(200);
    app.transition(
        handler,
        id,
        "request_extension",
        json!({"days": 5, "reason": "再申请"}),
    )
    .await
    .expect_error(409, "extension_pending", None);
    app.transition(head, id, "approve_extension", json!({}))
        .await
        .expect(200);
    app.transition(
        handler,
        id,
        "request_extension",
        json!({"days": 5, "reason": "再延一次"}),
    )
    .await
    .expect_error(422, "extension_already_used", Some("days"));

    // Delivery needs an approved reply.
    app.transition(handler, id, "draft_reply", json!({"text": "已公示收费标准"}))
        .await
        .expect(200);
    app.transition(handler, id, "deliver_reply", json!({}))
        .await
        .expect_error(409, "reply_not_approved", None);
    app.transition(head, id, "approve_reply", json!({}))
        .await
        .expect(200);
    app.transition(head, id, "approve_reply", json!({}))
        .await
        .expect_error(409, "reply_already_approved", None);
    // occurred_at may be back-dated at most 30 days, and never into the future.
    let future = app.now() + Duration::days(1);
    app.transition(handler, id, "deliver_reply", json!({"occurred_at": future}))
        .await
        .expect_error(422, "invalid_date", Some("occurred_at"));
    let long_ago = app.now() - Duration::days(31);
    app.transition(handler, id, "deliver_reply", json!({"occurred_at": long_ago}))
        .await
        .expect_error(422, "invalid_date", Some("occurred_at"));
    app.transition(handler, id, "deliver_reply", json!({}))
        .await
        .expect(200);

    // After the reply: the office's work again, not the handler's.
    app.transition(
        handler,
        id,
        "record_satisfaction",
        json!({"satisfaction": "satisfied"}),
    )
    .await
    .expect_error(403, "forbidden_transition", None);
    app.transition(handler, id, "reopen", json!({"reason": "重新办理"}))
        .await
        .expect_error(403, "forbidden_transition", None);
    app.transition(clerk, id, "record_satisfaction", json!({"satisfaction": "very"}))
        .await
        .expect_error(422, "invalid_value", Some("satisfaction"));
    app.transition(clerk, id, "request_review", json!({"reason": "不满意"}))
        .await
        .expect(200);
    // Only a supervisor or leader answers a review.
    app.transition(clerk, id, "answer_review", json!({"text": "维持"}))
        .await
        .expect_error(403, "forbidden_transition", None);
    // The leader owns no part of this matter, so it is not visible to them.
    app.transition(s.get("leader"), id, "answer_review", json!({"text": "维持"}))
        .await
        .expect_error(404, "not_found", None);
    app.transition(s.get("supervisor"), id, "answer_review", json!({"text": "维持"}))
        .await
        .expect(200);
    // Answered but not concluded: nothing to archive yet.
    app.transition(clerk, id, "archive", json!({}))
        .await
        .expect_error(409, "invalid_state", None);
}

#[tokio::test]
async fn unknown_matters_and_malformed_ids_are_not_found() {
    let app = spawn_app().await;
    let s = app.login("clerk").await;
    for path in [
        "/api/v1/matters/not-an-id",
        "/api/v1/matters/0196a8a0-0000-7000-8000-000000000000",
        "/api/v1/matters/not-an-id/timeline",
    ] {
        app.get_as(&s, path).await.expect_error(404, "not_found", None);
    }
    app.transition(&s, "0196a8a0-0000-7000-8000-000000000000", "accept", json!({}))
        .await
        .expect_error(404, "not_found", None);
    // Transitions take no body at all when they need no fields.
    let reg = app
        .register_matter("安检排队过长", "早高峰安检排队超过一小时")
        .await;
    let r = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/matters/{}/accept", reg.id),
            Auth::Session(&s),
            None,
        )
        .await;
    assert_eq!(r.expect(200)["matter"]["state"], "accepted");
}

#[tokio::test]
async fn a_letter_is_registered_when_it_was_received() {
    let app = spawn_app().await;
    let s = app.login("clerk").await;
    let postmarked = app.now() - Duration::days(3);
    let reg = app
        .register_with(json!({
            "channel": "letter",
            "title": "来信反映噪音扰民",
            "content": "夜间航班噪音影响周边居民休息",
            "people_count": 6,
            "received_at": postmarked,
            "petitioner": {"name": "周边居民代表", "phone": "010-64561234"},
        }))
        .await;
    let m = app.get_as(&s, &format!("/api/v1/matters/{}", reg.id)).await;
    let m = m.expect(200);
    assert_eq!(time(&m["matter"]["registered_at"]), postmarked);
    assert_eq!(m["matter"]["people_count"], 6);
    assert_eq!(m["petitioners"][0]["phone"], "010-****1234");
    let events = app.timeline(&s, &reg.id).await;
    assert_eq!(time(&events[0]["occurred_at"]), postmarked);
    assert_eq!(time(&events[0]["recorded_at"]), app.now());
    assert_eq!(events[0]["data"]["people_count"], 6);
}

#[tokio::test]
async fn concurrent_transitions_are_decided_once() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = app
        .register_matter("登机口临时更换未通知", "登机口临时更换没有广播")
        .await;
    let (a, b) = tokio::join!(
        app.transition(s.get("clerk"), &reg.id, "accept", json!({})),
        app.transition(s.get("supervisor"), &reg.id, "accept", json!({})),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
    let events = app.timeline(s.get("clerk"), &reg.id).await;
    assert_eq!(events.iter().filter(|e| e["kind"] == "accept").count(), 1);
}

#[tokio::test]
async fn concurrent_work_orders_with_one_external_id_are_one_matter() {
    let app = spawn_app().await;
    let order = json!({
        "channel": "hotline12345",
        "external_id": "GD-RACE-1",
        "title": "出租车排队时间长",
        "content": "出租车上客区排队一小时",
        "petitioner": {"phone": "13712345678"},
    });
    let (a, b) = tokio::join!(
        app.post_bearer(&app.clerk_token, "/api/v1/matters", order.clone()),
        app.post_bearer(&app.clerk_token, "/api/v1/matters", order.clone()),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 201], "{} / {}", a.text, b.text);
    assert_eq!(a.json["id"], b.json["id"]);
    let s = app.login("clerk").await;
    assert_eq!(app.get_as(&s, "/api/v1/matters").await.expect(200)["total"], 1);
}

#[tokio::test]
async fn supervisors_decide_extensions_too() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = app.register_matter("停车场收费过高", "收费标准太高").await;
    app.in_progress(&s, &reg.id).await;
    let handler = s.get("handler");
    app.transition(
        handler,
        &reg.id,
        "request_extension",
        json!({"days": 0, "reason": "零天"}),
    )
    .await
    .expect_error(422, "invalid_extension", Some("days"));
    app.transition(
        handler,
        &reg.id,
        "request_extension",
        json!({"days": 10, "reason": "需要调查"}),
    )
    .await
    .expect(200);
    let r = app
        .transition(
            s.get("supervisor"),
            &reg.id,
            "refuse_extension",
            json!({"reason": "理由不充分"}),
        )
        .await;
    let m = r.expect(200);
    assert!(m["matter"]["extension_request"].is_null());
    assert_eq!(m["matter"]["extension_used"], false);
    // Refused, the single extension is still available.
    app.transition(
        handler,
        &reg.id,
        "request_extension",
        json!({"days": 10, "reason": "补充理由"}),
    )
    .await
    .expect(200);
    let r = app
        .transition(s.get("supervisor"), &reg.id, "approve_extension", json!({}))
        .await;
    assert_eq!(r.expect(200)["matter"]["extension_days"], 10);
}

/// A back-dated event may not precede what already happened: a reply delivered before it was
/// approved, or before the matter was even registered, would corrupt the on-time rate.
#[tokio::test]
async fn back_dated_events_do_not_precede_earlier_ones() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = app.register_matter("停车场收费过高", "收费标准太高").await;
    app.advance(Duration::days(5));
    app.in_progress(&s, &reg.id).await;
    app.transition(s.get("handler"), &reg.id, "draft_reply", json!({"text": "答复"}))
        .await
        .expect(200);
    app.transition(s.get("unit_head"), &reg.id, "approve_reply", json!({}))
        .await
        .expect(200);
    let before_registration = app.now() - Duration::days(10);
    app.transition(
        s.get("handler"),
        &reg.id,
        "deliver_reply",
        json!({"occurred_at": before_registration}),
    )
    .await
    .expect_error(422, "time_before_previous", Some("occurred_at"));
}
