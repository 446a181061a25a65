//! Liveness, readiness and the OpenAPI document.

use crate::helpers::{TestApp, spawn_app};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use xinfang_server::intake::Intake;
use xinfang_server::{AppState, Config, auth, router};

#[tokio::test]
async fn healthz_answers_200() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    r.expect(200);
}

/// A node is ready for registrations once its duplicate index is loaded (each registration's
/// intake waits for that first read of every stored signature): until then `/readyz` answers
/// 503 `starting`, so a load balancer sends registrations to the other nodes, while
/// `/healthz` says the node is alive.
#[tokio::test]
async fn readyz_answers_starting_until_the_duplicate_index_is_loaded() {
    let app = spawn_app().await;
    // A second node on the same database, serving before it has loaded its index.
    let intake = Arc::new(Intake::default());
    let state = AppState {
        store: app.store.clone(),
        clock: app.clock.clone(),
        config: Arc::new(Config::default()),
        limits: Arc::new(auth::Limits::new(30)),
        tokens: Arc::default(),
        models: Arc::default(),
        segmenters: Arc::new(xinfang_nlp::segment::SegmenterCache::new(4)),
        intake: intake.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    let get = async |path: &str| {
        let resp = app
            .client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("the node answers");
        TestApp::read(resp).await
    };

    let r = get("/readyz").await;
    let err = r.expect_error(503, "starting", None);
    assert!(
        err["message"].as_str().is_some_and(|m| m.contains("查重索引")),
        "the message says what the node waits for: {}",
        r.text
    );
    get("/healthz").await.expect(200);

    intake
        .load_index(app.store.as_ref(), Duration::from_secs(1))
        .await;
    let r = get("/readyz").await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.text, "ready");

    // A node started as usual loads its index by itself and becomes ready.
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app.get("/readyz").await;
        if r.status.as_u16() == 200 {
            break;
        }
        r.expect_error(503, "starting", None);
        assert!(Instant::now() < give_up, "never ready: {}", r.text);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn unknown_routes_answer_in_the_error_shape() {
    let app = spawn_app().await;
    app.get("/api/v1/nowhere")
        .await
        .expect_error(404, "no_such_route", None);
    // A known route with the wrong method: 405, the same shape, and what is allowed.
    let r = app
        .get("/api/v1/matters/00000000-0000-0000-0000-000000000000/accept")
        .await;
    r.expect_error(405, "method_not_allowed", None);
    assert_eq!(r.headers.get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    let r = app
        .request(
            reqwest::Method::DELETE,
            "/api/v1/matters",
            crate::helpers::Auth::None,
            None,
        )
        .await;
    r.expect_error(405, "method_not_allowed", None);
}

/// Every transition of the lifecycle has its endpoint, and the document says so.
const TRANSITIONS: [&str; 22] = [
    "accept",
    "decline",
    "classify",
    "assign",
    "return_misrouted",
    "start_handling",
    "pause",
    "resume",
    "request_extension",
    "approve_extension",
    "refuse_extension",
    "draft_reply",
    "approve_reply",
    "deliver_reply",
    "record_satisfaction",
    "reopen",
    "request_review",
    "answer_review",
    "request_recheck",
    "answer_recheck",
    "conclude",
    "archive",
];

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json").await;
    let doc = doc.expect(200);
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "not OpenAPI 3: {}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    let mut expected = vec![
        "/api/v1/auth/login".to_string(),
        "/api/v1/auth/logout".to_string(),
        "/api/v1/auth/me".to_string(),
        "/api/v1/matters".to_string(),
        "/api/v1/matters/{id}".to_string(),
        "/api/v1/matters/{id}/timeline".to_string(),
        "/api/v1/matters/{id}/reveal".to_string(),
        "/api/v1/petitioners/{id}/matters".to_string(),
        "/api/v1/public/matters".to_string(),
        "/api/v1/public/track".to_string(),
        "/api/v1/public/satisfaction".to_string(),
        "/api/v1/public/review".to_string(),
        "/api/v1/public/recheck".to_string(),
        "/api/v1/units".to_string(),
        "/api/v1/users".to_string(),
        "/api/v1/categories".to_string(),
        "/api/v1/rule-sets".to_string(),
        "/api/v1/calendar".to_string(),
        "/api/v1/tokens".to_string(),
    ];
    expected.extend(TRANSITIONS.iter().map(|t| format!("/api/v1/matters/{{id}}/{t}")));
    for p in &expected {
        assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
    }
    // Registration and listing share a path: both methods are documented.
    let matters = &paths["/api/v1/matters"];
    assert!(matters["post"].is_object() && matters["get"].is_object());
    for t in TRANSITIONS {
        let op = &paths[&format!("/api/v1/matters/{{id}}/{t}")]["post"];
        assert!(op.is_object(), "{t} is not documented as POST");
    }
    // Every documented path is an /api/v1 route.
    for p in paths.keys() {
        assert!(p.starts_with("/api/v1/"), "unexpected path {p}");
    }
}

#[tokio::test]
async fn every_documented_transition_route_is_served() {
    let app = spawn_app().await;
    // Without credentials each route answers 401 (it exists), never 404 (no such route).
    for t in TRANSITIONS {
        let r = app
            .post_public(
                &format!("/api/v1/matters/00000000-0000-0000-0000-000000000000/{t}"),
                serde_json::json!({}),
            )
            .await;
        r.expect_error(401, "unauthenticated", None);
    }
}
