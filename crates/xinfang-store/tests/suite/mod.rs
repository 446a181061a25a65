//! The shared fixture of the store story tests: the backends the stories run against, and an
//! airport group with a petition office, two units and one person for every role.
//!
//! Stories only ever see an `Arc<dyn Store>`. What cannot go through the trait — reading the
//! database's files as an attacker would, editing them behind the store's back, opening a
//! backup — is a method of [`Backend`] that each engine implements its own way, so adding
//! PostgreSQL means adding an arm to [`Engine`] and an entry to [`backends`], not touching a
//! story.

#![allow(dead_code)] // Each story uses part of the fixture.

use chrono::{DateTime, TimeZone, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{PgPool, Row};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tempfile::TempDir;
use xinfang_core::clock::{FixedClock, china_offset};
use xinfang_core::ids::{OrganisationId, PetitionId};
use xinfang_core::lifecycle::Command;
use xinfang_core::matter::{Channel, PetitionType, Urgency};
use xinfang_core::org::{Role, RoleGrant, StaffActor, UnitKind};
use xinfang_core::petitioner::{DocumentKind, IdDocument, PhoneNumber, gb11643_check_char};
use xinfang_core::text::{Content, PersonName, Title};
use xinfang_store::postgres::testing::{self, TestSchema};
use xinfang_store::sqlite::SqliteOptions;
use xinfang_store::{
    Category, MatterView, NewCategory, NewMatter, NewPetitioner, NewUnit, NewUser, Registered, SqliteStore,
    Store, StoreError, Unit, Vault,
};

/// An instant given in Shanghai local time.
pub fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    china_offset()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid test instant")
        .with_timezone(&Utc)
}

/// Where every story starts: Wednesday 2025-06-11, 09:00 in Shanghai.
pub fn t0() -> DateTime<Utc> {
    sh(2025, 6, 11, 9, 0)
}

/// The petitioner of most stories, and the numbers that must never be stored in the clear.
pub const PHONE: &str = "13812345678";
pub const PHONE_MASKED: &str = "138****5678";
pub const ADDRESS: &str = "上海市浦东新区机场镇迎宾大道6000号";

/// A valid resident ID number (GB 11643 check digit computed, not typed).
pub fn id_number() -> String {
    let first17 = "31011519850307123";
    let check = gb11643_check_char(first17).expect("17 digits");
    format!("{first17}{check}")
}

/// One database engine under test, with a fresh, migrated database.
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    /// The store's clock: stories move it instead of sleeping.
    pub clock: Arc<FixedClock>,
    /// Scratch space (backups), removed with the backend.
    pub dir: TempDir,
    engine: Engine,
}

/// What a story may do to a database behind the store's back.
pub enum Tamper {
    /// Rewrites when an event happened (a late reply made to look on time).
    RewriteOccurredAt {
        organisation: OrganisationId,
        seq: i64,
        occurred_at: DateTime<Utc>,
    },
    /// Removes one event.
    DeleteEvent { organisation: OrganisationId, seq: i64 },
}

enum Engine {
    Sqlite {
        path: PathBuf,
        key: String,
    },
    Postgres {
        schema: TestSchema,
        key: String,
        /// Databases made to restore backups into, dropped with the backend.
        restored: Mutex<Vec<RestoredDatabase>>,
    },
}

/// Every backend the stories run against, each with a fresh database: SQLite on a temporary
/// file, and PostgreSQL in a schema of its own when `XINFANG_TEST_POSTGRES_URL` names a
/// server (otherwise one line says those runs are skipped).
pub async fn backends() -> Vec<Backend> {
    let mut out = vec![sqlite().await];
    if let Some(url) = testing::test_url() {
        out.push(postgres(&url).await);
    }
    out
}

async fn postgres(url: &str) -> Backend {
    let dir = tempfile::tempdir().expect("temporary directory");
    let key = Vault::generate_key();
    let clock = Arc::new(FixedClock::new(t0()));
    let schema = TestSchema::new(url);
    let vault = Vault::from_base64(&key).expect("a generated key is valid");
    let store = schema
        .store(vault, clock.clone())
        .await
        .unwrap_or_else(|e| panic!("open the PostgreSQL store at {url}: {e}"));
    Backend {
        name: "postgres",
        store: Arc::new(store),
        clock,
        dir,
        engine: Engine::Postgres {
            schema,
            key,
            restored: Mutex::new(Vec::new()),
        },
    }
}

/// A database created to restore a backup into; dropped when the backend is.
struct RestoredDatabase {
    /// The URL of the server's maintenance connection (the test database).
    admin_url: String,
    name: String,
}

impl Drop for RestoredDatabase {
    fn drop(&mut self) {
        let sql = format!("drop database if exists {} with (force)", self.name);
        if let Err(e) = testing::execute_blocking(&self.admin_url, &sql) {
            eprintln!("warning: could not drop {}: {e}", self.name);
        }
    }
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let mut u = url::Url::parse(url).expect("a valid PostgreSQL URL");
    u.set_path(&format!("/{database}"));
    u.to_string()
}

/// Runs `f` to completion on a runtime of its own, on a thread of its own: for the synchronous
/// fixture methods that need the database.
fn block_on_side<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(f)
    })
    .join()
    .expect("the side thread finished")
}

/// A connection pool straight into a test schema, around the store.
async fn direct(schema: &TestSchema) -> PgPool {
    let options: sqlx::postgres::PgConnectOptions = schema.url().parse().expect("a valid URL");
    PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.options([("search_path", schema.name())]))
        .await
        .expect("connect to the test schema directly")
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("xinfang.db");
    let key = Vault::generate_key();
    let clock = Arc::new(FixedClock::new(t0()));
    let store = open_sqlite(&path, &key, clock.clone()).await;
    Backend {
        name: "sqlite",
        store,
        clock,
        dir,
        engine: Engine::Sqlite { path, key },
    }
}

async fn open_sqlite(path: &Path, key: &str, clock: Arc<FixedClock>) -> Arc<dyn Store> {
    let vault = Vault::from_base64(key).expect("a generated key is valid");
    let store = SqliteStore::connect(
        &format!("sqlite://{}", path.display()),
        vault,
        clock,
        SqliteOptions::default(),
    )
    .await
    .expect("open the SQLite store");
    Arc::new(store)
}

impl Backend {
    /// Opens the same database again, as a second node would, with the key `key`.
    pub async fn reopen_with_key(&self, key: &str) -> Result<Arc<dyn Store>, StoreError> {
        let vault = Vault::from_base64(key).expect("a valid key");
        match &self.engine {
            Engine::Sqlite { path, .. } => SqliteStore::connect(
                &format!("sqlite://{}", path.display()),
                vault,
                self.clock.clone(),
                SqliteOptions::default(),
            )
            .await
            .map(|s| Arc::new(s) as Arc<dyn Store>),
            Engine::Postgres { schema, .. } => schema
                .store(vault, self.clock.clone())
                .await
                .map(|s| Arc::new(s) as Arc<dyn Store>),
        }
    }

    /// The key the backend was created with.
    pub fn key(&self) -> String {
        match &self.engine {
            Engine::Sqlite { key, .. } | Engine::Postgres { key, .. } => key.clone(),
        }
    }

    /// The store's key (what a bulk load encrypts and seals with).
    pub fn vault(&self) -> Vault {
        let key = match &self.engine {
            Engine::Sqlite { key, .. } | Engine::Postgres { key, .. } => key,
        };
        Vault::from_base64(key).expect("the backend's key is valid")
    }

    /// A path for a file the store writes (a backup), inside the backend's scratch space.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Opens a backup written by [`Store::backup`] as a store of its own (same key, same clock).
    pub async fn restore(&self, backup: &Path) -> Arc<dyn Store> {
        match &self.engine {
            Engine::Sqlite { key, .. } => open_sqlite(backup, key, self.clock.clone()).await,
            Engine::Postgres {
                schema,
                key,
                restored,
            } => {
                // pg_dump keeps the schema's name, so the copy goes into a database of its own.
                let name = format!("xinfang_test_restore_{}", uuid::Uuid::now_v7().simple());
                testing::execute_blocking(schema.url(), &format!("create database {name}"))
                    .expect("create a database to restore into");
                let db = RestoredDatabase {
                    admin_url: schema.url().to_string(),
                    name: name.clone(),
                };
                let url = with_database(schema.url(), &name);
                restored.lock().expect("not poisoned").push(db);
                let out = tokio::process::Command::new("pg_restore")
                    .arg("--exit-on-error")
                    .arg("--no-owner")
                    .arg(format!("--dbname={url}"))
                    .arg(backup)
                    .output()
                    .await
                    .expect("run pg_restore (is it on PATH?)");
                assert!(
                    out.status.success(),
                    "pg_restore failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let store = xinfang_store::PgStore::connect(
                    &url,
                    Vault::from_base64(key).expect("valid key"),
                    self.clock.clone(),
                    xinfang_store::postgres::PgOptions {
                        max_connections: 2,
                        schema: Some(schema.name().to_string()),
                        ..Default::default()
                    },
                )
                .await
                .expect("open the restored database");
                Arc::new(store)
            }
        }
    }

    /// Everything the engine has written to disk for this database, by file name: what an
    /// attacker who copies the data directory gets.
    pub fn raw_files(&self) -> Vec<(String, Vec<u8>)> {
        match &self.engine {
            Engine::Sqlite { path, .. } => {
                let mut out = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let p = PathBuf::from(format!("{}{suffix}", path.display()));
                    if let Ok(bytes) = std::fs::read(&p) {
                        out.push((p.display().to_string(), bytes));
                    }
                }
                assert!(!out.is_empty(), "the database file exists");
                out
            }
            Engine::Postgres { schema, .. } => {
                // The files of every table, index and TOAST table of the schema, read by the
                // server itself after a checkpoint has flushed them (needs a superuser, as the
                // tests' `postgres` is). The WAL is left out: it is shared with every other
                // database on the server, and holds the same tuples as these files.
                let (url, name) = (schema.url().to_string(), schema.name().to_string());
                block_on_side(async move {
                    use sqlx::Connection;
                    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
                    sqlx::query("checkpoint")
                        .execute(&mut conn)
                        .await
                        .expect("checkpoint (the test role must be a superuser)");
                    let rows = sqlx::query(
                        "with rels as (
                             select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
                             where n.nspname = $1 and c.relkind in ('r', 'i', 'm')
                             union all
                             select c.reltoastrelid from pg_class c join pg_namespace n on n.oid = c.relnamespace
                             where n.nspname = $1 and c.reltoastrelid <> 0
                             union all
                             select i.indexrelid from pg_index i
                             join pg_class c on c.reltoastrelid = i.indrelid
                             join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1
                         )
                         select pg_relation_filepath(oid) as path, pg_read_binary_file(pg_relation_filepath(oid)) as bytes
                         from rels",
                    )
                    .bind(&name)
                    .fetch_all(&mut conn)
                    .await
                    .expect("read the relation files (the test role must be a superuser)");
                    let out: Vec<(String, Vec<u8>)> =
                        rows.iter().map(|r| (r.get("path"), r.get("bytes"))).collect();
                    assert!(
                        out.iter().any(|(_, b)| !b.is_empty()),
                        "the schema's files hold data"
                    );
                    out
                })
            }
        }
    }

    /// Edits the events table directly, as someone with access to the database file would:
    /// first removing the triggers that make the table append-only.
    pub async fn tamper(&self, t: Tamper) {
        match &self.engine {
            Engine::Sqlite { path, .. } => {
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(SqliteConnectOptions::new().filename(path))
                    .await
                    .expect("open the file directly");
                match t {
                    Tamper::RewriteOccurredAt {
                        organisation,
                        seq,
                        occurred_at,
                    } => {
                        sqlx::query("drop trigger if exists events_no_update")
                            .execute(&pool)
                            .await
                            .expect("drop the update trigger");
                        let done = sqlx::query(
                            "update events set occurred_at = ? where organisation_id = ? and seq = ?",
                        )
                        .bind(occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
                        .bind(organisation.to_string())
                        .bind(seq)
                        .execute(&pool)
                        .await
                        .expect("rewrite the event");
                        assert_eq!(done.rows_affected(), 1, "the event to tamper with exists");
                    }
                    Tamper::DeleteEvent { organisation, seq } => {
                        sqlx::query("drop trigger if exists events_no_delete")
                            .execute(&pool)
                            .await
                            .expect("drop the delete trigger");
                        let done = sqlx::query("delete from events where organisation_id = ? and seq = ?")
                            .bind(organisation.to_string())
                            .bind(seq)
                            .execute(&pool)
                            .await
                            .expect("delete the event");
                        assert_eq!(done.rows_affected(), 1, "the event to delete exists");
                    }
                }
                pool.close().await;
            }
            Engine::Postgres { schema, .. } => {
                let pool = direct(schema).await;
                match t {
                    Tamper::RewriteOccurredAt {
                        organisation,
                        seq,
                        occurred_at,
                    } => {
                        sqlx::query("drop trigger if exists events_no_update on events")
                            .execute(&pool)
                            .await
                            .expect("drop the update trigger");
                        let done = sqlx::query(
                            "update events set occurred_at = $1 where organisation_id = $2 and seq = $3",
                        )
                        .bind(occurred_at)
                        .bind(organisation.as_uuid())
                        .bind(seq)
                        .execute(&pool)
                        .await
                        .expect("rewrite the event");
                        assert_eq!(done.rows_affected(), 1, "the event to tamper with exists");
                    }
                    Tamper::DeleteEvent { organisation, seq } => {
                        sqlx::query("drop trigger if exists events_no_delete on events")
                            .execute(&pool)
                            .await
                            .expect("drop the delete trigger");
                        let done = sqlx::query("delete from events where organisation_id = $1 and seq = $2")
                            .bind(organisation.as_uuid())
                            .bind(seq)
                            .execute(&pool)
                            .await
                            .expect("delete the event");
                        assert_eq!(done.rows_affected(), 1, "the event to delete exists");
                    }
                }
                pool.close().await;
            }
        }
    }

    /// On PostgreSQL, begins a transaction that stores `signature` for matter `id` (taking a
    /// signature-log position) and does not commit until the returned transaction is: a slow
    /// intake on another node. `None` on SQLite, where one writer commits positions in order.
    pub async fn held_signature_write(
        &self,
        org: OrganisationId,
        id: PetitionId,
        signature: &[u8],
    ) -> Option<sqlx::Transaction<'static, sqlx::Postgres>> {
        let Engine::Postgres { schema, .. } = &self.engine else {
            return None;
        };
        let pool = direct(schema).await;
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(
            "insert into matter_signatures (organisation_id, matter_id, version, signature, created_at)
             values ($1, $2, $3, $4, now())",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(i16::try_from(xinfang_nlp::dedup::SIGNATURE_VERSION).expect("small"))
        .bind(signature)
        .execute(&mut *tx)
        .await
        .expect("write the signature");
        Some(tx)
    }

    /// Leaves a gap of `gap` seqs before the next matter, as the matters of other
    /// organisations sharing the database would: on PostgreSQL a search looks for its newest
    /// matches in windows of seqs (postgres/search.rs), which a story can thus spread over many
    /// windows with few matters. Nothing on SQLite, whose searches do not depend on seqs
    /// (there a seq is the rowid, one more than the last).
    pub async fn skip_seqs(&self, gap: i64) {
        let Engine::Postgres { schema, .. } = &self.engine else {
            return;
        };
        sqlx::query(
            "select setval(pg_get_serial_sequence('matters', 'seq'),
                           nextval(pg_get_serial_sequence('matters', 'seq')) + $1)",
        )
        .bind(gap)
        .execute(&direct(schema).await)
        .await
        .expect("move the matters' seq on");
    }

    /// How PostgreSQL stores a matter's search vector: its compression method (`None`:
    /// uncompressed), its stored size in bytes, and the bytes of the search table's TOAST
    /// table (vectors moved out of their rows). `None` on SQLite, whose FTS5 keeps neither.
    pub async fn search_vector_storage(&self, matter: PetitionId) -> Option<(Option<String>, i32, i64)> {
        let Engine::Postgres { schema, .. } = &self.engine else {
            return None;
        };
        let row: (Option<String>, i32, i64) = sqlx::query_as(
            "select pg_column_compression(ms.search), pg_column_size(ms.search),
                    pg_relation_size(c.reltoastrelid)
             from matter_search ms, pg_class c
             where ms.matter_id = $1::uuid and c.oid = 'matter_search'::regclass",
        )
        .bind(matter.to_string())
        .fetch_one(&direct(schema).await)
        .await
        .expect("the search vector's storage");
        Some(row)
    }

    /// Whether the events table still refuses an in-place edit (the store's own guard).
    pub async fn events_refuse_updates(&self) -> bool {
        match &self.engine {
            Engine::Sqlite { path, .. } => {
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(SqliteConnectOptions::new().filename(path))
                    .await
                    .expect("open the file directly");
                let refused = sqlx::query("update events set reason = 'x' where seq = 1")
                    .execute(&pool)
                    .await
                    .is_err();
                let delete_refused = sqlx::query("delete from events where seq = 1")
                    .execute(&pool)
                    .await
                    .is_err();
                pool.close().await;
                refused && delete_refused
            }
            Engine::Postgres { schema, .. } => {
                let pool = direct(schema).await;
                let refused = sqlx::query("update events set reason = 'x' where seq = 1")
                    .execute(&pool)
                    .await
                    .is_err();
                let delete_refused = sqlx::query("delete from events where seq = 1")
                    .execute(&pool)
                    .await
                    .is_err();
                let truncate_refused = sqlx::query("truncate events").execute(&pool).await.is_err();
                pool.close().await;
                refused && delete_refused && truncate_refused
            }
        }
    }
}

/// An airport group as the petition office sees it.
pub struct Org {
    pub id: OrganisationId,
    pub group: Unit,
    pub office: Unit,
    /// 地面交通中心: the lead unit of most stories.
    pub unit_a: Unit,
    /// 航站楼管理部.
    pub unit_b: Unit,
    pub clerk: StaffActor,
    pub supervisor: StaffActor,
    pub handler_a: StaffActor,
    pub head_a: StaffActor,
    pub handler_b: StaffActor,
    pub leader: StaffActor,
    pub admin: StaffActor,
    pub analyst: StaffActor,
    /// 交通接驳 / 机场大巴班次, handled by unit A by default.
    pub category: Category,
}

/// A password hash as the server would store it (the store never sees passwords).
pub const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

impl Org {
    /// Creates the organisation; `prefix` keeps usernames unique across organisations.
    pub async fn create(store: &dyn Store, name: &str, prefix: &str) -> Org {
        let id = store.create_organisation(name).await.expect("organisation");
        let unit = |name: &str, parent: Option<&Unit>, kind, office| NewUnit {
            name: name.to_string(),
            parent_id: parent.map(|p| p.id),
            kind,
            petition_office: office,
        };
        let group = store
            .create_unit(id, unit(name, None, UnitKind::Group, false))
            .await
            .expect("group");
        let office = store
            .create_unit(id, unit("信访办", Some(&group), UnitKind::Department, true))
            .await
            .expect("office");
        let unit_a = store
            .create_unit(
                id,
                unit("地面交通中心", Some(&group), UnitKind::Subsidiary, false),
            )
            .await
            .expect("unit A");
        let unit_b = store
            .create_unit(
                id,
                unit("航站楼管理部", Some(&group), UnitKind::Department, false),
            )
            .await
            .expect("unit B");
        let user = async |login: &str, display: &str, grants: &[(Role, &Unit)]| -> StaffActor {
            let u = store
                .create_user(
                    id,
                    NewUser {
                        username: format!("{prefix}.{login}"),
                        display_name: display.to_string(),
                        password_hash: PASSWORD_HASH.to_string(),
                        grants: grants
                            .iter()
                            .map(|(role, unit)| RoleGrant {
                                role: *role,
                                unit_id: unit.id,
                            })
                            .collect(),
                    },
                )
                .await
                .expect("user");
            store.staff_actor(id, u.id).await.expect("actor")
        };
        let clerk = user("clerk", "王登记", &[(Role::Clerk, &office)]).await;
        let supervisor = user("supervisor", "李督办", &[(Role::Supervisor, &office)]).await;
        let handler_a = user("handler_a", "张承办", &[(Role::Handler, &unit_a)]).await;
        let head_a = user("head_a", "赵主任", &[(Role::UnitHead, &unit_a)]).await;
        let handler_b = user("handler_b", "陈承办", &[(Role::Handler, &unit_b)]).await;
        let leader = user("leader", "刘书记", &[(Role::Leader, &group)]).await;
        let admin = user("admin", "系统管理员", &[(Role::Admin, &office)]).await;
        let analyst = user("analyst", "孙分析", &[(Role::Analyst, &group)]).await;
        let parent = store
            .create_category(
                id,
                NewCategory {
                    parent_id: None,
                    name: "交通接驳".to_string(),
                    default_unit_id: None,
                    petition_type: None,
                },
            )
            .await
            .expect("category");
        let category = store
            .create_category(
                id,
                NewCategory {
                    parent_id: Some(parent.id),
                    name: "机场大巴班次".to_string(),
                    default_unit_id: Some(unit_a.id),
                    petition_type: Some(PetitionType::Appeal),
                },
            )
            .await
            .expect("sub-category");
        Org {
            id,
            group,
            office,
            unit_a,
            unit_b,
            clerk,
            supervisor,
            handler_a,
            head_a,
            handler_b,
            leader,
            admin,
            analyst,
            category,
        }
    }

    /// The handler of a unit of this organisation.
    pub fn handler_of(&self, unit: &Unit) -> &StaffActor {
        if unit.id == self.unit_a.id {
            &self.handler_a
        } else {
            &self.handler_b
        }
    }

    /// Registers as the clerk of the petition office.
    pub async fn register(&self, store: &dyn Store, m: NewMatter) -> Registered {
        store
            .register_matter(self.id, &xinfang_core::org::Actor::Staff(self.clerk.clone()), m)
            .await
            .expect("registered")
    }

    /// Moves a matter as `actor`, now; panics with the refusal otherwise.
    pub async fn step(
        &self,
        store: &dyn Store,
        actor: &StaffActor,
        id: PetitionId,
        cmd: Command,
    ) -> MatterView {
        let what = format!("{cmd:?}");
        store
            .transition(actor, id, cmd, None)
            .await
            .unwrap_or_else(|e| panic!("{what} by {}: {e}", actor.display_name))
    }

    /// Accepted, classified and assigned to `unit` by the clerk, now.
    pub async fn assign_to(&self, store: &dyn Store, id: PetitionId, unit: &Unit) -> MatterView {
        self.step(store, &self.clerk, id, Command::Accept { note: None })
            .await;
        self.step(store, &self.clerk, id, self.classify()).await;
        self.step(store, &self.clerk, id, assign(unit)).await
    }

    /// Assigned to `unit`, whose handler started handling it, now.
    pub async fn in_progress_at(&self, store: &dyn Store, id: PetitionId, unit: &Unit) -> MatterView {
        self.assign_to(store, id, unit).await;
        self.step(store, self.handler_of(unit), id, Command::StartHandling)
            .await
    }

    /// In progress at unit A with a reply drafted and approved, now.
    pub async fn reply_approved(&self, store: &dyn Store, id: PetitionId, text: &str) -> MatterView {
        self.in_progress_at(store, id, &self.unit_a).await;
        self.step(
            store,
            &self.handler_a,
            id,
            Command::DraftReply {
                text: text.to_string(),
            },
        )
        .await;
        self.step(store, &self.head_a, id, Command::ApproveReply).await
    }

    pub fn classify(&self) -> Command {
        Command::Classify {
            category_id: self.category.id,
            petition_type: PetitionType::Appeal,
            urgency: Urgency::Normal,
        }
    }
}

pub fn assign(unit: &Unit) -> Command {
    Command::Assign {
        lead_unit_id: unit.id,
        co_unit_ids: Vec::new(),
        owning_leader_id: None,
        note: None,
    }
}

/// The petitioner of most stories: 张三, with phone, resident ID and address.
pub fn zhang_san() -> NewPetitioner {
    NewPetitioner {
        name: Some(PersonName::parse("张三").expect("name")),
        phone: Some(PhoneNumber::parse(PHONE).expect("phone")),
        id_document: Some(IdDocument::parse(DocumentKind::ResidentId, &id_number()).expect("resident id")),
        address: Some(ADDRESS.to_string()),
    }
}

/// A walk-in appeal by 张三 about the airport bus.
pub fn bus_matter() -> NewMatter {
    matter(
        Channel::WalkIn,
        PetitionType::Appeal,
        "夜间航班落地后机场大巴已停运",
        "本人多次乘坐夜间航班，落地后机场大巴已经停运，只能打车，希望增开夜间线路。",
        vec![zhang_san()],
    )
}

pub fn matter(
    channel: Channel,
    petition_type: PetitionType,
    title: &str,
    content: &str,
    petitioners: Vec<NewPetitioner>,
) -> NewMatter {
    NewMatter {
        channel,
        external_id: None,
        title: Title::parse(title).expect("title"),
        content: Content::parse(content).expect("content"),
        location: Some("T2航站楼".to_string()),
        petition_type: Some(petition_type),
        urgency: Urgency::Normal,
        people_count: 1,
        petitioners,
        received_at: None,
        raw_payload: None,
    }
}

/// A petitioner known only by a phone number.
pub fn caller(name: &str, phone: &str) -> NewPetitioner {
    NewPetitioner {
        name: Some(PersonName::parse(name).expect("name")),
        phone: Some(PhoneNumber::parse(phone).expect("phone")),
        id_document: None,
        address: None,
    }
}

/// The code of a lifecycle refusal, or a panic naming what came instead.
pub fn lifecycle_code<T: std::fmt::Debug>(r: Result<T, StoreError>) -> &'static str {
    match r {
        Err(StoreError::Lifecycle(e)) => e.code(),
        other => panic!("expected a lifecycle refusal, got {other:?}"),
    }
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
