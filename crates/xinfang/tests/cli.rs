//! The command line as an operator uses it: build a demo database, verify its audit chain,
//! back it up, and catch tampering.

use std::path::Path;
use std::process::{Command, Output};

fn xinfang(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xinfang"))
        .args(args)
        .current_dir(dir)
        .env("XINFANG_LOG", "warn")
        .env_remove("XINFANG_DATABASE_URL")
        .env_remove("XINFANG_KEY")
        .env_remove("XINFANG_KEY_FILE")
        .output()
        .expect("the xinfang binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn demo_backup_and_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let out = xinfang(d, &["demo", "--no-serve", "--matters", "60"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(d.join("xinfang-demo.db").exists());
    assert!(d.join("xinfang-demo.key").exists());
    let printed = text(&out);
    for user in [
        "admin",
        "clerk",
        "supervisor",
        "handler",
        "handler2",
        "unit_head",
        "leader",
        "mediator",
        "analyst",
    ] {
        assert!(printed.contains(user), "demo prints user {user}");
    }

    let url = "sqlite://xinfang-demo.db";
    let out = xinfang(d, &["audit", "verify", "--database-url", url]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("intact"));

    // A backup taken from the live file opens with the same key and verifies too.
    let out = xinfang(d, &["backup", "--database-url", url, "--out", "copy.db"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = xinfang(
        d,
        &[
            "audit",
            "verify",
            "--database-url",
            "sqlite://copy.db",
            "--key-file",
            "xinfang-demo.key",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    // Someone with the file rewrites one event's reason behind the store's back.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", d.join("copy.db").display()))
        .await
        .unwrap();
    sqlx::query("drop trigger events_no_update")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("update events set reason = '已妥善处理' where seq = 5")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = xinfang(
        d,
        &[
            "audit",
            "verify",
            "--database-url",
            "sqlite://copy.db",
            "--key-file",
            "xinfang-demo.key",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("#5"),
        "names the broken event: {}",
        text(&out)
    );

    // Without its key an existing database is refused rather than silently unreadable.
    let out = xinfang(d, &["audit", "verify", "--database-url", "sqlite://copy.db"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("key file"), "{}", text(&out));
}

/// `serve` until it says it is listening, then stops it; returns what it printed.
fn serve_once(dir: &Path, url: &str) -> String {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_xinfang"))
        .args(["serve", "--database-url", url, "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .env("XINFANG_LOG", "warn")
        .env_remove("XINFANG_DATABASE_URL")
        .env_remove("XINFANG_KEY")
        .env_remove("XINFANG_KEY_FILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start xinfang serve");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("listening on") {
                break;
            }
        }
        let _ = tx.send(seen);
    });
    let printed = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(printed.contains("listening on"), "serve did not start: {printed}");
    printed
}

#[tokio::test]
async fn on_postgres_the_first_serve_makes_the_key_and_backup_runs_pg_dump() {
    use std::sync::Arc;
    use xinfang_store::Vault;
    use xinfang_store::postgres::testing::{self, TestSchema};
    let Some(base) = testing::test_url() else { return };
    // A migrated, empty database in a schema of its own, which the URL selects.
    let schema = TestSchema::new(&base);
    let empty = schema
        .store(
            Vault::from_base64(&Vault::generate_key()).unwrap(),
            Arc::new(xinfang_core::clock::SystemClock),
        )
        .await
        .expect("create the test schema");
    drop(empty);
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{}", schema.name());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("xinfang.key");

    // Reading commands never make a key.
    let out = xinfang(d, &["audit", "verify", "--database-url", &url]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("key file"), "{}", text(&out));
    assert!(!key.exists());

    // The first serve of the empty database makes the key, the organisation and its admin.
    let printed = serve_once(d, &url);
    assert!(printed.contains("admin"), "{printed}");
    assert!(key.exists(), "xinfang.key in the working directory");
    let out = xinfang(d, &["audit", "verify", "--database-url", &url]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("intact"), "{}", text(&out));

    // A second start reuses the key (it would refuse otherwise) and the organisation.
    let again = serve_once(d, &url);
    assert!(!again.contains("password"), "no second admin: {again}");

    // Backups run pg_dump when it is on PATH, and say how to back up otherwise.
    let out = xinfang(d, &["backup", "--database-url", &url, "--out", "copy.dump"]);
    let has_pg_dump = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|dir| dir.join("pg_dump").is_file()));
    if has_pg_dump {
        assert!(out.status.success(), "{}", text(&out));
        let dump = std::fs::read(d.join("copy.dump")).expect("the dump");
        assert!(dump.starts_with(b"PGDMP"), "a pg_dump custom-format archive");
    } else {
        assert!(!out.status.success());
        assert!(text(&out).contains("pg_dump"), "{}", text(&out));
    }

    // Without its key a database that holds data is refused, and no new key is made.
    std::fs::rename(&key, d.join("xinfang.key.bak")).unwrap();
    let out = xinfang(d, &["serve", "--database-url", &url, "--bind", "127.0.0.1:0"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("key file"), "{}", text(&out));
    assert!(!key.exists());
}
