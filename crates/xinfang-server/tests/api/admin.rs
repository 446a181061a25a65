//! The organisation's reference data over HTTP: readable by every signed-in user, writable by
//! admins only, with conflicts and bad references named.

use crate::helpers::spawn_app;
use chrono::{TimeZone, Utc};
use serde_json::json;

#[tokio::test]
async fn units_are_read_by_all_and_written_by_admins() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let r = app.get_as(s.get("handler2"), "/api/v1/units").await;
    let names: Vec<&str> = r
        .expect(200)
        .as_array()
        .expect("units")
        .iter()
        .map(|u| u["name"].as_str().unwrap_or("?"))
        .collect();
    for n in ["测试机场集团", "信访办", "地面交通中心", "航站楼管理部"] {
        assert!(names.contains(&n), "{n} missing: {names:?}");
    }
    let office = r
        .json
        .as_array()
        .and_then(|a| a.iter().find(|u| u["name"] == "信访办"))
        .cloned();
    assert_eq!(office.expect("信访办")["petition_office"], true);

    let unit = json!({"name": "货运部", "parent_id": app.units.group, "kind": "department"});
    for who in ["clerk", "supervisor", "handler", "analyst"] {
        app.post_as(s.get(who), "/api/v1/units", unit.clone())
            .await
            .expect_error(403, "role_required", None);
    }
    let r = app.post_as(s.get("admin"), "/api/v1/units", unit.clone()).await;
    let made = r.expect(201);
    assert_eq!(made["name"], "货运部");
    assert_eq!(made["parent_id"], json!(app.units.group));
    assert_eq!(made["petition_office"], false);
    app.post_as(s.get("admin"), "/api/v1/units", unit)
        .await
        .expect_error(409, "unit_name_taken", Some("name"));
    app.post_as(
        s.get("admin"),
        "/api/v1/units",
        json!({"name": "无上级", "parent_id": "00000000-0000-7000-8000-000000000000"}),
    )
    .await
    .expect_error(422, "invalid_reference", Some("parent_id"));
    app.post_as(s.get("admin"), "/api/v1/units", json!({"kind": "team"}))
        .await
        .expect_error(422, "required", Some("name"));
    app.post_as(
        s.get("admin"),
        "/api/v1/units",
        json!({"name": "x", "kind": "division"}),
    )
    .await
    .expect_error(422, "invalid_value", Some("kind"));
}

#[tokio::test]
async fn admins_create_users_who_can_then_sign_in() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let user = json!({
        "username": "handler3",
        "display_name": "冯承办",
        "password": "a-long-password",
        "grants": [{"role": "handler", "unit_id": app.units.terminal}],
    });
    let r = app.post_as(&admin, "/api/v1/users", user.clone()).await;
    let made = r.expect(201);
    assert_eq!(made["username"], "handler3");
    assert_eq!(made["grants"][0]["role"], "handler");
    assert!(!r.text.contains("password"), "{}", r.text);
    app.post_as(&admin, "/api/v1/users", user)
        .await
        .expect_error(409, "username_taken", Some("username"));

    let r = app.try_login("handler3", "a-long-password").await;
    assert_eq!(r.expect(200)["user"]["display_name"], "冯承办");

    for (body, code, field) in [
        (
            json!({"username": "x y", "display_name": "甲", "password": "long-enough"}),
            "invalid_username",
            "username",
        ),
        (
            json!({"username": "short", "display_name": "甲", "password": "short"}),
            "weak_password",
            "password",
        ),
        (
            json!({"display_name": "甲", "password": "long-enough"}),
            "required",
            "username",
        ),
        (
            json!({"username": "u1", "display_name": "甲", "password": "long-enough", "grants": [{"role": "king", "unit_id": app.units.group}]}),
            "invalid_value",
            "grants[0].role",
        ),
        (
            json!({"username": "u2", "display_name": "甲", "password": "long-enough", "grants": [{"role": "clerk"}]}),
            "required",
            "grants[0].unit_id",
        ),
        (
            json!({"username": "u3", "display_name": "甲", "password": "long-enough", "grants": [{"role": "clerk", "unit_id": "00000000-0000-7000-8000-000000000000"}]}),
            "invalid_reference",
            "grants",
        ),
    ] {
        app.post_as(&admin, "/api/v1/users", body)
            .await
            .expect_error(422, code, Some(field));
    }
    // A refused user was not half-created.
    app.try_login("u3", "long-enough")
        .await
        .expect_error(401, "invalid_credentials", None);

    let clerk = app.login("clerk").await;
    app.post_as(
        &clerk,
        "/api/v1/users",
        json!({"username": "sneaky", "display_name": "甲", "password": "long-enough",
               "grants": [{"role": "admin", "unit_id": app.units.group}]}),
    )
    .await
    .expect_error(403, "role_required", None);
}

#[tokio::test]
async fn the_user_list_is_for_admins_and_supervisors_and_holds_no_hashes() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    for who in ["clerk", "handler", "unit_head", "leader", "analyst"] {
        app.get_as(s.get(who), "/api/v1/users")
            .await
            .expect_error(403, "role_required", None);
    }
    for who in ["admin", "supervisor"] {
        let r = app.get_as(s.get(who), "/api/v1/users").await;
        assert_eq!(r.expect(200).as_array().map(Vec::len), Some(8), "{who}");
        assert!(!r.text.contains("$argon2"), "{}", r.text);
    }
}

#[tokio::test]
async fn categories_form_a_tree() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let admin = s.get("admin");
    let r = app
        .post_as(
            admin,
            "/api/v1/categories",
            json!({"name": "出租车", "parent_id": app.categories.transport, "default_unit_id": app.units.ground, "petition_type": "appeal"}),
        )
        .await;
    let made = r.expect(201);
    assert_eq!(made["path"], "交通接驳 / 出租车");
    assert_eq!(made["petition_type"], "appeal");
    app.post_as(
        admin,
        "/api/v1/categories",
        json!({"name": "出租车", "parent_id": app.categories.transport}),
    )
    .await
    .expect_error(409, "category_name_taken", Some("name"));
    // The same name under another parent is another category.
    app.post_as(
        admin,
        "/api/v1/categories",
        json!({"name": "出租车", "parent_id": app.categories.terminal}),
    )
    .await
    .expect(201);
    app.post_as(
        admin,
        "/api/v1/categories",
        json!({"name": "孤儿", "parent_id": "00000000-0000-7000-8000-000000000000"}),
    )
    .await
    .expect_error(422, "invalid_reference", Some("parent_id"));
    app.post_as(s.get("clerk"), "/api/v1/categories", json!({"name": "越权"}))
        .await
        .expect_error(403, "role_required", None);

    let r = app.get_as(s.get("handler"), "/api/v1/categories").await;
    let paths: Vec<&str> = r
        .expect(200)
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| c["path"].as_str().unwrap_or("?"))
        .collect();
    for p in [
        "交通接驳",
        "交通接驳 / 停车服务",
        "交通接驳 / 出租车",
        "航站楼服务 / 出租车",
    ] {
        assert!(paths.contains(&p), "{p} missing: {paths:?}");
    }
}

#[tokio::test]
async fn a_bad_default_unit_is_named() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    app.post_as(
        &admin,
        "/api/v1/categories",
        json!({"name": "无主", "default_unit_id": "00000000-0000-7000-8000-000000000000"}),
    )
    .await
    .expect_error(422, "invalid_reference", Some("default_unit_id"));
}

#[tokio::test]
async fn rule_sets_are_versioned_presets_or_documents() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let r = app.get_as(&admin, "/api/v1/rule-sets").await;
    let sets = r.expect(200).as_array().expect("rule sets").clone();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["is_default"], true);
    assert_eq!(sets[0]["rules"]["max_extension_days"], 30);

    let r = app
        .post_as(&admin, "/api/v1/rule-sets", json!({"preset": "hotline_12345"}))
        .await;
    let hotline = r.expect(201);
    assert_eq!(hotline["max_extension_days"], 10);
    assert_eq!(hotline["version"], 1);
    app.post_as(&admin, "/api/v1/rule-sets", json!({"preset": "strict"}))
        .await
        .expect_error(422, "invalid_value", Some("preset"));
    app.post_as(&admin, "/api/v1/rule-sets", json!({}))
        .await
        .expect_error(422, "required", Some("rules"));
    app.post_as(&admin, "/api/v1/rule-sets", json!({"rules": {"name": "缺字段"}}))
        .await
        .expect_error(422, "invalid_rule_set", Some("rules"));
    // A new version of an existing rule set keeps its id.
    let mut next = hotline.clone();
    next["max_extension_days"] = json!(5);
    if let Some(o) = next.as_object_mut() {
        o.remove("version");
    }
    let r = app
        .post_as(
            &admin,
            "/api/v1/rule-sets",
            json!({"rules": next, "make_default": true}),
        )
        .await;
    let v2 = r.expect(201);
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["id"], hotline["id"]);

    // New matters are registered under the new default: its extension limit applies.
    let s = app.login_all().await;
    let reg = app.register_matter("出租车排队", "出租车上客区排队太久").await;
    app.in_progress(&s, &reg.id).await;
    app.transition(
        s.get("handler"),
        &reg.id,
        "request_extension",
        json!({"days": 6, "reason": "需要调查"}),
    )
    .await
    .expect_error(422, "extension_too_long", Some("days"));

    let clerk = app.login("clerk").await;
    app.post_as(&clerk, "/api/v1/rule-sets", json!({"preset": "hotline_12345"}))
        .await
        .expect_error(403, "role_required", None);
}

#[tokio::test]
async fn the_calendar_warns_about_missing_years_and_takes_new_ones() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let r = app.get_as(&admin, "/api/v1/calendar").await;
    let cal = r.expect(200);
    assert_eq!(cal["missing_years"], json!([]));
    assert!(
        cal["covered_years"]
            .as_array()
            .is_some_and(|y| y.contains(&json!(2025)))
    );

    // Two years on (signed in again: sessions do not last that long).
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 3, 1, 2, 0, 0).single().expect("time"));
    let admin = app.login("admin").await;
    let r = app.get_as(&admin, "/api/v1/calendar").await;
    let cal = r.expect(200);
    assert_eq!(cal["missing_years"], json!([2027, 2028]));
    assert!(cal["warnings"][0].as_str().is_some_and(|w| w.contains("2027年")));

    let bad = "date,kind,name,name_zh,in_lieu\n2027-13-01,holiday,x,元旦,0\n2027-02-10,party,x,春节,0\n";
    app.post_as(&admin, "/api/v1/calendar", json!({"csv": bad}))
        .await
        .expect_error(422, "invalid_calendar", Some("csv"));
    app.post_as(&admin, "/api/v1/calendar", json!({}))
        .await
        .expect_error(422, "required", Some("csv"));
    let good = "date,kind,name,name_zh,in_lieu\n2027-01-01,holiday,New Year's Day,元旦,0\n";
    let r = app
        .post_as(&admin, "/api/v1/calendar", json!({"csv": good}))
        .await;
    assert_eq!(r.expect(200)["missing_years"], json!([2028]));
    let clerk = app.login("clerk").await;
    app.post_as(&clerk, "/api/v1/calendar", json!({"csv": good}))
        .await
        .expect_error(403, "role_required", None);
}
