//! The HTTP face of xinfang: the `/api/v1` JSON API with its OpenAPI document, sign-in, and
//! the public endpoints petitioners use without an account.
//!
//! The server holds no SQL and no business rule: handlers parse input into domain values,
//! call the [`Store`], and shape the answer. The route table below is the table of contents.

pub mod api;
pub mod auth;
pub mod background;
pub mod error;
pub mod extract;
pub mod input;
pub mod intake;
pub mod privacy;
pub mod routing;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use xinfang_core::clock::Clock;
use xinfang_store::Store;

/// Settings of one server process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// How long a console session lasts without signing in again.
    pub session_hours: i64,
    /// Public submissions and tracking look-ups allowed per client address per minute.
    pub public_per_minute: u32,
    /// The node's background work (deadline scan, daily report); `None` runs none (tests that
    /// drive time themselves, or a node kept for requests only).
    pub background: Option<background::Background>,
    /// How often the node merges the search index's recent entries
    /// ([`background::run_upkeep`]); `None` never (PostgreSQL then merges them when 4 MB
    /// have gathered, or at a vacuum).
    pub index_tidy: Option<std::time::Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
            session_hours: 12,
            public_per_minute: 30,
            background: None,
            index_tidy: None,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub limits: Arc<auth::Limits>,
    pub tokens: Arc<auth::TokenCache>,
    /// The routing models this node has loaded.
    pub models: Arc<routing::Models>,
    /// Segmenters of the organisations' user dictionaries, by dictionary fingerprint.
    pub segmenters: Arc<xinfang_nlp::segment::SegmenterCache>,
    /// Triage and duplicate detection after each registration.
    pub intake: Arc<intake::Intake>,
}

/// How long a node waits before trying again to load its duplicate index when the database
/// could not be read at start.
const INDEX_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// The largest JSON body accepted (413 beyond).
pub const MAX_BODY: usize = 1024 * 1024;

/// Builds the whole router (API, OpenAPI document, health check) around `state`.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    api.route(
        "/api/openapi.json",
        axum::routing::get(move || {
            let doc = openapi.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
    .route("/healthz", axum::routing::get(api::health::healthz))
    .route("/readyz", axum::routing::get(api::health::readyz))
    .route("/", axum::routing::get(api::health::index))
    .method_not_allowed_fallback(api::health::method_not_allowed)
    .fallback(api::health::not_found)
    .layer(DefaultBodyLimit::max(MAX_BODY))
    .with_state(state)
}

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Binds the listener (so `port()` is known before serving) and builds the router.
    pub async fn build(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        xinfang_nlp::segment::warm_up();
        xinfang_nlp::triage::warm_up();
        let listener = TcpListener::bind(config.bind).await?;
        let state = AppState {
            store,
            clock,
            limits: Arc::new(auth::Limits::new(config.public_per_minute)),
            tokens: Arc::default(),
            models: Arc::default(),
            segmenters: Arc::new(xinfang_nlp::segment::SegmenterCache::new(4)),
            intake: Arc::default(),
            config: Arc::new(config),
        };
        Ok(Self {
            listener,
            router: router(state.clone()),
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves (and runs the node's background work, when configured) until `shutdown`
    /// resolves; the background loop stops with the server.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (intake, store) = (self.state.intake.clone(), self.state.store.clone());
        let loading = tokio::spawn(async move { intake.load_index(store.as_ref(), INDEX_RETRY).await });
        let worker = self.state.config.background.clone().map(|cfg| {
            tokio::spawn(background::run(
                self.state.store.clone(),
                self.state.clock.clone(),
                cfg,
                self.state.intake.clone(),
                stopped,
            ))
        });
        let upkeep = self.state.config.index_tidy.map(|every| {
            tokio::spawn(background::run_upkeep(
                self.state.store.clone(),
                every,
                stop.subscribe(),
            ))
        });
        let served = axum::serve(
            self.listener,
            self.router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop.send(true);
        loading.abort();
        if let Some(w) = worker {
            let _ = w.await;
        }
        if let Some(u) = upkeep {
            let _ = u.await;
        }
        served
    }
}
