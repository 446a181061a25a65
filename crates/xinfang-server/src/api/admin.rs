//! The organisation's reference data: units, users and their role grants, the category tree,
//! time-limit rule sets (versioned), the holiday calendar, and API tokens.
//!
//! Reading is open to every signed-in user (the console needs unit and category names); writing
//! is for admins, except that any user may create an API token for themselves. The history of
//! configuration changes (`GET /api/v1/settings/history`) is for those who oversee the office.

use crate::AppState;
use crate::auth;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, CurrentUser};
use crate::input::parse_enum;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_core::calendar::Calendar;
use xinfang_core::clock::local_date;
use xinfang_core::deadline::RuleSet;
use xinfang_core::ids::{CategoryId, RuleSetId, UnitId};
use xinfang_core::matter::PetitionType;
use xinfang_core::org::{Role, RoleGrant, UnitKind};
use xinfang_store::{Category, NewCategory, NewUnit, NewUser, StoredRuleSet, Unit, User};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_units, create_unit))
        .routes(routes!(list_users, create_user))
        .routes(routes!(list_categories, create_category))
        .routes(routes!(list_rule_sets, create_rule_set))
        .routes(routes!(get_calendar, add_calendar))
        .routes(routes!(create_token))
        .routes(routes!(settings_history))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// How many changes, newest first (1–500, default 100).
    limit: Option<u32>,
}

/// The audit trail of the organisation's configuration (配置变更): every change of the user
/// dictionary, the triage lexicon, the routing rules, the training material and the active
/// model, with who made it and what changed, newest first (admins, supervisors, leaders).
#[utoipa::path(get, path = "/api/v1/settings/history", tag = "admin", params(HistoryParams),
    responses((status = 200, description = "settings_changed events: seq, actor_name, occurred_at, data {setting, label_zh, …}"),
        (status = 403, body = crate::error::ErrorBody)))]
async fn settings_history(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> Result<Json<Vec<xinfang_store::EventRecord>>, ApiError> {
    user.require(&[Role::Admin, Role::Supervisor, Role::Leader])?;
    let limit = crate::input::limit(p.limit, 100, 500)?;
    Ok(Json(
        st.store.settings_history(user.0.organisation_id, limit).await?,
    ))
}

fn admin(user: &CurrentUser) -> Result<(), ApiError> {
    user.require(&[Role::Admin])
}

fn opt_uuid(field: &str, v: &Option<String>) -> Result<Option<uuid::Uuid>, ApiError> {
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
}

fn name(field: &'static str, v: &Option<String>, max: usize) -> Result<String, ApiError> {
    xinfang_core::text::bounded(field, v.as_deref().unwrap_or(""), max, false, true)?
        .ok_or_else(|| ApiError::required(field))
}

/// The unit tree.
#[utoipa::path(get, path = "/api/v1/units", tag = "admin", responses((status = 200, description = "units")))]
async fn list_units(State(st): State<AppState>, user: CurrentUser) -> Result<Json<Vec<Unit>>, ApiError> {
    Ok(Json(st.store.units(user.0.organisation_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    name: Option<String>,
    parent_id: Option<String>,
    /// group, subsidiary, department, team.
    kind: Option<String>,
    /// Whether this unit is the petition office (信访办).
    #[serde(default)]
    petition_office: bool,
}

/// Creates a unit (admin).
#[utoipa::path(post, path = "/api/v1/units", tag = "admin", request_body = UnitInput,
    responses((status = 201, description = "the unit"), (status = 409, body = crate::error::ErrorBody)))]
async fn create_unit(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<UnitInput>,
) -> Result<(StatusCode, Json<Unit>), ApiError> {
    admin(&user)?;
    let unit = NewUnit {
        name: name("name", &b.name, 100)?,
        parent_id: opt_uuid("parent_id", &b.parent_id)?.map(UnitId::from_uuid),
        kind: parse_enum("kind", b.kind.as_deref(), UnitKind::parse, "单位类型")?
            .unwrap_or(UnitKind::Department),
        petition_office: b.petition_office,
    };
    Ok((
        StatusCode::CREATED,
        Json(st.store.create_unit(user.0.organisation_id, unit).await?),
    ))
}

/// Users with their role grants (admin, supervisor).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, description = "users")))]
async fn list_users(State(st): State<AppState>, user: CurrentUser) -> Result<Json<Vec<User>>, ApiError> {
    user.require(&[Role::Admin, Role::Supervisor])?;
    Ok(Json(st.store.users(user.0.organisation_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    /// clerk, supervisor, handler, unit_head, leader, mediator, analyst, admin.
    role: Option<String>,
    unit_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    username: Option<String>,
    display_name: Option<String>,
    /// At least 8 characters.
    password: Option<String>,
    #[serde(default)]
    grants: Vec<GrantInput>,
}

/// Creates a user with roles in units (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = UserInput,
    responses((status = 201, description = "the user"), (status = 409, body = crate::error::ErrorBody)))]
async fn create_user(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<UserInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    admin(&user)?;
    let username = name("username", &b.username, 64)?;
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(ApiError::invalid(
            "username",
            "invalid_username",
            "用户名只能包含字母、数字、下划线、点和连字符",
            "username may contain letters, digits, _ - . only",
        ));
    }
    let password = b.password.clone().unwrap_or_default();
    if password.chars().count() < 8 || password.len() > 256 {
        return Err(ApiError::invalid(
            "password",
            "weak_password",
            "密码至少8位",
            "password must be at least 8 characters",
        ));
    }
    let mut grants = Vec::new();
    for (i, g) in b.grants.iter().enumerate() {
        let field = format!("grants[{i}]");
        let role = parse_enum(&format!("{field}.role"), g.role.as_deref(), Role::parse, "角色")?
            .ok_or_else(|| ApiError::required(&format!("{field}.role")))?;
        let unit_id = opt_uuid(&format!("{field}.unit_id"), &g.unit_id)?
            .ok_or_else(|| ApiError::required(&format!("{field}.unit_id")))?;
        grants.push(RoleGrant {
            role,
            unit_id: UnitId::from_uuid(unit_id),
        });
    }
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())??;
    let new = NewUser {
        username,
        display_name: name("display_name", &b.display_name, 50)?,
        password_hash: hash,
        grants,
    };
    Ok((
        StatusCode::CREATED,
        Json(st.store.create_user(user.0.organisation_id, new).await?),
    ))
}

/// The category tree (flat, with paths).
#[utoipa::path(get, path = "/api/v1/categories", tag = "admin", responses((status = 200, description = "categories")))]
async fn list_categories(
    State(st): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Category>>, ApiError> {
    Ok(Json(st.store.categories(user.0.organisation_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    name: Option<String>,
    parent_id: Option<String>,
    /// The unit that usually handles this category (routing default).
    default_unit_id: Option<String>,
    petition_type: Option<String>,
}

/// Adds a category under a parent, or at the top (admin).
#[utoipa::path(post, path = "/api/v1/categories", tag = "admin", request_body = CategoryInput,
    responses((status = 201, description = "the category"), (status = 409, body = crate::error::ErrorBody)))]
async fn create_category(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<CategoryInput>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    admin(&user)?;
    let c = NewCategory {
        name: name("name", &b.name, 100)?,
        parent_id: opt_uuid("parent_id", &b.parent_id)?.map(CategoryId::from_uuid),
        default_unit_id: opt_uuid("default_unit_id", &b.default_unit_id)?.map(UnitId::from_uuid),
        petition_type: parse_enum(
            "petition_type",
            b.petition_type.as_deref(),
            PetitionType::parse,
            "信访类型",
        )?,
    };
    Ok((
        StatusCode::CREATED,
        Json(st.store.create_category(user.0.organisation_id, c).await?),
    ))
}

/// Every version of every rule set.
#[utoipa::path(get, path = "/api/v1/rule-sets", tag = "admin", responses((status = 200, description = "rule sets")))]
async fn list_rule_sets(
    State(st): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<StoredRuleSet>>, ApiError> {
    Ok(Json(st.store.rule_sets(user.0.organisation_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSetInput {
    /// The rule set (as returned by GET, without version: the server assigns the next one). A
    /// new id starts a new rule set; an existing id adds a version.
    #[schema(value_type = Object)]
    rules: Option<serde_json::Value>,
    /// Start a preset instead: regulation_2022 or hotline_12345.
    preset: Option<String>,
    /// Make it the default for newly registered matters.
    #[serde(default)]
    make_default: bool,
}

/// Stores a new rule set version (admin). Matters already registered keep their version.
#[utoipa::path(post, path = "/api/v1/rule-sets", tag = "admin", request_body = RuleSetInput,
    responses((status = 201, description = "the stored version"), (status = 422, body = crate::error::ErrorBody)))]
async fn create_rule_set(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<RuleSetInput>,
) -> Result<(StatusCode, Json<RuleSet>), ApiError> {
    admin(&user)?;
    let rules = match (&b.rules, b.preset.as_deref()) {
        (Some(v), _) => {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                // The store assigns the next version; this placeholder only has to pass
                // validation (versions start at 1), whatever the client sent.
                o.insert("version".into(), serde_json::json!(1));
                o.entry("id").or_insert(serde_json::json!(RuleSetId::new()));
            }
            serde_json::from_value::<RuleSet>(v).map_err(|e| {
                ApiError::invalid(
                    "rules",
                    "invalid_rule_set",
                    format!("时限规则格式不正确：{e}"),
                    e.to_string(),
                )
            })?
        }
        (None, Some("regulation_2022")) => RuleSet::regulation_2022(RuleSetId::new()),
        (None, Some("hotline_12345")) => RuleSet::hotline_12345(RuleSetId::new()),
        (None, Some(p)) => {
            return Err(ApiError::invalid(
                "preset",
                "invalid_value",
                format!("未知的预设：{p}"),
                format!("unknown preset {p}"),
            ));
        }
        (None, None) => return Err(ApiError::required("rules")),
    };
    rules.validate().map_err(|e| {
        ApiError::invalid(
            "rules",
            "invalid_rule_set",
            format!("时限规则不正确：{e}"),
            e.to_string(),
        )
    })?;
    Ok((
        StatusCode::CREATED,
        Json(
            st.store
                .save_rule_set(user.0.organisation_id, rules, b.make_default)
                .await?,
        ),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CalendarInfo {
    /// Years with holiday data.
    covered_years: Vec<i32>,
    /// This year and next if they lack data: working days there count weekends only.
    missing_years: Vec<i32>,
    warnings: Vec<String>,
}

fn calendar_info(cal: &Calendar, today: chrono::NaiveDate) -> CalendarInfo {
    use chrono::Datelike;
    let next_year_end = chrono::NaiveDate::from_ymd_opt(today.year() + 1, 12, 31).unwrap_or(today);
    let missing = cal.missing_years(today, next_year_end);
    let warnings = missing
        .iter()
        .map(|y| {
            format!("{y}年的法定节假日安排尚未录入，工作日按周一至周五计算。请在国务院办公厅公布后录入。")
        })
        .collect();
    CalendarInfo {
        covered_years: cal.covered_years().collect(),
        missing_years: missing,
        warnings,
    }
}

/// Holiday calendar coverage, with a warning for each year lacking data.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "admin", responses((status = 200, body = CalendarInfo)))]
async fn get_calendar(State(st): State<AppState>, user: CurrentUser) -> Result<Json<CalendarInfo>, ApiError> {
    let cal = st.store.calendar(user.0.organisation_id).await?;
    Ok(Json(calendar_info(&cal, local_date(st.clock.now()))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    /// CSV with the header `date,kind,name,name_zh,in_lieu` (kind: holiday or workday).
    csv: Option<String>,
}

/// Adds holiday calendar days (admin), e.g. a new year announced by the State Council. Every
/// bad row is reported; nothing is stored unless all rows are good.
#[utoipa::path(post, path = "/api/v1/calendar", tag = "admin", request_body = CalendarInput,
    responses((status = 200, body = CalendarInfo), (status = 422, body = crate::error::ErrorBody)))]
async fn add_calendar(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<CalendarInput>,
) -> Result<Json<CalendarInfo>, ApiError> {
    admin(&user)?;
    let csv = b
        .csv
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::required("csv"))?;
    let entries = Calendar::parse_csv(csv).map_err(|e| {
        ApiError::invalid(
            "csv",
            "invalid_calendar",
            format!("节假日数据有误：{e}"),
            e.to_string(),
        )
    })?;
    let org = user.0.organisation_id;
    st.store.add_calendar_entries(org, entries).await?;
    let cal = st.store.calendar(org).await?;
    Ok(Json(calendar_info(&cal, local_date(st.clock.now()))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// What the token is for (e.g. "12345热线对接").
    name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenOutput {
    /// Send as `Authorization: Bearer <token>`; shown once.
    token: String,
}

/// Creates an API token for the signed-in user (machine clients: hotline integration, imports).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = TokenInput, responses((status = 201, body = TokenOutput)))]
async fn create_token(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<TokenInput>,
) -> Result<(StatusCode, Json<TokenOutput>), ApiError> {
    let label = name("name", &b.name, 100)?;
    let token = auth::random_token();
    st.store
        .create_api_token(
            user.0.organisation_id,
            user.0.user_id,
            &label,
            &xinfang_store::audit::token_hash(&token),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(TokenOutput { token })))
}
