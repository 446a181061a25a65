//! Identifiers of the domain, each its own type so a `UnitId` can never be passed where a
//! `PetitionId` is expected.
//!
//! Row ids are UUIDv7: unique across nodes without coordination, not guessable from a
//! neighbour, yet time-ordered so B-tree indexes stay compact. The public tracking code and its
//! secret are separate: the code is short enough to read over the phone, the secret is what
//! proves the caller is the petitioner.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// An id string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

macro_rules! uuid_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(u: Uuid) -> Self {
                Self(u)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }
    };
}

uuid_id!(
    /// An organisation (an airport group, a hotline centre): the tenant every row belongs to.
    OrganisationId
);
uuid_id!(
    /// A petition matter (信访事项).
    PetitionId
);
uuid_id!(
    /// A petitioner's record, shared by all their matters.
    PetitionerId
);
uuid_id!(
    /// A unit in the organisation tree.
    UnitId
);
uuid_id!(
    /// A staff user account.
    UserId
);
uuid_id!(
    /// A node of the category tree.
    CategoryId
);
uuid_id!(
    /// A time-limit rule set (all of its versions share the id).
    RuleSetId
);
uuid_id!(
    /// An audit event.
    EventId
);
uuid_id!(
    /// A reminder raised for a unit (a deadline crossing).
    ReminderId
);
uuid_id!(
    /// A scheduled report.
    ReportId
);

/// Characters of tracking codes and secrets: digits and upper-case letters without the easily
/// confused 0/O, 1/I/L (Crockford-like), so a code read over the phone is typed right.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// The public tracking code of a matter (查询码), e.g. `XF7K3M9Q2T`. Random, not sequential: a
/// neighbour's code cannot be guessed from one's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackingCode(String);

impl TrackingCode {
    const LEN: usize = 8;

    /// A new random code. Uniqueness is enforced by the store (a unique index), which retries.
    pub fn generate(rng: &mut impl Rng) -> Self {
        Self(format!("XF{}", random_string(rng, Self::LEN)))
    }

    /// Parses a code typed by a petitioner: case and surrounding spaces are forgiven.
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        let s = raw.trim().to_ascii_uppercase();
        let body = s.strip_prefix("XF").ok_or(InvalidId)?;
        if body.len() == Self::LEN && body.bytes().all(|b| ALPHABET.contains(&b)) {
            Ok(Self(s))
        } else {
            Err(InvalidId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret that goes with a tracking code (查询密码): 12 random characters, about 59 bits.
/// Shown once at submission; the store keeps only a hash.
#[derive(Clone, PartialEq, Eq)]
pub struct TrackingSecret(String);

impl TrackingSecret {
    const LEN: usize = 12;

    pub fn generate(rng: &mut impl Rng) -> Self {
        Self(random_string(rng, Self::LEN))
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() == Self::LEN && s.bytes().all(|b| ALPHABET.contains(&b)) {
            Ok(Self(s))
        } else {
            Err(InvalidId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TrackingSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TrackingSecret(****)")
    }
}

fn random_string(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_codes_parse_back_and_differ() {
        let mut rng = rand::rng();
        let a = TrackingCode::generate(&mut rng);
        let b = TrackingCode::generate(&mut rng);
        assert_ne!(a, b);
        assert_eq!(TrackingCode::parse(&a.as_str().to_lowercase()).unwrap(), a);
        assert!(TrackingCode::parse("XF0000000O").is_err());
        assert!(TrackingCode::parse("AB23456789").is_err());
        let s = TrackingSecret::generate(&mut rng);
        assert_eq!(TrackingSecret::parse(s.as_str()).unwrap().as_str(), s.as_str());
        assert_eq!(format!("{s:?}"), "TrackingSecret(****)");
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = PetitionId::new();
        let b = PetitionId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<PetitionId>().unwrap(), a);
    }
}
