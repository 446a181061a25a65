//! Request bodies that several endpoints share, and their parsing into domain values.
//!
//! Bodies arrive with every field optional so that a missing field gets *our* error (code
//! `required`, the field's name) rather than serde's; `parse` then turns them into the store's
//! input types once, at the edge.

use crate::error::{ApiError, identity_error};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use xinfang_core::matter::{Channel, PetitionType, Urgency};
use xinfang_core::petitioner::{DocumentKind, IdDocument, PhoneNumber};
use xinfang_core::text::{Content, PersonName, Title, bounded};
use xinfang_store::{NewMatter, NewPetitioner};

/// A petitioner in a registration.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PetitionerInput {
    /// 姓名.
    pub name: Option<String>,
    /// Mainland mobile (13812345678) or landline (010-12345678).
    pub phone: Option<String>,
    /// `resident_id` (default when a number is given), `passport`, `hk_macao_permit`, `taiwan_permit`.
    pub id_type: Option<String>,
    /// The document number; resident IDs are checked against GB 11643.
    pub id_number: Option<String>,
    pub address: Option<String>,
}

impl PetitionerInput {
    /// Parses one petitioner; `prefix` names it in errors (`petitioner`, `petitioners[2]`).
    pub fn parse(&self, prefix: &str) -> Result<NewPetitioner, ApiError> {
        let f = |name: &str| format!("{prefix}.{name}");
        let name = match self.name.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(n) => Some(PersonName::parse(n).map_err(|e| ApiError::from(e).with_field(f("name")))?),
            None => None,
        };
        let phone = match self.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(p) => Some(PhoneNumber::parse(p).map_err(|e| identity_error(&f("phone"), e))?),
            None => None,
        };
        let id_document = match self.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(n) => {
                let kind = match self.id_type.as_deref() {
                    None | Some("") => DocumentKind::ResidentId,
                    Some(k) => DocumentKind::parse(k).map_err(|e| identity_error(&f("id_type"), e))?,
                };
                Some(IdDocument::parse(kind, n).map_err(|e| identity_error(&f("id_number"), e))?)
            }
            None => None,
        };
        let address = bounded(
            "address",
            self.address.as_deref().unwrap_or(""),
            200,
            false,
            false,
        )
        .map_err(|e| ApiError::from(e).with_field(f("address")))?;
        if name.is_none() && phone.is_none() && id_document.is_none() {
            return Err(ApiError::invalid(
                prefix,
                "petitioner_incomplete",
                "请至少填写信访人姓名、电话或证件号码之一",
                "give at least a name, a phone or an ID number",
            ));
        }
        Ok(NewPetitioner {
            name,
            phone,
            id_document,
            address,
        })
    }
}

/// A new matter, as registered by staff or an integration.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMatterInput {
    /// Channel code: hotline12345, website, wechat, walk_in, phone, letter, email, leader_mailbox, open311.
    pub channel: Option<String>,
    /// The channel's own id (hotline work order number): registering it twice yields one matter.
    pub external_id: Option<String>,
    pub title: Option<String>,
    pub content: Option<String>,
    pub location: Option<String>,
    /// suggestion (建议意见), report (检举控告), appeal (申诉求决), inquiry (咨询).
    pub petition_type: Option<String>,
    /// normal, urgent, critical.
    pub urgency: Option<String>,
    /// Number of people on a visit or letter (5 or more is a group petition).
    pub people_count: Option<u32>,
    pub petitioner: Option<PetitionerInput>,
    /// Further petitioners of a joint petition.
    #[serde(default)]
    pub petitioners: Vec<PetitionerInput>,
    /// When the matter was received, if earlier than now (a letter's postmark).
    pub received_at: Option<DateTime<Utc>>,
    /// The channel's original payload, kept verbatim.
    #[schema(value_type = Object)]
    pub raw: Option<serde_json::Value>,
}

pub fn parse_enum<T>(
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    what_zh: &str,
) -> Result<Option<T>, ApiError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| {
            ApiError::invalid(
                field,
                "invalid_value",
                format!("{what_zh}取值不正确：{v}"),
                format!("unknown {field}: {v}"),
            )
        }),
    }
}

impl NewMatterInput {
    /// Parses into the store's input; `forced_channel` overrides the channel (public forms).
    pub fn parse(&self, forced_channel: Option<Channel>, now: DateTime<Utc>) -> Result<NewMatter, ApiError> {
        let channel = match forced_channel {
            Some(c) => c,
            None => parse_enum("channel", self.channel.as_deref(), Channel::parse, "渠道")?
                .ok_or_else(|| ApiError::required("channel"))?,
        };
        let title = Title::parse(self.title.as_deref().unwrap_or(""))?;
        let content = Content::parse(self.content.as_deref().unwrap_or(""))?;
        let location = bounded(
            "location",
            self.location.as_deref().unwrap_or(""),
            200,
            false,
            false,
        )?;
        let external_id = bounded(
            "external_id",
            self.external_id.as_deref().unwrap_or(""),
            100,
            false,
            false,
        )?;
        let petition_type = parse_enum(
            "petition_type",
            self.petition_type.as_deref(),
            PetitionType::parse,
            "信访类型",
        )?;
        let urgency = parse_enum("urgency", self.urgency.as_deref(), Urgency::parse, "紧急程度")?
            .unwrap_or(Urgency::Normal);
        let mut petitioners = Vec::new();
        if let Some(p) = &self.petitioner {
            petitioners.push(p.parse("petitioner")?);
        }
        for (i, p) in self.petitioners.iter().enumerate() {
            petitioners.push(p.parse(&format!("petitioners[{i}]"))?);
        }
        if petitioners.len() > 200 {
            return Err(ApiError::invalid(
                "petitioners",
                "too_many",
                "联名信访人不能超过200人",
                "at most 200 petitioners",
            ));
        }
        let people_count = self.people_count.unwrap_or(petitioners.len().max(1) as u32);
        if people_count == 0 || people_count > 100_000 {
            return Err(ApiError::invalid(
                "people_count",
                "invalid_value",
                "人数不正确",
                "people_count must be between 1 and 100000",
            ));
        }
        if let Some(r) = self.received_at
            && (r > now + chrono::Duration::minutes(5) || r < now - chrono::Duration::days(366))
        {
            return Err(ApiError::invalid(
                "received_at",
                "invalid_date",
                "收到时间不能晚于现在，也不能早于一年前",
                "received_at must not be in the future nor more than a year ago",
            ));
        }
        if let Some(raw) = &self.raw
            && raw.to_string().len() > 256 * 1024
        {
            return Err(ApiError::invalid(
                "raw",
                "too_long",
                "原始数据过大",
                "raw payload larger than 256 KiB",
            ));
        }
        Ok(NewMatter {
            channel,
            external_id,
            title,
            content,
            location,
            petition_type,
            urgency,
            people_count,
            petitioners,
            received_at: self.received_at,
            raw_payload: self.raw.clone(),
        })
    }
}

/// A `limit` query parameter: `default` when absent, refused outside 1..=`max`.
pub fn limit(v: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match v {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(
            "limit",
            "out_of_range",
            format!("limit 须在 1 到 {max} 之间"),
            format!("limit must be between 1 and {max}"),
        )),
    }
}
