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

    /// Opens a store in this schema (creating and migrating it on first use), with a small
    /// pool: tests run side by side on a server shared with others. Its sessions carry the
    /// schema's name as their `application_name`.
    pub async fn store(&self, vault: Vault, clock: Arc<dyn Clock>) -> crate::Result<PgStore> {
        PgStore::connect(
            &self.url,
            vault,
            clock,
            PgOptions {
                max_connections: 4,
                acquire_timeout: Duration::from_secs(30),
                schema: Some(self.name.clone()),
                // So the clean-up can find the sessions still open in the schema.
                application_name: self.name.clone(),
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
