//! The audit chain: how an event's hash is computed, the same way on every backend.
//!
//! Each organisation has one chain. An event stores the hash of the event before it
//! (`prev_hash`; the first event links to [`GENESIS`]) and its own hash: HMAC-SHA-256, keyed
//! with a key derived from the installation's master key, over `prev_hash` and a canonical,
//! length-prefixed encoding of every stored field. Changing, inserting or removing any event
//! breaks the link at that point, which `xinfang audit verify` reports. Because the hash is
//! keyed, someone who can write the database file but does not hold the key cannot rewrite an
//! event and recompute the chain behind it. (The store also refuses UPDATE and DELETE on
//! events; the chain catches what goes around the store.)

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The `prev_hash` of an organisation's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an event that the hash covers, in a fixed order.
#[derive(Debug, Clone)]
pub struct HashedFields<'a> {
    pub organisation_id: &'a str,
    pub seq: i64,
    pub id: &'a str,
    pub matter_id: Option<&'a str>,
    pub kind: &'a str,
    pub actor_kind: &'a str,
    pub actor_user_id: Option<&'a str>,
    pub actor_name: Option<&'a str>,
    pub occurred_at: &'a str,
    pub recorded_at: &'a str,
    pub reason: Option<&'a str>,
    pub before_state: Option<&'a str>,
    pub after_state: Option<&'a str>,
    pub data: &'a str,
}

/// HMAC-SHA-256 (hex), keyed with `key`, of `prev_hash` and the event's fields.
pub fn event_hash(key: &[u8], prev_hash: &str, f: &HashedFields<'_>) -> String {
    let mut h = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    let mut put = |v: Option<&str>| match v {
        // Length-prefixed, with a marker for NULL, so ("ab","c") and ("a","bc") differ.
        Some(s) => {
            h.update(b"S");
            h.update(&(s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
        None => h.update(b"N"),
    };
    let seq = f.seq.to_string();
    put(Some(prev_hash));
    put(Some(f.organisation_id));
    put(Some(&seq));
    put(Some(f.id));
    put(f.matter_id);
    put(Some(f.kind));
    put(Some(f.actor_kind));
    put(f.actor_user_id);
    put(f.actor_name);
    put(Some(f.occurred_at));
    put(Some(f.recorded_at));
    put(f.reason);
    put(f.before_state);
    put(f.after_state);
    put(Some(f.data));
    hex::encode(h.finalize().into_bytes())
}

/// SHA-256 (hex) of an API or session token: the store keeps only this.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(reason: Option<&str>) -> HashedFields<'_> {
        HashedFields {
            organisation_id: "o",
            seq: 1,
            id: "e",
            matter_id: Some("m"),
            kind: "accept",
            actor_kind: "staff",
            actor_user_id: None,
            actor_name: None,
            occurred_at: "t",
            recorded_at: "t",
            reason,
            before_state: None,
            after_state: None,
            data: "{}",
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let k = b"key";
        let a = event_hash(k, GENESIS, &fields(Some("x")));
        assert_eq!(a.len(), 64);
        assert_ne!(a, event_hash(k, GENESIS, &fields(Some("y"))));
        assert_ne!(a, event_hash(k, GENESIS, &fields(None)));
        assert_ne!(a, event_hash(k, &a, &fields(Some("x"))));
        assert_ne!(a, event_hash(b"other key", GENESIS, &fields(Some("x"))), "keyed");
    }
}
