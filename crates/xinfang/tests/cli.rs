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
