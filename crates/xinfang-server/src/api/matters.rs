//! Matters (信访事项): staff registration, lists with filters and full-text search, one matter,
//! its timeline, and the audited reveal of petitioner numbers.
//!
//! Every read goes through the store with the signed-in user, whose scope the store puts into
//! the query: a handler of one unit never receives another unit's matters.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, CurrentUser};
use crate::input::{NewMatterInput, parse_enum};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_core::clock::start_of_local_day;
use xinfang_core::deadline::DeadlineStatus;
use xinfang_core::ids::{OrganisationId, PetitionId, PetitionerId};
use xinfang_core::matter::{Channel, PetitionType, State as MatterState};
use xinfang_core::org::Actor;
use xinfang_store::{
    EventRecord, ListOrder, MatterFilter, MatterSummary, MatterView, Page, RevealedPetitioner,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register, list))
        .routes(routes!(get_one))
        .routes(routes!(timeline))
        .routes(routes!(reveal))
        .routes(routes!(petitioner_matters))
}

/// Parses a path id; a malformed id is simply "not found".
pub fn matter_id(raw: &str) -> Result<PetitionId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    id: String,
    /// 查询码: the petitioner tracks the matter with this and the secret.
    tracking_code: String,
    /// 查询密码: shown once; the server keeps only a keyed hash. Null when the external id was
    /// already registered (the first registration's secret stands).
    secret: Option<String>,
    state: String,
    /// True when this external id had been registered before: nothing new was created.
    replayed: bool,
}

impl From<xinfang_store::Registered> for Registered {
    fn from(r: xinfang_store::Registered) -> Self {
        Self {
            id: r.id.to_string(),
            tracking_code: r.tracking_code.to_string(),
            secret: r.secret.map(|s| s.as_str().to_string()),
            state: r.state.code().to_string(),
            replayed: r.replayed,
        }
    }
}

/// What follows every new registration, from staff or from the public (not a replayed work
/// order): the routing suggestion, then intake (triage, safety alert, duplicate links). Both
/// log their failures and never undo the registration.
pub(crate) async fn after_registration(
    st: &AppState,
    org: OrganisationId,
    r: &xinfang_store::Registered,
    incoming: crate::routing::Incoming,
) {
    if r.replayed {
        return;
    }
    crate::routing::after_registration(st, org, r.id, incoming, r.revisions).await;
    st.intake.after_registration(st.store.as_ref(), org, r).await;
}

/// Registers a matter (登记): staff registration of walk-in, phone and letter matters, and
/// integrations (12345 work orders) with their external id. Idempotent per channel + external id.
#[utoipa::path(post, path = "/api/v1/matters", tag = "matters", request_body = NewMatterInput,
    responses((status = 201, body = Registered), (status = 200, description = "external id already registered", body = Registered),
              (status = 422, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
async fn register(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(input): ApiJson<NewMatterInput>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    let new = input.parse(None, st.clock.now())?;
    let org = user.0.organisation_id;
    let incoming = crate::routing::Incoming::of(&new);
    let r = st.store.register_matter(org, &Actor::Staff(user.0), new).await?;
    let status = if r.replayed {
        StatusCode::OK
    } else {
        after_registration(&st, org, &r, incoming).await;
        StatusCode::CREATED
    };
    Ok((status, Json(r.into())))
}

/// Filters of the matter list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// One or more states, comma-separated (registered,accepted,…).
    state: Option<String>,
    /// Lead or co-handling unit.
    unit_id: Option<String>,
    category_id: Option<String>,
    channel: Option<String>,
    petition_type: Option<String>,
    /// on_track, due_soon, overdue, paused.
    deadline_status: Option<String>,
    /// Registered on or after (YYYY-MM-DD, Beijing time, or RFC 3339).
    from: Option<String>,
    /// Registered before (YYYY-MM-DD exclusive, or RFC 3339).
    to: Option<String>,
    /// Full-text query over title and content.
    q: Option<String>,
    /// newest (default: newest registered first) or relevance (a search's best matches
    /// first, ranked among its newest 1,000 matches; needs q).
    sort: Option<String>,
    /// 1-based, at most 100000 (default 1).
    page: Option<u32>,
    /// At most 100 (default 20).
    per_page: Option<u32>,
}

/// The highest page number a list accepts.
const MAX_PAGE: u32 = 100_000;

fn parse_time(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(start_of_local_day(d));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::invalid(
                field,
                "invalid_date",
                format!("日期格式不正确：{raw}（应为 YYYY-MM-DD）"),
                format!("{field} must be YYYY-MM-DD or RFC 3339"),
            )
        })
}

impl ListParams {
    fn into_filter(self) -> Result<MatterFilter, ApiError> {
        let mut states = Vec::new();
        for s in self
            .state
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            states.push(MatterState::parse(s).ok_or_else(|| {
                ApiError::invalid(
                    "state",
                    "invalid_value",
                    format!("状态取值不正确：{s}"),
                    format!("unknown state: {s}"),
                )
            })?);
        }
        let id_param = |field: &str, v: &Option<String>| -> Result<Option<uuid::Uuid>, ApiError> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    uuid::Uuid::parse_str(s).map_err(|_| {
                        ApiError::invalid(
                            field,
                            "invalid_id",
                            format!("{field} 不是有效的编号"),
                            format!("{field} is not a valid id"),
                        )
                    })
                })
                .transpose()
        };
        let q = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if q.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(ApiError::invalid(
                "q",
                "too_long",
                "搜索词不能超过100个字",
                "q must be at most 100 characters",
            ));
        }
        let order = match self.sort.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("newest") => ListOrder::Newest,
            Some("relevance") if q.is_some() => ListOrder::Relevance,
            Some("relevance") => {
                return Err(ApiError::invalid(
                    "sort",
                    "needs_query",
                    "按相关度排序需要输入搜索词",
                    "sort=relevance needs a search query (q)",
                ));
            }
            Some(other) => {
                return Err(ApiError::invalid(
                    "sort",
                    "invalid_value",
                    format!("排序方式不正确：{other}（应为 newest 或 relevance）"),
                    format!("sort must be newest or relevance, not {other}"),
                ));
            }
        };
        // Bounded so that the offset (page - 1) * per_page cannot overflow further down.
        let page = self.page.unwrap_or(1).max(1);
        if page > MAX_PAGE {
            return Err(ApiError::invalid(
                "page",
                "invalid_value",
                format!("页码不能超过{MAX_PAGE}"),
                format!("page must be at most {MAX_PAGE}"),
            ));
        }
        let per_page = self.per_page.unwrap_or(20);
        if per_page == 0 || per_page > MatterFilter::MAX_PER_PAGE {
            return Err(ApiError::invalid(
                "per_page",
                "invalid_value",
                "每页条数应为1到100",
                "per_page must be between 1 and 100",
            ));
        }
        Ok(MatterFilter {
            states,
            unit_id: id_param("unit_id", &self.unit_id)?.map(xinfang_core::ids::UnitId::from_uuid),
            category_id: id_param("category_id", &self.category_id)?
                .map(xinfang_core::ids::CategoryId::from_uuid),
            channel: parse_enum("channel", self.channel.as_deref(), Channel::parse, "渠道")?,
            petition_type: parse_enum(
                "petition_type",
                self.petition_type.as_deref(),
                PetitionType::parse,
                "信访类型",
            )?,
            deadline_status: parse_enum(
                "deadline_status",
                self.deadline_status.as_deref(),
                DeadlineStatus::parse,
                "期限状态",
            )?,
            registered_from: self
                .from
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| parse_time("from", s))
                .transpose()?,
            registered_to: self
                .to
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| parse_time("to", s))
                .transpose()?,
            q,
            order,
            page,
            per_page,
        })
    }
}

/// Lists the matters the user may see, newest first (or a search by relevance), with filters
/// and full-text search.
#[utoipa::path(get, path = "/api/v1/matters", tag = "matters", params(ListParams),
    responses((status = 200, description = "a page of matters: {items,total,page,per_page}"), (status = 422, body = crate::error::ErrorBody)))]
async fn list(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Page<MatterSummary>>, ApiError> {
    let filter = params.into_filter()?;
    let page = st.store.list_matters(&user.0, &filter).await?;
    Ok(Json(crate::privacy::page(&user.0, page)))
}

/// One matter with its deadlines. Phone and ID numbers are masked; for 检举控告 the reporter is
/// hidden from everyone outside the petition office.
#[utoipa::path(get, path = "/api/v1/matters/{id}", tag = "matters", params(("id" = String, Path, description = "matter id")),
    responses((status = 200, description = "the matter"), (status = 404, body = crate::error::ErrorBody)))]
async fn get_one(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MatterView>, ApiError> {
    let view = st.store.matter(&user.0, matter_id(&id)?).await?;
    Ok(Json(crate::privacy::view(&user.0, view)))
}

/// The matter's audit events: who did what, when it happened and when it was recorded.
#[utoipa::path(get, path = "/api/v1/matters/{id}/timeline", tag = "matters", params(("id" = String, Path)),
    responses((status = 200, description = "events, oldest first"), (status = 404, body = crate::error::ErrorBody)))]
async fn timeline(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<EventRecord>>, ApiError> {
    Ok(Json(st.store.timeline(&user.0, matter_id(&id)?).await?))
}

/// Reveals the petitioners' unmasked phone and ID numbers to a clerk or supervisor; the reveal
/// is written to the audit chain.
#[utoipa::path(post, path = "/api/v1/matters/{id}/reveal", tag = "matters", params(("id" = String, Path)),
    responses((status = 200, description = "the petitioners, unmasked"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn reveal(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<RevealedPetitioner>>, ApiError> {
    Ok(Json(st.store.reveal_petitioners(&user.0, matter_id(&id)?).await?))
}

/// Every matter of one petitioner that the user may see (repeat petitions at a glance).
#[utoipa::path(get, path = "/api/v1/petitioners/{id}/matters", tag = "matters", params(("id" = String, Path, description = "petitioner id")),
    responses((status = 200, description = "matters of this petitioner")))]
async fn petitioner_matters(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<MatterSummary>>, ApiError> {
    let pid: PetitionerId = id.parse().map_err(|_| ApiError::not_found())?;
    let items = st.store.petitioner_matters(&user.0, pid).await?;
    Ok(Json(crate::privacy::summaries(&user.0, items)))
}
