//! The one error type of the HTTP layer and its JSON shape.
//!
//! Every error answers `{"error":{"code","message","message_en","field"}}`: a stable machine
//! `code`, a message in Chinese for the person at the console, the same in English for the
//! integrator reading logs, and the input field it concerns (or null). Store and domain errors
//! come in through `From`, so handlers just use `?`. Internal failures are logged with their
//! cause and answered with a generic message: no SQL or stack ever reaches a client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use xinfang_core::lifecycle::LifecycleError;
use xinfang_core::petitioner::IdentityError;
use xinfang_core::text::TextError;
use xinfang_store::StoreError;

/// An API error: status, code, bilingual message and field.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub message_en: String,
    pub field: Option<String>,
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `invalid_state`, `invalid_id_number`.
    code: &'static str,
    /// Message in Simplified Chinese.
    message: String,
    /// Message in English.
    message_en: String,
    /// The input field concerned, if any.
    field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: zh.into(),
            message_en: en.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 422 for a field that failed validation.
    pub fn invalid(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en).with_field(field)
    }

    /// 422 for a required field that is missing.
    pub fn required(field: &str) -> Self {
        Self::invalid(
            field,
            "required",
            format!("缺少必填项：{field}"),
            format!("{field} is required"),
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "未找到，或您无权查看",
            "not found, or not visible to you",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "请先登录",
            "authentication required",
        )
    }

    pub fn forbidden(code: &'static str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            code,
            "您没有执行此操作的权限",
            "you are not allowed to do this",
        )
    }

    pub fn too_many() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "请求过于频繁，请稍后再试",
            "too many requests, try again later",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "系统内部错误，请稍后再试",
            "internal error",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "数据库暂时不可用，请稍后再试",
            "the database is unavailable, try again shortly",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                message_en: self.message_en,
                field: self.field,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        use StatusCode as S;
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict { constraint, field } => {
                let (code, zh, en) = match constraint {
                    "users_username_key" => ("username_taken", "用户名已被使用", "this username is taken"),
                    "units_name_key" => ("unit_name_taken", "已有同名单位", "a unit with this name exists"),
                    "categories_name_key" => (
                        "category_name_taken",
                        "同一级下已有同名分类",
                        "a category with this name exists at this level",
                    ),
                    "matters_channel_external_id_key" => (
                        "duplicate_external_id",
                        "该渠道编号的事项已经登记",
                        "this work order was already received",
                    ),
                    _ => (
                        "conflict",
                        "数据冲突，请刷新后重试",
                        "conflict, reload and try again",
                    ),
                };
                let err = Self::new(S::CONFLICT, code, zh, en);
                match field {
                    Some(f) => err.with_field(f),
                    None => err,
                }
            }
            StoreError::InvalidReference { field } => Self::invalid(
                field,
                "invalid_reference",
                format!("{field} 指向的记录不存在"),
                format!("{field} refers to nothing in this organisation"),
            ),
            StoreError::Lifecycle(l) => l.into(),
            StoreError::Forbidden { code } => Self::forbidden(code),
            StoreError::Invalid { field, message } => {
                Self::invalid(field, "invalid", format!("输入无效：{message}"), message)
            }
            StoreError::Unavailable(msg) => {
                tracing::warn!(error = %msg, "database unavailable");
                Self::unavailable()
            }
            StoreError::Database(ref db) if is_unavailable(db) => {
                tracing::warn!(error = %db, "database unavailable");
                Self::unavailable()
            }
            other => {
                tracing::error!(error = %other, "store failure");
                Self::internal()
            }
        }
    }
}

fn is_unavailable(e: &sqlx_error::Error) -> bool {
    matches!(
        e,
        sqlx_error::Error::PoolTimedOut | sqlx_error::Error::PoolClosed | sqlx_error::Error::Io(_)
    )
}

/// sqlx is reached through the store's re-export so the server names no database crate.
mod sqlx_error {
    pub use xinfang_store::SqlxError as Error;
}

impl From<LifecycleError> for ApiError {
    fn from(e: LifecycleError) -> Self {
        use LifecycleError as L;
        let status = match &e {
            L::Forbidden { .. } | L::NotLeadUnit { .. } => StatusCode::FORBIDDEN,
            L::Extension(_) | L::LeadAlsoCoUnit | L::AnonymousNotAllowed | L::TimeBeforePrevious => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            _ => StatusCode::CONFLICT,
        };
        let field = match &e {
            L::Extension(_) => Some("days"),
            L::LeadAlsoCoUnit => Some("co_unit_ids"),
            L::AnonymousNotAllowed => Some("petitioner"),
            L::TimeBeforePrevious => Some("occurred_at"),
            _ => None,
        };
        let err = Self::new(status, e.code(), e.message_zh(), e.to_string());
        match field {
            Some(f) => err.with_field(f),
            None => err,
        }
    }
}

impl From<TextError> for ApiError {
    fn from(e: TextError) -> Self {
        let field = e.field();
        match e {
            TextError::Required { .. } => Self::required(field),
            TextError::TooLong { max, .. } => Self::invalid(
                field,
                "too_long",
                format!("{field} 不能超过{max}个字"),
                format!("{field} must be at most {max} characters"),
            ),
            TextError::ControlCharacters { .. } => Self::invalid(
                field,
                "invalid_characters",
                format!("{field} 含有不允许的控制字符"),
                format!("{field} contains control characters"),
            ),
        }
    }
}

/// Maps an identity error to the API, naming the field it came from.
pub fn identity_error(field: &str, e: IdentityError) -> ApiError {
    let (code, zh) = match e {
        IdentityError::Phone => (
            "invalid_phone",
            "电话号码格式不正确（应为手机号码或带区号的固定电话）",
        ),
        IdentityError::IdFormat => ("invalid_id_number", "身份证号码应为18位（17位数字加校验码）"),
        IdentityError::IdCheckDigit => ("invalid_id_number", "身份证号码校验位不正确，请核对"),
        IdentityError::IdBirthDate => ("invalid_id_number", "身份证号码中的出生日期不正确"),
        IdentityError::DocumentFormat => ("invalid_document_number", "证件号码格式不正确"),
        IdentityError::DocumentKind => ("invalid_document_kind", "证件类型不正确"),
    };
    ApiError::invalid(field, code, zh, e.to_string())
}
