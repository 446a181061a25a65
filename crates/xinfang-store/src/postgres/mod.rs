//! The PostgreSQL implementation of [`Store`]: the scale-out engine.
//!
//! The same behaviour as [`SqliteStore`](crate::SqliteStore), with what changes when several
//! app nodes share one database:
//! - **The audit chain is serialised by a row lock**, not by an in-process mutex: a write
//!   transaction starts with `select … from audit_heads where organisation_id = $1 for update`
//!   ([`Writer::lock`]), held to its commit. So every node appends to an organisation's chain
//!   one at a time, the head read under the lock is always the true head, and the writes that
//!   SQLite serialises with its single writer (idempotent intake, one petitioner per number, a
//!   matter's read-modify-write) are serialised per organisation here too. No head is cached.
//! - **Caches are checked against the database.** Rule set versions never change and are cached
//!   for good. An organisation's calendar and default rule set are cached with the
//!   organisation's `config_revision`, which every change bumps in its own transaction and
//!   every use reads back in a statement it makes anyway (the chain lock, the matter load), so a
//!   node never serves a calendar another node has replaced.
//! - **Connection failures are [`StoreError::Unavailable`]** (the API answers 503 and the pool
//!   reconnects by itself once the server is back).
//!
//! Migrations (`migrations/postgres/`) run at start under sqlx's advisory lock, so nodes may
//! start together. [`PgOptions::schema`] puts the store in a schema of its own (created if
//! missing); the tests use it to give every test a fresh schema.

mod alerts;
mod analytics;
mod background;
mod batch;
mod bulk;
mod intake;
mod intake_records;
mod lookups;
mod matters;
mod org;
mod registrations;
mod routing;
mod search;
/// A fresh schema per test, for the test suites of this and other crates.
pub mod testing;
mod vectors;

use crate::audit::{self, GENESIS, HashedFields};
use crate::model::*;
use crate::vault::Vault;
use crate::{Result, Store, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use uuid::Uuid;
use xinfang_core::calendar::{Calendar, CalendarEntry};
use xinfang_core::clock::Clock;
use xinfang_core::deadline::RuleSet;
use xinfang_core::ids::{EventId, OrganisationId, PetitionId, PetitionerId, ReminderId, RuleSetId, UserId};
use xinfang_core::lifecycle::Command;
use xinfang_core::org::{Actor, StaffActor};

/// Pool sizes and timeouts, and the schema to live in.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections per app node. With several nodes, keep their sum below the server's
    /// `max_connections` (100 by default), leaving room for maintenance sessions.
    pub max_connections: u32,
    /// How long a request waits for a free connection (or for a new one while the server is
    /// down) before the store answers [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
    /// A schema to create if missing and to use as the `search_path` of every connection;
    /// `None` uses the URL's (normally `public`). Letters, digits and `_` only.
    pub schema: Option<String>,
    /// What `pg_stat_activity` shows for the store's sessions.
    pub application_name: String,
    /// Registrations waiting at the same time share one transaction and one commit
    /// ([`batch`]). Off: one transaction each (for comparison).
    pub group_commit: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            schema: None,
            application_name: "xinfang".to_string(),
            group_commit: true,
        }
    }
}

/// Rule set versions by (organisation, rule set, version).
type RuleSetCache = HashMap<(OrganisationId, RuleSetId, u32), RuleSet>;

/// What an organisation's `config_revision` stands for: its calendar and default rule set.
#[derive(Clone)]
struct OrgConfig {
    revision: i64,
    calendar: Calendar,
    default_rules: RuleSet,
}

/// How `pg_dump` reaches the database: libpq's environment variables.
#[derive(Debug, Clone)]
struct DumpTarget {
    env: Vec<(&'static str, String)>,
}

/// A [`Store`] on a PostgreSQL database, shareable by several app nodes.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Connections whose statements are planned once and then reused
    /// (`plan_cache_mode = force_generic_plan` for the whole session, see [`keyed_pool`]): for
    /// look-ups by key that run once per registration. A few of the node's connections.
    keyed: PgPool,
    vault: Vault,
    clock: Arc<dyn Clock>,
    /// The schema the tables live in (what a backup dumps).
    schema: String,
    dump: Arc<DumpTarget>,
    rules: Arc<RwLock<RuleSetCache>>,
    configs: Arc<RwLock<HashMap<OrganisationId, OrgConfig>>>,
    /// Searches known to match at least the count cap ([`search::CommonSearches`]).
    common: Arc<search::CommonSearches>,
    /// The group-commit queue of registrations ([`batch`]), when on.
    batcher: Option<batch::Queue>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// Loads, into a new connection's caches, the statistics of the search vectors: the planner
/// reads them for every full-text search, and the first time a backend does (their 2,000 most
/// common lexemes, migration 0003) it costs ≈ 20 ms at a million matters — then the cost of
/// some request's search, now of opening the connection. A database not yet migrated has no
/// such table, and a failure here only leaves the cache cold.
async fn warm_up(conn: &mut sqlx::PgConnection) {
    let warmed = sqlx::query("explain select 1 from matter_search where search @@ 'a'::tsquery")
        .execute(conn)
        .await;
    if let Err(e) = warmed {
        tracing::debug!(error = %e, "the search statistics were not loaded ahead");
    }
}

/// Whether `name` can be used as a schema name without quoting surprises.
fn valid_schema_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.starts_with("pg_")
}

impl PgStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/database`), creates the
    /// schema of [`PgOptions::schema`] if one is named, and applies the migrations.
    /// `Unavailable` when the server cannot be reached.
    pub async fn connect(url: &str, vault: Vault, clock: Arc<dyn Clock>, opts: PgOptions) -> Result<Self> {
        let mut connect = PgConnectOptions::from_str(url)?.application_name(&opts.application_name);
        if let Some(schema) = &opts.schema {
            if !valid_schema_name(schema) {
                return Err(StoreError::Invalid {
                    field: "schema",
                    message: format!("{schema:?} is not a schema name (a-z, 0-9 and _ only)"),
                });
            }
            connect = connect.options([("search_path", schema.as_str())]);
        }
        let dump = Arc::new(dump_target(url, &connect));
        let (main_size, keyed_size) = split_connections(opts.max_connections);
        // Connected on first use, after the main pool has migrated the schema.
        let keyed = keyed_pool(&connect, keyed_size, opts.acquire_timeout);
        let pool = PgPoolOptions::new()
            .max_connections(main_size)
            .acquire_timeout(opts.acquire_timeout)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    warm_up(conn).await;
                    Ok(())
                })
            })
            .connect_with(connect)
            .await
            .map_err(|e| classify(e.into()))?;
        if let Some(schema) = &opts.schema {
            let made = sqlx::query(AssertSqlSafe(format!("create schema if not exists {schema}")))
                .execute(&pool)
                .await;
            match made {
                // Two nodes creating it at once: one wins, which is all we need.
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {}
                other => {
                    other?;
                }
            }
        }
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        check_key(&pool, &vault).await?;
        let schema: Option<String> = sqlx::query_scalar("select current_schema()")
            .fetch_one(&pool)
            .await?;
        let schema = schema.ok_or_else(|| StoreError::Invalid {
            field: "database_url",
            message: "the connection has no current schema (check search_path)".into(),
        })?;
        Ok(Self {
            pool,
            keyed,
            vault,
            clock,
            schema,
            dump,
            rules: Arc::default(),
            configs: Arc::default(),
            common: Arc::default(),
            batcher: opts.group_commit.then(batch::Queue::default),
        })
    }

    /// The schema the store's tables live in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The organisation's calendar and default rule set as of `revision` (read by the caller
    /// in the same transaction or statement), from the cache when it is that revision.
    async fn config(&self, conn: &mut PgConnection, org: OrganisationId, revision: i64) -> Result<OrgConfig> {
        if let Some(c) = self
            .configs
            .read()
            .ok()
            .and_then(|m| m.get(&org).filter(|c| c.revision == revision).cloned())
        {
            return Ok(c);
        }
        let config = OrgConfig {
            revision,
            calendar: org::calendar(&mut *conn, org).await?,
            default_rules: org::default_rule_set(&mut *conn, org).await?,
        };
        if let Ok(mut m) = self.configs.write() {
            // Never replace a newer revision another request has already seen.
            if m.get(&org).is_none_or(|c| c.revision < revision) {
                m.insert(org, config.clone());
            }
        }
        Ok(config)
    }

    /// A rule set version, from the cache or read on `conn`: the callers hold a connection
    /// already, and asking the pool for a second one while holding the first can leave every
    /// request of a busy node waiting for another's (until the acquire timeout).
    async fn rule_set(
        &self,
        conn: &mut PgConnection,
        org: OrganisationId,
        id: RuleSetId,
        version: u32,
    ) -> Result<RuleSet> {
        if let Some(r) = self
            .rules
            .read()
            .ok()
            .and_then(|m| m.get(&(org, id, version)).cloned())
        {
            return Ok(r);
        }
        let body: String = sqlx::query_scalar(
            "select body::text from rule_sets where organisation_id = $1 and id = $2 and version = $3",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(version as i32)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        let rules: RuleSet =
            serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("rule set: {e}")))?;
        if let Ok(mut m) = self.rules.write() {
            m.insert((org, id, version), rules.clone());
        }
        Ok(rules)
    }
}

/// The libpq environment for `pg_dump`, from the URL the store connected with (the password,
/// which `PgConnectOptions` does not hand back, from the URL itself).
fn dump_target(url: &str, o: &PgConnectOptions) -> DumpTarget {
    let mut env = Vec::new();
    match o.get_socket() {
        Some(dir) => env.push(("PGHOST", dir.display().to_string())),
        None => env.push(("PGHOST", o.get_host().to_string())),
    }
    env.push(("PGPORT", o.get_port().to_string()));
    env.push(("PGUSER", o.get_username().to_string()));
    if let Some(db) = o.get_database() {
        env.push(("PGDATABASE", db.to_string()));
    }
    let ssl = match o.get_ssl_mode() {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    };
    env.push(("PGSSLMODE", ssl.to_string()));
    if let Ok(u) = url::Url::parse(url) {
        let password = u
            .password()
            .map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .or_else(|| {
                u.query_pairs()
                    .find(|(k, _)| k == "password")
                    .map(|(_, v)| v.into_owned())
            });
        if let Some(p) = password {
            env.push(("PGPASSWORD", p));
        }
    }
    DumpTarget { env }
}

/// Turns a failure to reach the database into [`StoreError::Unavailable`] (worth retrying; the
/// API answers 503), and text PostgreSQL cannot store (a NUL character) into `Invalid`.
fn classify(e: StoreError) -> StoreError {
    let StoreError::Database(db) = &e else {
        return e;
    };
    let unavailable = match db {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            // 08: connection exception; 53: insufficient resources (too many connections);
            // 57: operator intervention (shutdown, restart, cancelled); 40001/40P01: retry.
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57")
                || code == "40001"
                || code == "40P01"
        }
        _ => false,
    };
    if unavailable {
        return StoreError::Unavailable(db.to_string());
    }
    if let sqlx::Error::Database(d) = db
        && matches!(d.code().as_deref(), Some("22021" | "22P05"))
    {
        return StoreError::Invalid {
            field: "text",
            message: "text contains a character the database cannot store (NUL)".into(),
        };
    }
    e
}

/// How a node's connections ([`PgOptions::max_connections`]) are shared: the main pool, and
/// the [`keyed_pool`] (an eighth, at least one). The main pool keeps at least one, so a node
/// allowed a single connection holds two.
fn split_connections(max: u32) -> (u32, u32) {
    let keyed = (max / 8).max(1);
    (max.saturating_sub(keyed).max(1), keyed)
}

/// A pool whose sessions plan every statement once and reuse the plan
/// (`plan_cache_mode = force_generic_plan`, set when the connection starts).
///
/// For look-ups by key that run once per registration and whose plan is the same whatever
/// their parameters. PostgreSQL's own choice (`auto`) replans a statement on every call while
/// a plan made for the call's values looks cheaper than the generic one, and for an
/// `id = any($1)` with fewer ids than the ten the generic plan assumes it always does: the
/// duplicate candidates' look-up was planned afresh for 18,581 of 20,000 registrations, at
/// 0.26 ms a time (more than it took to run). Setting the mode for one transaction
/// (`begin; set local …`, what this replaced) cost two more round trips per look-up, the
/// `begin` and the `commit`: three quarters of all the round trips registrations made.
///
/// Not for statements whose best plan depends on their values or on a table's size at the
/// moment (joins against a table that grows, searches, lists): a generic plan is kept until
/// the table's statistics change. Those go to the main pool, where PostgreSQL chooses.
fn keyed_pool(connect: &PgConnectOptions, size: u32, acquire_timeout: Duration) -> PgPool {
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(
            connect
                .clone()
                .options([("plan_cache_mode", "force_generic_plan")]),
        )
}

/// RFC 3339 in UTC with microseconds: the text the audit hash covers for a time.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `t` cut to whole microseconds, the precision of `timestamptz`: what is stored is then
/// exactly what was hashed.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
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
    w: &mut Writer,
    s: &PgStore,
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

/// Each of `orgs`' `config_revision` as committed now (not locked: a caller that must know
/// it is still current reads it again under the chain lock, [`Writer::lock`]).
pub(crate) async fn config_revisions(
    conn: &mut PgConnection,
    orgs: &[OrganisationId],
) -> Result<Vec<(OrganisationId, i64)>> {
    let ids: Vec<Uuid> = orgs.iter().map(OrganisationId::as_uuid).collect();
    let rows = sqlx::query("select id, config_revision from organisations where id = any($1)")
        .bind(&ids)
        .fetch_all(conn)
        .await?;
    let found: Vec<(OrganisationId, i64)> = rows
        .iter()
        .map(|r| (OrganisationId::from_uuid(r.get(0)), r.get(1)))
        .collect();
    if found.len() != orgs.len() {
        return Err(StoreError::NotFound);
    }
    Ok(found)
}

/// A write transaction that may append audit events.
///
/// [`Writer::lock`] takes an organisation's chain-head row lock; a writer takes it first thing
/// for the organisation it writes to (before reading what it will change), so its reads are
/// not overtaken by another node's write and its appends continue the true head. The lock is
/// released by the commit or the rollback (a dropped writer rolls back).
pub(crate) struct Writer {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// The locked heads: (organisation, seq, hash), moved by each append.
    heads: Vec<(OrganisationId, i64, String)>,
    /// Each locked organisation's `config_revision` and intake revisions as the lock read them.
    revisions: Vec<(OrganisationId, i64, IntakeRevisions)>,
}

impl Writer {
    pub(crate) async fn begin(s: &PgStore) -> Result<Writer> {
        Ok(Writer {
            tx: s.pool.begin().await?,
            heads: Vec::new(),
            revisions: Vec::new(),
        })
    }

    /// Takes transaction-scoped advisory locks on `keys`, in ascending order, waiting for
    /// each: how registrations naming the same person or work order are serialised without
    /// the chain lock ([`registrations`]). Every transaction takes them before any chain
    /// lock, so that no two transactions wait for each other in a circle.
    pub(crate) async fn lock_keys(&mut self, mut keys: Vec<i64>) -> Result<()> {
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            return Ok(());
        }
        debug_assert!(self.heads.is_empty(), "advisory locks come before any chain lock");
        // The function runs for each element in the array's (ascending) order.
        sqlx::query("select count(pg_advisory_xact_lock(k)) from unnest($1::bigint[]) as k")
            .bind(&keys)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// [`lock`](Self::lock), unless this transaction already holds `org`'s lock: then the
    /// revision the lock read. For the registrations of a batch, which re-reading the head
    /// would slow (every append of the batch leaves a new row version to walk past) and which
    /// change no configuration.
    pub(crate) async fn lock_once(&mut self, org: OrganisationId) -> Result<i64> {
        match self.revisions.iter().find(|(o, _, _)| *o == org) {
            Some(&(_, revision, _)) => Ok(revision),
            None => self.lock(org).await,
        }
    }

    /// The lexicon and routing model of `org` as its lock read them (`None` before the lock).
    /// The lock serialises their changes too (each is an audited event), so they are what a
    /// registration in this transaction commits under.
    pub(crate) fn intake_revisions(&self, org: OrganisationId) -> Option<IntakeRevisions> {
        self.revisions
            .iter()
            .find(|(o, _, _)| *o == org)
            .map(|(_, _, r)| *r)
    }

    /// The chain head of `org` as this transaction last moved it: (seq, hash).
    pub(crate) fn head(&self, org: OrganisationId) -> Result<(i64, String)> {
        self.heads
            .iter()
            .find(|(o, _, _)| *o == org)
            .map(|(_, seq, hash)| (*seq, hash.clone()))
            .ok_or(StoreError::NotFound)
    }

    /// Moves `org`'s head from `from` to (seq, hash) after events were written in bulk.
    pub(crate) async fn move_head(
        &mut self,
        org: OrganisationId,
        from: i64,
        seq: i64,
        hash: String,
    ) -> Result<()> {
        let moved =
            sqlx::query("update audit_heads set seq = $2, hash = $3 where organisation_id = $1 and seq = $4")
                .bind(org.as_uuid())
                .bind(seq)
                .bind(&hash)
                .bind(from)
                .execute(&mut *self.tx)
                .await?;
        if moved.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                constraint: "audit_heads_seq",
                field: None,
            });
        }
        self.set_head(org, seq, hash);
        Ok(())
    }

    /// Records that this transaction moved `org`'s head to (seq, hash).
    pub(crate) fn set_head(&mut self, org: OrganisationId, seq: i64, hash: String) {
        if let Some(head) = self.heads.iter_mut().find(|(o, _, _)| *o == org) {
            head.1 = seq;
            head.2 = hash;
        }
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Locks `org`'s chain head until the end of the transaction and returns the
    /// organisation's `config_revision`. `NotFound` when the organisation does not exist.
    pub(crate) async fn lock(&mut self, org: OrganisationId) -> Result<i64> {
        // The lexicon and model revisions ride along (two primary-key look-ups) so that a
        // registration can hand them to routing and intake ([`IntakeRevisions`]).
        const LOCK: &str = "select h.seq, h.hash, o.config_revision,
                 (select l.revision from lexicons l where l.organisation_id = h.organisation_id),
                 (select m.version from models m where m.organisation_id = h.organisation_id and m.active)
             from audit_heads h
             join organisations o on o.id = h.organisation_id
             where h.organisation_id = $1 for update of h";
        let mut row = sqlx::query(LOCK)
            .bind(org.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        if row.is_none() {
            // Organisations get their head when created; this covers one that has none.
            sqlx::query(
                "insert into audit_heads (organisation_id, seq, hash)
                 select id, 0, $2 from organisations where id = $1 on conflict do nothing",
            )
            .bind(org.as_uuid())
            .bind(GENESIS)
            .execute(&mut *self.tx)
            .await?;
            row = sqlx::query(LOCK)
                .bind(org.as_uuid())
                .fetch_optional(&mut *self.tx)
                .await?;
        }
        let row = row.ok_or(StoreError::NotFound)?;
        self.heads.retain(|(o, _, _)| *o != org);
        self.heads.push((org, row.get(0), row.get(1)));
        let intake = IntakeRevisions {
            lexicon: row.get::<Option<i64>, _>(3).unwrap_or(0),
            model: row.get::<Option<i32>, _>(4).and_then(|v| u32::try_from(v).ok()),
        };
        self.revisions.retain(|(o, _, _)| *o != org);
        self.revisions.push((org, row.get(2), intake));
        Ok(row.get(2))
    }

    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Commits when `work` succeeded and rolls back when it failed, returning its result.
    ///
    /// The rollback is explicit: a dropped transaction only queues its ROLLBACK for the next
    /// use of the connection, and until then the chain lock would stay held on the server,
    /// stopping every node's writes to the organisation.
    pub(crate) async fn finish<T>(self, work: Result<T>) -> Result<T> {
        match work {
            Ok(v) => {
                self.commit().await?;
                Ok(v)
            }
            Err(e) => {
                if let Err(rb) = self.tx.rollback().await {
                    tracing::warn!(error = %rb, "rollback failed; the connection is dropped");
                }
                Err(e)
            }
        }
    }

    /// Appends an event to its organisation's hash chain in this transaction; returns its seq.
    pub(crate) async fn append(&mut self, vault: &Vault, e: NewEvent<'_>) -> Result<i64> {
        if !self.heads.iter().any(|(o, _, _)| *o == e.organisation_id) {
            self.lock(e.organisation_id).await?;
        }
        let head = self
            .heads
            .iter_mut()
            .find(|(o, _, _)| *o == e.organisation_id)
            .ok_or(StoreError::NotFound)?;
        let (prev_seq, prev_hash) = (head.1, head.2.clone());
        let org = e.organisation_id.to_string();
        let seq = prev_seq + 1;
        let id = EventId::new();
        let id_text = id.to_string();
        let matter_id = e.matter_id.map(|m| m.to_string());
        let (actor_kind, actor_user, actor_name) = match e.actor {
            Actor::Staff(s) => (ActorKind::Staff, Some(s.user_id), Some(s.display_name.clone())),
            Actor::Petitioner => (ActorKind::Petitioner, None, None),
            Actor::System => (ActorKind::System, None, None),
        };
        let actor_user_id = actor_user.map(|u| u.to_string());
        let occurred_at = micros(e.occurred_at);
        let recorded_at = micros(e.recorded_at);
        let (occurred, recorded) = (ts(occurred_at), ts(recorded_at));
        let data = e.data.to_string();
        let hash = audit::event_hash(
            vault.audit_key(),
            &prev_hash,
            &HashedFields {
                organisation_id: &org,
                seq,
                id: &id_text,
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
        // One round trip: the event, and the head moved on from prev_seq (a compare-and-set
        // that the row lock makes certain; it stays as a guard).
        let done = sqlx::query(
            "with e as (
                 insert into events (organisation_id, seq, id, matter_id, kind, actor_kind, actor_user_id,
                     actor_name, occurred_at, recorded_at, reason, before_state, after_state, data, prev_hash, hash)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             )
             update audit_heads set seq = $2, hash = $16 where organisation_id = $1 and seq = $17",
        )
        .bind(e.organisation_id.as_uuid())
        .bind(seq)
        .bind(id.as_uuid())
        .bind(e.matter_id.map(|m| m.as_uuid()))
        .bind(e.kind)
        .bind(actor_kind.code())
        .bind(actor_user.map(|u| u.as_uuid()))
        .bind(&actor_name)
        .bind(occurred_at)
        .bind(recorded_at)
        .bind(e.reason)
        .bind(e.before_state)
        .bind(e.after_state)
        .bind(&data)
        .bind(&prev_hash)
        .bind(&hash)
        .bind(prev_seq)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                constraint: "audit_heads_seq",
                field: None,
            });
        }
        head.1 = seq;
        head.2 = hash;
        Ok(seq)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn create_organisation(&self, name: &str) -> Result<OrganisationId> {
        org::create_organisation(self, name).await.map_err(classify)
    }
    async fn organisations(&self) -> Result<Vec<Organisation>> {
        org::organisations(self).await.map_err(classify)
    }
    async fn create_unit(&self, org: OrganisationId, unit: NewUnit) -> Result<Unit> {
        org::create_unit(self, org, unit).await.map_err(classify)
    }
    async fn units(&self, org: OrganisationId) -> Result<Vec<Unit>> {
        org::units(self, org).await.map_err(classify)
    }
    async fn create_user(&self, org: OrganisationId, user: NewUser) -> Result<User> {
        org::create_user(self, org, user).await.map_err(classify)
    }
    async fn users(&self, org: OrganisationId) -> Result<Vec<User>> {
        org::users(self, org).await.map_err(classify)
    }
    async fn credentials(&self, username: &str) -> Result<Option<Credentials>> {
        org::credentials(self, username).await.map_err(classify)
    }
    async fn staff_actor(&self, org: OrganisationId, user: UserId) -> Result<StaffActor> {
        async {
            let mut conn = self.pool.acquire().await?;
            org::staff_actor(&mut conn, org, user).await
        }
        .await
        .map_err(classify)
    }
    async fn create_session(&self, session: NewSession) -> Result<()> {
        org::create_session(self, session).await.map_err(classify)
    }
    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(StaffActor, String)>> {
        org::session(self, token_hash, now).await.map_err(classify)
    }
    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("delete from sessions where token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(|e| classify(e.into()))?;
        Ok(())
    }
    async fn create_api_token(
        &self,
        org: OrganisationId,
        user: UserId,
        name: &str,
        token_hash: &str,
    ) -> Result<()> {
        org::create_api_token(self, org, user, name, token_hash)
            .await
            .map_err(classify)
    }
    async fn api_token(&self, token_hash: &str) -> Result<Option<StaffActor>> {
        org::api_token(self, token_hash).await.map_err(classify)
    }
    async fn create_category(&self, org: OrganisationId, category: NewCategory) -> Result<Category> {
        org::create_category(self, org, category).await.map_err(classify)
    }
    async fn categories(&self, org: OrganisationId) -> Result<Vec<Category>> {
        org::categories(self, org).await.map_err(classify)
    }
    async fn category_default_unit(
        &self,
        org: OrganisationId,
        category: xinfang_core::ids::CategoryId,
    ) -> Result<Option<xinfang_core::ids::UnitId>> {
        org::category_default_unit(self, org, category)
            .await
            .map_err(classify)
    }
    async fn save_rule_set(
        &self,
        org: OrganisationId,
        rules: RuleSet,
        make_default: bool,
    ) -> Result<RuleSet> {
        org::save_rule_set(self, org, rules, make_default)
            .await
            .map_err(classify)
    }
    async fn rule_sets(&self, org: OrganisationId) -> Result<Vec<StoredRuleSet>> {
        org::rule_sets(self, org).await.map_err(classify)
    }
    async fn default_rule_set(&self, org: OrganisationId) -> Result<RuleSet> {
        async {
            let mut conn = self.pool.acquire().await?;
            org::default_rule_set(&mut conn, org).await
        }
        .await
        .map_err(classify)
    }
    async fn add_calendar_entries(&self, org: OrganisationId, entries: Vec<CalendarEntry>) -> Result<usize> {
        org::add_calendar_entries(self, org, entries)
            .await
            .map_err(classify)
    }
    async fn calendar(&self, org: OrganisationId) -> Result<Calendar> {
        async {
            let mut conn = self.pool.acquire().await?;
            org::calendar(&mut conn, org).await
        }
        .await
        .map_err(classify)
    }
    async fn register_matter(
        &self,
        org: OrganisationId,
        actor: &Actor,
        matter: NewMatter,
    ) -> Result<Registered> {
        matters::register(self, org, actor, matter)
            .await
            .map_err(classify)
    }
    async fn matter(&self, viewer: &StaffActor, id: PetitionId) -> Result<MatterView> {
        matters::get(self, viewer, id).await.map_err(classify)
    }
    async fn list_matters(&self, viewer: &StaffActor, filter: &MatterFilter) -> Result<Page<MatterSummary>> {
        matters::list(self, viewer, filter).await.map_err(classify)
    }
    async fn timeline(&self, viewer: &StaffActor, id: PetitionId) -> Result<Vec<EventRecord>> {
        matters::timeline(self, viewer, id).await.map_err(classify)
    }
    async fn transition(
        &self,
        viewer: &StaffActor,
        id: PetitionId,
        cmd: Command,
        occurred_at: Option<DateTime<Utc>>,
    ) -> Result<MatterView> {
        matters::transition(self, viewer, id, cmd, occurred_at)
            .await
            .map_err(classify)
    }
    async fn reveal_petitioners(
        &self,
        viewer: &StaffActor,
        id: PetitionId,
    ) -> Result<Vec<RevealedPetitioner>> {
        matters::reveal(self, viewer, id).await.map_err(classify)
    }
    async fn petitioner_matters(&self, viewer: &StaffActor, id: PetitionerId) -> Result<Vec<MatterSummary>> {
        matters::petitioner_matters(self, viewer, id)
            .await
            .map_err(classify)
    }
    async fn track(&self, code: &str, secret: &str) -> Result<PublicTrack> {
        matters::track(self, code, secret).await.map_err(classify)
    }
    async fn public_transition(&self, code: &str, secret: &str, cmd: Command) -> Result<PublicTrack> {
        matters::public_transition(self, code, secret, cmd)
            .await
            .map_err(classify)
    }
    async fn tidy_search_index(&self) -> Result<u64> {
        search::tidy_index(self).await.map_err(classify)
    }
    async fn scan_deadlines(&self, org: OrganisationId, limit: u32) -> Result<ScanOutcome> {
        background::scan_deadlines(self, org, limit)
            .await
            .map_err(classify)
    }
    async fn claim_job(
        &self,
        org: OrganisationId,
        name: &str,
        node: &str,
        next_run_at: DateTime<Utc>,
    ) -> Result<bool> {
        background::claim_job(self, org, name, node, next_run_at)
            .await
            .map_err(classify)
    }
    async fn finish_job(&self, org: OrganisationId, name: &str, result: &str) -> Result<()> {
        background::finish_job(self, org, name, result)
            .await
            .map_err(classify)
    }
    async fn jobs(&self, org: OrganisationId) -> Result<Vec<JobStatus>> {
        background::jobs(self, org).await.map_err(classify)
    }
    async fn reminders(&self, viewer: &StaffActor, filter: ReminderFilter) -> Result<Vec<Reminder>> {
        background::reminders(self, viewer, filter)
            .await
            .map_err(classify)
    }
    async fn acknowledge_reminder(&self, viewer: &StaffActor, id: ReminderId) -> Result<Reminder> {
        background::acknowledge_reminder(self, viewer, id)
            .await
            .map_err(classify)
    }
    async fn deadline_lines(&self, org: OrganisationId, now: DateTime<Utc>) -> Result<Vec<UnitDeadlineLine>> {
        background::deadline_lines(self, org, now).await.map_err(classify)
    }
    async fn period_counts(
        &self,
        org: OrganisationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        background::period_counts(self, org, from, to)
            .await
            .map_err(classify)
    }
    async fn save_report(&self, org: OrganisationId, report: NewReport) -> Result<bool> {
        background::save_report(self, org, report).await.map_err(classify)
    }
    async fn reports(&self, org: OrganisationId, kind: Option<&str>, limit: u32) -> Result<Vec<Report>> {
        background::reports(self, org, kind, limit)
            .await
            .map_err(classify)
    }
    async fn rate_limit_hit(&self, key: &str, window: chrono::Duration, now: DateTime<Utc>) -> Result<u32> {
        background::rate_limit_hit(self, key, window, now)
            .await
            .map_err(classify)
    }
    async fn rate_limit_count(&self, key: &str, window: chrono::Duration, now: DateTime<Utc>) -> Result<u32> {
        background::rate_limit_count(self, key, window, now)
            .await
            .map_err(classify)
    }
    async fn rate_limit_clear(&self, key: &str) -> Result<()> {
        background::rate_limit_clear(self, key).await.map_err(classify)
    }
    async fn save_model(&self, org: OrganisationId, by: &Actor, model: NewModel) -> Result<StoredModel> {
        routing::save_model(self, org, by, model).await.map_err(classify)
    }
    async fn models(&self, org: OrganisationId) -> Result<Vec<StoredModel>> {
        routing::models(self, org).await.map_err(classify)
    }
    async fn active_model(&self, org: OrganisationId) -> Result<Option<(u32, Vec<u8>)>> {
        routing::active_model(self, org).await.map_err(classify)
    }
    async fn active_model_version(&self, org: OrganisationId) -> Result<Option<u32>> {
        routing::active_model_version(self, org).await.map_err(classify)
    }
    async fn activate_model(&self, org: OrganisationId, by: &Actor, version: u32) -> Result<StoredModel> {
        routing::activate_model(self, org, by, version)
            .await
            .map_err(classify)
    }
    async fn add_training_examples(
        &self,
        org: OrganisationId,
        by: &Actor,
        examples: Vec<TrainingExample>,
    ) -> Result<usize> {
        routing::add_training_examples(self, org, by, examples)
            .await
            .map_err(classify)
    }
    async fn training_examples(&self, org: OrganisationId, limit: u32) -> Result<Vec<TrainingExample>> {
        routing::training_examples(self, org, limit)
            .await
            .map_err(classify)
    }
    async fn routing_config(&self, org: OrganisationId) -> Result<RoutingConfig> {
        routing::routing_config(self, org).await.map_err(classify)
    }
    async fn save_routing_config(
        &self,
        org: OrganisationId,
        by: &Actor,
        config: RoutingConfig,
    ) -> Result<RoutingConfig> {
        routing::save_routing_config(self, org, by, config)
            .await
            .map_err(classify)
    }
    async fn record_suggestion(&self, org: OrganisationId, suggestion: MatterSuggestion) -> Result<()> {
        routing::record_suggestion(self, org, suggestion)
            .await
            .map_err(classify)
    }
    async fn suggestion(&self, viewer: &StaffActor, id: PetitionId) -> Result<Option<MatterSuggestion>> {
        routing::suggestion(self, viewer, id).await.map_err(classify)
    }
    async fn triage_queue(
        &self,
        viewer: &StaffActor,
        route: xinfang_core::routing::Route,
        limit: u32,
    ) -> Result<Vec<QueuedMatter>> {
        routing::triage_queue(self, viewer, route, limit)
            .await
            .map_err(classify)
    }
    async fn user_dictionary(&self, org: OrganisationId) -> Result<String> {
        routing::user_dictionary(self, org).await.map_err(classify)
    }
    async fn save_user_dictionary(&self, org: OrganisationId, text: &str, by: &Actor) -> Result<()> {
        routing::save_user_dictionary(self, org, text, by)
            .await
            .map_err(classify)
    }
    async fn hotspot_sources(
        &self,
        viewer: &StaffActor,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<HotspotSource>> {
        analytics::hotspot_sources(self, viewer, from, to, limit)
            .await
            .map_err(classify)
    }
    async fn intake_subject(&self, org: OrganisationId, id: PetitionId) -> Result<IntakeSubject> {
        intake::subject(self, org, id).await.map_err(classify)
    }
    async fn matters_without_intake(
        &self,
        org: OrganisationId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PetitionId>> {
        intake::without_intake(self, org, now, limit)
            .await
            .map_err(classify)
    }
    async fn record_intake_failure(
        &self,
        org: OrganisationId,
        id: PetitionId,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        intake::record_failure(self, org, id, error, now)
            .await
            .map_err(classify)
    }
    async fn record_intake(&self, org: OrganisationId, id: PetitionId, record: IntakeRecord) -> Result<()> {
        intake_records::record(self, org, id, record)
            .await
            .map_err(classify)
    }
    async fn signatures_since(&self, after: i64, also: &[i64], limit: u32) -> Result<Vec<StoredSignature>> {
        intake::signatures_since(self, after, also, limit)
            .await
            .map_err(classify)
    }
    async fn dedup_candidates(
        &self,
        org: OrganisationId,
        signature: &xinfang_nlp::dedup::Signature,
        min_similarity: f32,
        among: &[PetitionId],
    ) -> Result<Vec<DedupCandidate>> {
        intake::candidates(self, org, signature, min_similarity, among)
            .await
            .map_err(classify)
    }
    async fn links(&self, viewer: &StaffActor, id: PetitionId) -> Result<Vec<MatterLink>> {
        intake::links(self, viewer, id).await.map_err(classify)
    }
    async fn triage(&self, viewer: &StaffActor, id: PetitionId) -> Result<Option<StoredTriage>> {
        intake::triage(self, viewer, id).await.map_err(classify)
    }
    async fn raise_safety_alert(
        &self,
        org: OrganisationId,
        id: PetitionId,
        alerts: &[xinfang_nlp::triage::Alert],
    ) -> Result<Option<ReminderId>> {
        intake::raise_safety_alert(self, org, id, alerts)
            .await
            .map_err(classify)
    }
    async fn repeat_counts(
        &self,
        org: OrganisationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<RepeatCounts> {
        intake::repeat_counts(self, org, from, to).await.map_err(classify)
    }
    async fn lexicon(&self, org: OrganisationId) -> Result<Option<StoredLexicon>> {
        intake::lexicon(self, org).await.map_err(classify)
    }
    async fn lexicon_revision(&self, org: OrganisationId) -> Result<i64> {
        intake::lexicon_revision(self, org).await.map_err(classify)
    }
    async fn save_lexicon(
        &self,
        org: OrganisationId,
        by: &Actor,
        lexicon: &xinfang_nlp::triage::Lexicon,
    ) -> Result<StoredLexicon> {
        intake::save_lexicon(self, org, by, lexicon)
            .await
            .map_err(classify)
    }
    async fn settings_history(&self, org: OrganisationId, limit: u32) -> Result<Vec<EventRecord>> {
        matters::settings_history(self, org, limit)
            .await
            .map_err(classify)
    }
    async fn verify_audit(&self) -> Result<ChainReport> {
        verify_audit(&self.pool, &self.vault).await.map_err(classify)
    }
    async fn backup(&self, path: &Path) -> Result<()> {
        backup(self, path).await.map_err(classify)
    }
    async fn ping(&self) -> Result<()> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map_err(|e| classify(e.into()))?;
        Ok(())
    }
    async fn bulk_loader(&self, org: OrganisationId) -> Result<Box<dyn crate::bulk::BulkLoad>> {
        self.open_bulk_loader(org).await
    }
}

/// Finds an executable on `PATH`.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// How to back up PostgreSQL when this process cannot do it itself.
const BACKUP_HELP: &str = "back up PostgreSQL with pg_dump (pg_dump --format=custom --file=FILE DBNAME, \
     restore into an empty database with pg_restore --dbname=DBNAME FILE), or with your server's \
     base backups and WAL archiving; keep the key file with every copy";

/// Runs `pg_dump` (custom format) of the store's schema into `path`, a consistent snapshot
/// taken while the database stays in use.
async fn backup(s: &PgStore, path: &Path) -> Result<()> {
    if path.exists() {
        return Err(StoreError::Invalid {
            field: "out",
            message: format!("{} already exists", path.display()),
        });
    }
    let Some(pg_dump) = on_path("pg_dump") else {
        return Err(StoreError::Invalid {
            field: "out",
            message: format!("pg_dump is not on PATH: {BACKUP_HELP}"),
        });
    };
    let out = tokio::process::Command::new(pg_dump)
        .arg("--format=custom")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg(format!("--schema={}", s.schema))
        .arg("--file")
        .arg(path)
        .envs(s.dump.env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| StoreError::Invalid {
            field: "out",
            message: format!("could not run pg_dump ({e}): {BACKUP_HELP}"),
        })?;
    if !out.status.success() {
        let _ = std::fs::remove_file(path);
        return Err(StoreError::Unavailable(format!(
            "pg_dump failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

async fn verify_audit(pool: &PgPool, vault: &Vault) -> Result<ChainReport> {
    let orgs: Vec<Uuid> = sqlx::query_scalar("select id from organisations order by id")
        .fetch_all(pool)
        .await?;
    let mut report = ChainReport {
        organisations: orgs.len(),
        events: 0,
        broken: None,
    };
    for org_uuid in orgs {
        // One snapshot for the whole chain and its head: read statement by statement, an
        // append committed between the last page of events and the head would look like
        // events cut off at the end, on a server that is running.
        let mut tx = pool.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        let org_id = OrganisationId::from_uuid(org_uuid);
        let org = org_id.to_string();
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
                 from events where organisation_id = $1 and seq > $2 order by seq limit 5000",
            )
            .bind(org_uuid)
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let seq: i64 = r.get("seq");
                let id = r.get::<Uuid, _>("id").to_string();
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
                let uuid_text = |col: &str| r.get::<Option<Uuid>, _>(col).map(|u| u.to_string());
                let matter_id = uuid_text("matter_id");
                let actor_user_id = uuid_text("actor_user_id");
                let occurred = ts(r.get("occurred_at"));
                let recorded = ts(r.get("recorded_at"));
                let computed = audit::event_hash(
                    vault.audit_key(),
                    &prev_hash,
                    &HashedFields {
                        organisation_id: &org,
                        seq,
                        id: &id,
                        matter_id: matter_id.as_deref(),
                        kind: r.get("kind"),
                        actor_kind: r.get("actor_kind"),
                        actor_user_id: actor_user_id.as_deref(),
                        actor_name: r.get("actor_name"),
                        occurred_at: &occurred,
                        recorded_at: &recorded,
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
        let head = sqlx::query("select seq, hash from audit_heads where organisation_id = $1")
            .bind(org_uuid)
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
/// organisation; every node must share it). A database from before the check learns its key
/// now, after one of its ciphertexts proves the key right; two nodes doing so at once insert
/// the same row.
async fn check_key(pool: &PgPool, vault: &Vault) -> Result<()> {
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
            sqlx::query("insert into key_check (id, mac) values (1, $1) on conflict do nothing")
                .bind(&expected)
                .execute(pool)
                .await?;
            let stored: String = sqlx::query_scalar("select mac from key_check where id = 1")
                .fetch_one(pool)
                .await?;
            if stored == expected {
                Ok(())
            } else {
                Err(crate::shared::wrong_key())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the connection's `plan_cache_mode` is now.
    async fn plan_mode<'c>(conn: impl sqlx::PgExecutor<'c>) -> String {
        sqlx::query_scalar("select current_setting('plan_cache_mode')")
            .fetch_one(conn)
            .await
            .expect("plan_cache_mode")
    }

    /// The keyed pool's sessions plan once; the main pool's sessions keep PostgreSQL's own
    /// choice, which searches and lists depend on.
    #[tokio::test]
    async fn only_keyed_lookups_use_generic_plans() {
        let Some(url) = testing::test_url() else {
            return;
        };
        let schema = testing::TestSchema::new(&url);
        let store = schema
            .store(
                crate::Vault::from_base64(&crate::Vault::generate_key()).expect("key"),
                Arc::new(xinfang_core::clock::SystemClock),
            )
            .await
            .expect("store");
        assert_eq!(plan_mode(&store.keyed).await, "force_generic_plan");
        assert_eq!(plan_mode(&store.pool).await, "auto");
        // The keyed pool's sessions see the store's schema too.
        let signatures: i64 = sqlx::query_scalar("select count(*) from matter_signatures")
            .fetch_one(&store.keyed)
            .await
            .expect("the signatures, through the keyed pool");
        assert_eq!(signatures, 0);
    }

    #[test]
    fn a_node_keeps_to_its_connections() {
        assert_eq!(split_connections(16), (14, 2));
        assert_eq!(split_connections(4), (3, 1));
        assert_eq!(split_connections(2), (1, 1));
        // One allowed: one each (the main pool cannot do without one).
        assert_eq!(split_connections(1), (1, 1));
        assert_eq!(split_connections(0), (1, 1));
    }
}
