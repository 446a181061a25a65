//! The records that go into and come out of a [`Store`](crate::Store).
//!
//! Inputs (`New…`) carry already-parsed domain values; outputs are what a viewer may see:
//! petitioner numbers appear masked unless they come from an audited reveal.

use chrono::{DateTime, Utc};
use serde::Serialize;
use xinfang_core::deadline::DeadlineKind;
use xinfang_core::deadline::{DeadlineAssessment, DeadlineStatus, RuleSet};
use xinfang_core::ids::{
    CategoryId, OrganisationId, PetitionId, PetitionerId, ReminderId, ReportId, TrackingCode, TrackingSecret,
    UnitId, UserId,
};
use xinfang_core::lifecycle::Transition;
use xinfang_core::matter::{Channel, Matter, PetitionType, Satisfaction, State, Urgency};
use xinfang_core::org::{RoleGrant, UnitKind};
use xinfang_core::petitioner::{DocumentKind, IdDocument, PhoneNumber};
use xinfang_core::text::{Content, PersonName, Title};
use xinfang_nlp::dedup::Link;
use xinfang_nlp::triage::{Assessment, Lexicon};

#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct NewUnit {
    pub name: String,
    pub parent_id: Option<UnitId>,
    pub kind: UnitKind,
    pub petition_office: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub id: UnitId,
    pub parent_id: Option<UnitId>,
    pub name: String,
    pub kind: UnitKind,
    pub petition_office: bool,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    /// An argon2 PHC string; the store never sees a password.
    pub password_hash: String,
    pub grants: Vec<RoleGrant>,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub active: bool,
    pub grants: Vec<RoleGrant>,
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub password_hash: String,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewCategory {
    pub parent_id: Option<CategoryId>,
    pub name: String,
    pub default_unit_id: Option<UnitId>,
    pub petition_type: Option<PetitionType>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub name: String,
    /// The names from the root down, joined with " / " (交通接驳 / 机场大巴班次).
    pub path: String,
    pub default_unit_id: Option<UnitId>,
    pub petition_type: Option<PetitionType>,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredRuleSet {
    pub rules: RuleSet,
    pub is_default: bool,
}

/// A petitioner as given at registration. All parts are optional individually; anonymity is
/// the absence of a petitioner altogether.
#[derive(Debug, Clone, Default)]
pub struct NewPetitioner {
    pub name: Option<PersonName>,
    pub phone: Option<PhoneNumber>,
    pub id_document: Option<IdDocument>,
    pub address: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewMatter {
    pub channel: Channel,
    pub external_id: Option<String>,
    pub title: Title,
    pub content: Content,
    pub location: Option<String>,
    pub petition_type: Option<PetitionType>,
    pub urgency: Urgency,
    pub people_count: u32,
    pub petitioners: Vec<NewPetitioner>,
    /// When the matter was received (a letter stamped yesterday was received yesterday).
    pub received_at: Option<DateTime<Utc>>,
    /// The channel's original payload, kept verbatim (encrypted at rest: it may hold numbers).
    pub raw_payload: Option<serde_json::Value>,
}

/// The answer to a registration. The secret is only known here: the store keeps its hash.
#[derive(Debug, Clone)]
pub struct Registered {
    pub id: PetitionId,
    pub tracking_code: TrackingCode,
    /// `None` when the registration was a replay of an existing external id.
    pub secret: Option<TrackingSecret>,
    pub state: State,
    pub replayed: bool,
    /// What intake reads of the new matter (`None` on a replay), so that it need not read the
    /// matter back.
    pub subject: Option<IntakeSubject>,
    /// The organisation's lexicon and routing model as the registration's own transaction saw
    /// them (`None` on a replay), so that routing and intake need not ask again.
    pub revisions: Option<IntakeRevisions>,
}

/// Which triage lexicon and which routing model an organisation had when a registration
/// committed. What runs after the registration (the routing suggestion, triage) compares them
/// with the versions it has cached instead of asking the database for them once more per
/// matter; a lexicon or model that changes after the registration committed is the next
/// matter's, exactly as if it had changed a moment later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeRevisions {
    /// [`StoredLexicon::revision`](crate::StoredLexicon), 0 while the built-in lexicon is used.
    pub lexicon: i64,
    /// The active model's version, `None` before the first model.
    pub model: Option<u32>,
}

/// A petitioner as a viewer sees them: numbers masked.
#[derive(Debug, Clone, Serialize)]
pub struct PetitionerView {
    pub id: PetitionerId,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_kind: Option<DocumentKind>,
    pub id_number: Option<String>,
}

/// The numbers behind the masks, after an audited reveal.
#[derive(Debug, Clone, Serialize)]
pub struct RevealedPetitioner {
    pub id: PetitionerId,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_kind: Option<DocumentKind>,
    pub id_number: Option<String>,
    pub address: Option<String>,
}

/// One matter as a viewer may see it.
#[derive(Debug, Clone, Serialize)]
pub struct MatterView {
    pub matter: Matter,
    /// Empty when the reporter's identity is confidential to this viewer (检举控告).
    pub petitioners: Vec<PetitionerView>,
    pub reporter_confidential: bool,
    pub deadline: Option<DeadlineAssessment>,
    pub deadlines: Vec<DeadlineAssessment>,
}

/// A row of a matter list.
#[derive(Debug, Clone, Serialize)]
pub struct MatterSummary {
    pub id: PetitionId,
    pub tracking_code: TrackingCode,
    pub title: String,
    pub channel: Channel,
    pub state: State,
    pub petition_type: Option<PetitionType>,
    pub category_id: Option<CategoryId>,
    pub urgency: Urgency,
    pub lead_unit_id: Option<UnitId>,
    pub people_count: u32,
    pub registered_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub deadline_status: Option<DeadlineStatus>,
}

/// Filters of a matter list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct MatterFilter {
    pub states: Vec<State>,
    pub unit_id: Option<UnitId>,
    pub category_id: Option<CategoryId>,
    pub channel: Option<Channel>,
    pub petition_type: Option<PetitionType>,
    pub deadline_status: Option<DeadlineStatus>,
    pub registered_from: Option<DateTime<Utc>>,
    pub registered_to: Option<DateTime<Utc>>,
    /// Full-text query over title and content (jieba tokens).
    pub q: Option<String>,
    /// The order of the list (only a search can be ordered by relevance).
    pub order: ListOrder,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

/// How a list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListOrder {
    /// Newest registered first.
    #[default]
    Newest,
    /// A search's best matches first: the newest 1,000 matches of the words and filters (the
    /// set whose total is exact) ranked by how well they match the words — PostgreSQL's
    /// `ts_rank` (normalised by the log of the document's length), SQLite FTS5's `bm25` —
    /// ties newest first. Ranking every match of a common word would read hundreds of
    /// thousands of documents per page; an older matter is reached by narrowing the words or
    /// the dates. Pages past the 1,000th match are empty. Without a query, as `Newest`.
    Relevance,
}

impl MatterFilter {
    pub const MAX_PER_PAGE: u32 = 100;

    /// Whether nothing but the words and the states narrows the list (the console's search
    /// box): both backends then answer a search from their full-text index alone.
    pub fn words_and_states_only(&self) -> bool {
        self.unit_id.is_none()
            && self.category_id.is_none()
            && self.channel.is_none()
            && self.petition_type.is_none()
            && self.deadline_status.is_none()
            && self.registered_from.is_none()
            && self.registered_to.is_none()
    }
}

/// The most matches a list counts exactly, on every backend; past it `total` is this many and
/// `total_exact` false.
pub const COUNT_CAP: u64 = 1_000;

/// A page of results. `total` counts the matches exactly up to [`COUNT_CAP`]; past it `total`
/// is the cap and `total_exact` is false ("1,000+").
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub total_exact: bool,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    /// Page `page` of a list whose matches were counted up to [`COUNT_CAP`].
    pub fn counted(items: Vec<T>, total: u64, page: u32, per_page: u32) -> Self {
        Self {
            items,
            total,
            total_exact: total < COUNT_CAP,
            page,
            per_page,
        }
    }
}

/// Who performed an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Staff,
    Petitioner,
    System,
}

impl ActorKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Petitioner => "petitioner",
            Self::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "staff" => Self::Staff,
            "petitioner" => Self::Petitioner,
            "system" => Self::System,
            _ => return None,
        })
    }
}

/// The kind of an audit event: a lifecycle transition, a reveal of personal data, a deadline
/// crossing the background scanner recorded, or a safety alert raised at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Transition(Transition),
    Reveal,
    /// The current deadline entered its due-soon window (临期).
    DeadlineDueSoon,
    /// The current deadline passed (超期).
    DeadlineOverdue,
    /// Intake found safety or self-harm words (安全预警).
    SafetyAlert,
    /// An admin changed the organisation's configuration (no matter; [`crate::settings`]).
    SettingsChanged,
}

impl Serialize for EventKind {
    /// As its code (`accept`, `reveal`, …), the same string the database stores.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl EventKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Transition(t) => t.code(),
            Self::Reveal => "reveal",
            Self::DeadlineDueSoon => "deadline_due_soon",
            Self::DeadlineOverdue => "deadline_overdue",
            Self::SafetyAlert => "safety_alert",
            Self::SettingsChanged => "settings_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reveal" => Some(Self::Reveal),
            "deadline_due_soon" => Some(Self::DeadlineDueSoon),
            "deadline_overdue" => Some(Self::DeadlineOverdue),
            "safety_alert" => Some(Self::SafetyAlert),
            "settings_changed" => Some(Self::SettingsChanged),
            _ => Transition::parse(s).map(Self::Transition),
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Transition(t) => t.label_zh(),
            Self::Reveal => "查看信访人个人信息",
            Self::DeadlineDueSoon => "办理期限临期提醒",
            Self::DeadlineOverdue => "超期提醒",
            Self::SafetyAlert => "安全预警",
            Self::SettingsChanged => "配置变更",
        }
    }
}

/// One audit event of a matter's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    pub seq: i64,
    pub kind: EventKind,
    pub label_zh: &'static str,
    pub actor_kind: ActorKind,
    pub actor_user_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub before_state: Option<State>,
    pub after_state: Option<State>,
    pub data: serde_json::Value,
}

/// What the petitioner sees when tracking a matter: no personal data, no internal notes.
#[derive(Debug, Clone, Serialize)]
pub struct PublicTrack {
    pub tracking_code: TrackingCode,
    pub title: String,
    pub state: State,
    pub state_label: &'static str,
    pub registered_at: DateTime<Utc>,
    pub timeline: Vec<PublicEvent>,
    /// The approved reply, once delivered.
    pub reply: Option<String>,
    pub satisfaction: Option<Satisfaction>,
    /// Whether the petitioner may rate the reply now.
    pub can_rate: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublicEvent {
    pub step: &'static str,
    pub label: &'static str,
    pub at: DateTime<Utc>,
}

/// The outcome of walking the audit chains.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub organisations: usize,
    pub events: u64,
    pub broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BrokenLink {
    pub organisation_id: OrganisationId,
    pub seq: i64,
    pub event_id: String,
    pub reason: String,
}

// ---- background work ----------------------------------------------------------------------

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderKind {
    /// The deadline entered its due-soon window.
    DueSoon,
    /// The deadline passed.
    Overdue,
    /// Intake found safety or self-harm words: for the petition office, at once.
    SafetyAlert,
}

impl ReminderKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::DueSoon => "due_soon",
            Self::Overdue => "overdue",
            Self::SafetyAlert => "safety_alert",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "due_soon" => Some(Self::DueSoon),
            "overdue" => Some(Self::Overdue),
            "safety_alert" => Some(Self::SafetyAlert),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::DueSoon => "即将到期",
            Self::Overdue => "已超期",
            Self::SafetyAlert => "安全预警",
        }
    }

    /// The audit event recorded with the reminder.
    pub fn event(self) -> EventKind {
        match self {
            Self::DueSoon => EventKind::DeadlineDueSoon,
            Self::Overdue => EventKind::DeadlineOverdue,
            Self::SafetyAlert => EventKind::SafetyAlert,
        }
    }
}

impl Serialize for ReminderKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// A reminder for the unit that must act on a matter (and for the petition office, which sees
/// every reminder of the organisation).
#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    pub id: ReminderId,
    pub matter_id: PetitionId,
    pub tracking_code: String,
    pub title: String,
    pub kind: ReminderKind,
    pub label_zh: &'static str,
    /// The unit that must act (the lead unit when the crossing was recorded).
    pub unit_id: Option<UnitId>,
    pub deadline_kind: Option<DeadlineKind>,
    pub due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<UserId>,
}

/// Which reminders to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReminderFilter {
    /// Only those nobody has acknowledged yet.
    pub open_only: bool,
    pub limit: u32,
}

/// What one deadline scan recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanOutcome {
    /// Due-soon crossings recorded (event + reminder each).
    pub due_soon: u32,
    /// Overdue crossings recorded (event + reminder each).
    pub overdue: u32,
    /// True when the batch limit was reached: more crossings may be waiting.
    pub more: bool,
}

/// A scheduled job, as the `jobs` table records its runs (any node may have run it).
#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    pub name: String,
    pub next_run_at: DateTime<Utc>,
    pub runs: i64,
    pub last_node: Option<String>,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_finished_at: Option<DateTime<Utc>>,
    pub last_result: Option<String>,
}

/// A report produced on schedule (e.g. the daily deadline report).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: ReportId,
    pub kind: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The node that produced it.
    pub node: String,
    pub body: serde_json::Value,
}

/// One unit's line of the daily deadline report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnitDeadlineLine {
    pub unit_id: Option<UnitId>,
    pub unit_name: Option<String>,
    /// Open matters the unit leads.
    pub open: u64,
    pub due_soon: u64,
    pub overdue: u64,
    pub paused: u64,
}

/// A report to store (see [`Store::save_report`](crate::Store::save_report)).
#[derive(Debug, Clone)]
pub struct NewReport {
    pub kind: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub node: String,
    pub body: serde_json::Value,
}

// ---- the routing model ------------------------------------------------------------------------

/// A trained model to store as the organisation's next version.
#[derive(Debug, Clone)]
pub struct NewModel {
    pub trained_by: Option<UserId>,
    pub training_size: u32,
    /// The model's description without its weights (labels, counts, cross-validated figures).
    pub info: serde_json::Value,
    pub body: Vec<u8>,
    /// Make it the active model at once.
    pub activate: bool,
}

/// A stored model version, without its weights.
#[derive(Debug, Clone, Serialize)]
pub struct StoredModel {
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub trained_by: Option<UserId>,
    pub training_size: u32,
    pub active: bool,
    pub info: serde_json::Value,
    /// Matters it made a suggestion for that a person has classified since, and how many of
    /// them got the suggested category: the model's accuracy in use.
    pub judged: u64,
    pub confirmed: u64,
}

/// One labelled text to train on: an admin's import, or a matter a clerk classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingExample {
    pub text: String,
    pub category_id: CategoryId,
}

/// The organisation's routing table and threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoutingConfig {
    /// Suggestions at or above this probability are routed; below, they wait for a clerk.
    pub threshold: f32,
    /// In the admin's order (which is also the tie-break after specificity and priority).
    pub rules: Vec<xinfang_core::routing::RoutingRule>,
}

impl RoutingConfig {
    /// The threshold of an organisation that never set one: the top-80% coverage point of the
    /// routing benchmark, where the classifier is right about 97% of the time.
    pub const DEFAULT_THRESHOLD: f32 = 0.6;
}

/// The suggestion recorded for a matter at intake.
#[derive(Debug, Clone, Serialize)]
pub struct MatterSuggestion {
    pub matter_id: PetitionId,
    pub model_version: u32,
    /// `{"top":[{"label","probability"}…],"words":[{"text","weight"}…]}`, labels being
    /// category ids.
    pub prediction: serde_json::Value,
    pub top_category_id: Option<CategoryId>,
    pub top_probability: f32,
    pub unit_id: Option<UnitId>,
    pub route: xinfang_core::routing::Route,
    pub created_at: DateTime<Utc>,
}

/// A matter waiting in a triage queue with what the model suggested.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedMatter {
    pub matter: MatterSummary,
    pub suggestion: MatterSuggestion,
}

/// A matter as hotspot discovery reads it (title, content, first petitioner, time).
#[derive(Debug, Clone)]
pub struct HotspotSource {
    pub id: PetitionId,
    pub petitioner_id: Option<PetitionerId>,
    pub registered_at: DateTime<Utc>,
    pub title: String,
    pub content: String,
}

// ---- intake: triage, duplicate and repeat detection ----------------------------------------

/// A registered matter as intake reads it (whoever registered it).
#[derive(Debug, Clone)]
pub struct IntakeSubject {
    pub id: PetitionId,
    pub title: String,
    pub content: String,
    pub petitioners: Vec<PetitionerId>,
    pub registered_at: DateTime<Utc>,
    pub urgency: Urgency,
}

impl IntakeSubject {
    /// What intake reads of matter `id`.
    pub fn of(id: PetitionId, m: xinfang_core::matter::Matter) -> Self {
        Self {
            id,
            title: m.title,
            content: m.content,
            petitioners: m.petitioner_ids,
            registered_at: m.registered_at,
            urgency: m.urgency,
        }
    }
}

/// What intake computed for a matter (see [`Store::record_intake`](crate::Store::record_intake)).
#[derive(Debug, Clone)]
pub struct IntakeRecord {
    /// `xinfang_nlp::dedup::SIGNATURE_VERSION` of the signature.
    pub signature_version: u16,
    /// `Signature::to_bytes`.
    pub signature: Vec<u8>,
    pub triage: Assessment,
    /// The lexicon revision triage ran with (0: the built-in lexicon).
    pub lexicon_revision: i64,
    /// The links to earlier matters intake found (replacing those of an earlier run).
    pub links: Vec<NewLink>,
}

/// One entry of the signature log (see [`Store::signatures_since`](crate::Store::signatures_since)).
#[derive(Debug, Clone)]
pub struct StoredSignature {
    /// Position in the log.
    pub seq: i64,
    pub organisation_id: OrganisationId,
    pub matter_id: PetitionId,
    /// `xinfang_nlp::dedup::SIGNATURE_VERSION` it was computed with.
    pub version: u16,
    /// `Signature::to_bytes`.
    pub signature: Vec<u8>,
    /// The matter's petitioners (for ranking candidates: the same person first).
    pub petitioners: Vec<PetitionerId>,
}

/// An earlier matter sharing a band key with a new one: what `dedup::classify` needs.
#[derive(Debug, Clone)]
pub struct DedupCandidate {
    pub matter_id: PetitionId,
    pub signature_version: u16,
    pub signature: Vec<u8>,
    /// Estimated Jaccard similarity to the probe (`dedup::similarity`).
    pub similarity: f32,
    /// Its petitioners; one person is one id (the store finds petitioners by the keyed hash of
    /// their phone or ID number), so equal ids mean the same person.
    pub petitioners: Vec<PetitionerId>,
    pub state: State,
    pub registered_at: DateTime<Utc>,
    /// When the petitioner got an answer: the reply's delivery, or the decision not to accept.
    pub answered_at: Option<DateTime<Utc>>,
}

/// A link intake found from a new matter to an earlier one.
#[derive(Debug, Clone, Copy)]
pub struct NewLink {
    pub linked_matter_id: PetitionId,
    pub kind: Link,
    pub similarity: f32,
}

/// Which way a link points, seen from the matter asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkDirection {
    /// This matter repeats (duplicates, joins, resembles) the other, earlier one.
    Earlier,
    /// The other, later matter repeats (duplicates, joins, resembles) this one.
    Later,
}

/// A linked matter as a viewer sees it (only matters the viewer may see are listed).
#[derive(Debug, Clone, Serialize)]
pub struct MatterLink {
    pub matter_id: PetitionId,
    pub tracking_code: String,
    pub title: String,
    pub state: State,
    pub registered_at: DateTime<Utc>,
    pub kind: Link,
    pub label_zh: &'static str,
    pub similarity: f32,
    pub direction: LinkDirection,
    pub created_at: DateTime<Utc>,
}

/// The stored triage of a matter.
#[derive(Debug, Clone, Serialize)]
pub struct StoredTriage {
    pub matter_id: PetitionId,
    pub assessment: Assessment,
    pub lexicon_revision: i64,
    pub assessed_at: DateTime<Utc>,
}

/// The two counts of the repeat rate (重复信访率, DESIGN.md section 4) for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RepeatCounts {
    /// Matters registered in the period.
    pub registered: u64,
    /// Of those, the ones intake linked as a repeat of an earlier matter.
    pub repeats: u64,
}

impl RepeatCounts {
    /// repeats / registered, `None` for an empty period.
    pub fn rate(&self) -> Option<f64> {
        (self.registered > 0).then(|| self.repeats as f64 / self.registered as f64)
    }
}

/// An organisation's saved triage lexicon.
#[derive(Debug, Clone)]
pub struct StoredLexicon {
    pub lexicon: Lexicon,
    /// 1 for the first save, one more for each later one.
    pub revision: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<UserId>,
}
