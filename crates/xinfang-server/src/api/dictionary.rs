//! The organisation's user dictionary (用户词典): the words segmentation must keep whole — unit
//! names, places such as T3航站楼, domain words. Admins edit it as text, one word a line
//! (`word [frequency] [tag]`); a bad file is refused with every bad line named and nothing
//! saved. Hotspot discovery segments with it; the dictionary is read from the database on each
//! use, so every node segments the same way.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, CurrentUser};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_core::ids::OrganisationId;
use xinfang_core::org::Role;
use xinfang_nlp::segment::{Segmenter, UserDictionary};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_dictionary, put_dictionary))
}

/// The largest dictionary accepted, in bytes.
const MAX_BYTES: usize = 512 * 1024;

#[derive(Serialize, ToSchema)]
pub struct DictionaryView {
    text: String,
    words: usize,
}

/// The segmenter of `org`'s current dictionary (the base one when it has none).
pub async fn segmenter(st: &AppState, org: OrganisationId) -> Result<Segmenter, ApiError> {
    let text = st.store.user_dictionary(org).await?;
    if text.trim().is_empty() {
        return Ok(Segmenter::base());
    }
    // Stored text was parsed when saved; a file that no longer parses segments with the base.
    let dict = UserDictionary::parse(&text).unwrap_or_default();
    let cache = st.segmenters.clone();
    tokio::task::spawn_blocking(move || cache.get(&dict))
        .await
        .map_err(|_| ApiError::internal())
}

/// The user dictionary as the admin wrote it.
#[utoipa::path(get, path = "/api/v1/dictionary", tag = "admin",
    responses((status = 200, description = "{text, words}")))]
async fn get_dictionary(
    State(st): State<AppState>,
    user: CurrentUser,
) -> Result<Json<DictionaryView>, ApiError> {
    user.require(&[Role::Admin, Role::Analyst, Role::Clerk, Role::Supervisor])?;
    let text = st.store.user_dictionary(user.0.organisation_id).await?;
    let words = UserDictionary::parse(&text).map(|d| d.len()).unwrap_or(0);
    Ok(Json(DictionaryView { text, words }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DictionaryInput {
    text: Option<String>,
}

/// Replaces the user dictionary (admin).
#[utoipa::path(put, path = "/api/v1/dictionary", tag = "admin", request_body = DictionaryInput,
    responses((status = 200, description = "{text, words}"), (status = 422, body = crate::error::ErrorBody)))]
async fn put_dictionary(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<DictionaryInput>,
) -> Result<Json<DictionaryView>, ApiError> {
    user.require(&[Role::Admin])?;
    let text = b.text.ok_or_else(|| ApiError::required("text"))?;
    if text.len() > MAX_BYTES {
        return Err(ApiError::invalid(
            "text",
            "too_long",
            "词典过大（最多 512 KB）",
            "dictionary too large (512 KB at most)",
        ));
    }
    let dict = UserDictionary::parse(&text).map_err(|errors| {
        let shown: Vec<String> = errors.iter().take(20).map(ToString::to_string).collect();
        ApiError::invalid(
            "text",
            "invalid_lines",
            format!("词典有 {} 行错误，未保存：{}", errors.len(), shown.join("；")),
            format!("{} bad lines, nothing saved: {}", errors.len(), shown.join("; ")),
        )
    })?;
    st.store
        .save_user_dictionary(user.0.organisation_id, &text, &user.actor())
        .await?;
    Ok(Json(DictionaryView {
        text,
        words: dict.len(),
    }))
}
