//! Malformed input: every refusal has the right status, a stable code and the field it concerns.

use crate::helpers::{Auth, resident_id, spawn_app, with_query};
use serde_json::{Value, json};

fn matter(extra: Value) -> Value {
    let mut body = json!({
        "channel": "walk_in",
        "title": "候机厅座椅不足",
        "content": "B区候机厅座椅太少，很多旅客只能站着等。",
        "petitioner": {"name": "黄先生", "phone": "13512345678"},
    });
    if let (Some(o), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if v.is_null() {
                o.remove(k);
            } else {
                o.insert(k.clone(), v.clone());
            }
        }
    }
    body
}

#[tokio::test]
async fn bodies_that_are_not_json_are_400() {
    let app = spawn_app().await;
    let auth = Auth::Bearer(&app.clerk_token);
    app.post_raw("/api/v1/matters", auth, "{\"title\": ")
        .await
        .expect_error(400, "invalid_json", None);
    app.post_raw("/api/v1/matters", auth, "")
        .await
        .expect_error(400, "invalid_json", None);
    // Transitions too, where an empty body is allowed but a broken one is not.
    let reg = app.register_matter("充电桩故障", "停车场充电桩坏了").await;
    app.post_raw(&format!("/api/v1/matters/{}/accept", reg.id), auth, "{oops")
        .await
        .expect_error(400, "invalid_json", None);
    // The login form as well.
    app.post_raw("/api/v1/auth/login", Auth::None, "username=clerk")
        .await
        .expect_error(400, "invalid_json", None);
    // Without a JSON content type.
    let r = app
        .client
        .post(app.url("/api/v1/matters"))
        .header("authorization", format!("Bearer {}", app.clerk_token))
        .body(matter(json!({})).to_string())
        .send()
        .await
        .expect("request");
    crate::helpers::TestApp::read(r)
        .await
        .expect_error(415, "unsupported_media_type", None);
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = spawn_app().await;
    let auth = Auth::Bearer(&app.clerk_token);
    // Exactly one byte over the limit, so the server has read the whole body when it refuses.
    let limit = xinfang_server::MAX_BODY;
    let frame = "{\"title\":\"\"}";
    let body = format!("{{\"title\":\"{}\"}}", "a".repeat(limit + 1 - frame.len()));
    assert_eq!(body.len(), limit + 1);
    app.post_raw("/api/v1/matters", auth, body.clone())
        .await
        .expect_error(413, "payload_too_large", None);
    let reg = app.register_matter("充电桩故障", "停车场充电桩坏了").await;
    app.post_raw(&format!("/api/v1/matters/{}/accept", reg.id), auth, body)
        .await
        .expect_error(413, "payload_too_large", None);
    // Just under the limit is parsed (and then refused for what it says, not for its size).
    let body = format!("{{\"title\":\"{}\"}}", "a".repeat(limit - frame.len()));
    app.post_raw("/api/v1/matters", auth, body)
        .await
        .expect_error(422, "required", Some("channel"));
}

#[tokio::test]
async fn registration_fields_are_validated() {
    let app = spawn_app().await;
    let post = |body: Value| {
        let app = &app;
        async move { app.post_bearer(&app.clerk_token, "/api/v1/matters", body).await }
    };

    post(matter(json!({"title": 5})))
        .await
        .expect_error(422, "invalid_field", Some("title"));
    post(matter(
        json!({"petitioner": {"name": "黄先生", "phone": 13512345678u64}}),
    ))
    .await
    .expect_error(422, "invalid_field", Some("petitioner.phone"));
    post(matter(json!({"title": null})))
        .await
        .expect_error(422, "required", Some("title"));
    post(matter(json!({"title": "   "})))
        .await
        .expect_error(422, "required", Some("title"));
    post(matter(json!({"title": "长".repeat(201)})))
        .await
        .expect_error(422, "too_long", Some("title"));
    post(matter(json!({"content": null})))
        .await
        .expect_error(422, "required", Some("content"));
    post(matter(json!({"channel": null})))
        .await
        .expect_error(422, "required", Some("channel"));
    post(matter(json!({"channel": "fax"})))
        .await
        .expect_error(422, "invalid_value", Some("channel"));
    post(matter(json!({"urgency": "asap"})))
        .await
        .expect_error(422, "invalid_value", Some("urgency"));
    post(matter(json!({"petition_type": "complaint"})))
        .await
        .expect_error(422, "invalid_value", Some("petition_type"));

    // Resident ID numbers are checked against GB 11643: a wrong check digit is caught.
    let good = resident_id("44030419900307001");
    let last = good.chars().last().expect("check digit");
    let bad = format!("{}{}", &good[..17], if last == '0' { '1' } else { '0' });
    let r = post(matter(
        json!({"petitioner": {"name": "黄先生", "id_number": bad}}),
    ))
    .await;
    r.expect_error(422, "invalid_id_number", Some("petitioner.id_number"));
    post(matter(
        json!({"petitioner": {"name": "黄先生", "id_number": "4403041990"}}),
    ))
    .await
    .expect_error(422, "invalid_id_number", Some("petitioner.id_number"));
    post(matter(
        json!({"petitioner": {"name": "黄先生", "id_number": good}}),
    ))
    .await
    .expect(201);
    post(matter(
        json!({"petitioner": {"name": "黄先生", "id_type": "visa", "id_number": "E1234567"}}),
    ))
    .await
    .expect_error(422, "invalid_document_kind", Some("petitioner.id_type"));

    post(matter(
        json!({"petitioner": {"name": "黄先生", "phone": "1381234567"}}),
    ))
    .await
    .expect_error(422, "invalid_phone", Some("petitioner.phone"));
    post(matter(
        json!({"petitioner": {"name": "黄先生", "phone": "12812345678"}}),
    ))
    .await
    .expect_error(422, "invalid_phone", Some("petitioner.phone"));
    // Joint petitioners are named by position.
    post(matter(
        json!({"petitioners": [{"name": "甲"}, {"name": "乙", "phone": "abc"}]}),
    ))
    .await
    .expect_error(422, "invalid_phone", Some("petitioners[1].phone"));
    post(matter(json!({"petitioner": {"address": "只有地址"}})))
        .await
        .expect_error(422, "petitioner_incomplete", Some("petitioner"));
    post(matter(
        json!({"petitioner": {"name": "黄先生", "email": "x@example.com"}}),
    ))
    .await
    .expect_error(422, "invalid_field", Some("petitioner.email"));

    // Anonymity is allowed for suggestions and reports only.
    post(matter(json!({"petitioner": null, "petition_type": "appeal"})))
        .await
        .expect_error(422, "anonymous_not_allowed", Some("petitioner"));
    post(matter(json!({"petitioner": null}))).await.expect_error(
        422,
        "anonymous_not_allowed",
        Some("petitioner"),
    );
    post(matter(json!({"petitioner": null, "petition_type": "suggestion"})))
        .await
        .expect(201);

    post(matter(json!({"people_count": 0})))
        .await
        .expect_error(422, "invalid_value", Some("people_count"));
    let future = app.now() + chrono::Duration::days(1);
    post(matter(json!({"received_at": future})))
        .await
        .expect_error(422, "invalid_date", Some("received_at"));

    // Nothing refused was registered.
    let s = app.login("clerk").await;
    let list = app.get_as(&s, "/api/v1/matters").await;
    assert_eq!(list.expect(200)["total"], 2);
}

#[tokio::test]
async fn the_same_external_id_is_one_matter() {
    let app = spawn_app().await;
    let order = json!({
        "channel": "hotline12345",
        "external_id": "GD20250310-0042",
        "title": "机场高速收费站拥堵",
        "content": "机场高速收费站下午拥堵严重",
        "petitioner": {"name": "12345来电人", "phone": "13712345678"},
        "raw": {"工单号": "GD20250310-0042", "来电时间": "2025-03-10 09:12"},
    });
    let first = app
        .post_bearer(&app.clerk_token, "/api/v1/matters", order.clone())
        .await;
    let first = first.expect(201).clone();
    assert_eq!(first["replayed"], false);

    let again = app
        .post_bearer(&app.clerk_token, "/api/v1/matters", order.clone())
        .await;
    let again = again.expect(200);
    assert_eq!(again["replayed"], true);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["tracking_code"], first["tracking_code"]);
    // The secret was shown once, with the first registration.
    assert!(again["secret"].is_null());

    // The same number on another channel is another matter.
    let mut other = order.clone();
    other["channel"] = json!("wechat");
    let r = app.post_bearer(&app.clerk_token, "/api/v1/matters", other).await;
    assert_ne!(r.expect(201)["id"], first["id"]);

    let s = app.login("clerk").await;
    let hotline = with_query("/api/v1/matters", &[("channel", "hotline12345")]);
    assert_eq!(app.get_as(&s, &hotline).await.expect(200)["total"], 1);
    let m = app
        .get_as(
            &s,
            &format!("/api/v1/matters/{}", first["id"].as_str().expect("id")),
        )
        .await;
    assert_eq!(m.expect(200)["matter"]["external_id"], "GD20250310-0042");
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let app = spawn_app().await;
    let s = app.login("clerk").await;
    for (params, code, field) in [
        (
            vec![("deadline_status", "bogus")],
            "invalid_value",
            "deadline_status",
        ),
        (vec![("state", "registered,finished")], "invalid_value", "state"),
        (vec![("channel", "fax")], "invalid_value", "channel"),
        (vec![("petition_type", "x")], "invalid_value", "petition_type"),
        (vec![("unit_id", "ground")], "invalid_id", "unit_id"),
        (vec![("from", "2025/03/01")], "invalid_date", "from"),
        (vec![("per_page", "0")], "invalid_value", "per_page"),
        (vec![("per_page", "101")], "invalid_value", "per_page"),
    ] {
        let r = app.get_as(&s, &with_query("/api/v1/matters", &params)).await;
        r.expect_error(422, code, Some(field));
    }
    // Far pages are refused before their offset could overflow.
    for page in ["100001", "4294967295"] {
        app.get_as(
            &s,
            &with_query("/api/v1/matters", &[("page", page), ("per_page", "100")]),
        )
        .await
        .expect_error(422, "invalid_value", Some("page"));
    }
    let r = app
        .get_as(
            &s,
            &with_query("/api/v1/matters", &[("page", "100000"), ("per_page", "100")]),
        )
        .await;
    assert_eq!(r.expect(200)["items"], json!([]));
    let long = "停".repeat(101);
    app.get_as(&s, &with_query("/api/v1/matters", &[("q", &long)]))
        .await
        .expect_error(422, "too_long", Some("q"));
    for params in [vec![("page", "first")], vec![("order_by", "title")]] {
        app.get_as(&s, &with_query("/api/v1/matters", &params))
            .await
            .expect_error(400, "invalid_query", None);
    }
    app.get_as(&s, &with_query("/api/v1/matters", &[("sort", "title")]))
        .await
        .expect_error(422, "invalid_value", Some("sort"));
}

#[tokio::test]
async fn unknown_fields_are_refused() {
    let app = spawn_app().await;
    let s = app.login("clerk").await;
    let reg = app.register_matter("充电桩故障", "停车场充电桩坏了").await;
    app.transition(&s, &reg.id, "accept", json!({"notes": "typo"}))
        .await
        .expect_error(422, "invalid_field", Some("notes"));
    app.post_bearer(
        &app.clerk_token,
        "/api/v1/matters",
        matter(json!({"titel": "typo"})),
    )
    .await
    .expect_error(422, "invalid_field", Some("titel"));
}
