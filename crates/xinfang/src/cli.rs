//! The commands of `xinfang` and what each does (DESIGN.md section 10).

use crate::{demo, keys};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use xinfang_core::clock::{Clock, SystemClock};
use xinfang_core::org::{Role, RoleGrant, UnitKind};
use xinfang_server::background::Background;
use xinfang_server::{Application, Config};
use xinfang_store::postgres::PgOptions;
use xinfang_store::sqlite::SqliteOptions;
use xinfang_store::{NewUnit, NewUser, PgStore, SqliteStore, Store, Vault};

#[derive(Parser, Debug)]
#[command(
    name = "xinfang",
    version,
    about = "智慧信访平台 — petition and public-appeal case management"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Db {
    /// Database URL: sqlite://FILE (created and migrated on start) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (an existing database, migrated on start).
    #[arg(
        long,
        env = "XINFANG_DATABASE_URL",
        default_value = "sqlite://xinfang.db",
        global = true
    )]
    database_url: String,
    /// File holding the key that encrypts phone and ID numbers (default: next to the database,
    /// with the extension .key). `XINFANG_KEY` (base64) takes precedence.
    #[arg(long, env = "XINFANG_KEY_FILE", global = true)]
    key_file: Option<PathBuf>,
    /// PostgreSQL: connections this process keeps at most (keep the sum over all app nodes
    /// below the server's max_connections).
    #[arg(long, env = "XINFANG_PG_MAX_CONNECTIONS", default_value_t = 16, global = true)]
    pg_max_connections: u32,
    /// PostgreSQL: seconds a request waits for a connection before it fails with 503.
    #[arg(long, env = "XINFANG_PG_ACQUIRE_TIMEOUT", default_value_t = 5, global = true)]
    pg_acquire_timeout: u64,
    /// PostgreSQL: registrations arriving together share one transaction and commit (group
    /// commit); `false` gives each its own.
    #[arg(long, env = "XINFANG_PG_GROUP_COMMIT", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pg_group_commit: bool,
}

/// The node's background work (deadline scan, daily report), shared by every node on the database.
#[derive(Args, Debug)]
struct Jobs {
    /// This node's name in the job records (default host:pid:random).
    #[arg(long, env = "XINFANG_NODE")]
    node: Option<String>,
    /// Seconds between deadline scans; 0 runs no background work on this node.
    #[arg(long, env = "XINFANG_SCAN_INTERVAL", default_value_t = 60)]
    scan_interval: u64,
    /// Seconds between merges of the full-text index's recent entries (PostgreSQL's GIN
    /// pending list, which every search reads whole); 0 leaves them to PostgreSQL (merged at
    /// 4 MB or by a vacuum). Runs whatever the scan interval.
    #[arg(long, env = "XINFANG_INDEX_TIDY_INTERVAL", default_value_t = 1)]
    index_tidy_interval: u64,
}

impl Jobs {
    fn background(&self) -> Option<Background> {
        (self.scan_interval > 0).then(|| {
            let mut b = Background::new(std::time::Duration::from_secs(self.scan_interval));
            if let Some(n) = self.node.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                b.node = n.to_string();
            }
            b
        })
    }

    fn index_tidy(&self) -> Option<std::time::Duration> {
        (self.index_tidy_interval > 0).then(|| std::time::Duration::from_secs(self.index_tidy_interval))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API (and, on a new database, create an organisation with an admin user).
    Serve {
        #[command(flatten)]
        db: Db,
        #[arg(long, env = "XINFANG_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Mark session cookies Secure (when served behind HTTPS).
        #[arg(long, env = "XINFANG_SECURE_COOKIES")]
        secure_cookies: bool,
        #[command(flatten)]
        jobs: Jobs,
    },
    /// Create a fresh demo database (xinfang-demo.db) for an airport group, then serve it.
    Demo {
        #[arg(long, env = "XINFANG_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// How many matters to generate (at least 3,000 make a year look real).
        #[arg(long, default_value_t = 3600)]
        matters: usize,
        /// Build the database and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Where to write the demo database.
        #[arg(long, default_value = "xinfang-demo.db")]
        out: PathBuf,
        /// Fill this PostgreSQL database (postgres://…, which must be empty) instead of the
        /// SQLite file of --out.
        #[arg(long)]
        database_url: Option<String>,
        /// PostgreSQL: the key file to write (default xinfang.key, where `serve` looks for it).
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// Build the matters in memory on every core and write them in batches (default from
        /// 20,000 matters on).
        #[arg(long)]
        bulk: bool,
        /// Length of the period in months (default 13, or 36 on the bulk path).
        #[arg(long)]
        months: Option<u32>,
    },
    /// Write a consistent copy of the database while it stays in use.
    Backup {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        out: PathBuf,
    },
    /// Audit-chain operations.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The routing classifier: train, eval, cv, predict, info (labelled CSV in, JSON out).
    Model {
        #[command(subcommand)]
        command: crate::model::ModelCommand,
    },
    /// Hotspots: clusters of similar matters in a time window ranked by heat (CSV in, JSON out).
    Hotspots(crate::hotspots::HotspotsArgs),
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Walk every organisation's event chain; print the first broken link and exit 1, or exit 0.
    Verify {
        #[command(flatten)]
        db: Db,
    },
}

/// Opens the store named by the URL: `sqlite://` or `postgres://` (`postgresql://`).
pub async fn open_store(db: &Db, clock: Arc<dyn Clock>, must_exist: bool) -> anyhow::Result<Arc<dyn Store>> {
    let url = &db.database_url;
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return open_postgres(db, clock, must_exist).await;
    }
    let Some(path) = keys::sqlite_path(url) else {
        bail!(
            "unsupported database URL {:?}: use sqlite://FILE or postgres://USER@HOST/DATABASE",
            redact(url)
        );
    };
    if must_exist && !path.exists() {
        bail!("database {} does not exist", path.display());
    }
    let vault = keys::load(url, db.key_file.as_deref())?;
    let store = SqliteStore::connect(url, vault, clock, SqliteOptions::default())
        .await
        .with_context(|| format!("opening {url}"))?;
    Ok(Arc::new(store))
}

/// Opens a PostgreSQL store. Its key comes from `XINFANG_KEY` or the key file (default
/// `xinfang.key` in the working directory). Without either, a new key is made only for a
/// database that holds no organisation yet, and written to the key file before anything is
/// stored; a database with data needs the key it was written with. Every app node sharing the
/// database must use the same key.
async fn open_postgres(db: &Db, clock: Arc<dyn Clock>, must_exist: bool) -> anyhow::Result<Arc<dyn Store>> {
    let url = &db.database_url;
    let opts = PgOptions {
        max_connections: db.pg_max_connections,
        acquire_timeout: std::time::Duration::from_secs(db.pg_acquire_timeout),
        group_commit: db.pg_group_commit,
        ..PgOptions::default()
    };
    let connect = async |vault: Vault| -> anyhow::Result<PgStore> {
        PgStore::connect(url, vault, clock.clone(), opts.clone())
            .await
            .with_context(|| format!("opening {}", redact(url)))
    };
    if let Some(vault) = keys::existing(url, db.key_file.as_deref())? {
        return Ok(Arc::new(connect(vault).await?));
    }
    let file = keys::key_file(url, db.key_file.as_deref());
    let key = Vault::generate_key();
    let store = connect(Vault::from_base64(&key)?).await?;
    if must_exist || !store.organisations().await?.is_empty() {
        return Err(keys::missing(&file));
    }
    keys::write_key(&file, &key)?;
    Ok(Arc::new(store))
}

/// A database URL fit for messages: the password replaced by `****`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:****@{host}{tail}")
        }
        _ => url.to_string(),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Model { command } => return crate::model::run(command),
        Command::Hotspots(args) => return crate::hotspots::run(args),
        Command::Serve {
            db,
            bind,
            secure_cookies,
            jobs,
        } => {
            let store = open_store(&db, clock.clone(), false).await?;
            bootstrap(store.as_ref()).await?;
            warn_missing_calendar_years(store.as_ref(), clock.as_ref()).await?;
            serve(
                store,
                clock,
                Config {
                    bind,
                    secure_cookies,
                    background: jobs.background(),
                    index_tidy: jobs.index_tidy(),
                    ..Config::default()
                },
            )
            .await?;
        }
        Command::Demo {
            bind,
            matters,
            no_serve,
            out,
            database_url,
            key_file,
            bulk,
            months,
        } => {
            let bulk = bulk || matters >= demo::BULK_FROM;
            let opts = demo::DemoOptions {
                out,
                database_url,
                key_file,
                matters,
                months: months.unwrap_or(if bulk { 36 } else { 13 }),
                bulk,
            };
            let store = demo::build(&opts, clock.clone()).await?;
            if !no_serve {
                serve(
                    store,
                    clock,
                    Config {
                        bind,
                        background: Some(Background::new(std::time::Duration::from_secs(60))),
                        index_tidy: Some(std::time::Duration::from_secs(1)),
                        ..Config::default()
                    },
                )
                .await?;
            }
        }
        Command::Backup { db, out } => {
            let store = open_store(&db, clock, true).await?;
            store.backup(&out).await?;
            println!(
                "已备份到 {} (backup written). Keep the key file with it: {}",
                out.display(),
                key_hint(&db)
            );
        }
        Command::Audit {
            command: AuditCommand::Verify { db },
        } => {
            let store = open_store(&db, clock, true).await?;
            let report = store.verify_audit().await?;
            match report.broken {
                None => {
                    println!(
                        "审计链完整 audit chain intact: {} organisation(s), {} event(s)",
                        report.organisations, report.events
                    );
                }
                Some(b) => {
                    println!(
                        "审计链断裂 audit chain BROKEN: organisation {} at event #{} ({}): {}",
                        b.organisation_id, b.seq, b.event_id, b.reason
                    );
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn key_hint(db: &Db) -> String {
    db.key_file
        .clone()
        .unwrap_or_else(|| keys::default_key_file(&db.database_url))
        .display()
        .to_string()
}

/// On a database without any organisation, creates one with a petition office and an `admin`
/// user whose random password is printed once.
async fn bootstrap(store: &dyn Store) -> anyhow::Result<()> {
    if !store.organisations().await?.is_empty() {
        return Ok(());
    }
    let org = store.create_organisation("本单位").await?;
    let group = store
        .create_unit(
            org,
            NewUnit {
                name: "本单位".into(),
                parent_id: None,
                kind: UnitKind::Group,
                petition_office: false,
            },
        )
        .await?;
    let office = store
        .create_unit(
            org,
            NewUnit {
                name: "信访办".into(),
                parent_id: Some(group.id),
                kind: UnitKind::Department,
                petition_office: true,
            },
        )
        .await?;
    let password = xinfang_server::auth::random_token()[..16].to_string();
    let hash = xinfang_server::auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e.message_en))?;
    store
        .create_user(
            org,
            NewUser {
                username: "admin".into(),
                display_name: "系统管理员".into(),
                password_hash: hash,
                grants: vec![
                    RoleGrant {
                        role: Role::Admin,
                        unit_id: group.id,
                    },
                    RoleGrant {
                        role: Role::Supervisor,
                        unit_id: office.id,
                    },
                ],
            },
        )
        .await?;
    eprintln!("新数据库已初始化 new database: user `admin`, password `{password}` (shown once; change it)");
    Ok(())
}

/// Logs a warning for each organisation whose holiday calendar lacks this year or the next:
/// working days there count weekends only until an admin adds the State Council's schedule.
async fn warn_missing_calendar_years(store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<()> {
    use chrono::Datelike;
    let today = xinfang_core::clock::local_date(clock.now());
    let end = chrono::NaiveDate::from_ymd_opt(today.year() + 1, 12, 31).unwrap_or(today);
    for org in store.organisations().await? {
        let missing = store.calendar(org.id).await?.missing_years(today, end);
        if !missing.is_empty() {
            tracing::warn!(
                organisation = %org.name,
                years = ?missing,
                "节假日安排缺失 holiday calendar has no data for these years: working days count weekends only; add them with POST /api/v1/calendar"
            );
        }
    }
    Ok(())
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> anyhow::Result<()> {
    let app = Application::build(config, store, clock)
        .await
        .context("binding the listener")?;
    let addr = app.local_addr()?;
    eprintln!("xinfang 正在运行 listening on http://{addr}  (API: /api/v1, OpenAPI: /api/openapi.json)");
    app.run_until(shutdown_signal()).await?;
    eprintln!("xinfang stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Removes a SQLite database file with its WAL and shared-memory companions.
pub fn remove_sqlite_files(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("postgres://xf:s3cr%40t@db.example:5432/xinfang?sslmode=require"),
            "postgres://xf:****@db.example:5432/xinfang?sslmode=require"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact("sqlite://xinfang.db"), "sqlite://xinfang.db");
    }
}
