//! `xinfang demo`: a fresh database with an airport group's organisation and a year of matters.
//!
//! The data itself (units, categories, texts, petitioners, target states) comes from the
//! `xinfang-demo` crate and is deterministic. This loader writes it through the ordinary
//! [`Store`] verbs — registration and every lifecycle transition with its historical time — so
//! the demo database is exactly what a year of real use would leave behind: events, audit
//! chain, deadlines, encrypted numbers and all.
//!
//! For large volumes (`--bulk`, the default from [`BULK_FROM`] matters on) the same steps run
//! in memory instead ([`xinfang_store::bulk`]): the generator's chunks are built on every core
//! (texts, lifecycle, search tokens, encryption) and written in big batches (multi-row INSERTs
//! on SQLite, COPY on PostgreSQL), the audit chain sealed as they are written. The result is
//! the same kind of database, a hundred times faster.

use crate::cli::remove_sqlite_files;
use crate::keys;
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use xinfang_core::clock::{Clock, local_date};
use xinfang_core::ids::{CategoryId, OrganisationId, PetitionId, UnitId};
use xinfang_core::lifecycle::{Command, LifecycleError};
use xinfang_core::matter::{Channel, DeclineReason, Satisfaction, State};
use xinfang_core::org::{Actor, Role, RoleGrant, StaffActor};
use xinfang_core::petitioner::{DocumentKind, IdDocument, PhoneNumber};
use xinfang_core::text::{Content, PersonName, Title};
use xinfang_demo::{DemoConfig, DemoMatter};
use xinfang_store::bulk::{BulkContext, BulkMatter, MatterBuilder};
use xinfang_store::postgres::PgOptions;
use xinfang_store::sqlite::SqliteOptions;
use xinfang_store::{
    NewCategory, NewMatter, NewPetitioner, NewUnit, NewUser, PgStore, SqliteStore, Store, StoreError, Vault,
    audit,
};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo123";
/// The API token of the demo `clerk` (for integrations and benchmarks).
pub const DEMO_CLERK_TOKEN: &str = "demo-clerk-token";

/// The named demo users: (username, display name, role, unit code).
const DEMO_USERS: &[(&str, &str, Role, &str)] = &[
    ("admin", "系统管理员", Role::Admin, "group"),
    ("clerk", "王登记（信访办）", Role::Clerk, "petition_office"),
    (
        "supervisor",
        "李督办（信访办）",
        Role::Supervisor,
        "petition_office",
    ),
    (
        "handler",
        "张承办（地面交通中心）",
        Role::Handler,
        "ground_transport",
    ),
    ("handler2", "赵承办（航站楼管理部）", Role::Handler, "terminal"),
    (
        "unit_head",
        "陈主任（地面交通中心）",
        Role::UnitHead,
        "ground_transport",
    ),
    ("leader", "刘总（包案领导）", Role::Leader, "group"),
    ("mediator", "孙调解（调解室）", Role::Mediator, "petition_office"),
    ("analyst", "周分析（综合分析）", Role::Analyst, "group"),
];

/// From how many matters `xinfang demo` takes the bulk path by itself.
pub const BULK_FROM: usize = 20_000;
/// Matters per chunk of the bulk path (and per write transaction).
const CHUNK: usize = 5_000;

/// What `xinfang demo` builds, and where.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The SQLite file (replaced), when no PostgreSQL URL is given.
    pub out: std::path::PathBuf,
    /// A PostgreSQL database (`postgres://…`) to fill instead; it must hold no organisation.
    pub database_url: Option<String>,
    /// The key file for a PostgreSQL database (default: `xinfang.key`, as `serve` expects).
    pub key_file: Option<std::path::PathBuf>,
    pub matters: usize,
    /// Length of the period in months.
    pub months: u32,
    /// Build in memory and write in batches.
    pub bulk: bool,
}

/// The store just created, with its concrete type (for the bulk loader).
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Backend {
    fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(s) => Arc::new(s.clone()),
            Self::Postgres(s) => Arc::new(s.clone()),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }
}

/// Opens a fresh database for the demo and returns it with its key.
async fn open(opts: &DemoOptions, clock: Arc<dyn Clock>) -> anyhow::Result<(Backend, Vault, String)> {
    match &opts.database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let file = keys::key_file(url, opts.key_file.as_deref());
            let (vault, fresh) = match keys::existing(url, opts.key_file.as_deref())? {
                Some(v) => (v, None),
                None => {
                    let key = Vault::generate_key();
                    (Vault::from_base64(&key)?, Some(key))
                }
            };
            let store = PgStore::connect(url, vault.clone(), clock, PgOptions::default())
                .await
                .context("opening the PostgreSQL database")?;
            if !store.organisations().await?.is_empty() {
                anyhow::bail!(
                    "the PostgreSQL database already holds data: the demo needs an empty one (dropdb/createdb it first)"
                );
            }
            if let Some(key) = fresh {
                keys::write_key(&file, &key)?;
            }
            let place = format!("{} (key {})", crate::cli::redact(url), file.display());
            Ok((Backend::Postgres(store), vault, place))
        }
        Some(url) => {
            let path =
                keys::sqlite_path(url).ok_or_else(|| anyhow::anyhow!("unsupported database URL {url}"))?;
            open_sqlite(&path, clock).await
        }
        None => open_sqlite(&opts.out, clock).await,
    }
}

async fn open_sqlite(path: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<(Backend, Vault, String)> {
    remove_sqlite_files(path).with_context(|| format!("removing the old {}", path.display()))?;
    let key_file = path.with_extension("key");
    if key_file.exists() {
        std::fs::remove_file(&key_file)
            .with_context(|| format!("removing the old {}", key_file.display()))?;
    }
    let vault = keys::write_new(&key_file)?;
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::connect(&url, vault.clone(), clock, SqliteOptions::default()).await?;
    Ok((Backend::Sqlite(store), vault, path.display().to_string()))
}

/// The organisation the demo sets up before its matters.
struct Setup {
    org: OrganisationId,
    staff: Staff,
    cats: Vec<xinfang_demo::DemoCategory>,
    cat_ids: Vec<CategoryId>,
    unit_by_name: HashMap<&'static str, UnitId>,
    default_unit: UnitId,
}

impl Setup {
    /// The category and lead unit of a generated matter.
    fn routing(&self, m: &DemoMatter) -> (CategoryId, UnitId) {
        let lead = self
            .cats
            .get(m.category)
            .and_then(|c| self.unit_by_name.get(c.default_unit.as_str()).copied())
            .unwrap_or(self.default_unit);
        let category = self.cat_ids.get(m.category).copied().unwrap_or(self.cat_ids[0]);
        (category, lead)
    }
}

/// Builds the demo database and returns its store.
pub async fn build(opts: &DemoOptions, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<dyn Store>> {
    let started = std::time::Instant::now();
    let (backend, vault, place) = open(opts, clock.clone()).await?;
    let store = backend.store();
    let setup = setup(store.as_ref()).await?;

    let now = clock.now();
    let cfg = DemoConfig {
        matters: opts.matters,
        seed: 20_251_204,
        end: local_date(now),
        months: opts.months,
    };
    let loading = std::time::Instant::now();
    let counts = if opts.bulk {
        load_bulk(store.clone(), vault, &setup, &cfg, now).await?
    } else {
        load_one_by_one(store.as_ref(), &setup, &cfg, now).await?
    };
    let loaded: usize = counts.values().sum();
    let secs = loading.elapsed().as_secs_f64();
    let mut by_state: Vec<_> = counts.into_iter().collect();
    by_state.sort();
    eprintln!(
        "演示数据已生成 demo database {place} ({}) with {loaded} matters in {:.1}s ({:.0} matters/s{}):",
        backend.name(),
        started.elapsed().as_secs_f64(),
        loaded as f64 / secs.max(1e-9),
        if opts.bulk { ", bulk" } else { "" },
    );
    for (s, n) in by_state {
        eprintln!("  {:<14} {:>8}  {}", s.code(), n, s.label_zh());
    }
    eprintln!("演示账号 demo users (password `{DEMO_PASSWORD}`):");
    for &(username, display, role, _) in DEMO_USERS {
        eprintln!("  {username:<11} {:<6} {display}", role.label_zh());
    }
    eprintln!("  API token for clerk: Authorization: Bearer {DEMO_CLERK_TOKEN}");
    Ok(store)
}

/// Every matter through the ordinary store verbs, one at a time.
async fn load_one_by_one(
    store: &dyn Store,
    setup: &Setup,
    cfg: &DemoConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<HashMap<State, usize>> {
    let generated = xinfang_demo::generate(cfg);
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut counts: HashMap<State, usize> = HashMap::new();
    // The generator fills the whole of today; what lies later than now has not happened yet.
    for m in generated.iter().filter(|m| m.registered_at <= now) {
        let (category, lead) = setup.routing(m);
        let mut driver = StoreDriver {
            store,
            org: setup.org,
            id: None,
        };
        let state = load_matter(&mut driver, &setup.staff, m, category, lead, now, &mut rng)
            .await
            .with_context(|| format!("loading demo matter {:?}", m.title))?;
        *counts.entry(state).or_default() += 1;
    }
    Ok(counts)
}

/// Builds the matters of one generator chunk in memory.
fn build_chunk(
    cx: &BulkContext,
    setup: &Setup,
    chunks: &xinfang_demo::Chunks,
    k: usize,
) -> anyhow::Result<Vec<BulkMatter>> {
    let generated = chunks.chunk(k);
    let mut rng = StdRng::seed_from_u64(k as u64);
    let mut out = Vec::with_capacity(generated.len());
    for m in generated.iter().filter(|m| m.registered_at <= cx.now) {
        let (category, lead) = setup.routing(m);
        let mut driver = MemoryDriver { cx, matter: None };
        ready(load_matter(
            &mut driver,
            &setup.staff,
            m,
            category,
            lead,
            cx.now,
            &mut rng,
        ))?
        .with_context(|| format!("building demo matter {:?}", m.title))?;
        let built = driver
            .matter
            .ok_or_else(|| anyhow::anyhow!("demo matter {:?} was not registered", m.title))?;
        out.push(built.finish()?);
    }
    Ok(out)
}

/// Polls a future that cannot wait (the in-memory driver never does) to its end.
fn ready<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    let mut f = std::pin::pin!(f);
    match f
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(v) => Ok(v),
        std::task::Poll::Pending => anyhow::bail!("an in-memory demo step waited"),
    }
}

/// Builds the chunks on every core and writes them in order, one batch per chunk.
async fn load_bulk(
    store: Arc<dyn Store>,
    vault: Vault,
    setup: &Setup,
    cfg: &DemoConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<HashMap<State, usize>> {
    let cx = Arc::new(BulkContext::of(store.as_ref(), vault, setup.org, now).await?);
    let mut loader = store.bulk_loader(setup.org).await?;
    let chunks = Arc::new(xinfang_demo::Chunks::new(cfg, CHUNK));
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let setup = Arc::new(Setup {
        org: setup.org,
        staff: setup.staff.clone(),
        cats: setup.cats.clone(),
        cat_ids: setup.cat_ids.clone(),
        unit_by_name: setup.unit_by_name.clone(),
        default_unit: setup.default_unit,
    });
    // Worker w builds chunks w, w + workers, …; a channel of one chunk each keeps them at most
    // a chunk ahead of the writer, which takes them back in order.
    let mut receivers = Vec::with_capacity(workers);
    let mut handles = Vec::with_capacity(workers);
    for w in 0..workers {
        let (tx, rx) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<BulkMatter>>>(1);
        receivers.push(rx);
        let (cx, setup, chunks) = (cx.clone(), setup.clone(), chunks.clone());
        handles.push(std::thread::spawn(move || {
            for k in (w..chunks.len()).step_by(workers) {
                let built = build_chunk(&cx, &setup, &chunks, k);
                let failed = built.is_err();
                if tx.blocking_send(built).is_err() || failed {
                    return;
                }
            }
        }));
    }
    let mut counts: HashMap<State, usize> = HashMap::new();
    let started = std::time::Instant::now();
    let mut written = 0usize;
    for k in 0..chunks.len() {
        let batch = receivers[k % workers]
            .recv()
            .await
            .ok_or_else(|| anyhow::anyhow!("a demo worker stopped"))??;
        for m in &batch {
            *counts.entry(m.matter().state).or_default() += 1;
        }
        written += batch.len();
        loader
            .load(batch)
            .await
            .context("writing a batch of demo matters")?;
        if (k + 1) % 20 == 0 {
            eprintln!(
                "  {written} matters written ({:.0}/s)",
                written as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    drop(receivers);
    for h in handles {
        let _ = h.join();
    }
    loader.finish().await?;
    Ok(counts)
}

/// Creates the organisation: units, categories, rule sets, users and the clerk's API token.
async fn setup(store: &dyn Store) -> anyhow::Result<Setup> {
    let org = store.create_organisation("云港国际机场集团").await?;
    let mut units: HashMap<&'static str, UnitId> = HashMap::new();
    let mut unit_by_name: HashMap<&'static str, UnitId> = HashMap::new();
    for u in xinfang_demo::units() {
        let created = store
            .create_unit(
                org,
                NewUnit {
                    name: u.name.to_string(),
                    parent_id: u.parent.and_then(|p| units.get(p).copied()),
                    kind: u.kind,
                    petition_office: u.petition_office,
                },
            )
            .await?;
        units.insert(u.code, created.id);
        unit_by_name.insert(u.name, created.id);
    }

    // Categories: the two-level tree of the taxonomy, each routed to its default unit.
    let cats = xinfang_demo::categories();
    let mut tops: HashMap<String, CategoryId> = HashMap::new();
    let mut cat_ids = Vec::with_capacity(cats.len());
    for c in &cats {
        let top = match tops.get(&c.top) {
            Some(id) => *id,
            None => {
                let created = store
                    .create_category(
                        org,
                        NewCategory {
                            parent_id: None,
                            name: c.top.clone(),
                            default_unit_id: None,
                            petition_type: None,
                        },
                    )
                    .await?;
                tops.insert(c.top.clone(), created.id);
                created.id
            }
        };
        let sub = store
            .create_category(
                org,
                NewCategory {
                    parent_id: Some(top),
                    name: c.sub.clone(),
                    default_unit_id: unit_by_name.get(c.default_unit.as_str()).copied(),
                    petition_type: Some(c.petition_type),
                },
            )
            .await?;
        cat_ids.push(sub.id);
    }
    store
        .save_rule_set(
            org,
            xinfang_core::deadline::RuleSet::hotline_12345(xinfang_core::ids::RuleSetId::new()),
            false,
        )
        .await?;

    // Users: the named ones of the README, plus a handler and a unit head for every other unit
    // so that every matter can be handled by its own unit's staff.
    let mut staff = Staff::default();
    for &(username, display, role, unit) in DEMO_USERS {
        let actor = create_user(
            store,
            org,
            username,
            display,
            vec![RoleGrant {
                role,
                unit_id: units[unit],
            }],
        )
        .await?;
        staff.by_name.insert(username, actor);
    }
    for u in xinfang_demo::units() {
        if u.petition_office || u.code == "group" {
            continue;
        }
        let unit_id = units[u.code];
        let (h, head) = match u.code {
            "ground_transport" => (
                staff.by_name["handler"].clone(),
                staff.by_name["unit_head"].clone(),
            ),
            _ => {
                let h = create_user(
                    store,
                    org,
                    &format!("handler_{}", u.code),
                    &format!("承办人（{}）", u.name),
                    vec![RoleGrant {
                        role: Role::Handler,
                        unit_id,
                    }],
                )
                .await?;
                let head = create_user(
                    store,
                    org,
                    &format!("head_{}", u.code),
                    &format!("负责人（{}）", u.name),
                    vec![RoleGrant {
                        role: Role::UnitHead,
                        unit_id,
                    }],
                )
                .await?;
                (h, head)
            }
        };
        staff.handlers.insert(
            unit_id,
            if u.code == "terminal" {
                staff.by_name["handler2"].clone()
            } else {
                h
            },
        );
        staff.heads.insert(unit_id, head);
    }
    store
        .create_api_token(
            org,
            staff.by_name["clerk"].user_id,
            "演示：12345热线对接",
            &audit::token_hash(DEMO_CLERK_TOKEN),
        )
        .await?;

    Ok(Setup {
        org,
        staff,
        cats,
        cat_ids,
        unit_by_name,
        default_unit: units["customer_service"],
    })
}

#[derive(Default, Clone)]
struct Staff {
    by_name: HashMap<&'static str, StaffActor>,
    handlers: HashMap<UnitId, StaffActor>,
    heads: HashMap<UnitId, StaffActor>,
}

async fn create_user(
    store: &dyn Store,
    org: OrganisationId,
    username: &str,
    display: &str,
    grants: Vec<RoleGrant>,
) -> anyhow::Result<StaffActor> {
    let hash =
        xinfang_server::auth::hash_password(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!(e.message_en))?;
    let user = store
        .create_user(
            org,
            NewUser {
                username: username.into(),
                display_name: display.into(),
                password_hash: hash,
                grants,
            },
        )
        .await?;
    Ok(store.staff_actor(org, user.id).await?)
}

fn petitioner(p: &xinfang_demo::DemoPetitioner) -> anyhow::Result<NewPetitioner> {
    Ok(NewPetitioner {
        name: Some(PersonName::parse(&p.name)?),
        phone: p.phone.as_deref().map(PhoneNumber::parse).transpose()?,
        id_document: p
            .id_number
            .as_deref()
            .map(|n| IdDocument::parse(DocumentKind::ResidentId, n))
            .transpose()?,
        address: p.address.clone(),
    })
}

/// The order in which a matter passes the states on its way to `target`.
fn rank(s: State) -> u8 {
    use State::*;
    match s {
        Registered => 0,
        Accepted | NotAccepted => 1,
        Classified => 2,
        Assigned => 3,
        InProgress => 4,
        Replied => 5,
        FollowUp => 6,
        Review => 7,
        Reviewed => 8,
        Recheck => 9,
        Concluded => 10,
        Archived => 11,
    }
}

/// Registers one matter and drives it towards its target state at plausible historical times,
/// stopping where the next step would lie in the future. Returns the state reached.
async fn load_matter<D: Driver>(
    driver: &mut D,
    staff: &Staff,
    m: &DemoMatter,
    category: CategoryId,
    lead: UnitId,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<State> {
    let clerk = &staff.by_name["clerk"];
    let public = matches!(m.channel, Channel::Website | Channel::Wechat | Channel::Open311);
    let registrar = if public {
        Actor::Petitioner
    } else {
        Actor::Staff(clerk.clone())
    };
    let petitioners = m
        .petitioners
        .iter()
        .map(petitioner)
        .collect::<anyhow::Result<Vec<_>>>()?;
    driver
        .register(
            &registrar,
            NewMatter {
                channel: m.channel,
                external_id: m.external_id.clone(),
                title: Title::parse(&m.title)?,
                content: Content::parse(&m.content)?,
                location: m.location.clone(),
                petition_type: Some(m.petition_type),
                urgency: m.urgency,
                people_count: m.people_count,
                petitioners,
                received_at: Some(m.registered_at),
                raw_payload: None,
            },
        )
        .await?;
    let mut step = Stepper {
        driver,
        now,
        state: State::Registered,
        last: m.registered_at,
    };
    let target = m.target;
    if target == State::Registered {
        return Ok(step.state);
    }
    let hours = |rng: &mut StdRng, lo: i64, hi: i64| Duration::minutes(rng.random_range(lo * 60..=hi * 60));
    let mut t = m.registered_at + hours(rng, 1, 30);
    if target == State::NotAccepted || (target == State::Archived && m.decline_reason.is_some()) {
        let reason = m.decline_reason.unwrap_or(DeclineReason::OutOfScope);
        let text = format!(
            "经审查，{}。已告知信访人依法通过相应途径反映。",
            reason.label_zh()
        );
        if !step.go(clerk, Command::Decline { reason, text }, t).await? {
            return Ok(step.state);
        }
        if target == State::Archived {
            step.go(
                clerk,
                Command::Archive,
                t + Duration::days(rng.random_range(1..10)),
            )
            .await?;
        }
        return Ok(step.state);
    }
    let accepted_at = t;
    let go_on = step.go(clerk, Command::Accept { note: None }, t).await?;
    if !go_on || rank(target) <= rank(State::Accepted) {
        return Ok(step.state);
    }
    t += Duration::minutes(rng.random_range(10..90));
    let classify = Command::Classify {
        category_id: category,
        petition_type: m.petition_type,
        urgency: m.urgency,
    };
    if !step.go(clerk, classify, t).await? || rank(target) <= rank(State::Classified) {
        return Ok(step.state);
    }
    t += Duration::minutes(rng.random_range(10..240));
    let leader = (m.people_count >= 5 || m.repeat_of.is_some()).then(|| staff.by_name["leader"].user_id);
    let assign = Command::Assign {
        lead_unit_id: lead,
        co_unit_ids: vec![],
        owning_leader_id: leader,
        note: None,
    };
    if !step.go(clerk, assign, t).await? || rank(target) <= rank(State::Assigned) {
        return Ok(step.state);
    }
    let handler = &staff.handlers[&lead];
    let head = &staff.heads[&lead];
    t += hours(rng, 1, 20);
    if !step.go(handler, Command::StartHandling, t).await? || rank(target) <= rank(State::InProgress) {
        // Matters left in progress: some wait for the petitioner's materials.
        if step.state == State::InProgress && rng.random_bool(0.04) {
            step.go(
                handler,
                Command::Pause {
                    reason: "已通知信访人补充相关票据和照片".into(),
                },
                t + Duration::days(2),
            )
            .await?;
        }
        return Ok(step.state);
    }
    let replied_at = (accepted_at + Duration::days(i64::from(m.handling_days.max(2))) - hours(rng, 0, 8))
        .max(t + Duration::hours(8));
    if let Some(days) = m.extension_days {
        let asked = (accepted_at + Duration::days(50))
            .min(replied_at - Duration::hours(5))
            .max(t + Duration::minutes(30));
        let reason = "案情复杂，需协调相关单位共同核查，申请延长办理期限".to_string();
        if !step
            .go(
                handler,
                Command::RequestExtension {
                    days: days.clamp(1, 30),
                    reason,
                },
                asked,
            )
            .await?
        {
            return Ok(step.state);
        }
        if !step
            .go(head, Command::ApproveExtension, asked + Duration::minutes(90))
            .await?
        {
            return Ok(step.state);
        }
    }
    let draft_at = replied_at - Duration::hours(2);
    let text = m
        .reply
        .clone()
        .unwrap_or_else(|| "经核查，您反映的问题已责成相关部门处理，感谢您的监督。".into());
    if !step.go(handler, Command::DraftReply { text }, draft_at).await?
        || !step
            .go(head, Command::ApproveReply, draft_at + Duration::minutes(50))
            .await?
        || !step
            .go(
                handler,
                Command::DeliverReply {
                    method: Some("电话告知并短信送达".into()),
                },
                replied_at,
            )
            .await?
        || rank(target) <= rank(State::Replied)
    {
        return Ok(step.state);
    }
    let mut t = replied_at + hours(rng, 20, 96);
    let satisfaction = m.satisfaction.unwrap_or(Satisfaction::Satisfied);
    if !step
        .go(
            clerk,
            Command::RecordSatisfaction {
                satisfaction,
                comment: None,
            },
            t,
        )
        .await?
        || rank(target) <= rank(State::FollowUp)
    {
        return Ok(step.state);
    }
    let supervisor = &staff.by_name["supervisor"];
    if rank(target) >= rank(State::Review) && target != State::Archived && target != State::Concluded
        || (target == State::Concluded && rng.random_bool(0.1))
    {
        t = replied_at + Duration::days(rng.random_range(5..25));
        let reason = "对答复意见不满意，认为核查不全面".to_string();
        if !step.go(clerk, Command::RequestReview { reason }, t).await? || rank(target) <= rank(State::Review)
        {
            return Ok(step.state);
        }
        t += Duration::days(rng.random_range(10..28));
        let text = "经复查，原处理意见认定事实清楚，处理适当，予以维持。".to_string();
        if !step.go(supervisor, Command::AnswerReview { text }, t).await?
            || rank(target) <= rank(State::Reviewed)
        {
            return Ok(step.state);
        }
        t += Duration::days(rng.random_range(5..20));
        let reason = "对复查意见仍不服，申请复核".to_string();
        if !step.go(clerk, Command::RequestRecheck { reason }, t).await?
            || rank(target) <= rank(State::Recheck)
        {
            return Ok(step.state);
        }
        t += Duration::days(rng.random_range(10..28));
        let text = "经复核，维持复查意见。本复核意见为终结意见，同一事实和理由不再受理。".to_string();
        step.go(supervisor, Command::AnswerRecheck { text }, t).await?;
        return Ok(step.state);
    }
    // The appeal window (30 days) has to pass before the office concludes the matter.
    t = replied_at + Duration::days(31) + hours(rng, 1, 72);
    if !step
        .go(
            clerk,
            Command::Conclude {
                reason: Some("复查申请期限届满，信访人未申请复查".into()),
            },
            t,
        )
        .await?
        || rank(target) <= rank(State::Concluded)
    {
        return Ok(step.state);
    }
    step.go(
        clerk,
        Command::Archive,
        t + Duration::days(rng.random_range(1..15)),
    )
    .await?;
    Ok(step.state)
}

/// Where `load_matter` registers and moves a matter: the store, or memory.
trait Driver {
    async fn register(&mut self, actor: &Actor, m: NewMatter) -> anyhow::Result<()>;
    /// Applies `cmd` to the registered matter; its new state.
    async fn transition(
        &mut self,
        actor: &StaffActor,
        cmd: Command,
        at: DateTime<Utc>,
    ) -> Result<State, StoreError>;
}

/// The ordinary store verbs.
struct StoreDriver<'a> {
    store: &'a dyn Store,
    org: OrganisationId,
    id: Option<PetitionId>,
}

impl Driver for StoreDriver<'_> {
    async fn register(&mut self, actor: &Actor, m: NewMatter) -> anyhow::Result<()> {
        self.id = Some(self.store.register_matter(self.org, actor, m).await?.id);
        Ok(())
    }

    async fn transition(
        &mut self,
        actor: &StaffActor,
        cmd: Command,
        at: DateTime<Utc>,
    ) -> Result<State, StoreError> {
        let id = self.id.ok_or(StoreError::NotFound)?;
        Ok(self
            .store
            .transition(actor, id, cmd, Some(at))
            .await?
            .matter
            .state)
    }
}

/// The same steps in memory ([`MatterBuilder`]), for the bulk path.
struct MemoryDriver<'a> {
    cx: &'a BulkContext,
    matter: Option<MatterBuilder<'a>>,
}

impl Driver for MemoryDriver<'_> {
    async fn register(&mut self, actor: &Actor, m: NewMatter) -> anyhow::Result<()> {
        self.matter = Some(MatterBuilder::register(self.cx, actor, m)?);
        Ok(())
    }

    async fn transition(
        &mut self,
        actor: &StaffActor,
        cmd: Command,
        at: DateTime<Utc>,
    ) -> Result<State, StoreError> {
        let m = self.matter.as_mut().ok_or(StoreError::NotFound)?;
        Ok(m.apply(&Actor::Staff(actor.clone()), &cmd, at)?.state)
    }
}

/// Applies transitions in order, refusing to write anything dated in the future.
struct Stepper<'a, D> {
    driver: &'a mut D,
    now: DateTime<Utc>,
    state: State,
    /// When the latest step happened: each step is kept after it.
    last: DateTime<Utc>,
}

impl<D: Driver> Stepper<'_, D> {
    /// Applies `cmd` at `at` as `actor`; false (and nothing written) when `at` is in the future.
    async fn go(&mut self, actor: &StaffActor, cmd: Command, at: DateTime<Utc>) -> anyhow::Result<bool> {
        let at = at.max(self.last + Duration::minutes(1));
        if at > self.now {
            return Ok(false);
        }
        let state = match self.driver.transition(actor, cmd.clone(), at).await {
            // A holiday can push the end of the appeal window past the planned day: conclude
            // the morning after it closes instead.
            Err(StoreError::Lifecycle(LifecycleError::WindowStillOpen { closes_at })) => {
                let later = closes_at + Duration::hours(9);
                if later > self.now {
                    return Ok(false);
                }
                self.last = later;
                self.driver.transition(actor, cmd, later).await?
            }
            other => {
                self.last = at;
                other?
            }
        };
        self.state = state;
        Ok(true)
    }
}
