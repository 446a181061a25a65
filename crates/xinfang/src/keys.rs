//! Where the encryption key for personal data comes from.
//!
//! In order: `XINFANG_KEY` (base64), `--key-file` / `XINFANG_KEY_FILE`, else a file next to the
//! SQLite database with the extension `.key` (`xinfang.db` → `xinfang.key`), or `xinfang.key`
//! in the working directory for a PostgreSQL URL. A missing key file is created only when the
//! database is new (a SQLite file that does not exist yet; a PostgreSQL database without any
//! organisation, which the caller checks); otherwise starting would make every stored phone
//! number unreadable, so it is an error.

use anyhow::Context;
use std::path::{Path, PathBuf};
use xinfang_store::Vault;

/// The default key file for a database URL.
pub fn default_key_file(database_url: &str) -> PathBuf {
    match sqlite_path(database_url) {
        Some(p) => p.with_extension("key"),
        None => PathBuf::from("xinfang.key"),
    }
}

/// The file path of a `sqlite://` or `sqlite:` URL.
pub fn sqlite_path(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(path))
}

/// The key file to use: `--key-file`, else the default for the URL.
pub fn key_file(database_url: &str, key_file: Option<&Path>) -> PathBuf {
    key_file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_key_file(database_url))
}

/// The key from `XINFANG_KEY` or an existing key file; `None` when there is neither.
pub fn existing(database_url: &str, key_file: Option<&Path>) -> anyhow::Result<Option<Vault>> {
    if let Ok(k) = std::env::var("XINFANG_KEY") {
        return Vault::from_base64(&k)
            .map(Some)
            .context("XINFANG_KEY is not a base64-encoded 32-byte key");
    }
    let file = self::key_file(database_url, key_file);
    if !file.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading key file {}", file.display()))?;
    Vault::from_base64(&text)
        .map(Some)
        .with_context(|| format!("key file {} is not a valid key", file.display()))
}

/// The error for a database whose key is missing.
pub fn missing(file: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "key file {} not found; without it the stored phone and ID numbers cannot be read. \
         Pass --key-file or set XINFANG_KEY.",
        file.display()
    )
}

/// Loads the vault key of a SQLite database, creating the key file when the database does
/// not exist yet.
pub fn load(database_url: &str, key_file: Option<&Path>) -> anyhow::Result<Vault> {
    if let Some(vault) = existing(database_url, key_file)? {
        return Ok(vault);
    }
    let file = self::key_file(database_url, key_file);
    let db_is_new = sqlite_path(database_url).is_some_and(|p| !p.exists());
    if !db_is_new {
        return Err(missing(&file));
    }
    write_new(&file)
}

/// Writes `key` to a new key file (readable by the owner only); refuses to replace a file.
pub fn write_key(file: &Path, key: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(file)
        .with_context(|| format!("creating key file {}", file.display()))?;
    f.write_all(format!("{key}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing key file {}", file.display()))?;
    tracing::warn!(file = %file.display(), "created a new encryption key: back it up together with the database");
    Ok(())
}

/// Writes a fresh key file (readable by the owner only) and returns its vault.
pub fn write_new(file: &Path) -> anyhow::Result<Vault> {
    let key = Vault::generate_key();
    std::fs::write(file, format!("{key}\n"))
        .with_context(|| format!("writing key file {}", file.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    tracing::warn!(file = %file.display(), "created a new encryption key: back it up together with the database");
    Ok(Vault::from_base64(&key)?)
}
