//! Cross-unit isolation: a unit's handlers see only the matters assigned to their unit, and a
//! matter outside their scope is "not found" everywhere — by id, in lists, in search.

use crate::helpers::{ids, spawn_app, with_query};
use serde_json::json;

#[tokio::test]
async fn other_units_never_see_a_matter() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let (handler, handler2) = (s.get("handler"), s.get("handler2"));
    let reg = app
        .register_matter("接驳巴士司机态度恶劣", "接驳巴士司机辱骂乘客，要求严肃处理")
        .await;
    let one = format!("/api/v1/matters/{}", reg.id);
    let search = with_query("/api/v1/matters", &[("q", "接驳巴士")]);

    // Registered, the matter belongs to no unit yet: only the office and group-wide roles see it.
    for who in ["handler", "handler2", "unit_head", "leader"] {
        app.get_as(s.get(who), &one)
            .await
            .expect_error(404, "not_found", None);
        let list = app.get_as(s.get(who), "/api/v1/matters").await;
        assert_eq!(list.expect(200)["total"], 0, "{who}");
    }
    for who in ["clerk", "supervisor", "analyst", "admin"] {
        app.get_as(s.get(who), &one).await.expect(200);
        let found = app.get_as(s.get(who), &search).await;
        assert_eq!(ids(found.expect(200)), [reg.id.as_str()], "{who}");
    }

    app.assign_to_ground(&s, &reg.id, "appeal").await;

    // The lead unit now sees it, by id, in the list and in search.
    app.get_as(handler, &one).await.expect(200);
    app.get_as(s.get("unit_head"), &one).await.expect(200);
    let list = app.get_as(handler, "/api/v1/matters").await;
    assert_eq!(ids(list.expect(200)), [reg.id.as_str()]);
    let found = app.get_as(handler, &search).await;
    assert_eq!(ids(found.expect(200)), [reg.id.as_str()]);
    // So does the leader who owns the case (包案领导).
    app.get_as(s.get("leader"), &one).await.expect(200);

    // The other unit does not: not by id, not in its list, not in search, not in the timeline.
    app.get_as(handler2, &one)
        .await
        .expect_error(404, "not_found", None);
    app.get_as(handler2, &format!("{one}/timeline"))
        .await
        .expect_error(404, "not_found", None);
    let list = app.get_as(handler2, "/api/v1/matters").await;
    let list = list.expect(200);
    assert_eq!(list["total"], 0);
    assert!(!list.to_string().contains(&reg.id));
    let found = app.get_as(handler2, &search).await;
    assert_eq!(found.expect(200)["total"], 0);
    // Filtering by the other unit's id does not widen the scope.
    let by_unit = with_query("/api/v1/matters", &[("unit_id", &app.units.ground.to_string())]);
    assert_eq!(app.get_as(handler2, &by_unit).await.expect(200)["total"], 0);
    assert_eq!(app.get_as(handler, &by_unit).await.expect(200)["total"], 1);
    // Nor can it act on the matter.
    for (t, body) in [
        ("start_handling", json!({})),
        ("return_misrouted", json!({"reason": "不是我们的"})),
        ("draft_reply", json!({"text": "答复"})),
    ] {
        app.transition(handler2, &reg.id, t, body)
            .await
            .expect_error(404, "not_found", None);
    }
    // The petitioner's other matters are scoped the same way.
    let m = app.get_as(handler, &one).await;
    let pid = m.expect(200)["petitioners"][0]["id"]
        .as_str()
        .expect("petitioner id")
        .to_string();
    let theirs = app
        .get_as(handler2, &format!("/api/v1/petitioners/{pid}/matters"))
        .await;
    assert_eq!(theirs.expect(200), &json!([]));
    let theirs = app
        .get_as(handler, &format!("/api/v1/petitioners/{pid}/matters"))
        .await;
    assert_eq!(theirs.expect(200).as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn co_handling_units_see_the_matter() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let clerk = s.get("clerk");
    let reg = app
        .register_matter("航站楼到停车场指引不清", "找不到去停车场的路")
        .await;
    app.transition(clerk, &reg.id, "accept", json!({}))
        .await
        .expect(200);
    app.transition(
        clerk,
        &reg.id,
        "classify",
        json!({"category_id": app.categories.parking, "petition_type": "suggestion"}),
    )
    .await
    .expect(200);
    app.transition(
        clerk,
        &reg.id,
        "assign",
        json!({"lead_unit_id": app.units.ground, "co_unit_ids": [app.units.terminal]}),
    )
    .await
    .expect(200);
    let r = app
        .get_as(s.get("handler2"), &format!("/api/v1/matters/{}", reg.id))
        .await;
    assert_eq!(
        r.expect(200)["matter"]["co_unit_ids"],
        json!([app.units.terminal])
    );
    let list = app.get_as(s.get("handler2"), "/api/v1/matters").await;
    assert_eq!(ids(list.expect(200)), [reg.id]);
}

/// Tenants: every query is scoped by organisation, so another organisation on the same
/// database sees nothing of this one, even its petition office.
#[tokio::test]
async fn another_organisation_sees_nothing() {
    use xinfang_core::org::{Role, RoleGrant, UnitKind};
    use xinfang_store::{NewUnit, NewUser};

    let app = spawn_app().await;
    let s = app.login_all().await;
    let reg = app.register_matter("停车场收费过高", "停车场收费标准太高").await;
    app.assign_to_ground(&s, &reg.id, "appeal").await;

    let other = app
        .store
        .create_organisation("另一家机场集团")
        .await
        .expect("organisation");
    let office = app
        .store
        .create_unit(
            other,
            NewUnit {
                name: "信访办".into(),
                parent_id: None,
                kind: UnitKind::Department,
                petition_office: true,
            },
        )
        .await
        .expect("unit")
        .id;
    app.store
        .create_user(
            other,
            NewUser {
                username: "other_clerk".into(),
                display_name: "外单位登记员".into(),
                password_hash: crate::helpers::password_hash(),
                grants: vec![RoleGrant {
                    role: Role::Clerk,
                    unit_id: office,
                }],
            },
        )
        .await
        .expect("user");
    assert_eq!(app.store.units(app.org).await.expect("units").len(), 4);
    assert_eq!(app.store.units(other).await.expect("units").len(), 1);

    let theirs = app.login("other_clerk").await;
    let one = format!("/api/v1/matters/{}", reg.id);
    app.get_as(&theirs, &one)
        .await
        .expect_error(404, "not_found", None);
    app.get_as(&theirs, &format!("{one}/timeline"))
        .await
        .expect_error(404, "not_found", None);
    app.post_as(&theirs, &format!("{one}/reveal"), json!({}))
        .await
        .expect_error(404, "not_found", None);
    app.transition(&theirs, &reg.id, "start_handling", json!({}))
        .await
        .expect_error(404, "not_found", None);
    let list = app.get_as(&theirs, "/api/v1/matters").await;
    assert_eq!(list.expect(200)["total"], 0);
    let found = app
        .get_as(&theirs, &with_query("/api/v1/matters", &[("q", "停车")]))
        .await;
    assert_eq!(found.expect(200)["total"], 0);
    let units = app.get_as(&theirs, "/api/v1/units").await;
    assert_eq!(units.expect(200).as_array().map(Vec::len), Some(1));
    let cats = app.get_as(&theirs, "/api/v1/categories").await;
    assert_eq!(cats.expect(200), &json!([]));

    // Its own matter stays its own; our office cannot route to its units nor see it.
    let r = app
        .post_as(
            &theirs,
            "/api/v1/matters",
            json!({"channel": "phone", "title": "停车难", "content": "停车位不够", "petitioner": {"phone": "13812345678"}}),
        )
        .await;
    let their_id = r.expect(201)["id"].as_str().expect("id").to_string();
    app.get_as(s.get("clerk"), &format!("/api/v1/matters/{their_id}"))
        .await
        .expect_error(404, "not_found", None);
    let ours = app.get_as(s.get("clerk"), "/api/v1/matters").await;
    assert_eq!(ids(ours.expect(200)), [reg.id.as_str()]);
    // The same phone number in two organisations is two petitioners, not one.
    let m = app.get_as(&theirs, &format!("/api/v1/matters/{their_id}")).await;
    let their_pid = m.expect(200)["petitioners"][0]["id"].clone();
    let m = app.get_as(s.get("clerk"), &one).await;
    assert_ne!(m.expect(200)["petitioners"][0]["id"], their_pid);

    app.transition(&theirs, &their_id, "accept", json!({}))
        .await
        .expect(200);
    app.transition(
        &theirs,
        &their_id,
        "classify",
        json!({"category_id": app.categories.parking, "petition_type": "appeal"}),
    )
    .await
    .expect_error(422, "invalid_reference", Some("category_id"));
}
