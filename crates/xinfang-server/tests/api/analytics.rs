//! Hotspots over the database: many petitioners writing about the same problem in a window
//! make one hotspot, ranked first; one-off matters make none; the window and roles are checked.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn many_petitioners_on_one_problem_make_the_first_hotspot() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let bus = [
        (
            "机场大巴末班车太早",
            "晚上十点后落地的航班，机场大巴末班车已经开走，只能打车，希望延长末班车时间。",
        ),
        (
            "夜间机场大巴停运",
            "机场大巴末班车太早，夜间航班旅客没有公共交通可坐，请增加夜间班次。",
        ),
        (
            "末班机场大巴能否延后",
            "每次坐晚班飞机到达都赶不上机场大巴末班车，建议末班车延后到零点。",
        ),
        (
            "建议增开夜间大巴",
            "机场大巴夜间班次太少，末班车时间太早，夜里落地的人很不方便。",
        ),
        (
            "机场大巴末班时间",
            "希望机场大巴末班车延长，夜间航班落地后没有大巴可坐。",
        ),
    ];
    let mut members = Vec::new();
    for (i, (title, content)) in bus.iter().enumerate() {
        let r = app
            .register_with(json!({"channel": "website", "title": title, "content": content,
                                   "petitioner": {"name": NAME, "phone": format!("1391234560{i}")}}))
            .await;
        members.push(r.id);
    }
    for (i, (title, content)) in [
        ("母婴室门锁坏了", "T2航站楼三楼母婴室门锁坏了，无法锁门。"),
        ("行李推车不够", "国际到达行李推车经常没有，要等很久。"),
        ("安检排队太久", "早上七点安检口只开两个通道，排队四十分钟。"),
    ]
    .iter()
    .enumerate()
    {
        app.register_with(json!({"channel": "phone", "title": title, "content": content,
                                  "petitioner": {"name": NAME, "phone": format!("1371234560{i}")}}))
            .await;
    }

    let r = app.get_as(s.get("analyst"), "/api/v1/hotspots?top=5").await;
    let body = r.expect(200);
    let list = body["hotspots"].as_array().cloned().unwrap_or_default();
    assert!(!list.is_empty(), "{body}");
    let first = &list[0];
    let got: Vec<String> = first["members"]
        .as_array()
        .map(|m| m.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    assert!(got.len() >= 4, "the bus matters cluster: {first}");
    assert!(
        got.iter().all(|id| members.contains(id)),
        "only bus matters: {first}"
    );
    assert!(
        first["label"]
            .as_str()
            .is_some_and(|l| l.contains("大巴") || l.contains("末班")),
        "{first}"
    );
    assert!(first["petitioners"].as_u64() >= Some(4));

    // A window before anything was registered has no hotspot.
    let r = app
        .get_as(
            s.get("supervisor"),
            "/api/v1/hotspots?from=2024-01-01&to=2024-01-31",
        )
        .await;
    assert_eq!(r.expect(200)["hotspots"].as_array().map(Vec::len), Some(0));
    app.get_as(s.get("analyst"), "/api/v1/hotspots?from=2025-13-01")
        .await
        .expect_error(422, "invalid_date", Some("from"));
    app.get_as(s.get("analyst"), "/api/v1/hotspots?from=2025-03-10&to=2025-03-01")
        .await
        .expect_error(422, "out_of_range", Some("from"));
    app.get_as(s.get("handler"), "/api/v1/hotspots")
        .await
        .expect_error(403, "role_required", None);
}

#[tokio::test]
async fn an_admin_edits_the_user_dictionary_and_a_bad_file_saves_nothing() {
    let app = spawn_app().await;
    let s = app.login_all().await;
    let put = |who: &'static str, text: &str| {
        let body = json!({ "text": text });
        let session = s.get(who).clone();
        let app = &app;
        async move {
            app.request(
                reqwest::Method::PUT,
                "/api/v1/dictionary",
                Auth::Session(&session),
                Some(&body),
            )
            .await
        }
    };
    let empty = app.get_as(s.get("clerk"), "/api/v1/dictionary").await;
    assert_eq!(empty.expect(200)["words"], 0);

    let r = put("admin", "T3航站楼\n云港机场大巴 1000 n\n# 地名\n地面交通中心\n").await;
    assert_eq!(r.expect(200)["words"], 3, "{}", r.text);
    // Every bad line is named; nothing is saved.
    let bad = put(
        "admin",
        "好词\n 坏 词 x y\n\n太长太长太长太长太长太长太长太长太长太长太长太长太长太长太长太长太长\n",
    )
    .await;
    let err = bad.expect_error(422, "invalid_lines", Some("text"));
    let msg = err["message"].as_str().unwrap_or_default();
    assert!(msg.contains("第2行") && msg.contains("第4行"), "{msg}");
    let kept = app.get_as(s.get("analyst"), "/api/v1/dictionary").await;
    let kept = kept.expect(200);
    assert_eq!(kept["words"], 3);
    assert!(kept["text"].as_str().is_some_and(|t| t.contains("T3航站楼")));
    put("supervisor", "词")
        .await
        .expect_error(403, "role_required", None);

    // The saved change is in the configuration history; the refused ones are not.
    let history = app.get_as(s.get("supervisor"), "/api/v1/settings/history").await;
    let history = history.expect(200);
    let entries = history.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{history}");
    assert_eq!(entries[0]["kind"], "settings_changed");
    assert_eq!(entries[0]["data"]["setting"], "user_dictionary");
    assert_eq!(entries[0]["data"]["added_count"], 3);
    assert_eq!(entries[0]["actor_kind"], "staff");
    assert!(entries[0]["actor_name"].is_string());
    app.get_as(s.get("handler"), "/api/v1/settings/history")
        .await
        .expect_error(403, "role_required", None);

    // Hotspots segment with it (and still find nothing in an empty window).
    let r = app.get_as(s.get("analyst"), "/api/v1/hotspots").await;
    assert_eq!(r.expect(200)["hotspots"].as_array().map(Vec::len), Some(0));
}
