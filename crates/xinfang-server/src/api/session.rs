//! Sign-in and sign-out for the console.
//!
//! `POST /api/v1/auth/login` checks the password, stores a session in the database (so any
//! app node can serve the next request) and sets it as an HttpOnly, SameSite=Strict cookie. The
//! answer carries the CSRF token that the console sends as `X-CSRF-Token` on every write.
//! Failed logins are limited per username and per address (429 after ten in fifteen minutes).

use crate::AppState;
use crate::auth::{self, Limits};
use crate::error::ApiError;
use crate::extract::{ApiJson, CurrentUser, SESSION_COOKIE, cookie};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_store::NewSession;
use xinfang_store::audit::token_hash;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginInput {
    username: Option<String>,
    password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginOutput {
    /// Send as `X-CSRF-Token` with every cookie-authenticated write.
    csrf_token: String,
    #[schema(value_type = Object)]
    user: serde_json::Value,
}

fn user_json(a: &xinfang_core::org::StaffActor) -> serde_json::Value {
    serde_json::json!({
        "id": a.user_id,
        "organisation_id": a.organisation_id,
        "display_name": a.display_name,
        "grants": a.grants.iter().map(|g| serde_json::json!({"role": g.role.code(), "role_label": g.role.label_zh(), "unit_id": g.unit_id})).collect::<Vec<_>>(),
    })
}

/// Signs in with username and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = LoginOutput), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn login(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, ApiError> {
    let username = input
        .username
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::required("username"))?;
    let password = input
        .password
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::required("password"))?;
    if username.chars().count() > 64 || password.len() > 256 {
        return Err(ApiError::invalid(
            "username",
            "too_long",
            "用户名或密码过长",
            "username or password too long",
        ));
    }
    let user_key = format!("user:{username}");
    let ip_key = Limits::ip_key("login", Some(addr.ip()));
    let limiter = st.limits.login_failures;
    let store = st.store.as_ref();
    if limiter.is_limited(store, &user_key, st.clock.now()).await?
        || limiter.is_limited(store, &ip_key, st.clock.now()).await?
    {
        return Err(ApiError::too_many());
    }
    let creds = st.store.credentials(username).await?;
    // An unknown user costs the same argon2 work as a known one, so response times do not
    // tell which usernames exist.
    let (known, hash) = match &creds {
        Some(c) if c.active => (true, c.password_hash.clone()),
        _ => (false, auth::dummy_hash().to_string()),
    };
    let pw = password.clone();
    let verified = tokio::task::spawn_blocking(move || auth::verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    let ok = known && verified;
    let Some(creds) = creds.filter(|_| ok) else {
        // Counted, not refused: this answer is already a refusal.
        limiter.hit(store, &user_key, st.clock.now()).await.ok();
        limiter.hit(store, &ip_key, st.clock.now()).await.ok();
        tracing::info!(username, "failed login");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "用户名或密码不正确",
            "wrong username or password",
        ));
    };
    limiter.clear(store, &user_key).await?;
    let actor = st.store.staff_actor(creds.organisation_id, creds.user_id).await?;
    let token = auth::random_token();
    let csrf = auth::random_token();
    let now = st.clock.now();
    st.store
        .create_session(NewSession {
            token_hash: token_hash(&token),
            organisation_id: creds.organisation_id,
            user_id: creds.user_id,
            csrf_token: csrf.clone(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(st.config.session_hours),
        })
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        st.config.session_hours * 3600,
        if st.config.secure_cookies { "; Secure" } else { "" }
    );
    let mut resp = Json(LoginOutput {
        csrf_token: csrf,
        user: user_json(&actor),
    })
    .into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| ApiError::internal())?,
    );
    Ok(resp)
}

/// Signs out: the session is deleted on the server and the cookie cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(
    State(st): State<AppState>,
    _user: CurrentUser,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(sid) = cookie(&headers, SESSION_COOKIE) {
        st.store.delete_session(&token_hash(sid)).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("xinfang_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

/// The signed-in user with their roles.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, description = "the user")))]
async fn me(user: CurrentUser) -> Json<serde_json::Value> {
    Json(user_json(&user.0))
}
