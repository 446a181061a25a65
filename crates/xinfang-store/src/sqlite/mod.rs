//! The SQLite implementation of [`Store`]: the embedded default.
//!
//! One file, WAL mode, foreign keys on, migrations applied at start. SQLite allows one writer
//! at a time, so writes go through a pool of exactly one connection (they queue in the pool
//! instead of failing with SQLITE_BUSY), while reads use a separate pool of several
//! connections that WAL lets run beside the writer.

mod analytics;
mod background;
mod bulk;
mod intake;
mod matters;
mod org;
mod routing;

use crate::audit::{self, GENESIS, HashedFields};
use crate::model::*;
use crate::vault::Vault;
use crate::{Result, Store, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection, SqlitePool};
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use xinfang_core::calendar::{Calendar, CalendarEntry};
use xinfang_core::clock::Clock;
use xinfang_core::deadline::RuleSet;
use xinfang_core::ids::{EventId, OrganisationId, PetitionId, PetitionerId, ReminderId, RuleSetId, UserId};
use xinfang_core::lifecycle::Command;
use xinfang_core::org::{Actor, StaffActor};

/// WAL pages (4 KiB each) after which a commit checkpoints them into the database file.
///
/// SQLite's default is 1,000. A checkpoint copies every page the WAL holds, once however often
/// it was written since the last one, and it runs inside the commit that crosses the line, with
/// the write lock held: the pages every registration touches (the index roots, the FTS index's
/// structure, the rightmost leaves) were copied again every 1,000 pages. At 10,000 (a WAL of up
/// to 40 MiB, below `journal_size_limit`) registrations over HTTP at a million matters went
/// from 362–423/s to 394–480/s (four runs each, alternated; CPU per create 3.02 → 2.92 ms).
const WAL_CHECKPOINT_PAGES: u32 = 10_000;

/// Pool sizes and timeouts.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub read_connections: u32,
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            read_connections: 8,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// Rule set versions by (organisation, rule set, version).
type RuleSetCache = HashMap<(OrganisationId, RuleSetId, u32), RuleSet>;

/// A [`Store`] on one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    vault: Vault,
    clock: Arc<dyn Clock>,
    /// Rule set versions never change once stored, so they can be cached for good.
    rules: Arc<RwLock<RuleSetCache>>,
    /// Each organisation's calendar (built-in data plus its additions), dropped when an admin
    /// adds days. Every transition needs it, and it changes a few times a year.
    calendars: Arc<RwLock<HashMap<OrganisationId, Calendar>>>,
    /// Each organisation's default rule set, dropped when a new default is saved.
    defaults: Arc<RwLock<HashMap<OrganisationId, RuleSet>>>,
    /// The write lock of event-appending transactions, with the chain heads it guards.
    heads: Arc<tokio::sync::Mutex<HeadCache>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `url` (`sqlite://path` or
    /// `sqlite:path`).
    pub async fn connect(
        url: &str,
        vault: Vault,
        clock: Arc<dyn Clock>,
        opts: SqliteOptions,
    ) -> Result<Self> {
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(opts.busy_timeout)
            // 8 MiB of page cache per connection: nine connections stay well inside the
            // server's memory budget, and the OS page cache holds the rest.
            .pragma("cache_size", "-8000")
            .pragma("temp_store", "memory")
            // Reads through a memory map instead of one system call per page missing from the
            // page cache: a duplicate lookup reads its candidates' rows at random, and at
            // 1,000,000 matters this halved its time (the build raises SQLite's 2 GiB cap of
            // this setting, see .cargo/config.toml).
            .pragma("mmap_size", "68719476736")
            .pragma("journal_size_limit", "67108864");
        // The writer checkpoints the WAL itself, in the commit that takes it past
        // `WAL_CHECKPOINT_PAGES`. A background PASSIVE checkpointer was tried: under sustained
        // writes it never catches the moving end of the WAL, so the WAL is never reset and grew
        // to 15 GB in a benchmark.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(
                connect
                    .clone()
                    .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string()),
            )
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        check_key(&writer, &vault).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(opts.read_connections.max(1))
            .connect_with(connect.read_only(true))
            .await?;
        Ok(Self {
            writer,
            reader,
            vault,
            clock,
            rules: Arc::default(),
            calendars: Arc::default(),
            defaults: Arc::default(),
            heads: Arc::default(),
        })
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The organisation's default rule set (the one new matters are registered under).
    async fn default_rule_set_cached(&self, org: OrganisationId) -> Result<RuleSet> {
        if let Some(r) = self.defaults.read().ok().and_then(|m| m.get(&org).cloned()) {
            return Ok(r);
        }
        let rules = org::default_rule_set(&self.reader, org).await?;
        if let Ok(mut m) = self.defaults.write() {
            m.insert(org, rules.clone());
        }
        Ok(rules)
    }

    async fn cached_calendar(&self, org: OrganisationId) -> Result<Calendar> {
        if let Some(c) = self.calendars.read().ok().and_then(|m| m.get(&org).cloned()) {
            return Ok(c);
        }
        let cal = org::calendar(&self.reader, org).await?;
        if let Ok(mut m) = self.calendars.write() {
            m.insert(org, cal.clone());
        }
        Ok(cal)
    }

    async fn rule_set(&self, org: OrganisationId, id: RuleSetId, version: u32) -> Result<RuleSet> {
        if let Some(r) = self
            .rules
            .read()
            .ok()
            .and_then(|m| m.get(&(org, id, version)).cloned())
        {
            return Ok(r);
        }
        let row =
            sqlx::query("select body from rule_sets where organisation_id = ? and id = ? and version = ?")
                .bind(org.to_string())
                .bind(id.to_string())
                .bind(version as i64)
                .fetch_optional(&self.reader)
                .await?
                .ok_or(StoreError::NotFound)?;
        let rules: RuleSet = serde_json::from_str(row.get::<&str, _>(0))
            .map_err(|e| StoreError::Corrupt(format!("rule set: {e}")))?;
        if let Ok(mut m) = self.rules.write() {
            m.insert((org, id, version), rules.clone());
        }
        Ok(rules)
    }
}

/// Fixed-width RFC 3339 in UTC: sorts as text in time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s}: {e}")))
}

pub(crate) fn parse_id<T: FromStr>(s: &str) -> Result<T> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("id {s}")))
}

/// Maps a unique-constraint violation to a named conflict.
pub(crate) fn map_unique(
    e: sqlx::Error,
    constraint: &'static str,
    field: Option<&'static str>,
) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { constraint, field },
        _ => StoreError::from(e),
    }
}

/// An event about to be appended to its organisation's chain.
pub(crate) struct NewEvent<'a> {
    pub organisation_id: OrganisationId,
    pub matter_id: Option<PetitionId>,
    pub kind: &'a str,
    pub actor: &'a Actor,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub reason: Option<&'a str>,
    pub before_state: Option<&'a str>,
    pub after_state: Option<&'a str>,
    pub data: serde_json::Value,
}

/// Appends the `settings_changed` event of a configuration change in `w`'s transaction.
pub(crate) async fn audit_setting(
    w: &mut Writer<'_>,
    s: &SqliteStore,
    org: OrganisationId,
    by: &Actor,
    setting: crate::settings::Setting,
    details: serde_json::Value,
) -> Result<i64> {
    let now = s.now();
    w.append(
        &s.vault,
        NewEvent {
            organisation_id: org,
            matter_id: None,
            kind: EventKind::SettingsChanged.code(),
            actor: by,
            occurred_at: now,
            recorded_at: now,
            reason: None,
            before_state: None,
            after_state: None,
            data: crate::settings::event_data(setting, details),
        },
    )
    .await
}

/// Each organisation's audit chain head: (seq, hash) of its latest event.
type HeadCache = HashMap<OrganisationId, (i64, String)>;

/// A write transaction that may append audit events.
///
/// Holding it holds the store's write lock, which also guards the cached chain heads: no other
/// writer can append between our reading the head and committing, so the head need not be read
/// from the database for every event. The cache learns the new heads only after the commit; a
/// transaction that fails or is dropped (a client that hung up) leaves it as it was. The upsert
/// of `audit_heads` is a compare-and-set on the previous seq, so a head moved by anything else
/// (another process on the same file) makes the append fail rather than fork the chain.
pub(crate) struct Writer<'a> {
    heads: tokio::sync::MutexGuard<'a, HeadCache>,
    pending: Vec<(OrganisationId, i64, String)>,
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
}

impl<'a> Writer<'a> {
    pub(crate) async fn begin(s: &'a SqliteStore) -> Result<Writer<'a>> {
        let heads = s.heads.lock().await;
        let tx = s.writer.begin().await?;
        Ok(Writer {
            heads,
            pending: Vec::new(),
            tx,
        })
    }

    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    pub(crate) async fn commit(mut self) -> Result<()> {
        self.tx.commit().await?;
        for (org, seq, hash) in self.pending.drain(..) {
            self.heads.insert(org, (seq, hash));
        }
        Ok(())
    }

    async fn head(&mut self, org: OrganisationId) -> Result<(i64, String)> {
        if let Some((_, seq, hash)) = self.pending.iter().rev().find(|(o, _, _)| *o == org) {
            return Ok((*seq, hash.clone()));
        }
        if let Some(h) = self.heads.get(&org) {
            return Ok(h.clone());
        }
        let row = sqlx::query("select seq, hash from audit_heads where organisation_id = ?")
            .bind(org.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(match row {
            Some(r) => (r.get::<i64, _>(0), r.get::<String, _>(1)),
            None => (0, GENESIS.to_string()),
        })
    }

    /// Appends an event to its organisation's hash chain in this transaction; returns its seq.
    pub(crate) async fn append(&mut self, vault: &Vault, e: NewEvent<'_>) -> Result<i64> {
        let (prev_seq, prev_hash) = self.head(e.organisation_id).await?;
        let org = e.organisation_id.to_string();
        let seq = prev_seq + 1;
        let id = EventId::new().to_string();
        let matter_id = e.matter_id.map(|m| m.to_string());
        let (actor_kind, actor_user_id, actor_name) = match e.actor {
            Actor::Staff(s) => (
                ActorKind::Staff,
                Some(s.user_id.to_string()),
                Some(s.display_name.clone()),
            ),
            Actor::Petitioner => (ActorKind::Petitioner, None, None),
            Actor::System => (ActorKind::System, None, None),
        };
        let occurred = ts(e.occurred_at);
        let recorded = ts(e.recorded_at);
        let data = e.data.to_string();
        let hash = audit::event_hash(
            vault.audit_key(),
            &prev_hash,
            &HashedFields {
                organisation_id: &org,
                seq,
                id: &id,
                matter_id: matter_id.as_deref(),
                kind: e.kind,
                actor_kind: actor_kind.code(),
                actor_user_id: actor_user_id.as_deref(),
                actor_name: actor_name.as_deref(),
                occurred_at: &occurred,
                recorded_at: &recorded,
                reason: e.reason,
                before_state: e.before_state,
                after_state: e.after_state,
                data: &data,
            },
        );
        // One round trip for both statements: the event, then the head moved from prev_seq.
        let done = sqlx::query(
            "insert into events (organisation_id, seq, id, matter_id, kind, actor_kind, actor_user_id,
                 actor_name, occurred_at, recorded_at, reason, before_state, after_state, data, prev_hash, hash)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
             insert into audit_heads (organisation_id, seq, hash) values (?, ?, ?)
             on conflict (organisation_id) do update set seq = excluded.seq, hash = excluded.hash
             where audit_heads.seq = excluded.seq - 1",
        )
        .bind(&org)
        .bind(seq)
        .bind(&id)
        .bind(&matter_id)
        .bind(e.kind)
        .bind(actor_kind.code())
        .bind(&actor_user_id)
        .bind(&actor_name)
        .bind(&occurred)
        .bind(&recorded)
        .bind(e.reason)
        .bind(e.before_state)
        .bind(e.after_state)
        .bind(&data)
        .bind(&prev_hash)
        .bind(&hash)
        .bind(&org)
        .bind(seq)
        .bind(&hash)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() != 2 {
            self.heads.remove(&e.organisation_id);
            return Err(StoreError::Conflict {
                constraint: "audit_heads_seq",
                field: None,
            });
        }
        self.pending.push((e.organisation_id, seq, hash));
        Ok(seq)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_organisation(&self, name: &str) -> Result<OrganisationId> {
        org::create_organisation(self, name).await
    }
    async fn organisations(&self) -> Result<Vec<Organisation>> {
        org::organisations(self).await
    }
    async fn create_unit(&self, org: OrganisationId, unit: NewUnit) -> Result<Unit> {
        org::create_unit(self, org, unit).await
    }
    async fn units(&self, org: OrganisationId) -> Result<Vec<Unit>> {
        org::units(self, org).await
    }
    async fn create_user(&self, org: OrganisationId, user: NewUser) -> Result<User> {
        org::create_user(self, org, user).await
    }
    async fn users(&self, org: OrganisationId) -> Result<Vec<User>> {
        org::users(self, org).await
    }
    async fn credentials(&self, username: &str) -> Result<Option<Credentials>> {
        org::credentials(self, username).await
    }
    async fn staff_actor(&self, org: OrganisationId, user: UserId) -> Result<StaffActor> {
        org::staff_actor(&self.reader, org, user).await
    }
    async fn create_session(&self, session: NewSession) -> Result<()> {
        org::create_session(self, session).await
    }
    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(StaffActor, String)>> {
        org::session(self, token_hash, now).await
    }
    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("delete from sessions where token_hash = ?")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
    async fn create_api_token(
        &self,
        org: OrganisationId,
        user: UserId,
        name: &str,
        token_hash: &str,
    ) -> Result<()> {
        org::create_api_token(self, org, user, name, token_hash).await
    }
    async fn api_token(&self, token_hash: &str) -> Result<Option<StaffActor>> {
        org::api_token(self, token_hash).await
    }
    async fn create_category(&self, org: OrganisationId, category: NewCategory) -> Result<Category> {
        org::create_category(self, org, category).await
    }
    async fn categories(&self, org: OrganisationId) -> Result<Vec<Category>> {
        org::categories(self, org).await
    }
    async fn category_default_unit(
        &self,
        org: OrganisationId,
        category: xinfang_core::ids::CategoryId,
    ) -> Result<Option<xinfang_core::ids::UnitId>> {
        org::category_default_unit(self, org, category).await
    }
    async fn save_rule_set(
        &self,
        org: OrganisationId,
        rules: RuleSet,
        make_default: bool,
    ) -> Result<RuleSet> {
        let saved = org::save_rule_set(self, org, rules, make_default).await?;
        if let Ok(mut m) = self.defaults.write() {
            m.remove(&org);
        }
        Ok(saved)
    }
    async fn rule_sets(&self, org: OrganisationId) -> Result<Vec<StoredRuleSet>> {
        org::rule_sets(self, org).await
    }
    async fn default_rule_set(&self, org: OrganisationId) -> Result<RuleSet> {
        org::default_rule_set(&self.reader, org).await
    }
    async fn add_calendar_entries(&self, org: OrganisationId, entries: Vec<CalendarEntry>) -> Result<usize> {
        let n = org::add_calendar_entries(self, org, entries).await?;
        if let Ok(mut m) = self.calendars.write() {
            m.remove(&org);
        }
        Ok(n)
    }
    async fn calendar(&self, org: OrganisationId) -> Result<Calendar> {
        org::calendar(&self.reader, org).await
    }
    async fn register_matter(
        &self,
        org: OrganisationId,
        actor: &Actor,
        matter: NewMatter,
    ) -> Result<Registered> {
        matters::register(self, org, actor, matter).await
    }
    async fn matter(&self, viewer: &StaffActor, id: PetitionId) -> Result<MatterView> {
        matters::get(self, viewer, id).await
    }
    async fn list_matters(&self, viewer: &StaffActor, filter: &MatterFilter) -> Result<Page<MatterSummary>> {
        matters::list(self, viewer, filter).await
    }
    async fn timeline(&self, viewer: &StaffActor, id: PetitionId) -> Result<Vec<EventRecord>> {
        matters::timeline(self, viewer, id).await
    }
    async fn transition(
        &self,
        viewer: &StaffActor,
        id: PetitionId,
        cmd: Command,
        occurred_at: Option<DateTime<Utc>>,
    ) -> Result<MatterView> {
        matters::transition(self, viewer, id, cmd, occurred_at).await
    }
    async fn reveal_petitioners(
        &self,
        viewer: &StaffActor,
        id: PetitionId,
    ) -> Result<Vec<RevealedPetitioner>> {
        matters::reveal(self, viewer, id).await
    }
    async fn petitioner_matters(&self, viewer: &StaffActor, id: PetitionerId) -> Result<Vec<MatterSummary>> {
        matters::petitioner_matters(self, viewer, id).await
    }
    async fn track(&self, code: &str, secret: &str) -> Result<PublicTrack> {
        matters::track(self, code, secret).await
    }
    async fn public_transition(&self, code: &str, secret: &str, cmd: Command) -> Result<PublicTrack> {
        matters::public_transition(self, code, secret, cmd).await
    }
    /// FTS5 merges its segments as rows are inserted (automerge): nothing waits to be merged.
    async fn tidy_search_index(&self) -> Result<u64> {
        Ok(0)
    }
    async fn scan_deadlines(&self, org: OrganisationId, limit: u32) -> Result<ScanOutcome> {
        background::scan_deadlines(self, org, limit).await
    }
    async fn claim_job(
        &self,
        org: OrganisationId,
        name: &str,
        node: &str,
        next_run_at: DateTime<Utc>,
    ) -> Result<bool> {
        background::claim_job(self, org, name, node, next_run_at).await
    }
    async fn finish_job(&self, org: OrganisationId, name: &str, result: &str) -> Result<()> {
        background::finish_job(self, org, name, result).await
    }
    async fn jobs(&self, org: OrganisationId) -> Result<Vec<JobStatus>> {
        background::jobs(self, org).await
    }
    async fn reminders(&self, viewer: &StaffActor, filter: ReminderFilter) -> Result<Vec<Reminder>> {
        background::reminders(self, viewer, filter).await
    }
    async fn acknowledge_reminder(&self, viewer: &StaffActor, id: ReminderId) -> Result<Reminder> {
        background::acknowledge_reminder(self, viewer, id).await
    }
    async fn deadline_lines(&self, org: OrganisationId, now: DateTime<Utc>) -> Result<Vec<UnitDeadlineLine>> {
        background::deadline_lines(self, org, now).await
    }
    async fn period_counts(
        &self,
        org: OrganisationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        background::period_counts(self, org, from, to).await
    }
    async fn save_report(&self, org: OrganisationId, report: NewReport) -> Result<bool> {
        background::save_report(self, org, report).await
    }
    async fn reports(&self, org: OrganisationId, kind: Option<&str>, limit: u32) -> Result<Vec<Report>> {
        background::reports(self, org, kind, limit).await
    }
    async fn rate_limit_hit(&self, key: &str, window: chrono::Duration, now: DateTime<Utc>) -> Result<u32> {
        background::rate_limit_hit(self, key, window, now).await
    }
    async fn rate_limit_count(&self, key: &str, window: chrono::Duration, now: DateTime<Utc>) -> Result<u32> {
        background::rate_limit_count(self, key, window, now).await
    }
    async fn rate_limit_clear(&self, key: &str) -> Result<()> {
        background::rate_limit_clear(self, key).await
    }
    async fn save_model(&self, org: OrganisationId, by: &Actor, model: NewModel) -> Result<StoredModel> {
        routing::save_model(self, org, by, model).await
    }
    async fn models(&self, org: OrganisationId) -> Result<Vec<StoredModel>> {
        routing::models(self, org).await
    }
    async fn active_model(&self, org: OrganisationId) -> Result<Option<(u32, Vec<u8>)>> {
        routing::active_model(self, org).await
    }
    async fn active_model_version(&self, org: OrganisationId) -> Result<Option<u32>> {
        routing::active_model_version(self, org).await
    }
    async fn activate_model(&self, org: OrganisationId, by: &Actor, version: u32) -> Result<StoredModel> {
        routing::activate_model(self, org, by, version).await
    }
    async fn add_training_examples(
        &self,
        org: OrganisationId,
        by: &Actor,
        examples: Vec<TrainingExample>,
    ) -> Result<usize> {
        routing::add_training_examples(self, org, by, examples).await
    }
    async fn training_examples(&self, org: OrganisationId, limit: u32) -> Result<Vec<TrainingExample>> {
        routing::training_examples(self, org, limit).await
    }
    async fn routing_config(&self, org: OrganisationId) -> Result<RoutingConfig> {
        routing::routing_config(self, org).await
    }
    async fn save_routing_config(
        &self,
        org: OrganisationId,
        by: &Actor,
        config: RoutingConfig,
    ) -> Result<RoutingConfig> {
        routing::save_routing_config(self, org, by, config).await
    }
    async fn record_suggestion(&self, org: OrganisationId, suggestion: MatterSuggestion) -> Result<()> {
        routing::record_suggestion(self, org, suggestion).await
    }
    async fn suggestion(&self, viewer: &StaffActor, id: PetitionId) -> Result<Option<MatterSuggestion>> {
        routing::suggestion(self, viewer, id).await
    }
    async fn triage_queue(
        &self,
        viewer: &StaffActor,
        route: xinfang_core::routing::Route,
        limit: u32,
    ) -> Result<Vec<QueuedMatter>> {
        routing::triage_queue(self, viewer, route, limit).await
    }
    async fn user_dictionary(&self, org: OrganisationId) -> Result<String> {
        routing::user_dictionary(self, org).await
    }
    async fn save_user_dictionary(&self, org: OrganisationId, text: &str, by: &Actor) -> Result<()> {
        routing::save_user_dictionary(self, org, text, by).await
    }
    async fn hotspot_sources(
        &self,
        viewer: &StaffActor,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<HotspotSource>> {
        analytics::hotspot_sources(self, viewer, from, to, limit).await
    }
    async fn intake_subject(&self, org: OrganisationId, id: PetitionId) -> Result<IntakeSubject> {
        intake::subject(self, org, id).await
    }
    async fn matters_without_intake(
        &self,
        org: OrganisationId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PetitionId>> {
        intake::without_intake(self, org, now, limit).await
    }
    async fn record_intake_failure(
        &self,
        org: OrganisationId,
        id: PetitionId,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        intake::record_failure(self, org, id, error, now).await
    }
    async fn record_intake(&self, org: OrganisationId, id: PetitionId, record: IntakeRecord) -> Result<()> {
        intake::record(self, org, id, record).await
    }
    async fn signatures_since(&self, after: i64, also: &[i64], limit: u32) -> Result<Vec<StoredSignature>> {
        intake::signatures_since(self, after, also, limit).await
    }
    async fn dedup_candidates(
        &self,
        org: OrganisationId,
        signature: &xinfang_nlp::dedup::Signature,
        min_similarity: f32,
        among: &[PetitionId],
    ) -> Result<Vec<DedupCandidate>> {
        intake::candidates(self, org, signature, min_similarity, among).await
    }
    async fn links(&self, viewer: &StaffActor, id: PetitionId) -> Result<Vec<MatterLink>> {
        intake::links(self, viewer, id).await
    }
    async fn triage(&self, viewer: &StaffActor, id: PetitionId) -> Result<Option<StoredTriage>> {
        intake::triage(self, viewer, id).await
    }
    async fn raise_safety_alert(
        &self,
        org: OrganisationId,
        id: PetitionId,
        alerts: &[xinfang_nlp::triage::Alert],
    ) -> Result<Option<ReminderId>> {
        intake::raise_safety_alert(self, org, id, alerts).await
    }
    async fn repeat_counts(
        &self,
        org: OrganisationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<RepeatCounts> {
        intake::repeat_counts(self, org, from, to).await
    }
    async fn lexicon(&self, org: OrganisationId) -> Result<Option<StoredLexicon>> {
        intake::lexicon(self, org).await
    }
    async fn lexicon_revision(&self, org: OrganisationId) -> Result<i64> {
        intake::lexicon_revision(self, org).await
    }
    async fn save_lexicon(
        &self,
        org: OrganisationId,
        by: &Actor,
        lexicon: &xinfang_nlp::triage::Lexicon,
    ) -> Result<StoredLexicon> {
        intake::save_lexicon(self, org, by, lexicon).await
    }
    async fn settings_history(&self, org: OrganisationId, limit: u32) -> Result<Vec<EventRecord>> {
        matters::settings_history(self, org, limit).await
    }
    async fn verify_audit(&self) -> Result<ChainReport> {
        verify_audit(&self.reader, &self.vault).await
    }
    async fn backup(&self, path: &Path) -> Result<()> {
        if path.exists() {
            return Err(StoreError::Invalid {
                field: "out",
                message: format!("{} already exists", path.display()),
            });
        }
        // VACUUM INTO writes a consistent snapshot while the database stays in use.
        sqlx::query("vacuum into ?")
            .bind(path.to_string_lossy().as_ref())
            .execute(&self.reader)
            .await?;
        Ok(())
    }
    async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.reader).await?;
        Ok(())
    }
    async fn bulk_loader(&self, org: OrganisationId) -> Result<Box<dyn crate::bulk::BulkLoad>> {
        self.open_bulk_loader(org).await
    }
}

async fn verify_audit(pool: &SqlitePool, vault: &Vault) -> Result<ChainReport> {
    let orgs: Vec<String> = sqlx::query_scalar("select id from organisations order by id")
        .fetch_all(pool)
        .await?;
    let mut report = ChainReport {
        organisations: orgs.len(),
        events: 0,
        broken: None,
    };
    for org in orgs {
        // One read transaction for the whole chain and its head (WAL keeps its snapshot from
        // the first read): read statement by statement, an append committed between the last
        // page of events and the head would look like events cut off at the end.
        let mut tx = pool.begin().await?;
        let org_id: OrganisationId = parse_id(&org)?;
        let mut prev_hash = GENESIS.to_string();
        let mut expected_seq = 1i64;
        let mut after = 0i64;
        let broken = |seq: i64, id: &str, reason: String| BrokenLink {
            organisation_id: org_id,
            seq,
            event_id: id.to_string(),
            reason,
        };
        loop {
            let rows = sqlx::query(
                "select seq, id, matter_id, kind, actor_kind, actor_user_id, actor_name, occurred_at,
                        recorded_at, reason, before_state, after_state, data, prev_hash, hash
                 from events where organisation_id = ? and seq > ? order by seq limit 5000",
            )
            .bind(&org)
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let seq: i64 = r.get("seq");
                let id: String = r.get("id");
                after = seq;
                report.events += 1;
                if seq != expected_seq {
                    report.broken = Some(broken(
                        seq,
                        &id,
                        format!("expected event #{expected_seq}, found #{seq} (an event is missing)"),
                    ));
                    return Ok(report);
                }
                let stored_prev: String = r.get("prev_hash");
                if stored_prev != prev_hash {
                    report.broken = Some(broken(
                        seq,
                        &id,
                        "prev_hash does not match the previous event".into(),
                    ));
                    return Ok(report);
                }
                let computed = audit::event_hash(
                    vault.audit_key(),
                    &prev_hash,
                    &HashedFields {
                        organisation_id: &org,
                        seq,
                        id: &id,
                        matter_id: r.get("matter_id"),
                        kind: r.get("kind"),
                        actor_kind: r.get("actor_kind"),
                        actor_user_id: r.get("actor_user_id"),
                        actor_name: r.get("actor_name"),
                        occurred_at: r.get("occurred_at"),
                        recorded_at: r.get("recorded_at"),
                        reason: r.get("reason"),
                        before_state: r.get("before_state"),
                        after_state: r.get("after_state"),
                        data: r.get("data"),
                    },
                );
                let stored: String = r.get("hash");
                if computed != stored {
                    report.broken = Some(broken(
                        seq,
                        &id,
                        "content does not match its hash (the event was altered)".into(),
                    ));
                    return Ok(report);
                }
                prev_hash = stored;
                expected_seq += 1;
            }
        }
        let head = sqlx::query("select seq, hash from audit_heads where organisation_id = ?")
            .bind(&org)
            .fetch_optional(&mut *tx)
            .await?;
        tx.rollback().await?;
        if let Some(h) = head {
            let (seq, hash): (i64, String) = (h.get(0), h.get(1));
            if seq != expected_seq - 1 || hash != prev_hash {
                report.broken = Some(broken(
                    seq,
                    "",
                    format!(
                        "the chain ends at #{} but its head says #{seq} (events were removed at the end)",
                        expected_seq - 1
                    ),
                ));
                return Ok(report);
            }
        }
    }
    Ok(report)
}

/// Refuses a key other than the one the database was written with (recorded with its first
/// organisation). A database from before the check learns its key now, after one of its
/// ciphertexts proves the key right.
async fn check_key(pool: &SqlitePool, vault: &Vault) -> Result<()> {
    let expected = crate::shared::key_check_value(vault);
    let stored: Option<String> = sqlx::query_scalar("select mac from key_check where id = 1")
        .fetch_optional(pool)
        .await?;
    match stored {
        Some(mac) if mac == expected => Ok(()),
        Some(_) => Err(crate::shared::wrong_key()),
        None => {
            // An empty database takes the key of whoever writes its first organisation.
            let has_data: Option<i64> = sqlx::query_scalar("select 1 from organisations limit 1")
                .fetch_optional(pool)
                .await?;
            if has_data.is_none() {
                return Ok(());
            }
            let sample: Option<Vec<u8>> =
                sqlx::query_scalar("select phone_enc from petitioners where phone_enc is not null limit 1")
                    .fetch_optional(pool)
                    .await?;
            if let Some(c) = sample
                && vault.decrypt(&c).is_err()
            {
                return Err(crate::shared::wrong_key());
            }
            sqlx::query("insert into key_check (id, mac) values (1, ?) on conflict do nothing")
                .bind(&expected)
                .execute(pool)
                .await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer, which makes every checkpoint, waits for `WAL_CHECKPOINT_PAGES`.
    #[tokio::test]
    async fn the_writer_checkpoints_after_its_page_count() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("checkpoint.db").display());
        let vault = Vault::from_base64(&Vault::generate_key()).expect("key");
        let store = SqliteStore::connect(
            &url,
            vault,
            Arc::new(xinfang_core::clock::SystemClock),
            SqliteOptions::default(),
        )
        .await
        .expect("store");
        let pages: i64 = sqlx::query_scalar("pragma wal_autocheckpoint")
            .fetch_one(&store.writer)
            .await
            .expect("pragma");
        assert_eq!(pages, i64::from(WAL_CHECKPOINT_PAGES));
    }
}
