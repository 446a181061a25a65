//! One endpoint per lifecycle transition: `POST /api/v1/matters/{id}/{transition}`.
//!
//! All transitions share one body type whose fields each transition reads as it needs (a
//! missing required field is a 422 naming it). Whether the transition is allowed — the role, the
//! unit, the state, the time limits — is decided by the domain core, not here. `occurred_at`
//! records when something happened if it was earlier than now (a reply posted yesterday), up to
//! 30 days back.

use crate::AppState;
use crate::api::matters::matter_id;
use crate::error::ApiError;
use crate::extract::{CurrentUser, OptionalJson};
use crate::input::parse_enum;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xinfang_core::ids::{CategoryId, UnitId, UserId};
use xinfang_core::lifecycle::{Command, Transition};
use xinfang_core::matter::{DeclineReason, PetitionType, Satisfaction, Urgency};
use xinfang_core::text::{Reason, ReplyText, bounded};
use xinfang_store::MatterView;

/// The fields of a transition; which are required depends on the transition.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// decline: a reason code (litigation_or_arbitration, out_of_scope, already_concluded,
    /// duplicate, insufficient_information, other). Others: the free-text reason.
    pub reason: Option<String>,
    /// decline: the explanation; draft_reply / answer_review / answer_recheck: the text.
    pub text: Option<String>,
    /// accept, assign: an optional note.
    pub note: Option<String>,
    /// classify.
    pub category_id: Option<String>,
    /// classify: suggestion, report, appeal, inquiry.
    pub petition_type: Option<String>,
    /// classify: normal, urgent, critical.
    pub urgency: Option<String>,
    /// assign: the lead unit (主办).
    pub lead_unit_id: Option<String>,
    /// assign: co-handling units (协办).
    #[serde(default)]
    pub co_unit_ids: Vec<String>,
    /// assign: the case-owning leader (包案领导).
    pub owning_leader_id: Option<String>,
    /// request_extension: days (at most 30 under the default rules).
    pub days: Option<u32>,
    /// record_satisfaction: satisfied, basically_satisfied, dissatisfied.
    pub satisfaction: Option<String>,
    pub comment: Option<String>,
    /// deliver_reply: how it was delivered (post, in person, phone, sms…).
    pub method: Option<String>,
    /// When it happened, if earlier than now (at most 30 days back).
    pub occurred_at: Option<DateTime<Utc>>,
}

fn uuid_field<T>(field: &str, raw: Option<&str>, make: fn(uuid::Uuid) -> T) -> Result<T, ApiError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::required(field))?;
    uuid::Uuid::parse_str(raw).map(make).map_err(|_| {
        ApiError::invalid(
            field,
            "invalid_id",
            format!("{field} 不是有效的编号"),
            format!("{field} is not a valid id"),
        )
    })
}

fn reason(b: &TransitionInput) -> Result<String, ApiError> {
    Ok(Reason::parse(b.reason.as_deref().unwrap_or(""))?.into_inner())
}

fn reply_text(b: &TransitionInput) -> Result<String, ApiError> {
    Ok(ReplyText::parse(b.text.as_deref().unwrap_or(""))?.into_inner())
}

fn optional(field: &'static str, v: &Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    Ok(bounded(field, v.as_deref().unwrap_or(""), max, true, false)?)
}

/// Builds the command for `t` from the body.
pub fn command(t: Transition, b: &TransitionInput) -> Result<Command, ApiError> {
    use Transition as T;
    Ok(match t {
        T::Register => return Err(ApiError::not_found()),
        T::Accept => Command::Accept {
            note: optional("note", &b.note, 2000)?,
        },
        T::Decline => Command::Decline {
            reason: parse_enum(
                "reason",
                b.reason.as_deref(),
                DeclineReason::parse,
                "不予受理理由",
            )?
            .ok_or_else(|| ApiError::required("reason"))?,
            text: Reason::parse(b.text.as_deref().unwrap_or(""))
                .map_err(|e| ApiError::from(e).with_field("text"))?
                .into_inner(),
        },
        T::Classify => Command::Classify {
            category_id: uuid_field("category_id", b.category_id.as_deref(), CategoryId::from_uuid)?,
            petition_type: parse_enum(
                "petition_type",
                b.petition_type.as_deref(),
                PetitionType::parse,
                "信访类型",
            )?
            .ok_or_else(|| ApiError::required("petition_type"))?,
            urgency: parse_enum("urgency", b.urgency.as_deref(), Urgency::parse, "紧急程度")?
                .unwrap_or(Urgency::Normal),
        },
        T::Assign => Command::Assign {
            lead_unit_id: uuid_field("lead_unit_id", b.lead_unit_id.as_deref(), UnitId::from_uuid)?,
            co_unit_ids: b
                .co_unit_ids
                .iter()
                .map(|u| uuid_field("co_unit_ids", Some(u), UnitId::from_uuid))
                .collect::<Result<_, _>>()?,
            owning_leader_id: match b.owning_leader_id.as_deref().filter(|s| !s.is_empty()) {
                Some(l) => Some(uuid_field("owning_leader_id", Some(l), UserId::from_uuid)?),
                None => None,
            },
            note: optional("note", &b.note, 2000)?,
        },
        T::ReturnMisrouted => Command::ReturnMisrouted { reason: reason(b)? },
        T::StartHandling => Command::StartHandling,
        T::Pause => Command::Pause { reason: reason(b)? },
        T::Resume => Command::Resume,
        T::RequestExtension => Command::RequestExtension {
            days: b.days.ok_or_else(|| ApiError::required("days"))?,
            reason: reason(b)?,
        },
        T::ApproveExtension => Command::ApproveExtension,
        T::RefuseExtension => Command::RefuseExtension { reason: reason(b)? },
        T::DraftReply => Command::DraftReply { text: reply_text(b)? },
        T::ApproveReply => Command::ApproveReply,
        T::DeliverReply => Command::DeliverReply {
            method: optional("method", &b.method, 100)?,
        },
        T::RecordSatisfaction => Command::RecordSatisfaction {
            satisfaction: parse_enum(
                "satisfaction",
                b.satisfaction.as_deref(),
                Satisfaction::parse,
                "满意度",
            )?
            .ok_or_else(|| ApiError::required("satisfaction"))?,
            comment: optional("comment", &b.comment, 2000)?,
        },
        T::Reopen => Command::Reopen { reason: reason(b)? },
        T::RequestReview => Command::RequestReview { reason: reason(b)? },
        T::AnswerReview => Command::AnswerReview { text: reply_text(b)? },
        T::RequestRecheck => Command::RequestRecheck { reason: reason(b)? },
        T::AnswerRecheck => Command::AnswerRecheck { text: reply_text(b)? },
        T::Conclude => Command::Conclude {
            reason: optional("reason", &b.reason, 2000)?,
        },
        T::Archive => Command::Archive,
    })
}

async fn run(
    st: AppState,
    user: CurrentUser,
    id: String,
    t: Transition,
    body: TransitionInput,
) -> Result<Json<MatterView>, ApiError> {
    let id = matter_id(&id)?;
    let cmd = command(t, &body)?;
    let now = st.clock.now();
    if let Some(at) = body.occurred_at
        && (at > now + Duration::minutes(5) || at < now - Duration::days(30))
    {
        return Err(ApiError::invalid(
            "occurred_at",
            "invalid_date",
            "发生时间不能晚于现在，也不能早于30天前",
            "occurred_at must not be in the future nor more than 30 days ago",
        ));
    }
    let view = st.store.transition(&user.0, id, cmd, body.occurred_at).await?;
    Ok(Json(crate::privacy::view(&user.0, view)))
}

macro_rules! transition_endpoints {
    ($($name:ident => $path:literal, $t:expr, $doc:literal;)+) => {
        $(
            #[doc = $doc]
            #[utoipa::path(post, path = $path, tag = "transitions", description = $doc,
                params(("id" = String, Path, description = "matter id")), request_body = TransitionInput,
                responses((status = 200, description = "the matter after the transition"),
                          (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
                          (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
            async fn $name(
                State(st): State<AppState>,
                user: CurrentUser,
                Path(id): Path<String>,
                OptionalJson(body): OptionalJson<TransitionInput>,
            ) -> Result<Json<MatterView>, ApiError> {
                run(st, user, id, $t, body).await
            }
        )+

        pub fn router() -> OpenApiRouter<AppState> {
            OpenApiRouter::new()$(.routes(routes!($name)))+
        }
    };
}

transition_endpoints! {
    accept => "/api/v1/matters/{id}/accept", Transition::Accept, "受理 (clerk): accept the matter; starts the handling clock.";
    decline => "/api/v1/matters/{id}/decline", Transition::Decline, "不予受理 (clerk): decline with a reason code and an explanation.";
    classify => "/api/v1/matters/{id}/classify", Transition::Classify, "分类 (clerk): category, petition type, urgency.";
    assign => "/api/v1/matters/{id}/assign", Transition::Assign, "交办 (clerk): lead unit, co-handling units, owning leader.";
    return_misrouted => "/api/v1/matters/{id}/return_misrouted", Transition::ReturnMisrouted, "退回 (lead unit): return a misrouted matter with a reason; counts as a re-route.";
    start_handling => "/api/v1/matters/{id}/start_handling", Transition::StartHandling, "开始办理 (handler of the lead unit).";
    pause => "/api/v1/matters/{id}/pause", Transition::Pause, "暂停计时 (handler): waiting for the petitioner's materials.";
    resume => "/api/v1/matters/{id}/resume", Transition::Resume, "恢复计时 (handler).";
    request_extension => "/api/v1/matters/{id}/request_extension", Transition::RequestExtension, "申请延期 (handler): days and reason; once, at most 30 days (信访工作条例 art. 32).";
    approve_extension => "/api/v1/matters/{id}/approve_extension", Transition::ApproveExtension, "批准延期 (unit head or supervisor).";
    refuse_extension => "/api/v1/matters/{id}/refuse_extension", Transition::RefuseExtension, "不批准延期 (unit head or supervisor).";
    draft_reply => "/api/v1/matters/{id}/draft_reply", Transition::DraftReply, "拟写答复 (handler): the reply text (处理意见).";
    approve_reply => "/api/v1/matters/{id}/approve_reply", Transition::ApproveReply, "审核答复 (unit head of the lead unit).";
    deliver_reply => "/api/v1/matters/{id}/deliver_reply", Transition::DeliverReply, "送达答复 (handler or clerk): moves the matter to replied.";
    record_satisfaction => "/api/v1/matters/{id}/record_satisfaction", Transition::RecordSatisfaction, "满意度评价 (clerk, on the follow-up call).";
    reopen => "/api/v1/matters/{id}/reopen", Transition::Reopen, "重新办理 (clerk or supervisor).";
    request_review => "/api/v1/matters/{id}/request_review", Transition::RequestReview, "申请复查 (clerk on the petitioner's behalf), within 30 days of the reply.";
    answer_review => "/api/v1/matters/{id}/answer_review", Transition::AnswerReview, "复查答复 (supervisor or leader).";
    request_recheck => "/api/v1/matters/{id}/request_recheck", Transition::RequestRecheck, "申请复核 (clerk on the petitioner's behalf), within 30 days of the review answer.";
    answer_recheck => "/api/v1/matters/{id}/answer_recheck", Transition::AnswerRecheck, "复核答复 (supervisor or leader): the matter is concluded.";
    conclude => "/api/v1/matters/{id}/conclude", Transition::Conclude, "终结 (clerk): once the appeal window has passed.";
    archive => "/api/v1/matters/{id}/archive", Transition::Archive, "归档 (clerk or admin).";
}
