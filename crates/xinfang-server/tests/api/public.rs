//! What a petitioner does without an account: submit, track with code and secret, rate.

use crate::helpers::{Registered, TestApp, spawn_app};
use serde_json::{Value, json};

const PUBLIC_NAME: &str = "林晓梅";
const PUBLIC_PHONE: &str = "13698765432";
/// A note the unit writes on an internal step; the petitioner must never see it.
const INTERNAL_NOTE: &str = "内部备注：该旅客曾多次投诉，注意沟通方式";

async fn submit(app: &TestApp) -> Registered {
    let r = app
        .post_public(
            "/api/v1/public/matters",
            json!({
                "title": "网约车上车点指引不清",
                "content": "T3航站楼网约车上车点标识不清楚，绕了很久才找到。",
                "petitioner": {"name": PUBLIC_NAME, "phone": PUBLIC_PHONE},
            }),
        )
        .await;
    let body = r.expect(201);
    assert_eq!(body["state"], "registered");
    TestApp::registered(body)
}

async fn track(app: &TestApp, reg: &Registered) -> crate::helpers::Reply {
    app.post_public(
        "/api/v1/public/track",
        json!({"tracking_code": reg.tracking_code, "secret": reg.secret}),
    )
    .await
}

fn steps(view: &Value) -> Vec<&str> {
    view["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["step"].as_str().unwrap_or("?"))
        .collect()
}

#[tokio::test]
async fn petitioners_submit_track_and_rate_without_an_account() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = submit(&app).await;

    let r = track(&app, &reg).await;
    let view = r.expect(200);
    assert_eq!(view["state"], "registered");
    assert_eq!(view["tracking_code"], reg.tracking_code.as_str());
    assert_eq!(steps(view), ["register"]);
    assert_eq!(view["can_rate"], false);
    // Codes typed in lower case are forgiven.
    let lower = Registered {
        tracking_code: reg.tracking_code.to_lowercase(),
        ..reg.clone()
    };
    track(&app, &lower).await.expect(200);

    // The staff see it as a website matter registered by the petitioner.
    let m = app
        .get_as(s.get("clerk"), &format!("/api/v1/matters/{}", reg.id))
        .await;
    assert_eq!(m.expect(200)["matter"]["channel"], "website");
    let events = app.timeline(s.get("clerk"), &reg.id).await;
    assert_eq!(events[0]["actor_kind"], "petitioner");

    // Before a reply is delivered there is nothing to rate.
    let rate = json!({"tracking_code": reg.tracking_code, "secret": reg.secret, "satisfaction": "satisfied"});
    app.post_public("/api/v1/public/satisfaction", rate.clone())
        .await
        .expect_error(409, "invalid_state", None);

    // The office and the unit work on it, with internal notes along the way.
    app.transition(s.get("clerk"), &reg.id, "accept", json!({"note": INTERNAL_NOTE}))
        .await
        .expect(200);
    app.transition(
        s.get("clerk"),
        &reg.id,
        "classify",
        json!({"category_id": app.categories.transport, "petition_type": "suggestion"}),
    )
    .await
    .expect(200);
    app.transition(
        s.get("clerk"),
        &reg.id,
        "assign",
        json!({"lead_unit_id": app.units.ground, "note": INTERNAL_NOTE}),
    )
    .await
    .expect(200);
    app.transition(s.get("handler"), &reg.id, "start_handling", json!({}))
        .await
        .expect(200);
    app.transition(
        s.get("handler"),
        &reg.id,
        "request_extension",
        json!({"days": 10, "reason": INTERNAL_NOTE}),
    )
    .await
    .expect(200);
    app.transition(
        s.get("unit_head"),
        &reg.id,
        "refuse_extension",
        json!({"reason": INTERNAL_NOTE}),
    )
    .await
    .expect(200);
    app.transition(
        s.get("handler"),
        &reg.id,
        "pause",
        json!({"reason": INTERNAL_NOTE}),
    )
    .await
    .expect(200);
    app.transition(s.get("handler"), &reg.id, "resume", json!({}))
        .await
        .expect(200);
    app.post_as(
        s.get("clerk"),
        &format!("/api/v1/matters/{}/reveal", reg.id),
        json!({}),
    )
    .await
    .expect(200);

    let r = track(&app, &reg).await;
    let view = r.expect(200);
    assert_eq!(view["state"], "in_progress");
    assert_eq!(steps(view), ["register", "accept", "assign", "start_handling"]);
    assert!(view["reply"].is_null());
    // A drafted but undelivered reply is not shown either.
    app.transition(
        s.get("handler"),
        &reg.id,
        "draft_reply",
        json!({"text": "草稿：尚未审核"}),
    )
    .await
    .expect(200);
    let r = track(&app, &reg).await;
    r.expect(200);
    assert!(!r.text.contains("草稿"), "{}", r.text);
    app.transition(
        s.get("handler"),
        &reg.id,
        "draft_reply",
        json!({"text": "已在上车点增设指示牌。"}),
    )
    .await
    .expect(200);
    app.transition(s.get("unit_head"), &reg.id, "approve_reply", json!({}))
        .await
        .expect(200);
    app.transition(s.get("handler"), &reg.id, "deliver_reply", json!({}))
        .await
        .expect(200);

    let r = track(&app, &reg).await;
    let view = r.expect(200);
    assert_eq!(view["state"], "replied");
    assert_eq!(view["reply"], "已在上车点增设指示牌。");
    assert_eq!(view["can_rate"], true);
    assert_eq!(
        steps(view),
        ["register", "accept", "assign", "start_handling", "deliver_reply"]
    );
    for secret in [
        PUBLIC_PHONE,
        "136****5432",
        PUBLIC_NAME,
        INTERNAL_NOTE,
        "陈承办",
        "李登记",
        "地面交通中心",
    ] {
        assert!(
            !r.text.contains(secret),
            "the public view shows {secret}: {}",
            r.text
        );
    }
    assert!(!r.text.contains(&app.units.ground.to_string()), "{}", r.text);

    // Rated once; a second rating is refused.
    let r = app.post_public("/api/v1/public/satisfaction", rate.clone()).await;
    let view = r.expect(200);
    assert_eq!(view["state"], "follow_up");
    assert_eq!(view["satisfaction"], "satisfied");
    assert_eq!(view["can_rate"], false);
    app.post_public("/api/v1/public/satisfaction", rate)
        .await
        .expect_error(409, "invalid_state", None);
    let events = app.timeline(s.get("clerk"), &reg.id).await;
    let rated = events
        .iter()
        .find(|e| e["kind"] == "record_satisfaction")
        .expect("rating event");
    assert_eq!(rated["actor_kind"], "petitioner");
}

#[tokio::test]
async fn petitioners_ask_for_review_and_recheck() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = submit(&app).await;
    app.in_progress(&s, &reg.id).await;
    app.reply(&s, &reg.id, "已增设指示牌。").await;
    let creds = |extra: Value| {
        let mut b = json!({"tracking_code": reg.tracking_code, "secret": reg.secret});
        if let (Some(o), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        b
    };
    app.post_public("/api/v1/public/review", creds(json!({})))
        .await
        .expect_error(422, "required", Some("reason"));
    let r = app
        .post_public(
            "/api/v1/public/review",
            creds(json!({"reason": "指示牌仍不明显"})),
        )
        .await;
    assert_eq!(r.expect(200)["state"], "review");
    app.post_public(
        "/api/v1/public/recheck",
        creds(json!({"reason": "还没答复就复核"})),
    )
    .await
    .expect_error(409, "invalid_state", None);
    // The case-owning leader answers the review of the matter they own.
    app.transition(
        s.get("leader"),
        &reg.id,
        "answer_review",
        json!({"text": "维持原意见"}),
    )
    .await
    .expect(200);
    let r = app
        .post_public("/api/v1/public/recheck", creds(json!({"reason": "仍不满意"})))
        .await;
    assert_eq!(r.expect(200)["state"], "recheck");
}

#[tokio::test]
async fn wrong_secrets_and_codes_are_not_found() {
    let app = spawn_app().await;
    let reg = submit(&app).await;
    // A well-formed but wrong secret: change one character within the alphabet.
    let mut wrong = reg.secret.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).expect("ascii");
    for (code, secret) in [
        (reg.tracking_code.as_str(), wrong.as_str()),
        (reg.tracking_code.as_str(), "short"),
        ("XF00000000", reg.secret.as_str()),
        ("nonsense", reg.secret.as_str()),
    ] {
        let r = app
            .post_public(
                "/api/v1/public/track",
                json!({"tracking_code": code, "secret": secret}),
            )
            .await;
        r.expect_error(404, "not_found", None);
        let r = app
            .post_public(
                "/api/v1/public/satisfaction",
                json!({"tracking_code": code, "secret": secret, "satisfaction": "satisfied"}),
            )
            .await;
        r.expect_error(404, "not_found", None);
    }
    app.post_public(
        "/api/v1/public/track",
        json!({"tracking_code": reg.tracking_code}),
    )
    .await
    .expect_error(422, "required", Some("secret"));
    app.post_public("/api/v1/public/track", json!({"secret": reg.secret}))
        .await
        .expect_error(422, "required", Some("tracking_code"));
}

#[tokio::test]
async fn public_submissions_are_validated_like_staff_ones() {
    let app = spawn_app().await;
    app.post_public(
        "/api/v1/public/matters",
        json!({"title": "无名建议", "content": "希望增加充电桩", "petition_type": "appeal"}),
    )
    .await
    .expect_error(422, "anonymous_not_allowed", Some("petitioner"));
    // Anonymous suggestions are welcome.
    let r = app
        .post_public(
            "/api/v1/public/matters",
            json!({"title": "无名建议", "content": "希望增加充电桩", "petition_type": "suggestion"}),
        )
        .await;
    r.expect(201);
    app.post_public(
        "/api/v1/public/matters",
        json!({"title": "x", "content": "y", "external_id": "123", "petitioner": {"name": "甲"}}),
    )
    .await
    .expect_error(422, "not_allowed", Some("external_id"));
    app.post_public(
        "/api/v1/public/matters",
        json!({"title": "x", "content": "y", "petitioner": {"phone": "12345"}}),
    )
    .await
    .expect_error(422, "invalid_phone", Some("petitioner.phone"));
}

#[tokio::test]
async fn public_endpoints_are_rate_limited_per_address() {
    let app = crate::helpers::spawn_app_with(xinfang_server::Config {
        public_per_minute: 3,
        ..Default::default()
    })
    .await;
    let reg = submit(&app).await;
    for _ in 0..3 {
        track(&app, &reg).await.expect(200);
    }
    track(&app, &reg).await.expect_error(429, "rate_limited", None);
}
