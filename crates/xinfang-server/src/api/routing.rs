//! The routing model from the admin console and the clerk's queues: model versions (train,
//! list, roll back), labelled imports, the routing table and threshold, each matter's
//! suggestion, and the two triage queues (自动分流 for one-click confirmation, 人工分类 for
//! matters the model was not sure about).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, CurrentUser};
use crate::routing::{self, RoutingError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_core::ids::{CategoryId, UnitId};
use xinfang_core::matter::Channel;
use xinfang_core::org::Role;
use xinfang_core::routing::{Route, RoutingRule};
use xinfang_store::{MatterSuggestion, QueuedMatter, RoutingConfig, StoredModel, TrainingExample};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_models))
        .routes(routes!(train_model))
        .routes(routes!(activate_model))
        .routes(routes!(import_examples))
        .routes(routes!(get_routing, put_routing))
        .routes(routes!(matter_suggestion))
        .routes(routes!(queue))
}

const CLERKS: &[Role] = &[Role::Clerk, Role::Supervisor, Role::Admin];

impl From<RoutingError> for ApiError {
    fn from(e: RoutingError) -> Self {
        match e {
            RoutingError::Store(s) => s.into(),
            RoutingError::Train(t) => {
                tracing::info!(error = %t, "training refused");
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "not_enough_examples",
                    format!("已分类的信访事项不足，无法训练模型：{t}"),
                    format!("not enough classified matters to train on: {t}"),
                )
            }
            RoutingError::Model(m) => {
                tracing::error!(error = %m, "stored model unreadable");
                ApiError::internal()
            }
            RoutingError::Task => ApiError::internal(),
        }
    }
}

/// Model versions, newest first, with their cross-validated figures and how their suggestions
/// fared with the clerks (admins and analysts).
#[utoipa::path(get, path = "/api/v1/models", tag = "admin",
    responses((status = 200, description = "model versions"), (status = 403, body = crate::error::ErrorBody)))]
async fn list_models(
    State(st): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<StoredModel>>, ApiError> {
    user.require(&[Role::Admin, Role::Analyst])?;
    Ok(Json(st.store.models(user.0.organisation_id).await?))
}

/// Trains a new version from the classified matters and imported examples, and makes it
/// active (admin).
#[utoipa::path(post, path = "/api/v1/models/train", tag = "admin",
    responses((status = 201, description = "the new version"), (status = 422, body = crate::error::ErrorBody)))]
async fn train_model(
    State(st): State<AppState>,
    user: CurrentUser,
) -> Result<(StatusCode, Json<StoredModel>), ApiError> {
    user.require(&[Role::Admin])?;
    let model = routing::train(st.store.as_ref(), user.0.organisation_id, &user.actor()).await?;
    Ok((StatusCode::CREATED, Json(model)))
}

/// Makes an earlier (or later) version the active one: a rollback (admin).
#[utoipa::path(post, path = "/api/v1/models/{version}/activate", tag = "admin", params(("version" = u32, Path)),
    responses((status = 200, description = "the active version"), (status = 404, body = crate::error::ErrorBody)))]
async fn activate_model(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(version): Path<String>,
) -> Result<Json<StoredModel>, ApiError> {
    user.require(&[Role::Admin])?;
    let version: u32 = version.parse().map_err(|_| ApiError::not_found())?;
    Ok(Json(
        st.store
            .activate_model(user.0.organisation_id, &user.actor(), version)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleInput {
    text: Option<String>,
    /// A category id, or its path as shown (交通接驳 / 停车服务), or its name when unique.
    category: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportInput {
    examples: Option<Vec<ExampleInput>>,
}

/// Imports labelled history to train on (admin). All or nothing: when any row is bad, the
/// answer names every bad row and nothing is imported.
#[utoipa::path(post, path = "/api/v1/models/examples", tag = "admin", request_body = ImportInput,
    responses((status = 201, description = "{imported: n}"), (status = 422, body = crate::error::ErrorBody)))]
async fn import_examples(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<ImportInput>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    user.require(&[Role::Admin])?;
    let org = user.0.organisation_id;
    let rows = b.examples.ok_or_else(|| ApiError::required("examples"))?;
    if rows.is_empty() || rows.len() > 100_000 {
        return Err(ApiError::invalid(
            "examples",
            "out_of_range",
            "一次导入 1 到 100000 条",
            "import between 1 and 100,000 examples at a time",
        ));
    }
    let categories = st.store.categories(org).await?;
    let find = |raw: &str| -> Option<CategoryId> {
        let raw = raw.trim();
        if let Ok(id) = raw.parse::<CategoryId>() {
            return categories.iter().find(|c| c.id == id).map(|c| c.id);
        }
        let by_path: Vec<_> = categories.iter().filter(|c| c.path == raw).collect();
        let by_name: Vec<_> = categories.iter().filter(|c| c.name == raw).collect();
        match (by_path.as_slice(), by_name.as_slice()) {
            ([c], _) => Some(c.id),
            ([], [c]) => Some(c.id),
            _ => None,
        }
    };
    let mut good = Vec::with_capacity(rows.len());
    let mut bad: Vec<(usize, &'static str)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let text = r.text.as_deref().map(str::trim).unwrap_or("");
        if text.chars().count() < 2 || text.chars().count() > 20_000 {
            bad.push((i + 1, "text"));
            continue;
        }
        match r.category.as_deref().and_then(find) {
            Some(category_id) => good.push(TrainingExample {
                text: text.to_string(),
                category_id,
            }),
            None => bad.push((i + 1, "category")),
        }
    }
    if let Some(&(first, field)) = bad.first() {
        let list = bad
            .iter()
            .take(50)
            .map(|(row, f)| format!("{row}({f})"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ApiError::invalid(
            &format!("examples[{}].{field}", first - 1),
            "invalid_rows",
            format!(
                "有 {} 行无效（文本为空或过长，或分类不存在），未导入任何数据：第 {list} 行",
                bad.len()
            ),
            format!(
                "{} rows are invalid (empty or over-long text, or unknown category); nothing was imported: rows {list}",
                bad.len()
            ),
        ));
    }
    let n = st.store.add_training_examples(org, &user.actor(), good).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "imported": n }))))
}

/// The routing table and threshold (clerks, supervisors and admins read it).
#[utoipa::path(get, path = "/api/v1/routing", tag = "admin",
    responses((status = 200, description = "{threshold, rules}")))]
async fn get_routing(State(st): State<AppState>, user: CurrentUser) -> Result<Json<RoutingConfig>, ApiError> {
    user.require(CLERKS)?;
    Ok(Json(st.store.routing_config(user.0.organisation_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    category_id: Option<String>,
    unit_id: Option<String>,
    location_contains: Option<String>,
    channel: Option<String>,
    priority: Option<i32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingInput {
    /// 0–1: suggestions below it go to the manual queue.
    threshold: Option<f32>,
    rules: Option<Vec<RuleInput>>,
}

/// Replaces the routing table and threshold (admin).
#[utoipa::path(put, path = "/api/v1/routing", tag = "admin", request_body = RoutingInput,
    responses((status = 200, description = "{threshold, rules}"), (status = 422, body = crate::error::ErrorBody)))]
async fn put_routing(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<RoutingInput>,
) -> Result<Json<RoutingConfig>, ApiError> {
    user.require(&[Role::Admin])?;
    let threshold = b.threshold.ok_or_else(|| ApiError::required("threshold"))?;
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ApiError::invalid(
            "threshold",
            "out_of_range",
            "阈值须在 0 到 1 之间",
            "threshold must be between 0 and 1",
        ));
    }
    let mut rules = Vec::new();
    for (i, r) in b.rules.unwrap_or_default().iter().enumerate() {
        let field = |f: &str| format!("rules[{i}].{f}");
        let id = |f: &str, v: &Option<String>| -> Result<uuid::Uuid, ApiError> {
            let raw = v.as_deref().ok_or_else(|| ApiError::required(&field(f)))?;
            uuid::Uuid::parse_str(raw).map_err(|_| {
                ApiError::invalid(
                    &field(f),
                    "invalid_id",
                    format!("{f} 不是有效的编号"),
                    format!("{f} is not a valid id"),
                )
            })
        };
        let channel = match r.channel.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(Channel::parse(c).ok_or_else(|| {
                ApiError::invalid(
                    &field("channel"),
                    "invalid_value",
                    format!("渠道取值不正确：{c}"),
                    format!("unknown channel: {c}"),
                )
            })?),
        };
        let location = r
            .location_contains
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        if location.is_some_and(|l| l.chars().count() > 100) {
            return Err(ApiError::invalid(
                &field("location_contains"),
                "too_long",
                "地点过长（最多 100 字）",
                "location too long (100 characters at most)",
            ));
        }
        rules.push(RoutingRule {
            category_id: CategoryId::from_uuid(id("category_id", &r.category_id)?),
            unit_id: UnitId::from_uuid(id("unit_id", &r.unit_id)?),
            location_contains: location.map(str::to_string),
            channel,
            priority: r.priority.unwrap_or(0),
        });
    }
    Ok(Json(
        st.store
            .save_routing_config(
                user.0.organisation_id,
                &user.actor(),
                RoutingConfig { threshold, rules },
            )
            .await?,
    ))
}

/// What the model suggested for a matter at intake (null when no model was active then).
#[utoipa::path(get, path = "/api/v1/matters/{id}/suggestion", tag = "matters", params(("id" = String, Path)),
    responses((status = 200, description = "the suggestion or null"), (status = 404, body = crate::error::ErrorBody)))]
async fn matter_suggestion(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Option<MatterSuggestion>>, ApiError> {
    let id = crate::api::matters::matter_id(&id)?;
    Ok(Json(st.store.suggestion(&user.0, id).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    /// auto (自动分流) or manual (人工分类, the default).
    route: Option<String>,
    /// At most this many (1–500, default 100).
    limit: Option<u32>,
}

/// A triage queue: matters not yet classified, oldest first, with the model's suggestion.
#[utoipa::path(get, path = "/api/v1/triage/queue", tag = "matters", params(QueueParams),
    responses((status = 200, description = "queued matters"), (status = 422, body = crate::error::ErrorBody)))]
async fn queue(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<QueueParams>,
) -> Result<Json<Vec<QueuedMatter>>, ApiError> {
    user.require(CLERKS)?;
    let route = match p.route.as_deref() {
        None => Route::Manual,
        Some(r) => Route::parse(r).ok_or_else(|| {
            ApiError::invalid(
                "route",
                "invalid_value",
                format!("route 取值不正确：{r}（auto 或 manual）"),
                format!("unknown route: {r} (auto or manual)"),
            )
        })?,
    };
    let limit = crate::input::limit(p.limit, 100, 500)?;
    let queue = st.store.triage_queue(&user.0, route, limit).await?;
    Ok(Json(crate::privacy::queue(&user.0, queue)))
}
