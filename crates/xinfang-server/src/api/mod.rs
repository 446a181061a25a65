//! The `/api/v1` routes, one module per resource. Each exposes `router()`; this module merges
//! them into one [`OpenApiRouter`] so the OpenAPI document is generated from the same code that
//! serves the routes.

/// Units, users, categories, rule sets, calendar, API tokens (the admin console's data).
pub mod admin;
/// Analytics over the organisation's matters: hotspots.
pub mod analytics;
/// The organisation's user dictionary for segmentation.
pub mod dictionary;
/// Health check and the landing page.
pub mod health;
/// A matter's links and triage; the organisation's triage lexicon.
pub mod intake;
/// Registering, listing, reading matters; timelines; reveals.
pub mod matters;
/// What petitioners do without an account: submit, track, rate.
pub mod public;
/// Deadline reminders, scheduled reports and the background jobs behind them.
pub mod reminders;
/// The routing model: versions, imports, routing rules, suggestions, triage queues.
pub mod routing;
/// Sign-in, sign-out, who am I.
pub mod session;
/// One endpoint per lifecycle transition.
pub mod transitions;

use crate::AppState;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "xinfang 智慧信访平台 API",
        description = "JSON API of xinfang. Staff authenticate with a session cookie (POST /api/v1/auth/login; writes send X-CSRF-Token) or an API token (Authorization: Bearer). Errors are {\"error\":{\"code\",\"message\",\"message_en\",\"field\"}}.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "auth", description = "登录与会话"),
        (name = "admin", description = "单位、用户、分类、时限规则、节假日"),
        (name = "matters", description = "信访事项"),
        (name = "transitions", description = "办理流程"),
        (name = "public", description = "信访人（无需登录）")
    )
)]
struct ApiDoc;

/// Every `/api/v1` route with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::router())
        .merge(admin::router())
        .merge(matters::router())
        .merge(transitions::router())
        .merge(public::router())
        .merge(reminders::router())
        .merge(routing::router())
        .merge(analytics::router())
        .merge(dictionary::router())
        .merge(intake::router())
}
