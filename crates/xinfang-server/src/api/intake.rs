//! What intake found about a matter — its links to earlier and later matters (duplicate,
//! repeat, joint, similar) and its triage (suggested type and urgency, safety alerts,
//! emotional intensity, with the words that drove them) — and the organisation's triage
//! lexicon, which admins edit as CSV or JSON.
//!
//! Reads are scoped like every matter read: a matter the user may not see is "not found", and
//! a linked matter the user may not see is left out.

use crate::AppState;
use crate::api::matters::matter_id;
use crate::error::ApiError;
use crate::extract::CurrentUser;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_core::matter::{PetitionType, Urgency};
use xinfang_core::org::Role;
use xinfang_nlp::triage::{Alert, Entry, Evidence, Lexicon, LexiconError, Triage};
use xinfang_store::MatterLink;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(links))
        .routes(routes!(triage))
        .routes(routes!(get_lexicon, put_lexicon))
}

/// Matters linked to this one, strongest first: `direction` `earlier` when this matter
/// duplicates/repeats/joins an earlier one, `later` when a later matter does so to this one.
#[utoipa::path(get, path = "/api/v1/matters/{id}/links", tag = "matters", params(("id" = String, Path)),
    responses((status = 200, description = "linked matters: matter_id, tracking_code, title, state, kind (duplicate/repeat/joint/similar), label_zh, similarity, direction"),
              (status = 404, body = crate::error::ErrorBody)))]
async fn links(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<MatterLink>>, ApiError> {
    Ok(Json(st.store.links(&user.0, matter_id(&id)?).await?))
}

/// The machine's triage of a matter.
#[derive(Serialize, ToSchema)]
pub struct TriageView {
    matter_id: String,
    /// The suggested petition type (null when the text says too little).
    #[schema(value_type = Option<String>)]
    suggested_petition_type: Option<PetitionType>,
    suggested_petition_type_label: Option<&'static str>,
    /// Share of all petition-type evidence that points to the suggested type (0–1).
    type_confidence: Option<f32>,
    #[schema(value_type = String)]
    suggested_urgency: Urgency,
    suggested_urgency_label: &'static str,
    /// The matter's urgency now (set at classification).
    #[schema(value_type = String)]
    current_urgency: Urgency,
    /// True when triage suggests more urgency than the matter has: confirm it at classification.
    raise_urgency: bool,
    urgency_reasons: Vec<String>,
    /// Safety and self-harm words; any of them raised a 安全预警 reminder for the petition office.
    #[schema(value_type = Vec<Object>)]
    alerts: Vec<AlertView>,
    /// 0 (calm) to 1 (extreme).
    emotional_intensity: f32,
    /// The words behind the type suggestion and the intensity.
    #[schema(value_type = Object)]
    evidence: EvidenceView,
    /// The lexicon revision used (0: the built-in lexicon).
    lexicon_revision: i64,
    assessed_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct AlertView {
    #[serde(flatten)]
    alert: Alert,
    label_zh: &'static str,
}

#[derive(Serialize)]
struct EvidenceView {
    petition_type: Vec<Evidence>,
    emotion: Vec<Evidence>,
}

/// The triage of a matter: suggested type and urgency, alerts, intensity, evidence. 404
/// `not_assessed` while intake has not run for it.
#[utoipa::path(get, path = "/api/v1/matters/{id}/triage", tag = "matters", params(("id" = String, Path)),
    responses((status = 200, body = TriageView), (status = 404, body = crate::error::ErrorBody)))]
async fn triage(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TriageView>, ApiError> {
    let id = matter_id(&id)?;
    let stored = st.store.triage(&user.0, id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_assessed",
            "该事项尚未完成智能研判",
            "intake has not assessed this matter yet",
        )
    })?;
    let current = st.store.matter(&user.0, id).await?.matter.urgency;
    let a = stored.assessment;
    let (suggested_type, confidence, type_evidence) = match a.petition_type {
        Some(t) => (Some(t.petition_type), Some(t.confidence), t.evidence),
        None => (None, None, Vec::new()),
    };
    Ok(Json(TriageView {
        matter_id: id.to_string(),
        suggested_petition_type: suggested_type,
        suggested_petition_type_label: suggested_type.map(PetitionType::label_zh),
        type_confidence: confidence,
        suggested_urgency: a.urgency,
        suggested_urgency_label: a.urgency.label_zh(),
        current_urgency: current,
        raise_urgency: urgency_rank(a.urgency) > urgency_rank(current),
        urgency_reasons: a.urgency_reasons,
        alerts: a
            .alerts
            .into_iter()
            .map(|alert| AlertView {
                label_zh: alert.category.label_zh(),
                alert,
            })
            .collect(),
        emotional_intensity: a.emotional_intensity,
        evidence: EvidenceView {
            petition_type: type_evidence,
            emotion: a.emotion_evidence,
        },
        lexicon_revision: stored.lexicon_revision,
        assessed_at: stored.assessed_at,
    }))
}

fn urgency_rank(u: Urgency) -> u8 {
    match u {
        Urgency::Normal => 0,
        Urgency::Urgent => 1,
        Urgency::Critical => 2,
    }
}

/// The lexicon triage uses for the organisation.
#[derive(Serialize, ToSchema)]
pub struct LexiconView {
    /// `builtin` until an admin saves one, then `organisation`.
    source: &'static str,
    /// 0 for the built-in lexicon; one more with every save.
    revision: i64,
    updated_at: Option<DateTime<Utc>>,
    updated_by: Option<String>,
    /// The lines as JSON (`{"term","kind",...}`), the form PUT accepts as `{"entries":[…]}`.
    #[schema(value_type = Vec<Object>)]
    entries: Vec<Entry>,
    /// The same as CSV (`term,kind,value,weight`), the form PUT accepts as `text/csv`.
    csv: String,
}

fn admin(user: &CurrentUser) -> Result<(), ApiError> {
    user.require(&[Role::Admin])
}

/// The organisation's triage lexicon (admin).
#[utoipa::path(get, path = "/api/v1/admin/lexicon", tag = "admin",
    responses((status = 200, body = LexiconView), (status = 403, body = crate::error::ErrorBody)))]
async fn get_lexicon(State(st): State<AppState>, user: CurrentUser) -> Result<Json<LexiconView>, ApiError> {
    admin(&user)?;
    Ok(Json(match st.store.lexicon(user.0.organisation_id).await? {
        Some(s) => LexiconView {
            source: "organisation",
            revision: s.revision,
            updated_at: Some(s.updated_at),
            updated_by: s.updated_by.map(|u| u.to_string()),
            csv: s.lexicon.to_csv(),
            entries: s.lexicon.entries,
        },
        None => {
            let l = Triage::builtin().lexicon().clone();
            LexiconView {
                source: "builtin",
                revision: 0,
                updated_at: None,
                updated_by: None,
                csv: l.to_csv(),
                entries: l.entries,
            }
        }
    }))
}

/// Replaces the organisation's triage lexicon (admin). The body is CSV (`Content-Type:
/// text/csv`, header `term,kind,value,weight`) or JSON (`{"entries":[…]}`). Every bad line is
/// reported (422 `invalid_lexicon`, with the line numbers) and nothing is saved.
#[utoipa::path(put, path = "/api/v1/admin/lexicon", tag = "admin",
    request_body(content = String, description = "CSV (text/csv) or JSON (application/json)"),
    responses((status = 200, body = LexiconView), (status = 422, body = crate::error::ErrorBody),
              (status = 415, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
async fn put_lexicon(
    State(st): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<LexiconView>, ApiError> {
    admin(&user)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::invalid(
            "body",
            "invalid_encoding",
            "词表必须是 UTF-8 编码",
            "the lexicon must be UTF-8",
        )
    })?;
    let lexicon = match content_type.as_str() {
        "text/csv" | "text/plain" => parse_csv(text),
        "application/json" => Lexicon::from_json(text).map_err(|e| vec![bad_line(e)]),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "词表须为 CSV（text/csv）或 JSON（application/json）",
                "the lexicon must be CSV (text/csv) or JSON (application/json)",
            ));
        }
    }
    .map_err(invalid_lexicon)?;
    if lexicon.entries.is_empty() {
        return Err(ApiError::invalid(
            "body",
            "empty_lexicon",
            "词表不能为空",
            "the lexicon has no entries",
        ));
    }
    // Compiles here, so a lexicon that saves is one every node can use.
    let checked = lexicon.clone();
    tokio::task::spawn_blocking(move || Triage::new(checked))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| invalid_lexicon(vec![bad_line(e)]))?;
    let s = st
        .store
        .save_lexicon(user.0.organisation_id, &user.actor(), &lexicon)
        .await?;
    Ok(Json(LexiconView {
        source: "organisation",
        revision: s.revision,
        updated_at: Some(s.updated_at),
        updated_by: s.updated_by.map(|u| u.to_string()),
        csv: s.lexicon.to_csv(),
        entries: s.lexicon.entries,
    }))
}

/// A bad line: its number (0 when the error is not about one line) and what is wrong.
type BadLine = (usize, String);

fn bad_line(e: LexiconError) -> BadLine {
    match e {
        LexiconError::Line { line, reason } => (line, reason),
        other => (0, other.to_string()),
    }
}

/// Reads CSV and reports every bad line, not just the first: a bad line is set aside and the
/// rest read again, with line numbers kept as in the file (blank lines are skipped, as the
/// CSV reader does).
fn parse_csv(text: &str) -> Result<Lexicon, Vec<BadLine>> {
    const MAX_REPORTED: usize = 50;
    let lines: Vec<&str> = text.lines().collect();
    let mut keep: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].trim().is_empty())
        .collect();
    let mut bad = Vec::new();
    loop {
        let joined = keep.iter().map(|&i| lines[i]).collect::<Vec<_>>().join("\n");
        match Lexicon::from_csv(&joined) {
            Ok(l) if bad.is_empty() => return Ok(l),
            Ok(_) => return Err(bad),
            Err(LexiconError::Line { line, reason })
                if line >= 2 && line - 1 < keep.len() && bad.len() < MAX_REPORTED =>
            {
                bad.push((keep[line - 1] + 1, reason));
                keep.remove(line - 1);
            }
            Err(e) => {
                bad.push(bad_line(e));
                return Err(bad);
            }
        }
    }
}

fn invalid_lexicon(bad: Vec<BadLine>) -> ApiError {
    let describe = |(line, reason): &BadLine, zh: bool| match (*line, zh) {
        (0, _) => reason.clone(),
        (n, true) => format!("第 {n} 行：{reason}"),
        (n, false) => format!("line {n}: {reason}"),
    };
    let zh: Vec<String> = bad.iter().map(|b| describe(b, true)).collect();
    let en: Vec<String> = bad.iter().map(|b| describe(b, false)).collect();
    let lines: Vec<String> = bad.iter().filter(|b| b.0 > 0).map(|b| b.0.to_string()).collect();
    let field = if lines.is_empty() {
        "body".to_string()
    } else {
        format!("lines:{}", lines.join(","))
    };
    ApiError::invalid(
        "body",
        "invalid_lexicon",
        format!("词表有误，未保存：{}", zh.join("；")),
        format!("the lexicon was not saved: {}", en.join("; ")),
    )
    .with_field(field)
}
