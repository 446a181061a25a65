//! Request extractors: authentication, CSRF, and JSON bodies with our error shape.
//!
//! - [`CurrentUser`] requires a signed-in staff member: an API token (`Authorization: Bearer`)
//!   or a session cookie. A malformed or unknown credential is rejected (401), never treated
//!   as "no one". Cookie-authenticated writes must carry the session's `X-CSRF-Token`; bearer
//!   tokens need none, since a browser never attaches them by itself.
//! - [`ApiJson`] parses a JSON body and turns every failure — not JSON, wrong types, too
//!   large — into an [`ApiError`] with a code and the offending field where serde names it.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use xinfang_core::org::{Actor, Role, StaffActor};
use xinfang_store::audit::token_hash;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "xinfang_session";

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub StaffActor);

impl CurrentUser {
    /// The user as the actor of what they do (the audit records who).
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.0.clone())
    }

    /// Refuses with 403 unless the user holds one of `roles` (in any unit).
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.0.has_any_role(roles) {
            Ok(())
        } else {
            Err(ApiError::forbidden("role_required"))
        }
    }
}

/// The raw value of a cookie in the request, if present.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            // The auth scheme is case-insensitive (RFC 9110 §11.1): `bearer` is `Bearer`.
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| {
                    v.get(..7)
                        .filter(|p| p.eq_ignore_ascii_case("bearer "))
                        .and(v.get(7..))
                })
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 200)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_token",
                        "访问令牌格式不正确",
                        "malformed Authorization header",
                    )
                })?;
            let actor = state
                .tokens
                .resolve(&state.store, &token_hash(token))
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_token",
                        "访问令牌无效",
                        "unknown or revoked token",
                    )
                })?;
            return Ok(Self(actor));
        }
        let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ApiError::unauthorized());
        };
        let (actor, csrf) = state
            .store
            .session(&token_hash(sid), state.clock.now())
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "session_expired",
                    "登录已过期，请重新登录",
                    "session expired or unknown",
                )
            })?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
            if sent != Some(csrf.as_str()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "页面已过期，请刷新后重试（CSRF 校验失败）",
                    "missing or wrong X-CSRF-Token",
                ));
            }
        }
        Ok(Self(actor))
    }
}

/// A JSON body, parsed with our error shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    match rej {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "请求体必须是 JSON（Content-Type: application/json）",
            "the body must be JSON (Content-Type: application/json)",
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "请求体不是有效的 JSON",
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            // serde_path_to_error style text: "Failed to deserialize the JSON body into the target type: petitioner.phone: invalid type..."
            let detail = text
                .split_once(": ")
                .map_or(text.as_str(), |(_, d)| d)
                .to_string();
            let field = detail
                .split_once(": ")
                .map(|(f, _)| f.to_string())
                .filter(|f| !f.contains(' '));
            let field_hint = field.clone().unwrap_or_default();
            let err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!(
                    "字段类型或取值不正确{}",
                    if field_hint.is_empty() {
                        String::new()
                    } else {
                        format!("：{field_hint}")
                    }
                ),
                detail,
            );
            match field {
                Some(f) => err.with_field(f),
                None => err,
            }
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "请求体过大（上限 1 MiB）",
            "the body is larger than 1 MiB",
        ),
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "请求无法解析",
            other.body_text(),
        ),
    }
}

/// A JSON body that may be empty (transitions without fields): an empty body is `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "请求体过大（上限 1 MiB）",
                    "the body is larger than 1 MiB",
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "请求无法读取",
                    e.body_text(),
                )
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(v)| Self(v))
            .map_err(json_rejection)
    }
}

/// Query parameters with our error shape.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    "查询参数不正确",
                    e.body_text(),
                )
            })
    }
}
