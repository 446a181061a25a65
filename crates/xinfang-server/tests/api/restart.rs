//! PostgreSQL restarts under a running server: while the database is down every request that
//! needs it answers 503 `database_unavailable` (quickly, without wedging the server), nothing
//! that was acknowledged is lost, and the server recovers by itself when the database is back.
//!
//! The test runs its own PostgreSQL cluster (initdb on a free port) and stops it; it never
//! touches the server other tests share. It runs when `XINFANG_TEST_POSTGRES_URL` is set (CI)
//! and PostgreSQL's server binaries are installed.

use crate::helpers::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use xinfang_core::clock::FixedClock;
use xinfang_server::Config;
use xinfang_store::postgres::testing::{self, PrivateCluster};
use xinfang_store::postgres::{PgOptions, PgStore};
use xinfang_store::{Store, Vault};

fn matter(i: usize) -> Value {
    json!({"channel": "hotline12345", "external_id": format!("R-{i}"),
           "title": format!("工单{i}：到达层接客车道拥堵"), "content": "到达层接客车道经常拥堵，车辆长时间滞留。",
           "petitioner": {"name": NAME, "phone": PHONE}})
}

/// A store on the private cluster's `test` database with a fresh key: a small pool that gives
/// up on a connection after a second, so requests fail fast while the cluster is down.
async fn open_store(
    cluster: &PrivateCluster,
    clock: Arc<FixedClock>,
    max_connections: u32,
) -> Arc<dyn Store> {
    let vault = Vault::from_base64(&Vault::generate_key()).expect("key");
    let store = PgStore::connect(
        &cluster.url("test"),
        vault,
        clock,
        PgOptions {
            max_connections,
            acquire_timeout: Duration::from_secs(1),
            ..PgOptions::default()
        },
    )
    .await
    .expect("open the store on the private cluster");
    Arc::new(store)
}

// Several worker threads: the writes in flight and the server really run while PostgreSQL stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_answers_503_while_down_loses_no_acknowledged_write_and_recovers() {
    if testing::test_url().is_none() {
        return;
    }
    let cluster = match PrivateCluster::start() {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => panic!("start a private PostgreSQL cluster: {e}"),
    };
    let clock = Arc::new(FixedClock::new(start_time()));
    let store = open_store(&cluster, clock.clone(), 4).await;
    let app = spawn_app_on(Config::default(), store, clock).await;

    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let r = app
            .post_bearer(&app.clerk_token, "/api/v1/matters", matter(i))
            .await;
        acknowledged.push(TestApp::registered(r.expect(201)).id);
    }

    // Writes in flight while the server stops: each is either acknowledged (201) or refused.
    let mut in_flight = tokio::task::JoinSet::new();
    for i in 5..25 {
        let (client, base, token) = (app.client.clone(), app.base.clone(), app.clerk_token.clone());
        in_flight.spawn(async move {
            let resp = client
                .post(format!("{base}/api/v1/matters"))
                .bearer_auth(token)
                .json(&matter(i))
                .send()
                .await
                .expect("the server answers");
            TestApp::read(resp).await
        });
    }
    let cluster = Arc::new(cluster);
    let stopper = cluster.clone();
    tokio::task::spawn_blocking(move || stopper.stop())
        .await
        .expect("stop task")
        .expect("stop PostgreSQL");
    while let Some(r) = in_flight.join_next().await {
        let r = r.expect("request task");
        match r.status.as_u16() {
            201 => acknowledged.push(TestApp::registered(&r.json).id),
            503 => {
                r.expect_error(503, "database_unavailable", None);
            }
            other => panic!("a write during the stop answered {other}: {}", r.text),
        }
    }

    // Down: 503 from reads, writes, sign-in and the health check, each within the pool's
    // acquire timeout (the server is not wedged).
    let clerk_token = app.clerk_token.clone();
    let started = Instant::now();
    app.get("/healthz")
        .await
        .expect_error(503, "database_unavailable", None);
    app.get("/readyz")
        .await
        .expect_error(503, "database_unavailable", None);
    app.request(
        reqwest::Method::GET,
        "/api/v1/matters",
        Auth::Bearer(&clerk_token),
        None,
    )
    .await
    .expect_error(503, "database_unavailable", None);
    app.post_bearer(&clerk_token, "/api/v1/matters", matter(100))
        .await
        .expect_error(503, "database_unavailable", None);
    app.try_login("clerk", PASSWORD)
        .await
        .expect_error(503, "database_unavailable", None);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "answers while down took {:?}",
        started.elapsed()
    );

    // Back: the server recovers by itself.
    let starter = cluster.clone();
    tokio::task::spawn_blocking(move || starter.start_again())
        .await
        .expect("start task")
        .expect("start PostgreSQL again");
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app.get("/healthz").await;
        if r.status.as_u16() == 200 {
            break;
        }
        assert!(Instant::now() < give_up, "no recovery: {}", r.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.get("/readyz").await.expect(200);
    let session = app.login("supervisor").await;
    for id in &acknowledged {
        app.get_as(&session, &format!("/api/v1/matters/{id}"))
            .await
            .expect(200);
    }
    let page = app.get_as(&session, "/api/v1/matters?per_page=100").await;
    assert_eq!(
        page.expect(200)["total"].as_u64(),
        Some(acknowledged.len() as u64),
        "exactly the acknowledged matters exist"
    );
    let r = app
        .post_bearer(&app.clerk_token, "/api/v1/matters", matter(200))
        .await;
    r.expect(201);
    let audit = app.store.verify_audit().await.expect("verify");
    assert!(audit.broken.is_none(), "{:?}", audit.broken);
}

/// A node started while PostgreSQL is down cannot load its duplicate index, so it is not ready;
/// it tries again by itself and becomes ready once the database is back, without waiting for a
/// registration (which a load balancer routing by `/readyz` would never send it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_started_while_postgres_is_down_becomes_ready_when_it_is_back() {
    if testing::test_url().is_none() {
        return;
    }
    let cluster = match PrivateCluster::start() {
        Ok(Some(c)) => Arc::new(c),
        Ok(None) => return,
        Err(e) => panic!("start a private PostgreSQL cluster: {e}"),
    };
    let clock = Arc::new(FixedClock::new(start_time()));
    let store = open_store(&cluster, clock, 2).await;
    let stopper = cluster.clone();
    tokio::task::spawn_blocking(move || stopper.stop())
        .await
        .expect("stop task")
        .expect("stop PostgreSQL");

    let intake = Arc::new(xinfang_server::intake::Intake::default());
    let loading = {
        let (intake, store) = (intake.clone(), store.clone());
        tokio::spawn(async move {
            intake
                .load_index(store.as_ref(), Duration::from_millis(200))
                .await
        })
    };
    // As long as a query waits for a connection: the first load has failed by then too.
    assert!(store.ping().await.is_err(), "the database is down");
    assert!(!intake.ready(), "not ready without its index");

    let starter = cluster.clone();
    tokio::task::spawn_blocking(move || starter.start_again())
        .await
        .expect("start task")
        .expect("start PostgreSQL again");
    let give_up = Instant::now() + Duration::from_secs(30);
    while !intake.ready() {
        assert!(
            Instant::now() < give_up,
            "never ready after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), loading)
        .await
        .expect("the load ends once it has succeeded")
        .expect("load task");
}
