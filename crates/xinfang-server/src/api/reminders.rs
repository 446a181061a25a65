//! Reminders, scheduled reports and the background jobs that produce them.
//!
//! A handler sees the reminders of the matters their units handle; the petition office sees
//! all of them (the same scope as the matter list). Reports and job records are for the
//! people who supervise the whole organisation.

use crate::AppState;
use crate::background::{self, DAILY_REPORT_KIND};
use crate::error::ApiError;
use crate::extract::{ApiQuery, CurrentUser};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_core::ids::ReminderId;
use xinfang_core::org::Role;
use xinfang_store::{JobStatus, Reminder, ReminderFilter, Report, ScanOutcome, UnitDeadlineLine};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reminders))
        .routes(routes!(acknowledge))
        .routes(routes!(list_reports))
        .routes(routes!(deadline_board))
        .routes(routes!(list_jobs))
        .routes(routes!(run_deadline_scan))
}

/// Who oversees the whole organisation's deadlines.
const OVERSEERS: &[Role] = &[Role::Supervisor, Role::Leader, Role::Analyst, Role::Admin];

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReminderParams {
    /// Only reminders nobody has acknowledged (true/false, default false).
    open: Option<bool>,
    /// At most this many (1–500, default 100).
    limit: Option<u32>,
}

/// Reminders (即将到期 / 已超期) of the matters the user may see, newest first.
#[utoipa::path(get, path = "/api/v1/reminders", tag = "matters", params(ReminderParams),
    responses((status = 200, description = "reminders"), (status = 422, body = crate::error::ErrorBody)))]
async fn list_reminders(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<ReminderParams>,
) -> Result<Json<Vec<Reminder>>, ApiError> {
    let filter = ReminderFilter {
        open_only: p.open.unwrap_or(false),
        limit: crate::input::limit(p.limit, 100, 500)?,
    };
    let list = st.store.reminders(&user.0, filter).await?;
    Ok(Json(crate::privacy::reminders(&user.0, list)))
}

/// Marks a reminder as seen to; the first acknowledgement (who and when) stays.
#[utoipa::path(post, path = "/api/v1/reminders/{id}/acknowledge", tag = "matters", params(("id" = String, Path)),
    responses((status = 200, description = "the reminder"), (status = 404, body = crate::error::ErrorBody)))]
async fn acknowledge(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Reminder>, ApiError> {
    let id: ReminderId = id.parse().map_err(|_| ApiError::not_found())?;
    let r = st.store.acknowledge_reminder(&user.0, id).await?;
    let mut masked = crate::privacy::reminders(&user.0, vec![r]);
    masked.pop().map(Json).ok_or_else(ApiError::internal)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// The report kind (default daily_deadlines).
    kind: Option<String>,
    /// At most this many (1–366, default 30).
    limit: Option<u32>,
}

/// Scheduled reports, newest period first (supervisors, leaders, analysts, admins).
#[utoipa::path(get, path = "/api/v1/reports", tag = "matters", params(ReportParams),
    responses((status = 200, description = "reports"), (status = 403, body = crate::error::ErrorBody)))]
async fn list_reports(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<Json<Vec<Report>>, ApiError> {
    user.require(OVERSEERS)?;
    let kind = p.kind.as_deref().unwrap_or(DAILY_REPORT_KIND);
    Ok(Json(
        st.store
            .reports(
                user.0.organisation_id,
                Some(kind),
                crate::input::limit(p.limit, 30, 366)?,
            )
            .await?,
    ))
}

/// Per lead unit, right now: open matters and how many are due soon, overdue or paused.
#[utoipa::path(get, path = "/api/v1/deadlines/units", tag = "matters",
    responses((status = 200, description = "one line per unit"), (status = 403, body = crate::error::ErrorBody)))]
async fn deadline_board(
    State(st): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<UnitDeadlineLine>>, ApiError> {
    user.require(OVERSEERS)?;
    Ok(Json(
        st.store
            .deadline_lines(user.0.organisation_id, st.clock.now())
            .await?,
    ))
}

/// The background jobs: when each last ran, on which node, with what result, and when next.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "admin",
    responses((status = 200, description = "jobs"), (status = 403, body = crate::error::ErrorBody)))]
async fn list_jobs(State(st): State<AppState>, user: CurrentUser) -> Result<Json<Vec<JobStatus>>, ApiError> {
    user.require(&[Role::Admin, Role::Supervisor])?;
    Ok(Json(st.store.jobs(user.0.organisation_id).await?))
}

/// Runs the deadline scan now, on this node (admins and supervisors). Safe at any time and
/// on any number of nodes at once: each crossing is recorded once.
#[utoipa::path(post, path = "/api/v1/jobs/deadline_scan/run", tag = "admin",
    responses((status = 200, description = "what the scan recorded"), (status = 403, body = crate::error::ErrorBody)))]
async fn run_deadline_scan(
    State(st): State<AppState>,
    user: CurrentUser,
) -> Result<Json<ScanOutcome>, ApiError> {
    user.require(&[Role::Admin, Role::Supervisor])?;
    Ok(Json(
        background::scan_organisation(st.store.as_ref(), user.0.organisation_id, 500).await?,
    ))
}
