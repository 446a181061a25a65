//! Test support for PostgreSQL: a fresh schema per test, dropped when the test ends.
//!
//! The store's and the server's test suites run against PostgreSQL when
//! `XINFANG_TEST_POSTGRES_URL` names a server (e.g. `postgres://postgres@127.0.0.1:5432/test`).
//! Each test gets a schema of its own in that database, so tests run in parallel and leave
//! nothing behind (a test process that is killed leaves its `xinfang_test_…` schemas; drop
//! them by that prefix). Without the variable, [`test_url`] prints one line saying the
//! PostgreSQL tests are skipped.

use super::{PgOptions, PgStore};
use crate::Vault;
use std::io::Write;
use std::sync::{Arc, Once};
use std::time::Duration;
use xinfang_core::clock::Clock;

/// The environment variable naming the PostgreSQL server the tests may use.
pub const TEST_URL_VAR: &str = "XINFANG_TEST_POSTGRES_URL";

/// The test server's URL, or `None` after printing (once per test binary, past the test
/// harness's output capture) that the PostgreSQL runs are skipped.
pub fn test_url() -> Option<String> {
    static NOTICE: Once = Once::new();
    match std::env::var(TEST_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_string()),
        _ => {
            NOTICE.call_once(|| {
                // Straight to the file descriptor: libtest captures eprintln! of passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {TEST_URL_VAR} is not set: the PostgreSQL runs of these tests are skipped (SQLite only)"
                );
            });
            None
        }
    }
}

/// A schema of its own for one test, in the database at `url`. Created by the first store
/// opened on it; dropped with everything in it when this value is dropped.
#[derive(Debug)]
pub struct TestSchema {
    url: String,
    name: String,
}

impl TestSchema {
    /// A new, uniquely named schema (`xinfang_test_<uuid>`); nothing is created yet.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            name: format!("xinfang_test_{}", uuid::Uuid::now_v7().simple()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Opens a store in this schema (creating and migrating it on first use), with the
    /// smallest pools there are: one connection for the main pool and one for the keyed pool.
    /// Tests run side by side on a server shared with others, and with a single connection a
    /// code path that asks the pool for a second connection while it holds one (which on a
    /// busy node leaves requests waiting for each other) cannot pass. Its sessions carry the
    /// schema's name as their `application_name`.
    pub async fn store(&self, vault: Vault, clock: Arc<dyn Clock>) -> crate::Result<PgStore> {
        PgStore::connect(
            &self.url,
            vault,
            clock,
            PgOptions {
                max_connections: 2,
                acquire_timeout: Duration::from_secs(30),
                schema: Some(self.name.clone()),
                // So the clean-up can find the sessions still open in the schema.
                application_name: self.name.clone(),
                ..PgOptions::default()
            },
        )
        .await
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Sessions of the test's stores may still be open (a server task, a rollback not yet
        // flushed): end them first so the drop does not wait behind their locks.
        let sql = format!(
            "select pg_terminate_backend(pid) from pg_stat_activity
             where application_name = '{name}' and pid <> pg_backend_pid();
             drop schema if exists {name} cascade",
            name = self.name
        );
        if let Err(e) = execute_blocking(&self.url, &sql) {
            let _ = writeln!(
                std::io::stderr(),
                "warning: could not drop test schema {}: {e}",
                self.name
            );
        }
    }
}

/// Runs SQL (one or more statements) on its own connection, from any context (also inside an async test,
/// also while unwinding): on a thread of its own with a runtime of its own.
pub fn execute_blocking(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || -> Result<(), String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url)
                .await
                .map_err(|e| e.to_string())?;
            // Never wait long behind a lock a stuck test still holds.
            sqlx::query("set lock_timeout = '10s'")
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            let _ = conn.close().await;
            Ok(())
        })
    })
    .join()
    .map_err(|_| "the cleanup thread panicked".to_string())?
}

/// A PostgreSQL cluster of a test's own (initdb into a temporary folder, on a free port), so a
/// test may stop and restart the server under a running xinfang without touching the server
/// other tests share. Stopped and removed when dropped.
#[derive(Debug)]
pub struct PrivateCluster {
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    port: u16,
}

impl PrivateCluster {
    /// Creates and starts a cluster with a `test` database; `Ok(None)` (after one line saying
    /// so) when PostgreSQL's server binaries are not installed.
    pub fn start() -> Result<Option<Self>, String> {
        let Some(bin) = server_binaries() else {
            let _ = writeln!(
                std::io::stderr(),
                "note: initdb/pg_ctl not found: the PostgreSQL restart test is skipped"
            );
            return Ok(None);
        };
        let dir = std::env::temp_dir().join(format!("xinfang-pg-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if is_root() {
            // initdb refuses to run as root; the folder must belong to the user it runs as.
            run(std::process::Command::new("chown").arg("postgres").arg(&dir))?;
        }
        let port = free_port()?;
        let cluster = Self { dir, bin, port };
        let data = cluster.data();
        cluster.pg(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        cluster.start_again()?;
        execute_blocking(&cluster.url("postgres"), "create database test")?;
        Ok(Some(cluster))
    }

    /// `postgres://postgres@127.0.0.1:PORT/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server the fast way (open sessions are ended), as an operator's restart does.
    pub fn stop(&self) -> Result<(), String> {
        self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])
    }

    /// Starts the (stopped) server again on the same port and data.
    pub fn start_again(&self) -> Result<(), String> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log").display().to_string();
        self.pg(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-w", "-o", &opts, "start"],
        )
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// Runs one of the server binaries, as `postgres` when we are root.
    fn pg(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.arg("-u").arg("postgres").arg("--").arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        };
        cmd.args(args);
        run(&mut cmd)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.pg("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut std::process::Command) -> Result<(), String> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn is_root() -> bool {
    // The effective uid without a libc binding: /proc/self/status has `Uid: real effective …`.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The folder holding initdb and pg_ctl: PATH first, then Debian's per-version folders,
/// newest first.
fn server_binaries() -> Option<std::path::PathBuf> {
    let has = |d: &std::path::Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(p) = std::env::var_os("PATH")
        && let Some(d) = std::env::split_paths(&p).find(|d| has(d))
    {
        return Some(d);
    }
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}
