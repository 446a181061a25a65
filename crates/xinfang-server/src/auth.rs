//! Passwords, session and API tokens, and the limits that slow down guessing.
//!
//! Passwords are argon2id PHC strings, hashed and verified on the blocking pool (argon2 is
//! deliberately slow). Session and API tokens are 32 random bytes; the database keeps only their
//! SHA-256, so a copy of the database cannot be replayed as a login.

use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use xinfang_core::org::StaffActor;
use xinfang_store::{Store, StoreError};

/// Hashes a password (argon2id, random salt) into a PHC string.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| ApiError::internal())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ApiError::internal())
}

/// Checks a password against a PHC string; a malformed stored hash never verifies.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A valid argon2 hash of a random password, verified against when a username is unknown.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password(&random_token()).unwrap_or_default());
    &HASH
}

/// A fresh random token, URL-safe base64 (43 characters).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A fixed-window counter per key: at most `max` hits per `window`. The counts live in the
/// database ([`Store::rate_limit_hit`]), so two app nodes behind a load balancer do not each
/// grant the full allowance.
#[derive(Debug, Clone, Copy)]
pub struct RateLimiter {
    max: u32,
    window: chrono::Duration,
}

impl RateLimiter {
    pub fn new(max: u32, window: chrono::Duration) -> Self {
        Self { max, window }
    }

    /// Whether `key` is at its limit right now (does not count a hit).
    pub async fn is_limited(
        &self,
        store: &dyn Store,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ApiError> {
        Ok(store.rate_limit_count(key, self.window, now).await? >= self.max)
    }

    /// Counts a hit for `key`; answers 429 when that puts it over the limit.
    pub async fn hit(&self, store: &dyn Store, key: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
        if store.rate_limit_hit(key, self.window, now).await? > self.max {
            return Err(ApiError::too_many());
        }
        Ok(())
    }

    pub async fn clear(&self, store: &dyn Store, key: &str) -> Result<(), ApiError> {
        Ok(store.rate_limit_clear(key).await?)
    }
}

/// The limits of the public and login endpoints.
#[derive(Debug)]
pub struct Limits {
    /// Failed logins per username (and per client address).
    pub login_failures: RateLimiter,
    /// Public submissions and tracking look-ups per client address.
    pub public: RateLimiter,
}

impl Limits {
    pub fn new(public_per_minute: u32) -> Self {
        Self {
            login_failures: RateLimiter::new(10, chrono::Duration::minutes(15)),
            public: RateLimiter::new(public_per_minute, chrono::Duration::minutes(1)),
        }
    }

    pub fn ip_key(prefix: &str, ip: Option<IpAddr>) -> String {
        format!(
            "{prefix}:{}",
            ip.map_or_else(|| "unknown".to_string(), |i| i.to_string())
        )
    }
}

/// A short-lived cache of API token → actor, so machine clients posting thousands of work orders
/// do not cost two extra queries each. Entries live 30 seconds: a revoked token or a changed
/// grant takes effect within that time.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Instant, StaffActor)>>,
}

impl TokenCache {
    const TTL: Duration = Duration::from_secs(30);

    pub async fn resolve(
        &self,
        store: &std::sync::Arc<dyn Store>,
        hash: &str,
    ) -> Result<Option<StaffActor>, StoreError> {
        if let Ok(e) = self.entries.lock()
            && let Some((at, actor)) = e.get(hash)
            && at.elapsed() < Self::TTL
        {
            return Ok(Some(actor.clone()));
        }
        let actor = store.api_token(hash).await?;
        if let (Some(a), Ok(mut e)) = (&actor, self.entries.lock()) {
            if e.len() > 10_000 {
                e.clear();
            }
            e.insert(hash.to_string(), (Instant::now(), a.clone()));
        }
        Ok(actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify() {
        let h = hash_password("demo123").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("demo123", &h));
        assert!(!verify_password("demo124", &h));
        assert!(!verify_password("demo123", "not a hash"));
    }
}
