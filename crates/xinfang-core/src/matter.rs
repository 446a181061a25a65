//! The petition matter (信访事项) and the words the office uses about it.
//!
//! Every enum here has a stable machine `code()` (used in the API, the database and the CLI) and
//! a Chinese `label_zh()` for the user interface. `parse` accepts only the codes, so an unknown
//! value is an error at the edge instead of a silently defaulted field.

use crate::ids::{
    CategoryId, OrganisationId, PetitionId, PetitionerId, RuleSetId, TrackingCode, UnitId, UserId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Declares a code-bearing enum with `code`, `parse`, `label_zh` and `ALL`.
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal / $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable machine code used in the API, the database and the CLI.
            pub fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }

            /// The Simplified Chinese name shown to users.
            pub fn label_zh(self) -> &'static str {
                match self { $(Self::$variant => $zh),+ }
            }

            /// Parses a machine code; `None` for anything else.
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum! {
    /// Where a matter came in (DESIGN.md section 5).
    Channel {
        Hotline12345 = "hotline12345" / "12345热线",
        Website = "website" / "网站",
        Wechat = "wechat" / "微信小程序",
        WalkIn = "walk_in" / "来访",
        Phone = "phone" / "来电",
        Letter = "letter" / "来信",
        Email = "email" / "电子邮件",
        LeaderMailbox = "leader_mailbox" / "领导信箱",
        Open311 = "open311" / "Open311",
    }
}

coded_enum! {
    /// The four petition types of the regulation.
    PetitionType {
        Suggestion = "suggestion" / "建议意见",
        Report = "report" / "检举控告",
        Appeal = "appeal" / "申诉求决",
        Inquiry = "inquiry" / "咨询",
    }
}

impl PetitionType {
    /// Suggestions and reports may be made anonymously; appeals and inquiries need a person
    /// to answer.
    pub fn allows_anonymous(self) -> bool {
        matches!(self, Self::Suggestion | Self::Report)
    }

    /// For 检举控告 the reporter's identity is confidential: only the petition office sees it.
    pub fn identity_confidential(self) -> bool {
        matches!(self, Self::Report)
    }
}

coded_enum! {
    /// How fast a matter must move.
    Urgency {
        Normal = "normal" / "一般",
        Urgent = "urgent" / "紧急",
        Critical = "critical" / "特急",
    }
}

coded_enum! {
    /// The lifecycle states of DESIGN.md section 3.
    State {
        Registered = "registered" / "登记",
        Accepted = "accepted" / "受理",
        NotAccepted = "not_accepted" / "不予受理",
        Classified = "classified" / "分类",
        Assigned = "assigned" / "交办",
        InProgress = "in_progress" / "办理",
        Replied = "replied" / "答复",
        FollowUp = "follow_up" / "回访",
        Review = "review" / "复查",
        Reviewed = "reviewed" / "复查已答复",
        Recheck = "recheck" / "复核",
        Concluded = "concluded" / "终结",
        Archived = "archived" / "归档",
    }
}

impl State {
    /// A matter is open while some unit still owes work or the petitioner may still appeal.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::NotAccepted | Self::Concluded | Self::Archived)
    }
}

coded_enum! {
    /// The petitioner's verdict on the reply (回访).
    Satisfaction {
        Satisfied = "satisfied" / "满意",
        BasicallySatisfied = "basically_satisfied" / "基本满意",
        Dissatisfied = "dissatisfied" / "不满意",
    }
}

impl Satisfaction {
    /// Counts towards the satisfaction rate's numerator (满意 + 基本满意).
    pub fn is_positive(self) -> bool {
        !matches!(self, Self::Dissatisfied)
    }
}

coded_enum! {
    /// Standard reasons for not accepting a matter (不予受理).
    DeclineReason {
        LitigationOrArbitration = "litigation_or_arbitration" / "应通过诉讼、仲裁、行政复议等法定途径解决（诉访分离）",
        OutOfScope = "out_of_scope" / "不属于本单位受理范围",
        AlreadyConcluded = "already_concluded" / "已复核终结，同一事实和理由不再受理",
        Duplicate = "duplicate" / "重复登记",
        InsufficientInformation = "insufficient_information" / "诉求不明确且无法联系信访人",
        Other = "other" / "其他",
    }
}

/// Where the reply stands inside `in_progress`: drafted by the handler, approved by the unit
/// head, then delivered (which leaves `in_progress`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyDraft {
    pub text: String,
    pub drafted_by: UserId,
    pub drafted_at: DateTime<Utc>,
    pub approved_by: Option<UserId>,
    pub approved_at: Option<DateTime<Utc>>,
}

/// A pending extension request (延期申请).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub days: u32,
    pub reason: String,
    pub requested_by: UserId,
    pub requested_at: DateTime<Utc>,
}

/// A period during which the clock stood still while waiting for the petitioner (补充材料).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseSpan {
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

/// The petition matter as the lifecycle sees it: everything a transition needs to decide
/// whether it is allowed and what it changes. Petitioner personal data is not here: it is
/// linked by id and kept (encrypted) by the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matter {
    pub id: PetitionId,
    pub organisation_id: OrganisationId,
    pub tracking_code: TrackingCode,
    pub channel: Channel,
    pub external_id: Option<String>,
    pub title: String,
    pub content: String,
    pub location: Option<String>,
    pub petition_type: Option<PetitionType>,
    pub category_id: Option<CategoryId>,
    pub urgency: Urgency,
    pub people_count: u32,
    pub petitioner_ids: Vec<PetitionerId>,
    pub anonymous: bool,
    /// The unit that first received the matter (首接首办): responsible until a valid transfer.
    pub first_unit_id: Option<UnitId>,
    pub lead_unit_id: Option<UnitId>,
    pub co_unit_ids: Vec<UnitId>,
    pub owning_leader_id: Option<UserId>,
    pub state: State,
    pub rule_set_id: RuleSetId,
    pub rule_set_version: u32,
    pub registered_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<DeclineReason>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub extension_days: u32,
    pub extension_request: Option<ExtensionRequest>,
    pub extension_used: bool,
    pub reply: Option<ReplyDraft>,
    pub replied_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<Satisfaction>,
    pub rated_at: Option<DateTime<Utc>>,
    pub review_requested_at: Option<DateTime<Utc>>,
    pub review_answered_at: Option<DateTime<Utc>>,
    pub recheck_requested_at: Option<DateTime<Utc>>,
    pub concluded_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub reroute_count: u32,
    pub reopen_count: u32,
    pub pauses: Vec<PauseSpan>,
    /// When the latest event happened: a new event may not be dated before it, so a late
    /// reply cannot be back-dated to before its own approval.
    #[serde(default)]
    pub last_event_at: Option<DateTime<Utc>>,
}

impl Matter {
    /// 5 or more people on one matter is a group petition (集体访/集体信访).
    pub fn is_group(&self) -> bool {
        self.people_count >= 5
    }

    /// Whether the clock is currently paused (waiting for the petitioner).
    pub fn is_paused(&self) -> bool {
        self.pauses.last().is_some_and(|p| p.until.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.code()), Some(*c));
        }
        for s in State::ALL {
            assert_eq!(State::parse(s.code()), Some(*s));
        }
        assert_eq!(Channel::parse("fax"), None);
        assert_eq!(PetitionType::Report.label_zh(), "检举控告");
    }

    #[test]
    fn satisfaction_rate_numerator() {
        assert!(Satisfaction::BasicallySatisfied.is_positive());
        assert!(!Satisfaction::Dissatisfied.is_positive());
    }
}
