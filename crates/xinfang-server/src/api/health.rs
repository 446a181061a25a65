//! Liveness and the landing page.

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
