//! Persistence for xinfang.
//!
//! The rest of the system talks to a [`Store`]: a trait of domain verbs (`register_matter`,
//! `transition`, `list_matters`, …) that hides which database is underneath. This crate holds
//! the trait, the records it returns, and one implementation per backend, each with its own
//! migrations (`migrations/<backend>/`): SQLite ([`sqlite::SqliteStore`], the embedded
//! default) and PostgreSQL ([`postgres::PgStore`], the scale-out engine, which several app
//! nodes can share). One story test suite (`tests/store.rs`) runs against both.
//!
//! Three rules hold for every backend:
//! - **Authorisation is in the query.** Reads take the viewer and add its [`MatterScope`] to the
//!   `where` clause, so a matter outside it is "not found", never fetched and then hidden.
//! - **Every state change writes an event in the same transaction**, and events are
//!   hash-chained per organisation ([`audit`]).
//! - **Personal numbers are encrypted at rest** ([`vault`]) and found through a keyed hash.
//!
//! [`MatterScope`]: xinfang_core::org::MatterScope

pub mod audit;
pub mod bulk;
pub mod candidate_index;
mod intake;
pub mod model;
pub mod postgres;
pub mod settings;
mod shared;
pub mod sqlite;
pub mod vault;

pub use candidate_index::{CandidateIndex, Probe};
pub use model::*;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
/// Re-exported so the HTTP layer can tell an unreachable database from a bug without
/// depending on sqlx itself.
pub use sqlx::Error as SqlxError;
pub use vault::Vault;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::path::Path;
use xinfang_core::calendar::{Calendar, CalendarEntry};
use xinfang_core::deadline::RuleSet;
use xinfang_core::ids::{OrganisationId, PetitionId, PetitionerId, ReminderId, UserId};
use xinfang_core::lifecycle::{Command, LifecycleError};
use xinfang_core::org::{Actor, StaffActor};

/// What can go wrong in the store. The HTTP layer maps each to a status and a machine code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist, or the viewer may not see it (deliberately indistinguishable).
    #[error("not found")]
    NotFound,
    /// A uniqueness or state conflict; `constraint` names what collided.
    #[error("conflict on {constraint}")]
    Conflict {
        constraint: &'static str,
        field: Option<&'static str>,
    },
    /// A referenced row (unit, category, user) does not exist in this organisation.
    #[error("{field} refers to nothing in this organisation")]
    InvalidReference { field: &'static str },
    /// The lifecycle refused the transition.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// The viewer may see the matter but not do this with it (e.g. reveal personal data).
    #[error("forbidden: {code}")]
    Forbidden { code: &'static str },
    /// Input the domain accepts but the store cannot (e.g. a bad rule set).
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    /// The database is unreachable or busy beyond its timeout: worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The persistence interface of xinfang. Every method is scoped by organisation — explicitly,
/// or through the viewer, which belongs to exactly one — so no query ever spans tenants.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- organisation -------------------------------------------------------------------
    /// Creates an organisation with the default rule set (信访工作条例 2022).
    async fn create_organisation(&self, name: &str) -> Result<OrganisationId>;
    async fn organisations(&self) -> Result<Vec<Organisation>>;
    /// Creates a unit; `InvalidReference` when the parent is not in the organisation.
    async fn create_unit(&self, org: OrganisationId, unit: NewUnit) -> Result<Unit>;
    async fn units(&self, org: OrganisationId) -> Result<Vec<Unit>>;
    /// Creates a user with its role grants; `Conflict` on a taken username.
    async fn create_user(&self, org: OrganisationId, user: NewUser) -> Result<User>;
    async fn users(&self, org: OrganisationId) -> Result<Vec<User>>;
    /// The stored password hash for a username, for login.
    async fn credentials(&self, username: &str) -> Result<Option<Credentials>>;
    /// The actor for a user, with every role grant.
    async fn staff_actor(&self, org: OrganisationId, user: UserId) -> Result<StaffActor>;

    // ---- sessions and tokens ------------------------------------------------------------
    /// Stores a session; sessions live in the database so any app node can serve them.
    async fn create_session(&self, session: NewSession) -> Result<()>;
    /// The actor and CSRF token of an unexpired session.
    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(StaffActor, String)>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn create_api_token(
        &self,
        org: OrganisationId,
        user: UserId,
        name: &str,
        token_hash: &str,
    ) -> Result<()>;
    async fn api_token(&self, token_hash: &str) -> Result<Option<StaffActor>>;

    // ---- reference data -----------------------------------------------------------------
    async fn create_category(&self, org: OrganisationId, category: NewCategory) -> Result<Category>;
    async fn categories(&self, org: OrganisationId) -> Result<Vec<Category>>;
    /// The default unit of an active category (`None`: none set, inactive, or no such
    /// category): one indexed look-up, for routing each new matter.
    async fn category_default_unit(
        &self,
        org: OrganisationId,
        category: xinfang_core::ids::CategoryId,
    ) -> Result<Option<xinfang_core::ids::UnitId>>;
    /// Stores a new version of a rule set (version = previous + 1) and returns it. Matters
    /// already registered keep the version they were registered under.
    async fn save_rule_set(&self, org: OrganisationId, rules: RuleSet, make_default: bool)
    -> Result<RuleSet>;
    async fn rule_sets(&self, org: OrganisationId) -> Result<Vec<StoredRuleSet>>;
    async fn default_rule_set(&self, org: OrganisationId) -> Result<RuleSet>;
    /// Adds or replaces holiday calendar days (a new year announced by the State Council).
    async fn add_calendar_entries(&self, org: OrganisationId, entries: Vec<CalendarEntry>) -> Result<usize>;
    /// The built-in calendar plus the organisation's additions.
    async fn calendar(&self, org: OrganisationId) -> Result<Calendar>;

    // ---- matters ------------------------------------------------------------------------
    /// Registers a matter with an event. Idempotent per (channel, external id): a second
    /// registration of the same work order returns the first, with `replayed` set.
    async fn register_matter(
        &self,
        org: OrganisationId,
        actor: &Actor,
        matter: NewMatter,
    ) -> Result<Registered>;
    /// One matter as `viewer` may see it (masked, confidential reporters hidden).
    async fn matter(&self, viewer: &StaffActor, id: PetitionId) -> Result<MatterView>;
    async fn list_matters(&self, viewer: &StaffActor, filter: &MatterFilter) -> Result<Page<MatterSummary>>;
    async fn timeline(&self, viewer: &StaffActor, id: PetitionId) -> Result<Vec<EventRecord>>;
    /// Applies a lifecycle command as `viewer`, writing the new state and its event in one
    /// transaction. `occurred_at` is when it happened (default: now).
    async fn transition(
        &self,
        viewer: &StaffActor,
        id: PetitionId,
        cmd: Command,
        occurred_at: Option<DateTime<Utc>>,
    ) -> Result<MatterView>;
    /// The unmasked phone and ID numbers of a matter's petitioners; writes a `reveal` event.
    async fn reveal_petitioners(
        &self,
        viewer: &StaffActor,
        id: PetitionId,
    ) -> Result<Vec<RevealedPetitioner>>;
    /// Every matter of one petitioner that the viewer may see.
    async fn petitioner_matters(&self, viewer: &StaffActor, id: PetitionerId) -> Result<Vec<MatterSummary>>;

    // ---- public (petitioner) ------------------------------------------------------------
    /// The public view of a matter, for whoever holds its tracking code and secret.
    async fn track(&self, code: &str, secret: &str) -> Result<PublicTrack>;
    /// A transition the petitioner makes (rate the reply, ask for review/re-check).
    async fn public_transition(&self, code: &str, secret: &str, cmd: Command) -> Result<PublicTrack>;

    // ---- background work, shared by every app node ---------------------------------------
    /// Records the deadline crossings of `org` not yet recorded (the current deadline entered
    /// its due-soon window, or passed), at most `limit` of them: an audit event by the system
    /// and one reminder for the lead unit each. Exactly once per crossing, also when several
    /// nodes scan at the same moment: the row says which deadline (its `due_at`) was already
    /// announced, and it is read and written under the organisation's write lock.
    async fn scan_deadlines(&self, org: OrganisationId, limit: u32) -> Result<ScanOutcome>;
    /// Claims the due run of a scheduled job for `node`: true for exactly one caller per due
    /// run, which moves the next run to `next_run_at`. A job unknown so far is due at once.
    async fn claim_job(
        &self,
        org: OrganisationId,
        name: &str,
        node: &str,
        next_run_at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Merges the full-text index's recent entries into its main structure and returns how
    /// many pages of them it merged. On PostgreSQL new search vectors first go to the GIN
    /// index's pending list, which every search reads whole (≈1.5 ms per index probe when it
    /// holds a few thousand letters, and a search probes several times); it is otherwise
    /// merged only when it reaches 4 MB or by a vacuum, which for an office registering a few
    /// hundred letters a day means days of searches paying for it. SQLite's FTS5 merges its
    /// segments as it inserts, so there this does nothing. Any node may call it at any time:
    /// two at once wait for each other and the second finds nothing left.
    async fn tidy_search_index(&self) -> Result<u64>;
    /// Records how the claimed run of a job ended (a short summary or an error).
    async fn finish_job(&self, org: OrganisationId, name: &str, result: &str) -> Result<()>;
    async fn jobs(&self, org: OrganisationId) -> Result<Vec<JobStatus>>;
    /// Reminders of matters `viewer` may see, newest first.
    async fn reminders(&self, viewer: &StaffActor, filter: ReminderFilter) -> Result<Vec<Reminder>>;
    /// Marks a reminder as seen to (idempotent: the first acknowledgement stays).
    async fn acknowledge_reminder(&self, viewer: &StaffActor, id: ReminderId) -> Result<Reminder>;
    /// Per lead unit: open matters and how many are due soon, overdue or paused at `now`.
    async fn deadline_lines(&self, org: OrganisationId, now: DateTime<Utc>) -> Result<Vec<UnitDeadlineLine>>;
    /// Matters registered, and replies delivered, in `[from, to)`.
    async fn period_counts(
        &self,
        org: OrganisationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(u64, u64)>;
    /// Stores a scheduled report unless one of its kind and period exists; true when stored.
    async fn save_report(&self, org: OrganisationId, report: NewReport) -> Result<bool>;
    /// Reports of `kind` (all kinds when `None`), newest period first.
    async fn reports(&self, org: OrganisationId, kind: Option<&str>, limit: u32) -> Result<Vec<Report>>;
    /// Counts one hit against a rate-limit key and returns the hits in its current window
    /// (this one included); a window older than `window` starts again at one.
    async fn rate_limit_hit(&self, key: &str, window: chrono::Duration, now: DateTime<Utc>) -> Result<u32>;
    /// The hits of a key's current window, without counting one.
    async fn rate_limit_count(&self, key: &str, window: chrono::Duration, now: DateTime<Utc>) -> Result<u32>;
    async fn rate_limit_clear(&self, key: &str) -> Result<()>;

    // ---- the routing model ----------------------------------------------------------------
    // Every change of configuration below (models, training imports, routing, dictionary,
    // lexicon) takes the actor and records a `settings_changed` event in its own transaction
    // ([`settings`]).
    /// Stores a model as the organisation's next version (1, 2, …) and returns it; with
    /// `activate`, it replaces the active one in the same transaction.
    async fn save_model(&self, org: OrganisationId, by: &Actor, model: NewModel) -> Result<StoredModel>;
    /// Every version, newest first, with how its suggestions fared.
    async fn models(&self, org: OrganisationId) -> Result<Vec<StoredModel>>;
    /// The active version and its weights.
    async fn active_model(&self, org: OrganisationId) -> Result<Option<(u32, Vec<u8>)>>;
    /// The active version alone (a cheap check whether a cached model is still current).
    async fn active_model_version(&self, org: OrganisationId) -> Result<Option<u32>>;
    /// Makes `version` the active model (a rollback, or a roll forward again).
    async fn activate_model(&self, org: OrganisationId, by: &Actor, version: u32) -> Result<StoredModel>;
    /// Adds labelled examples (an admin's import); `InvalidReference` for a category not in the
    /// organisation, in which case none is added.
    async fn add_training_examples(
        &self,
        org: OrganisationId,
        by: &Actor,
        examples: Vec<TrainingExample>,
    ) -> Result<usize>;
    /// What to train on: the imported examples and every matter a person has classified (its
    /// title and content with its category), at most `limit`, newest first.
    async fn training_examples(&self, org: OrganisationId, limit: u32) -> Result<Vec<TrainingExample>>;
    async fn routing_config(&self, org: OrganisationId) -> Result<RoutingConfig>;
    /// Replaces the routing table and threshold; `InvalidReference` for a category or unit
    /// not in the organisation.
    async fn save_routing_config(
        &self,
        org: OrganisationId,
        by: &Actor,
        config: RoutingConfig,
    ) -> Result<RoutingConfig>;
    /// Records the suggestion made for a matter at intake (the first one stays).
    async fn record_suggestion(&self, org: OrganisationId, suggestion: MatterSuggestion) -> Result<()>;
    async fn suggestion(&self, viewer: &StaffActor, id: PetitionId) -> Result<Option<MatterSuggestion>>;
    /// Matters not yet classified whose suggestion took `route`, oldest first (a queue).
    async fn triage_queue(
        &self,
        viewer: &StaffActor,
        route: xinfang_core::routing::Route,
        limit: u32,
    ) -> Result<Vec<QueuedMatter>>;

    /// The organisation's user dictionary as the admin wrote it (empty when none).
    async fn user_dictionary(&self, org: OrganisationId) -> Result<String>;
    /// Replaces the user dictionary (the caller has parsed it).
    async fn save_user_dictionary(&self, org: OrganisationId, text: &str, by: &Actor) -> Result<()>;

    // ---- analytics ------------------------------------------------------------------------
    /// The matters `viewer` may see registered in `[from, to)`, newest first, at most `limit`.
    async fn hotspot_sources(
        &self,
        viewer: &StaffActor,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<HotspotSource>>;

    // ---- intake: triage, duplicate and repeat detection (xinfang_nlp) ---------------------
    /// The text, petitioners and registration time of a matter, for intake (no viewer: intake
    /// runs for whoever registered it, including a petitioner on the website).
    async fn intake_subject(&self, org: OrganisationId, id: PetitionId) -> Result<IntakeSubject>;
    /// Matters of `org` that have no intake record yet (bulk-loaded ones, or an intake that
    /// failed), oldest registration first, at most `limit`: the backfill's work list. A matter
    /// whose intake failed waits until its retry time ([`Store::record_intake_failure`]).
    async fn matters_without_intake(
        &self,
        org: OrganisationId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PetitionId>>;
    /// Records that intake failed for a matter and sets it aside: the n-th failure in a row
    /// waits 5 minutes × 2ⁿ⁻¹ (at most a day) before the backfill tries again. Answers n.
    async fn record_intake_failure(
        &self,
        org: OrganisationId,
        id: PetitionId,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<u32>;
    /// Stores a matter's signature, triage and links to earlier matters in one transaction,
    /// replacing an earlier record (a re-run), and forgets its failures. A signature that is new
    /// or changed takes the next position in the signature log ([`Store::signatures_since`]).
    async fn record_intake(&self, org: OrganisationId, id: PetitionId, record: IntakeRecord) -> Result<()>;
    /// The signature log, all organisations: stored signatures whose position is after `after`
    /// or one of `also` (positions an earlier read found missing), in position order, at most
    /// `limit`. Each node derives its duplicate index from it ([`crate::CandidateIndex`]).
    ///
    /// Positions grow in the order signatures are written; on PostgreSQL a position can become
    /// visible after a higher one (its transaction commits later), which is why a reader asks
    /// again for the positions it skipped.
    async fn signatures_since(&self, after: i64, also: &[i64], limit: u32) -> Result<Vec<StoredSignature>>;
    /// Of the matters `among` (candidates from a band index) of `org`, those whose stored
    /// signature's estimated similarity to `signature` is at least `min_similarity`, with what
    /// link classification needs. Only those are read in full: most band-key collisions are
    /// not similar.
    async fn dedup_candidates(
        &self,
        org: OrganisationId,
        signature: &xinfang_nlp::dedup::Signature,
        min_similarity: f32,
        among: &[PetitionId],
    ) -> Result<Vec<DedupCandidate>>;
    /// The links of a matter, both ways, to matters the viewer may see; strongest first.
    async fn links(&self, viewer: &StaffActor, id: PetitionId) -> Result<Vec<MatterLink>>;
    /// The stored triage of a matter the viewer may see (`None` before intake ran).
    async fn triage(&self, viewer: &StaffActor, id: PetitionId) -> Result<Option<StoredTriage>>;
    /// Records a safety alert: an event by the system and a reminder for the petition office,
    /// once per matter (`None` when it was already raised).
    async fn raise_safety_alert(
        &self,
        org: OrganisationId,
        id: PetitionId,
        alerts: &[xinfang_nlp::triage::Alert],
    ) -> Result<Option<ReminderId>>;
    /// Matters registered in `[from, to)` and how many of them are repeats.
    async fn repeat_counts(
        &self,
        org: OrganisationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<RepeatCounts>;
    /// The organisation's saved triage lexicon (`None`: the built-in one applies).
    async fn lexicon(&self, org: OrganisationId) -> Result<Option<StoredLexicon>>;
    /// The current lexicon revision (0 before any save): cheap, for a compiled-lexicon cache.
    async fn lexicon_revision(&self, org: OrganisationId) -> Result<i64>;
    /// Saves the organisation's lexicon as a new revision.
    async fn save_lexicon(
        &self,
        org: OrganisationId,
        by: &Actor,
        lexicon: &xinfang_nlp::triage::Lexicon,
    ) -> Result<StoredLexicon>;
    /// The organisation's configuration changes ([`settings`]), newest first, at most `limit`.
    async fn settings_history(&self, org: OrganisationId, limit: u32) -> Result<Vec<EventRecord>>;

    // ---- audit and operations -----------------------------------------------------------
    /// Walks every organisation's event chain and reports the first broken link.
    async fn verify_audit(&self) -> Result<ChainReport>;
    /// Writes a consistent copy of the database to `path` while it stays in use.
    async fn backup(&self, path: &Path) -> Result<()>;
    /// Cheap liveness check of the database connection.
    async fn ping(&self) -> Result<()>;

    // ---- bulk -----------------------------------------------------------------------------
    /// A writer of big batches of matters built in memory, for `org` ([`bulk`]).
    async fn bulk_loader(&self, org: OrganisationId) -> Result<Box<dyn bulk::BulkLoad>>;
}
