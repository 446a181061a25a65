//! Encryption at rest for petitioners' personal numbers.
//!
//! Phone and ID numbers are stored as AES-256-GCM ciphertexts (a random 96-bit nonce in front)
//! next to an HMAC-SHA-256 of the canonical value. The ciphertext can only be read with the key;
//! the HMAC lets the store find "every matter of this phone number" (repeat detection, one
//! person's history) with an equality lookup, without the database ever holding the number.
//! Both keys derive from one 32-byte master key kept outside the database (a file or an
//! environment variable), so the database file alone reveals no personal numbers.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a key could not be loaded or a ciphertext not opened.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("a ciphertext could not be decrypted: wrong key or tampered data")]
    Decrypt,
}

/// The master key and the two keys derived from it.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    mac_key: [u8; 32],
    audit_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(****)")
    }
}

impl Vault {
    /// A fresh random master key, base64-encoded (what `xinfang demo` writes to its key file).
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// Loads a base64 master key (surrounding white space is ignored).
    pub fn from_base64(text: &str) -> Result<Self, VaultError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| VaultError::BadKey)?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| VaultError::BadKey)?;
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut m = <HmacSha256 as Mac>::new_from_slice(&master).expect("HMAC takes any key length");
            m.update(label);
            m.finalize().into_bytes().into()
        };
        let enc = derive(b"xinfang/encryption/v1");
        let mac_key = derive(b"xinfang/lookup/v1");
        let audit_key = derive(b"xinfang/audit/v1");
        let cipher = Aes256Gcm::new_from_slice(&enc).map_err(|_| VaultError::BadKey)?;
        Ok(Self {
            cipher,
            mac_key,
            audit_key,
        })
    }

    /// Encrypts `plain` with a fresh nonce: nonce ‖ ciphertext ‖ tag.
    pub fn encrypt(&self, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    pub fn decrypt(&self, data: &[u8]) -> Result<String, VaultError> {
        if data.len() < 12 + 16 {
            return Err(VaultError::Decrypt);
        }
        let (nonce, ct) = data.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| VaultError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| VaultError::Decrypt)
    }

    /// The key of the audit chain's HMAC (see [`crate::audit`]).
    pub fn audit_key(&self) -> &[u8] {
        &self.audit_key
    }

    /// The keyed lookup hash of a value in a domain (`phone`, `id`, `secret`), so equal numbers
    /// of different kinds never collide.
    pub fn mac(&self, domain: &str, value: &str) -> Vec<u8> {
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.mac_key).expect("HMAC takes any key length");
        m.update(domain.as_bytes());
        m.update(&[0]);
        m.update(value.as_bytes());
        m.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let v = Vault::from_base64(&Vault::generate_key()).unwrap();
        let ct = v.encrypt("13812345678");
        assert!(!String::from_utf8_lossy(&ct).contains("13812345678"));
        assert_eq!(v.decrypt(&ct).unwrap(), "13812345678");
        let mut bad = ct.clone();
        bad[20] ^= 1;
        assert!(v.decrypt(&bad).is_err());
        assert_ne!(v.encrypt("x"), v.encrypt("x"), "nonces differ");
    }

    #[test]
    fn macs_are_keyed_and_domain_separated() {
        let a = Vault::from_base64(&Vault::generate_key()).unwrap();
        let b = Vault::from_base64(&Vault::generate_key()).unwrap();
        assert_eq!(a.mac("phone", "1"), a.mac("phone", "1"));
        assert_ne!(a.mac("phone", "1"), b.mac("phone", "1"));
        assert_ne!(a.mac("phone", "1"), a.mac("id", "1"));
        assert!(Vault::from_base64("c2hvcnQ=").is_err());
    }
}
