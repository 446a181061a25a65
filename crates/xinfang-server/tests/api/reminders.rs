//! Deadline reminders over HTTP on one node: the scan an admin or supervisor triggers, who
//! sees which reminder, acknowledging one, the per-unit deadline board, and the refusals.

use crate::helpers::*;
use chrono::Duration;
use serde_json::json;

#[tokio::test]
async fn an_overdue_matter_reminds_its_unit_and_the_office_but_no_other_unit() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let m = app
        .register_matter("停车场道闸故障", "P3停车场出口道闸经常抬不起来，排队很久。")
        .await;
    app.in_progress(&s, &m.id).await;

    // Not due yet: the scan records nothing.
    let r = app
        .post_as(s.get("supervisor"), "/api/v1/jobs/deadline_scan/run", json!({}))
        .await;
    assert_eq!(r.expect(200)["overdue"], 0);

    app.advance(Duration::days(90));
    let r = app
        .post_as(s.get("supervisor"), "/api/v1/jobs/deadline_scan/run", json!({}))
        .await;
    let body = r.expect(200);
    assert_eq!(
        (body["overdue"].as_i64(), body["due_soon"].as_i64()),
        (Some(1), Some(0)),
        "{body}"
    );

    let mine = app.get_as(s.get("handler"), "/api/v1/reminders").await;
    let mine = mine.expect(200).as_array().cloned().unwrap_or_default();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["kind"], "overdue");
    assert_eq!(mine[0]["tracking_code"], m.tracking_code.as_str());
    assert_eq!(mine[0]["unit_id"], app.units.ground.to_string());
    assert_eq!(mine[0]["deadline_kind"], "handling");
    let other = app.get_as(s.get("handler2"), "/api/v1/reminders").await;
    assert_eq!(
        other.expect(200).as_array().map(Vec::len),
        Some(0),
        "another unit sees nothing"
    );
    let office = app
        .get_as(s.get("supervisor"), "/api/v1/reminders?open=true")
        .await;
    assert_eq!(office.expect(200).as_array().map(Vec::len), Some(1));

    // The timeline shows the crossing as a system event.
    let timeline = app.timeline(s.get("handler"), &m.id).await;
    let crossing = timeline
        .iter()
        .find(|e| e["kind"] == "deadline_overdue")
        .expect("the overdue event");
    assert_eq!(crossing["actor_kind"], "system");
    assert_eq!(crossing["label_zh"], "超期提醒");

    // The handler sees to it; it leaves the open list.
    let id = mine[0]["id"].as_str().expect("reminder id");
    let path = format!("/api/v1/reminders/{id}/acknowledge");
    app.post_as(s.get("handler2"), &path, json!({}))
        .await
        .expect_error(404, "not_found", None);
    let ack = app.post_as(s.get("handler"), &path, json!({})).await;
    assert_eq!(
        ack.expect(200)["acknowledged_by"],
        app.users["handler"].to_string()
    );
    let open = app
        .get_as(s.get("supervisor"), "/api/v1/reminders?open=true")
        .await;
    assert_eq!(open.expect(200).as_array().map(Vec::len), Some(0));

    // The deadline board counts it against its unit.
    let board = app.get_as(s.get("supervisor"), "/api/v1/deadlines/units").await;
    let board = board.expect(200).as_array().cloned().unwrap_or_default();
    let ground = board
        .iter()
        .find(|l| l["unit_id"] == app.units.ground.to_string())
        .expect("the unit's line");
    assert_eq!(
        (ground["open"].as_i64(), ground["overdue"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(ground["unit_name"], "地面交通中心");
}

#[tokio::test]
async fn reminders_reports_and_jobs_refuse_what_a_role_may_not_do() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    app.post_as(s.get("clerk"), "/api/v1/jobs/deadline_scan/run", json!({}))
        .await
        .expect_error(403, "role_required", None);
    app.get_as(s.get("handler"), "/api/v1/jobs")
        .await
        .expect_error(403, "role_required", None);
    app.get_as(s.get("handler"), "/api/v1/reports")
        .await
        .expect_error(403, "role_required", None);
    app.get_as(s.get("handler"), "/api/v1/deadlines/units")
        .await
        .expect_error(403, "role_required", None);
    app.get_as(s.get("supervisor"), "/api/v1/reminders?limit=0")
        .await
        .expect_error(422, "out_of_range", Some("limit"));
    app.post_as(
        s.get("supervisor"),
        "/api/v1/reminders/not-an-id/acknowledge",
        json!({}),
    )
    .await
    .expect_error(404, "not_found", None);
    app.get("/api/v1/reminders")
        .await
        .expect_error(401, "unauthenticated", None);
    // No background loop in these tests: nothing has run, nothing is reported yet.
    let jobs = app.get_as(s.get("admin"), "/api/v1/jobs").await;
    assert_eq!(jobs.expect(200).as_array().map(Vec::len), Some(0));
    let reports = app.get_as(s.get("leader"), "/api/v1/reports").await;
    assert_eq!(reports.expect(200).as_array().map(Vec::len), Some(0));
}
