//! Liveness, readiness and the landing page.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// `GET /healthz`: 200 when the database answers, 503 otherwise (load balancers use this).
pub async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            ApiError::unavailable().into_response()
        }
    }
}

/// `GET /readyz`: 200 when the node can take registrations at full speed: the database
/// answers and the node's duplicate index is loaded (at start it reads every stored signature,
/// seconds at a million matters, and each registration's intake waits for that). 503
/// `starting` until then, `database_unavailable` while the database cannot be reached. A load
/// balancer routes by this; `/healthz` says whether the node and its database answer.
pub async fn readyz(State(st): State<AppState>) -> Response {
    if let Err(e) = st.store.ping().await {
        tracing::warn!(error = %e, "readiness check failed");
        return ApiError::unavailable().into_response();
    }
    if !st.intake.ready() {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting",
            "节点正在启动（查重索引加载中），请稍后再试",
            "the node is starting (loading its duplicate index), try again shortly",
        )
        .into_response();
    }
    (StatusCode::OK, "ready").into_response()
}

/// `GET /`: a short page pointing at the API and the citizen pages.
pub async fn index() -> Html<&'static str> {
    Html(include_str!("index.html"))
}

/// A known path called with a method it does not serve answers 405 in the API's error shape
/// (axum keeps the `Allow` header).
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "该地址不支持此请求方法",
        "method not allowed on this route",
    )
}

/// Unknown paths answer in the API's error shape.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "请求的地址不存在",
        "no such route",
    )
}
