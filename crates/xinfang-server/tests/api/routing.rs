//! The routing model over HTTP: a labelled import (all or nothing), training a version from it,
//! each new matter's suggestion with the unit from the routing rules, the threshold that sends
//! unsure matters to the manual queue, and a rollback to an earlier version.

use crate::helpers::*;
use serde_json::{Value, json};

/// Labelled history for the three seeded categories: varied sentences built from each
/// category's own vocabulary, so a model can learn them apart.
fn history() -> Vec<Value> {
    let topics: [(&str, &[&str], &[&str]); 3] = [
        (
            "交通接驳",
            &["机场大巴", "地铁", "出租车", "网约车", "摆渡车"],
            &[
                "班次太少",
                "末班车太早",
                "排队时间太长",
                "司机绕路",
                "上车点不好找",
            ],
        ),
        (
            "交通接驳 / 停车服务",
            &["停车场", "停车楼", "车位", "道闸", "停车缴费"],
            &[
                "收费太贵",
                "扫码缴费失败",
                "车位难找",
                "出口拥堵",
                "计费标准不清楚",
            ],
        ),
        (
            "航站楼服务",
            &["候机厅", "卫生间", "登机口", "行李手推车", "母婴室"],
            &["卫生很差", "空调太冷", "指示牌不清楚", "座椅不够", "广播听不清"],
        ),
    ];
    let mut rows = Vec::new();
    for (category, things, problems) in topics {
        for (i, thing) in things.iter().enumerate() {
            for (j, problem) in problems.iter().enumerate() {
                rows.push(json!({
                    "text": format!("反映{thing}{problem}的问题，第{}次来信，希望尽快改进{thing}的管理。", i * 5 + j + 1),
                    "category": category,
                }));
            }
        }
    }
    rows
}

async fn suggestion(app: &TestApp, s: &Session, id: &str) -> Value {
    let r = app.get_as(s, &format!("/api/v1/matters/{id}/suggestion")).await;
    r.expect(200).clone()
}

#[tokio::test]
async fn a_model_trained_from_history_routes_confident_matters_and_queues_the_rest() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let admin = s.get("admin");

    // Nothing to learn from yet.
    app.post_as(admin, "/api/v1/models/train", json!({}))
        .await
        .expect_error(422, "not_enough_examples", None);
    // A matter registered without a model has no suggestion.
    let before = app
        .register_matter("停车场收费太贵", "T2停车楼收费太贵，希望降价。")
        .await;
    assert!(suggestion(&app, s.get("clerk"), &before.id).await.is_null());

    // An import with one bad row imports nothing and names the row.
    let mut rows = history();
    rows.insert(3, json!({"text": "候机厅太吵", "category": "不存在的分类"}));
    let err = app
        .post_as(admin, "/api/v1/models/examples", json!({ "examples": rows }))
        .await;
    err.expect_error(422, "invalid_rows", Some("examples[3].category"));
    app.post_as(admin, "/api/v1/models/train", json!({}))
        .await
        .expect_error(422, "not_enough_examples", None);

    let n = history().len();
    let r = app
        .post_as(admin, "/api/v1/models/examples", json!({ "examples": history() }))
        .await;
    assert_eq!(r.expect(201)["imported"], n);
    let v1 = app.post_as(admin, "/api/v1/models/train", json!({})).await;
    let v1 = v1.expect(201).clone();
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["active"], true);
    assert_eq!(v1["trained_by"], app.users["admin"].to_string());
    assert_eq!(
        v1["training_size"], n,
        "the imported rows (no matter is classified yet)"
    );
    assert!(
        v1["info"]["cv"]["macro_f1"].as_f64().is_some(),
        "cross-validated figures: {v1}"
    );

    // Parking matters at T3 go to the terminal department by rule; elsewhere to the category's unit.
    let parking = app.categories.parking.to_string();
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/routing",
            Auth::Session(admin),
            Some(&json!({"threshold": 0.5, "rules": [
                {"category_id": parking, "unit_id": app.units.terminal.to_string(), "location_contains": "T3"}
            ]})),
        )
        .await;
    assert_eq!(r.expect(200)["rules"].as_array().map(Vec::len), Some(1));

    let t3 = app
        .register_with(json!({"channel": "walk_in", "title": "停车楼扫码缴费失败", "content": "停车楼出口扫码缴费失败，车位难找，收费太贵。",
                               "location": "T3航站楼停车楼", "petitioner": {"name": NAME, "phone": PHONE}}))
        .await;
    let g = suggestion(&app, s.get("clerk"), &t3.id).await;
    assert_eq!(g["model_version"], 1);
    assert_eq!(g["top_category_id"], parking.as_str(), "{g}");
    assert_eq!(g["route"], "auto", "{g}");
    assert_eq!(g["unit_id"], app.units.terminal.to_string(), "the T3 rule");
    let top = g["prediction"]["top"].as_array().cloned().unwrap_or_default();
    assert_eq!(top.len(), 3, "the top 3: {g}");
    let p: Vec<f64> = top.iter().filter_map(|t| t["probability"].as_f64()).collect();
    assert!(
        p.windows(2).all(|w| w[0] >= w[1]) && p.iter().sum::<f64>() <= 1.0 + 1e-6,
        "{p:?}"
    );
    assert!(
        g["prediction"]["words"].as_array().is_some_and(|w| !w.is_empty()),
        "the words behind it"
    );

    let auto = app
        .get_as(s.get("clerk"), "/api/v1/triage/queue?route=auto")
        .await;
    let auto = auto.expect(200).as_array().cloned().unwrap_or_default();
    assert!(
        auto.iter().any(|q| q["matter"]["id"] == t3.id.as_str()),
        "{auto:?}"
    );

    // A matter in words the model never saw is unsure: it waits for a clerk.
    app.request(
        reqwest::Method::PUT,
        "/api/v1/routing",
        Auth::Session(admin),
        Some(&json!({"threshold": 0.9, "rules": []})),
    )
    .await
    .expect(200);
    let unsure = app
        .register_matter("咨询退税政策", "请问境外旅客购物离境退税怎么办理？")
        .await;
    let g = suggestion(&app, s.get("clerk"), &unsure.id).await;
    assert_eq!(g["route"], "manual", "{g}");
    let manual = app.get_as(s.get("clerk"), "/api/v1/triage/queue").await;
    let manual = manual.expect(200).as_array().cloned().unwrap_or_default();
    assert!(manual.iter().any(|q| q["matter"]["id"] == unsure.id.as_str()));
    assert!(!manual.iter().any(|q| q["matter"]["id"] == t3.id.as_str()));

    // A clerk's classification is material for the next version.
    let clerk = s.get("clerk");
    app.step(clerk, &before.id, "accept", json!({})).await;
    app.step(
        clerk,
        &before.id,
        "classify",
        json!({"category_id": parking, "petition_type": "appeal"}),
    )
    .await;
    // A second version, then a rollback to the first: new matters use version 1 again.
    let v2 = app.post_as(admin, "/api/v1/models/train", json!({})).await;
    assert_eq!(v2.expect(201)["training_size"], n + 1);
    let back = app.post_as(admin, "/api/v1/models/1/activate", json!({})).await;
    assert_eq!(back.expect(200)["active"], true);
    let models = app.get_as(admin, "/api/v1/models").await;
    let models = models.expect(200).as_array().cloned().unwrap_or_default();
    let active: Vec<u64> = models
        .iter()
        .filter(|m| m["active"] == true)
        .filter_map(|m| m["version"].as_u64())
        .collect();
    assert_eq!((models.len(), active), (2, vec![1]));
    let later = app
        .register_matter("地铁末班车太早", "机场地铁末班车太早，夜间航班旅客无法乘坐。")
        .await;
    assert_eq!(
        suggestion(&app, s.get("clerk"), &later.id).await["model_version"],
        1
    );
    app.post_as(admin, "/api/v1/models/9/activate", json!({}))
        .await
        .expect_error(404, "not_found", None);
}

#[tokio::test]
async fn routing_refuses_bad_input_and_other_roles() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    app.post_as(s.get("handler"), "/api/v1/models/train", json!({}))
        .await
        .expect_error(403, "role_required", None);
    app.get_as(s.get("handler"), "/api/v1/triage/queue")
        .await
        .expect_error(403, "role_required", None);
    let put = |body: Value| {
        let app = &app;
        let admin = s.get("admin").clone();
        async move {
            app.request(
                reqwest::Method::PUT,
                "/api/v1/routing",
                Auth::Session(&admin),
                Some(&body),
            )
            .await
        }
    };
    put(json!({"threshold": 1.5}))
        .await
        .expect_error(422, "out_of_range", Some("threshold"));
    put(json!({"threshold": 0.7, "rules": [{"category_id": "x", "unit_id": app.units.ground.to_string()}]}))
        .await
        .expect_error(422, "invalid_id", Some("rules[0].category_id"));
    put(
        json!({"threshold": 0.7, "rules": [{"category_id": app.categories.parking.to_string(),
                                            "unit_id": app.units.ground.to_string(), "channel": "fax"}]}),
    )
    .await
    .expect_error(422, "invalid_value", Some("rules[0].channel"));
    // A unit of no one's: refused, and the table stays as it was.
    put(
        json!({"threshold": 0.7, "rules": [{"category_id": app.categories.parking.to_string(),
                                            "unit_id": uuid::Uuid::now_v7().to_string()}]}),
    )
    .await
    .expect_error(422, "invalid_reference", Some("rules"));
    let cfg = app.get_as(s.get("clerk"), "/api/v1/routing").await;
    let cfg = cfg.expect(200);
    assert_eq!(cfg["rules"].as_array().map(Vec::len), Some(0));
    assert!(
        (cfg["threshold"].as_f64().unwrap_or(0.0) - 0.6).abs() < 1e-6,
        "the default: {cfg}"
    );
    app.get_as(s.get("clerk"), "/api/v1/triage/queue?route=sideways")
        .await
        .expect_error(422, "invalid_value", Some("route"));
    app.post_as(s.get("admin"), "/api/v1/models/examples", json!({"examples": []}))
        .await
        .expect_error(422, "out_of_range", Some("examples"));
}

#[tokio::test]
async fn a_new_user_dictionary_is_trained_into_the_next_model() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let admin = s.get("admin");
    let r = app
        .post_as(admin, "/api/v1/models/examples", json!({ "examples": history() }))
        .await;
    r.expect(201);
    let nightly = || xinfang_server::routing::retrain_if_new(app.store.as_ref(), app.org);
    let line = nightly().await.expect("nightly");
    assert!(line.starts_with("model version 1"), "{line}");
    assert_eq!(
        nightly().await.expect("nightly"),
        "skipped: nothing new since the active model"
    );

    // Only the dictionary changes: that is new material for the model.
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/dictionary",
            Auth::Session(admin),
            Some(&json!({"text": "行李手推车 1000 n\n停车缴费 1000 n\n"})),
        )
        .await;
    r.expect(200);
    let line = nightly().await.expect("nightly");
    assert!(line.starts_with("model version 2"), "{line}");
    assert_eq!(
        nightly().await.expect("nightly"),
        "skipped: nothing new since the active model"
    );

    let models = app.get_as(admin, "/api/v1/models").await;
    let models = models.expect(200).as_array().cloned().unwrap_or_default();
    let features = |v: u64| {
        models
            .iter()
            .find(|m| m["version"] == v)
            .map(|m| m["info"]["config"]["features"].clone())
            .unwrap_or_default()
    };
    assert_eq!(features(1)["dictionary_words"], 0);
    assert_eq!(features(2)["dictionary_words"], 2);
    assert!(
        features(2).get("dictionary").is_none(),
        "the listing names the dictionary, not all of it"
    );
    assert_ne!(
        features(1)["dictionary_fingerprint"],
        features(2)["dictionary_fingerprint"]
    );

    // Version 2 suggests with the words it was trained on.
    let m = app
        .register_matter("行李手推车不够", "到达厅行李手推车不够用，卫生也很差。")
        .await;
    let g = suggestion(&app, s.get("clerk"), &m.id).await;
    assert_eq!(g["model_version"], 2, "{g}");
    assert_eq!(g["top_category_id"], app.categories.terminal.to_string(), "{g}");

    // Both trainings are in the configuration history, by the system.
    let history = app.get_as(admin, "/api/v1/settings/history").await;
    let trained: Vec<Value> = history
        .expect(200)
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["data"]["setting"] == "model_trained")
        .collect();
    assert_eq!(trained.len(), 2);
    assert!(trained.iter().all(|e| e["actor_kind"] == "system"));
}
