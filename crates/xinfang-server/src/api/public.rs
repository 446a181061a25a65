//! What a petitioner does without an account (website channel): submit a matter, track it with
//! its tracking code and secret, rate the reply, ask for a review or re-check.
//!
//! The tracking view carries no personal data and no internal notes: the steps in public
//! words, and the approved reply once delivered. Submissions and look-ups are rate-limited per
//! client address; a wrong secret and an unknown code look the same.

use crate::AppState;
use crate::api::matters::Registered;
use crate::auth::Limits;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::input::{NewMatterInput, parse_enum};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::net::SocketAddr;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_core::lifecycle::Command;
use xinfang_core::matter::{Channel, Satisfaction};
use xinfang_core::org::Actor;
use xinfang_core::text::Reason;
use xinfang_store::PublicTrack;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit))
        .routes(routes!(track))
        .routes(routes!(rate))
        .routes(routes!(request_review))
        .routes(routes!(request_recheck))
}

/// Submits a matter through the website (网站). Answers the tracking code and the secret,
/// which the petitioner needs to follow the matter.
#[utoipa::path(post, path = "/api/v1/public/matters", tag = "public", request_body = NewMatterInput,
    responses((status = 201, body = Registered), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn submit(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(input): ApiJson<NewMatterInput>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    st.limits
        .public
        .hit(
            st.store.as_ref(),
            &Limits::ip_key("submit", Some(addr.ip())),
            st.clock.now(),
        )
        .await?;
    if input.external_id.is_some() || input.received_at.is_some() {
        return Err(ApiError::invalid(
            "external_id",
            "not_allowed",
            "网上信访不能指定渠道编号或收到时间",
            "external_id and received_at are for staff and integrations",
        ));
    }
    let new = input.parse(Some(Channel::Website), st.clock.now())?;
    let org = st
        .store
        .organisations()
        .await?
        .first()
        .map(|o| o.id)
        .ok_or_else(ApiError::not_found)?;
    let incoming = crate::routing::Incoming::of(&new);
    let r = st.store.register_matter(org, &Actor::Petitioner, new).await?;
    crate::api::matters::after_registration(&st, org, &r, incoming).await;
    Ok((StatusCode::CREATED, Json(r.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackInput {
    tracking_code: Option<String>,
    secret: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateInput {
    tracking_code: Option<String>,
    secret: Option<String>,
    /// satisfied (满意), basically_satisfied (基本满意), dissatisfied (不满意).
    satisfaction: Option<String>,
    comment: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealInput {
    tracking_code: Option<String>,
    secret: Option<String>,
    reason: Option<String>,
}

async fn credentials(
    st: &AppState,
    addr: SocketAddr,
    code: &Option<String>,
    secret: &Option<String>,
) -> Result<(String, String), ApiError> {
    st.limits
        .public
        .hit(
            st.store.as_ref(),
            &Limits::ip_key("track", Some(addr.ip())),
            st.clock.now(),
        )
        .await?;
    let code = code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::required("tracking_code"))?;
    let secret = secret
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::required("secret"))?;
    Ok((code.to_string(), secret.to_string()))
}

/// Tracks a matter: its steps and, once delivered, the reply. POST, so the secret never lands in
/// an access log's URL.
#[utoipa::path(post, path = "/api/v1/public/track", tag = "public", request_body = TrackInput,
    responses((status = 200, description = "the public view"), (status = 404, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn track(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(b): ApiJson<TrackInput>,
) -> Result<Json<PublicTrack>, ApiError> {
    let (code, secret) = credentials(&st, addr, &b.tracking_code, &b.secret).await?;
    Ok(Json(st.store.track(&code, &secret).await?))
}

/// Rates the delivered reply (once).
#[utoipa::path(post, path = "/api/v1/public/satisfaction", tag = "public", request_body = RateInput,
    responses((status = 200, description = "the public view"), (status = 409, body = crate::error::ErrorBody)))]
async fn rate(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(b): ApiJson<RateInput>,
) -> Result<Json<PublicTrack>, ApiError> {
    let (code, secret) = credentials(&st, addr, &b.tracking_code, &b.secret).await?;
    let satisfaction = parse_enum(
        "satisfaction",
        b.satisfaction.as_deref(),
        Satisfaction::parse,
        "满意度",
    )?
    .ok_or_else(|| ApiError::required("satisfaction"))?;
    let comment =
        xinfang_core::text::bounded("comment", b.comment.as_deref().unwrap_or(""), 2000, true, false)?;
    Ok(Json(
        st.store
            .public_transition(
                &code,
                &secret,
                Command::RecordSatisfaction {
                    satisfaction,
                    comment,
                },
            )
            .await?,
    ))
}

/// Requests a review (复查) of the reply, within 30 days of receiving it.
#[utoipa::path(post, path = "/api/v1/public/review", tag = "public", request_body = AppealInput,
    responses((status = 200, description = "the public view"), (status = 409, body = crate::error::ErrorBody)))]
async fn request_review(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(b): ApiJson<AppealInput>,
) -> Result<Json<PublicTrack>, ApiError> {
    let (code, secret) = credentials(&st, addr, &b.tracking_code, &b.secret).await?;
    let reason = Reason::parse(b.reason.as_deref().unwrap_or(""))?.into_inner();
    Ok(Json(
        st.store
            .public_transition(&code, &secret, Command::RequestReview { reason })
            .await?,
    ))
}

/// Requests a re-check (复核) of the review answer, within 30 days of receiving it.
#[utoipa::path(post, path = "/api/v1/public/recheck", tag = "public", request_body = AppealInput,
    responses((status = 200, description = "the public view"), (status = 409, body = crate::error::ErrorBody)))]
async fn request_recheck(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(b): ApiJson<AppealInput>,
) -> Result<Json<PublicTrack>, ApiError> {
    let (code, secret) = credentials(&st, addr, &b.tracking_code, &b.secret).await?;
    let reason = Reason::parse(b.reason.as_deref().unwrap_or(""))?.into_inner();
    Ok(Json(
        st.store
            .public_transition(&code, &secret, Command::RequestRecheck { reason })
            .await?,
    ))
}
