//! Analytics over the organisation's own matters: hotspots (热点), the clusters of similar
//! matters of a time window ranked by heat — the same discovery `xinfang hotspots` runs over a
//! CSV file, here over the database, within the viewer's scope, segmented with the
//! organisation's user dictionary — and the repeat rate (重复信访率) of DESIGN.md section 4,
//! counted from the links intake records, with its 环比 and 同比.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiQuery, CurrentUser};
use axum::Json;
use axum::extract::State;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_core::clock::{china_offset, local_date, start_of_local_day};
use xinfang_core::ids::OrganisationId;
use xinfang_core::metrics::{Period, Rate, change};
use xinfang_core::org::Role;
use xinfang_nlp::hotspots::{HotspotConfig, HotspotRecord, find_hotspots};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hotspots))
        .routes(routes!(repeat_rate))
}

/// The most matters one hotspot run reads (the newest of the window).
const MAX_MATTERS: u32 = 100_000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HotspotParams {
    /// First day (Beijing time, YYYY-MM-DD); default 30 days before `to`.
    from: Option<String>,
    /// Last day, inclusive; default today.
    to: Option<String>,
    /// How many hotspots (1–50, default 10).
    top: Option<usize>,
}

fn date(field: &str, v: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    v.map(|s| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            ApiError::invalid(
                field,
                "invalid_date",
                format!("{field} 须为 YYYY-MM-DD 格式的日期"),
                format!("{field} must be a date as YYYY-MM-DD"),
            )
        })
    })
    .transpose()
}

/// The days `from..=to` of a request: `to` defaults to today (Beijing time), `from` to
/// `default_from(to)`; at most a year, in order.
fn window(
    st: &AppState,
    from: Option<&str>,
    to: Option<&str>,
    default_from: impl FnOnce(NaiveDate) -> NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = date("to", to)?.unwrap_or_else(|| local_date(st.clock.now()));
    let from = date("from", from)?.unwrap_or_else(|| default_from(to));
    if from > to || (to - from).num_days() > 366 {
        return Err(ApiError::invalid(
            "from",
            "out_of_range",
            "起止日期须先后有序，且跨度不超过一年",
            "from must not be after to, and the window at most a year",
        ));
    }
    Ok((from, to))
}

/// Hotspots of a window: each with its label, key words, representative title, size,
/// distinct petitioners, time span, growth, heat and member matter ids (analysts,
/// supervisors, leaders, admins).
#[utoipa::path(get, path = "/api/v1/hotspots", tag = "matters", params(HotspotParams),
    responses((status = 200, description = "{hotspots:[…]}"), (status = 422, body = crate::error::ErrorBody)))]
async fn hotspots(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<HotspotParams>,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Analyst, Role::Supervisor, Role::Leader, Role::Admin])?;
    let (from, to) = window(&st, p.from.as_deref(), p.to.as_deref(), |to| {
        to - Duration::days(30)
    })?;
    let top = p.top.unwrap_or(10);
    if !(1..=50).contains(&top) {
        return Err(ApiError::invalid(
            "top",
            "out_of_range",
            "top 须在 1 到 50 之间",
            "top must be between 1 and 50",
        ));
    }
    let sources = st
        .store
        .hotspot_sources(
            &user.0,
            start_of_local_day(from),
            start_of_local_day(to + Duration::days(1)),
            MAX_MATTERS,
        )
        .await?;
    let records: Vec<HotspotRecord> = sources
        .into_iter()
        .map(|m| HotspotRecord {
            id: m.id.to_string(),
            petitioner: m.petitioner_id.map(|p| p.to_string()),
            time: m.registered_at.with_timezone(&china_offset()).naive_local(),
            title: m.title,
            text: m.content,
            likes: None,
        })
        .collect();
    let config = HotspotConfig {
        from: Some(from),
        to: Some(to),
        top,
        ..HotspotConfig::default()
    };
    let segmenter = crate::api::dictionary::segmenter(&st, user.0.organisation_id).await?;
    let found = tokio::task::spawn_blocking(move || find_hotspots(records, &config, &segmenter))
        .await
        .map_err(|_| ApiError::internal())?;
    let time = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
    // A representative title may carry a number its writer typed (see crate::privacy).
    let shown = |t: &str| {
        if user.0.may_reveal_personal_data() {
            t.to_string()
        } else {
            xinfang_nlp::segment::mask_personal_numbers(t)
        }
    };
    let list: Vec<Value> = found
        .iter()
        .map(|h| {
            json!({
                "label": shown(&h.label),
                "keywords": h.keywords,
                "title": shown(&h.title),
                "size": h.size,
                "petitioners": h.petitioners,
                "first": time(h.first),
                "last": time(h.last),
                "growth": h.growth,
                "heat": h.heat,
                "members": h.members,
            })
        })
        .collect();
    Ok(Json(json!({ "from": from, "to": to, "hotspots": list })))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodParams {
    /// First day (Beijing time, YYYY-MM-DD); default the first day of `to`'s month.
    from: Option<String>,
    /// Last day, inclusive; default today.
    to: Option<String>,
}

/// The repeat rate of one period with the period.
async fn repeat_rate_of(st: &AppState, org: OrganisationId, p: Period) -> Result<Value, ApiError> {
    let c = st.store.repeat_counts(org, p.from, p.to).await?;
    Ok(json!({
        "from": p.from,
        "to": p.to,
        "registered": c.registered,
        "repeats": c.repeats,
        "rate": Rate::new(c.repeats, c.registered),
    }))
}

/// 重复信访率: of the matters registered in the period, those intake linked as a repeat of an
/// earlier one (same petitioner, same matter, while it was open or within 180 days of its
/// reply; a duplicate of the same letter is not a repeat), with the previous month's period
/// (环比) and the same period a year before (同比), and the relative change of the repeat count
/// against each (analysts, supervisors, leaders, admins).
#[utoipa::path(get, path = "/api/v1/metrics/repeat-rate", tag = "matters", params(PeriodParams),
    responses((status = 200, description = "{label_zh, current, previous_month, same_period_last_year, mom, yoy}; each period {from, to, registered, repeats, rate {numerator, denominator, value}}"),
        (status = 422, body = crate::error::ErrorBody)))]
async fn repeat_rate(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Analyst, Role::Supervisor, Role::Leader, Role::Admin])?;
    let (from, to) = window(&st, p.from.as_deref(), p.to.as_deref(), |to| {
        to.with_day(1).unwrap_or(to)
    })?;
    let org = user.0.organisation_id;
    let period = Period::local_days(from, to);
    let current = repeat_rate_of(&st, org, period).await?;
    let previous = repeat_rate_of(&st, org, period.previous_month()).await?;
    let last_year = repeat_rate_of(&st, org, period.same_period_last_year()).await?;
    let repeats = |v: &Value| v["repeats"].as_u64().unwrap_or(0);
    Ok(Json(json!({
        "label_zh": "重复信访率",
        "mom": change(repeats(&current), repeats(&previous)),
        "yoy": change(repeats(&current), repeats(&last_year)),
        "current": current,
        "previous_month": previous,
        "same_period_last_year": last_year,
    })))
}
