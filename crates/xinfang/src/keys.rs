//! Where the encryption key for personal data comes from.
//!
//! In order: `XINFANG_KEY` (base64), `--key-file` / `XINFANG_KEY_FILE`, else a file next to the
//! SQLite database with the extension `.key` (`xinfang.db` → `xinfang.key`). A missing key file
//! is created only when the database is new; otherwise starting would make every stored phone
//! number unreadable, so it is an error.

use anyhow::{Context, bail};
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

/// Loads the vault key, creating the key file when the database does not exist yet.
pub fn load(database_url: &str, key_file: Option<&Path>) -> anyhow::Result<Vault> {
    if let Ok(k) = std::env::var("XINFANG_KEY") {
        return Vault::from_base64(&k).context("XINFANG_KEY is not a base64-encoded 32-byte key");
    }
    let file = key_file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_key_file(database_url));
    if file.exists() {
        let text =
            std::fs::read_to_string(&file).with_context(|| format!("reading key file {}", file.display()))?;
        return Vault::from_base64(&text)
            .with_context(|| format!("key file {} is not a valid key", file.display()));
    }
    let db_is_new = sqlite_path(database_url).is_some_and(|p| !p.exists());
    if !db_is_new {
        bail!(
            "key file {} not found; without it the stored phone and ID numbers cannot be read. \
             Pass --key-file or set XINFANG_KEY.",
            file.display()
        );
    }
    write_new(&file)
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
