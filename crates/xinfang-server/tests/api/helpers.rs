//! The test harness: a real server on port 0 over a fresh, migrated database per test, seeded
//! with one organisation, its units, categories and a user for every role, and typed helpers
//! to talk to it over HTTP.
//!
//! Time is a [`FixedClock`] shared by the store and the server: tests move it explicitly
//! (`app.clock.advance(..)`) and never sleep.

use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderMap, SET_COOKIE};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use xinfang_core::clock::FixedClock;
use xinfang_core::ids::{CategoryId, OrganisationId, UnitId, UserId};
use xinfang_core::org::{Role, RoleGrant, UnitKind};
use xinfang_server::{Application, Config};
use xinfang_store::postgres::testing::{self, TestSchema};
use xinfang_store::sqlite::SqliteOptions;
use xinfang_store::{NewCategory, NewUnit, NewUser, SqliteStore, Store, Vault};

/// Every seeded user signs in with this password.
pub const PASSWORD: &str = "Xinfang-Test-2025";

/// The petitioner of [`TestApp::register_matter`]; lists and views must show it masked.
pub const PHONE: &str = "13812345678";
pub const PHONE_MASKED: &str = "138****5678";
pub const NAME: &str = "王建国";

/// The seeded users, by username; each holds the role its name says.
pub const USERS: [&str; 8] = [
    "clerk",
    "supervisor",
    "handler",
    "unit_head",
    "handler2",
    "leader",
    "analyst",
    "admin",
];

/// 10:00 on Monday 10 March 2025 in Beijing: a working day, away from any holiday.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, 2, 0, 0)
        .single()
        .expect("valid start time")
}

/// One argon2 hash shared by every seeded user: hashing is deliberately slow, and a test needs
/// working logins, not distinct salts.
static PASSWORD_HASH: LazyLock<String> =
    LazyLock::new(|| xinfang_server::auth::hash_password(PASSWORD).expect("hash the test password"));

/// The argon2 hash of [`PASSWORD`], for users a test seeds itself.
pub fn password_hash() -> String {
    PASSWORD_HASH.clone()
}

/// Keeps a test's database alive (and removes it when the test ends).
pub enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    /// Shared by the nodes of [`spawn_two_nodes`]; dropped with the last of them.
    Postgres(#[allow(dead_code)] Arc<TestSchema>),
    /// Owned by the test itself (a private cluster it stops and starts).
    External,
}

/// The one place that decides which backend the tests run on: a fresh schema on the PostgreSQL
/// server named by `XINFANG_TEST_POSTGRES_URL` when it is set (every test then runs against
/// PostgreSQL unchanged; CI runs this binary once more without it), else a fresh SQLite file
/// per test (and one line says the PostgreSQL runs are skipped).
pub async fn fresh_store(clock: Arc<FixedClock>) -> (Arc<dyn Store>, TestDatabase) {
    let vault = Vault::from_base64(&Vault::generate_key()).expect("a fresh vault key");
    if let Some(url) = testing::test_url() {
        let schema = TestSchema::new(&url);
        let store = schema
            .store(vault, clock)
            .await
            .unwrap_or_else(|e| panic!("open the PostgreSQL test store at {url}: {e}"));
        return (Arc::new(store), TestDatabase::Postgres(Arc::new(schema)));
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("xinfang-test.db");
    let store = SqliteStore::connect(
        &format!("sqlite://{}", path.display()),
        vault,
        clock,
        SqliteOptions::default(),
    )
    .await
    .expect("open and migrate the test database");
    (Arc::new(store), TestDatabase::Sqlite(dir))
}

/// The seeded units.
#[derive(Debug, Clone, Copy)]
pub struct Units {
    /// 测试机场集团 (the group).
    pub group: UnitId,
    /// 信访办, the petition office.
    pub office: UnitId,
    /// 地面交通中心.
    pub ground: UnitId,
    /// 航站楼管理部.
    pub terminal: UnitId,
}

/// The seeded categories.
#[derive(Debug, Clone, Copy)]
pub struct Categories {
    /// 交通接驳 (default unit 地面交通中心).
    pub transport: CategoryId,
    /// 交通接驳 / 停车服务.
    pub parking: CategoryId,
    /// 航站楼服务 (default unit 航站楼管理部).
    pub terminal: CategoryId,
}

/// A console session: the cookie to send and the CSRF token for writes.
#[derive(Debug, Clone)]
pub struct Session {
    /// `xinfang_session=…`, ready for a `Cookie` header.
    pub cookie: String,
    pub csrf: String,
}

/// What a registration answered.
#[derive(Debug, Clone)]
pub struct Registered {
    pub id: String,
    pub tracking_code: String,
    pub secret: String,
}

/// An answer from the server: status, headers and body (as text and, when it is JSON, parsed).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.text
        );
        &self.json
    }

    /// Asserts an error answer in the documented shape
    /// `{"error":{"code","message","message_en","field"}}`: the status, the code, the field
    /// (or its absence), and a message in Chinese beside the English one.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str, field: Option<&str>) -> &Value {
        self.expect(status);
        let err = &self.json["error"];
        assert!(err.is_object(), "not an error body: {}", self.text);
        let keys: Vec<&str> = err
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for k in ["code", "message", "message_en", "field"] {
            assert!(keys.contains(&k), "error body lacks `{k}`: {}", self.text);
        }
        assert_eq!(err["code"], code, "wrong code: {}", self.text);
        match field {
            Some(f) => assert_eq!(err["field"], f, "wrong field: {}", self.text),
            None => assert!(err["field"].is_null(), "unexpected field: {}", self.text),
        }
        let message = err["message"].as_str().unwrap_or_default();
        assert!(
            message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "message is not Chinese: {}",
            self.text
        );
        assert!(
            err["message_en"].as_str().is_some_and(|m| !m.is_empty()),
            "message_en is empty: {}",
            self.text
        );
        err
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    /// Cookie and CSRF token (the console).
    Session(&'a Session),
    /// The cookie without the CSRF token (what a forged cross-site form would send).
    CookieOnly(&'a Session),
    /// `Authorization: Bearer …` (machine clients).
    Bearer(&'a str),
}

/// A running server with its seeded organisation.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    /// The clock of both the store and the server; move it to move time.
    pub clock: Arc<FixedClock>,
    pub org: OrganisationId,
    pub units: Units,
    pub categories: Categories,
    /// User ids by username ([`USERS`]).
    pub users: HashMap<&'static str, UserId>,
    /// An API token of the clerk (a 12345 hotline integration).
    pub clerk_token: String,
    _db: TestDatabase,
}

/// Starts the real application on port 0 over a fresh, seeded database. Sessions last a year
/// here, so tests can move the clock by months without signing in again.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config {
        session_hours: 24 * 365,
        ..Config::default()
    })
    .await
}

/// [`spawn_app`] with other settings (the bind address is always 127.0.0.1:0).
pub async fn spawn_app_with(config: Config) -> TestApp {
    let clock = Arc::new(FixedClock::new(start_time()));
    let (store, db) = fresh_store(clock.clone()).await;
    let seeded = seed(store.as_ref()).await;
    start(config, store, clock, &seeded, db).await
}

/// The application over a store the test opened itself (seeded here); the test keeps what
/// holds the database.
pub async fn spawn_app_on(config: Config, store: Arc<dyn Store>, clock: Arc<FixedClock>) -> TestApp {
    let seeded = seed(store.as_ref()).await;
    start(config, store, clock, &seeded, TestDatabase::External).await
}

/// Two app nodes on one PostgreSQL database, as behind a load balancer: each with its own
/// store (connection pool and caches), its own HTTP listener and, when `config` asks for it,
/// its own background loop; one clock for both. `None` (after the line saying PostgreSQL runs
/// are skipped) without `XINFANG_TEST_POSTGRES_URL`: two nodes need a shared server.
pub async fn spawn_two_nodes(config: impl Fn(&str) -> Config) -> Option<(TestApp, TestApp)> {
    let url = testing::test_url()?;
    let clock = Arc::new(FixedClock::new(start_time()));
    let key = Vault::generate_key();
    let schema = Arc::new(TestSchema::new(&url));
    let mut stores: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..2 {
        let vault = Vault::from_base64(&key).expect("a generated key is valid");
        let store = schema
            .store(vault, clock.clone())
            .await
            .unwrap_or_else(|e| panic!("open the PostgreSQL test store at {url}: {e}"));
        stores.push(Arc::new(store));
    }
    let seeded = seed(stores[0].as_ref()).await;
    let a = start(
        config("node-a"),
        stores[0].clone(),
        clock.clone(),
        &seeded,
        TestDatabase::Postgres(schema.clone()),
    )
    .await;
    let b = start(
        config("node-b"),
        stores[1].clone(),
        clock,
        &seeded,
        TestDatabase::Postgres(schema),
    )
    .await;
    Some((a, b))
}

/// Serves `store` on 127.0.0.1:0 and describes the running app.
async fn start(
    config: Config,
    store: Arc<dyn Store>,
    clock: Arc<FixedClock>,
    seeded: &Seeded,
    db: TestDatabase,
) -> TestApp {
    let config = Config {
        bind: "127.0.0.1:0".parse().expect("socket address"),
        ..config
    };
    let app = Application::build(config, store.clone(), clock.clone())
        .await
        .expect("bind the test server");
    let addr = app.local_addr().expect("bound address");
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        store,
        clock,
        org: seeded.org,
        units: seeded.units,
        categories: seeded.categories,
        users: seeded.users.clone(),
        clerk_token: seeded.clerk_token.clone(),
        _db: db,
    }
}

struct Seeded {
    org: OrganisationId,
    units: Units,
    categories: Categories,
    users: HashMap<&'static str, UserId>,
    clerk_token: String,
}

/// Seeds through the store directly: the API under test is not used to set itself up.
async fn seed(store: &dyn Store) -> Seeded {
    let org = store
        .create_organisation("测试机场集团")
        .await
        .expect("organisation");
    let unit = |name: &str, parent: Option<UnitId>, kind: UnitKind, office: bool| NewUnit {
        name: name.to_string(),
        parent_id: parent,
        kind,
        petition_office: office,
    };
    let group = store
        .create_unit(org, unit("测试机场集团", None, UnitKind::Group, false))
        .await
        .expect("group")
        .id;
    let mut made = Vec::new();
    for (name, kind, office) in [
        ("信访办", UnitKind::Department, true),
        ("地面交通中心", UnitKind::Subsidiary, false),
        ("航站楼管理部", UnitKind::Department, false),
    ] {
        made.push(
            store
                .create_unit(org, unit(name, Some(group), kind, office))
                .await
                .expect("unit")
                .id,
        );
    }
    let units = Units {
        group,
        office: made[0],
        ground: made[1],
        terminal: made[2],
    };

    let category = |name: &str, parent: Option<CategoryId>, unit: UnitId| NewCategory {
        parent_id: parent,
        name: name.to_string(),
        default_unit_id: Some(unit),
        petition_type: None,
    };
    let transport = store
        .create_category(org, category("交通接驳", None, units.ground))
        .await
        .expect("category")
        .id;
    let parking = store
        .create_category(org, category("停车服务", Some(transport), units.ground))
        .await
        .expect("category")
        .id;
    let terminal = store
        .create_category(org, category("航站楼服务", None, units.terminal))
        .await
        .expect("category")
        .id;

    let grants: [(&'static str, &str, Role, UnitId); 8] = [
        ("clerk", "李登记", Role::Clerk, units.office),
        ("supervisor", "赵督办", Role::Supervisor, units.office),
        ("handler", "陈承办", Role::Handler, units.ground),
        ("unit_head", "周主任", Role::UnitHead, units.ground),
        ("handler2", "吴承办", Role::Handler, units.terminal),
        ("leader", "郑领导", Role::Leader, units.group),
        ("analyst", "孙分析", Role::Analyst, units.group),
        ("admin", "钱管理", Role::Admin, units.group),
    ];
    let mut users = HashMap::new();
    for (username, display_name, role, unit_id) in grants {
        let user = store
            .create_user(
                org,
                NewUser {
                    username: username.to_string(),
                    display_name: display_name.to_string(),
                    password_hash: PASSWORD_HASH.clone(),
                    grants: vec![RoleGrant { role, unit_id }],
                },
            )
            .await
            .expect("user");
        users.insert(username, user.id);
    }

    let clerk_token = xinfang_server::auth::random_token();
    store
        .create_api_token(
            org,
            users["clerk"],
            "12345热线对接",
            &xinfang_store::audit::token_hash(&clerk_token),
        )
        .await
        .expect("api token");
    Seeded {
        org,
        units,
        categories: Categories {
            transport,
            parking,
            terminal,
        },
        users,
        clerk_token,
    }
}

impl TestApp {
    /// Whether the store is PostgreSQL (`XINFANG_TEST_POSTGRES_URL`), not SQLite.
    pub fn on_postgres(&self) -> bool {
        matches!(self._db, TestDatabase::Postgres(_))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        req = match auth {
            Auth::None => req,
            Auth::Session(s) => req.header(COOKIE, &s.cookie).header("x-csrf-token", &s.csrf),
            Auth::CookieOnly(s) => req.header(COOKIE, &s.cookie),
            Auth::Bearer(t) => req.header(AUTHORIZATION, format!("Bearer {t}")),
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        Self::read(req.send().await.expect("request reaches the server")).await
    }

    /// Sends a raw body with a JSON content type (malformed-input tests).
    pub async fn post_raw(&self, path: &str, auth: Auth<'_>, body: impl Into<reqwest::Body>) -> Reply {
        let mut req = self
            .client
            .post(self.url(path))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        req = match auth {
            Auth::None => req,
            Auth::Session(s) => req.header(COOKIE, &s.cookie).header("x-csrf-token", &s.csrf),
            Auth::CookieOnly(s) => req.header(COOKIE, &s.cookie),
            Auth::Bearer(t) => req.header(AUTHORIZATION, format!("Bearer {t}")),
        };
        Self::read(req.send().await.expect("request reaches the server")).await
    }

    /// Reads an answer into a [`Reply`].
    pub async fn read(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("response body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(reqwest::Method::GET, path, Auth::None, None).await
    }

    pub async fn get_as(&self, session: &Session, path: &str) -> Reply {
        self.request(reqwest::Method::GET, path, Auth::Session(session), None)
            .await
    }

    pub async fn post_as(&self, session: &Session, path: &str, body: Value) -> Reply {
        self.request(reqwest::Method::POST, path, Auth::Session(session), Some(&body))
            .await
    }

    pub async fn post_bearer(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(reqwest::Method::POST, path, Auth::Bearer(token), Some(&body))
            .await
    }

    /// A request without credentials (the public endpoints).
    pub async fn post_public(&self, path: &str, body: Value) -> Reply {
        self.request(reqwest::Method::POST, path, Auth::None, Some(&body))
            .await
    }

    /// `POST /api/v1/auth/login` with any password; the raw answer.
    pub async fn try_login(&self, username: &str, password: &str) -> Reply {
        self.post_public(
            "/api/v1/auth/login",
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Signs in a seeded user over HTTP and keeps the cookie (read from `Set-Cookie`) and the
    /// CSRF token.
    pub async fn login(&self, username: &str) -> Session {
        let r = self.try_login(username, PASSWORD).await;
        let body = r.expect(200);
        let csrf = body["csrf_token"]
            .as_str()
            .expect("csrf_token in the login answer")
            .to_string();
        let set_cookie = r
            .headers
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("Set-Cookie on login");
        let cookie = set_cookie
            .split(';')
            .next()
            .expect("cookie pair")
            .trim()
            .to_string();
        assert!(cookie.starts_with("xinfang_session="), "{set_cookie}");
        Session { cookie, csrf }
    }

    /// Signs in every seeded user.
    pub async fn login_all(&self) -> Sessions {
        let mut by_name = HashMap::new();
        for u in USERS {
            by_name.insert(u, self.login(u).await);
        }
        Sessions(by_name)
    }

    /// `POST /api/v1/matters/{id}/{transition}` as `session`.
    pub async fn transition(&self, session: &Session, id: &str, transition: &str, body: Value) -> Reply {
        self.post_as(session, &format!("/api/v1/matters/{id}/{transition}"), body)
            .await
    }

    /// A transition that must succeed (200); answers the state it led to.
    pub async fn step(&self, session: &Session, id: &str, transition: &str, body: Value) -> String {
        let r = self.transition(session, id, transition, body).await;
        assert_eq!(r.status.as_u16(), 200, "{transition}: {}", r.text);
        r.json["matter"]["state"]
            .as_str()
            .unwrap_or_else(|| panic!("{transition}: no state in {}", r.text))
            .to_string()
    }

    /// Registers a walk-in matter as the clerk (API token), with the petitioner [`NAME`] /
    /// [`PHONE`]; 201 is asserted.
    pub async fn register_matter(&self, title: &str, content: &str) -> Registered {
        self.register_with(json!({
            "channel": "walk_in",
            "title": title,
            "content": content,
            "petitioner": {"name": NAME, "phone": PHONE},
        }))
        .await
    }

    /// Registers `body` as the clerk (API token); 201 is asserted.
    pub async fn register_with(&self, body: Value) -> Registered {
        let r = self.post_bearer(&self.clerk_token, "/api/v1/matters", body).await;
        Self::registered(r.expect(201))
    }

    pub fn registered(body: &Value) -> Registered {
        let field = |k: &str| {
            body[k]
                .as_str()
                .unwrap_or_else(|| panic!("`{k}` in {body}"))
                .to_string()
        };
        Registered {
            id: field("id"),
            tracking_code: field("tracking_code"),
            secret: field("secret"),
        }
    }

    /// Accepts, classifies (transport, appeal unless `petition_type` says otherwise) and assigns
    /// `id` to 地面交通中心 as the clerk; answers the matter after the assignment.
    pub async fn assign_to_ground(&self, s: &Sessions, id: &str, petition_type: &str) -> Value {
        let clerk = s.get("clerk");
        self.transition(clerk, id, "accept", json!({})).await.expect(200);
        self.transition(
            clerk,
            id,
            "classify",
            json!({"category_id": self.categories.transport, "petition_type": petition_type}),
        )
        .await
        .expect(200);
        self.transition(
            clerk,
            id,
            "assign",
            json!({"lead_unit_id": self.units.ground, "owning_leader_id": self.users["leader"]}),
        )
        .await
        .expect(200)
        .clone()
    }

    /// [`assign_to_ground`](Self::assign_to_ground), then `start_handling` by the handler.
    pub async fn in_progress(&self, s: &Sessions, id: &str) -> Value {
        self.assign_to_ground(s, id, "appeal").await;
        self.transition(s.get("handler"), id, "start_handling", json!({}))
            .await
            .expect(200)
            .clone()
    }

    /// From in progress to replied: draft (handler), approve (unit head), deliver (handler).
    pub async fn reply(&self, s: &Sessions, id: &str, text: &str) -> Value {
        self.transition(s.get("handler"), id, "draft_reply", json!({"text": text}))
            .await
            .expect(200);
        self.transition(s.get("unit_head"), id, "approve_reply", json!({}))
            .await
            .expect(200);
        self.transition(s.get("handler"), id, "deliver_reply", json!({"method": "短信"}))
            .await
            .expect(200)
            .clone()
    }

    /// The matter's timeline as `session` sees it; 200 is asserted.
    pub async fn timeline(&self, session: &Session, id: &str) -> Vec<Value> {
        self.get_as(session, &format!("/api/v1/matters/{id}/timeline"))
            .await
            .expect(200)
            .as_array()
            .expect("timeline is an array")
            .clone()
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub fn now(&self) -> DateTime<Utc> {
        use xinfang_core::clock::Clock;
        self.clock.now()
    }
}

/// Sessions of every seeded user.
pub struct Sessions(HashMap<&'static str, Session>);

impl Sessions {
    #[track_caller]
    pub fn get(&self, username: &str) -> &Session {
        self.0
            .get(username)
            .unwrap_or_else(|| panic!("no session for {username}"))
    }
}

/// A path with query parameters, percent-encoded (Chinese search terms included).
pub fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let url = reqwest::Url::parse_with_params(&format!("http://x{path}"), params).expect("valid url");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The ids of a list answer's items.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect()
}

/// A resident ID number (GB 11643) with a correct check digit, from its first 17 digits.
pub fn resident_id(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8] = b"10X98765432";
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum();
    format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
}
