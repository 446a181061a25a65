//! Duplicate and repeat detection at intake: MinHash signatures over character shingles, LSH band
//! keys that a database can index, and the rule that turns "similar text" plus "same petitioner"
//! into a link (duplicate, repeat, joint petition, or merely similar).
//!
//! # How a lookup works
//!
//! 1. [`signature`] normalises the text ([`dedup_text`]: full-width to half-width, lower case,
//!    phone/ID/long numbers masked, punctuation and white space dropped), cuts it into character
//!    [`SHINGLE`]-grams and keeps, for each of [`PERMUTATIONS`] hash functions, the smallest hash.
//!    Two texts agree on a position with probability equal to the Jaccard similarity of their
//!    shingle sets.
//! 2. [`band_keys`] folds the signature's first positions into [`BANDS`] keys of [`ROWS`]
//!    positions each. Texts whose
//!    similarity is `s` share at least one key with probability `1 - (1 - s^ROWS)^BANDS`: 0.93 at
//!    the [`LinkRules::similar`] threshold of 0.4, 0.995 at 0.5 (a message with 15% of its
//!    characters edited is at 0.5 or more in 99 cases of 100), 0.04 at 0.1 (unrelated messages
//!    on the same subject). Three rows rather than two keep unrelated candidates few: 0.8 per
//!    lookup among the 5,570 training messages instead of 48.
//! 3. The candidates (matters sharing a key) are verified with [`similarity`] (or
//!    [`jaccard`] on the texts) and classified by [`classify`].
//!
//! # What the store keeps
//!
//! The database keeps each matter's signature (`matter_signatures`: [`Signature::to_bytes`],
//! 512 bytes, and the [`SIGNATURE_VERSION`] it was computed with), each at a position in a
//! signature log. Every app node derives the band keys from those rows into its own memory
//! ([`crate::band_index::BandIndex`], kept current by `xinfang_store::CandidateIndex`), so all
//! nodes find the same candidates; the candidates' signatures, petitioners and states are then
//! read from the database and passed to [`classify`]. Signatures depend only on the text and on
//! the constants of this module, so a node that computes them agrees with every other node; a
//! change of those constants bumps [`SIGNATURE_VERSION`] and the rows of the older version are
//! recomputed. [`DedupIndex`] is a simpler index in memory (signatures included) for tests,
//! evaluation and benchmarks.
//!
//! # Links (DESIGN.md sections 3 and 4)
//!
//! See [`Link`]. Only [`Link::Repeat`] enters the repeat rate (重复信访率); a
//! [`Link::Duplicate`] is the same petition received twice (declined as 重复登记), a
//! [`Link::Joint`] puts several petitioners on one matter, and [`Link::Similar`] is shown to the
//! clerk without counting anywhere.
//!
//! Petitioner identities are compared only as opaque keys ([`PetitionerKey`]): the keyed hash of
//! a phone or ID number (the vault's lookup MAC) or the petitioner id found through it, never the
//! number itself.

use crate::features::feature_text;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Version of the signature scheme (shingle size, hash functions, bands). Stored beside each
/// signature: rows of another version must be recomputed before they are compared.
pub const SIGNATURE_VERSION: u16 = 1;
/// Characters per shingle.
pub const SHINGLE: usize = 2;
/// Signature positions per band.
pub const ROWS: usize = 3;
/// Bands, and so band keys per matter.
pub const BANDS: usize = 40;
/// Hash functions, and so positions in a signature. The bands use the first `ROWS * BANDS`;
/// all of them serve the estimate, whose standard error at a similarity of 0.4 is then 0.04
/// instead of 0.06, so a pair at the threshold is decided by its text rather than by chance.
pub const PERMUTATIONS: usize = 128;
const _: () = assert!(ROWS * BANDS <= PERMUTATIONS);
/// A text with fewer distinct shingles than this (about six characters once punctuation is
/// gone) is too short for an estimate: its signature matches only the same text exactly.
pub const MIN_SHINGLES: usize = 5;

/// A MinHash signature: the smallest of [`PERMUTATIONS`] hash functions over a text's shingles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature([u32; PERMUTATIONS]);

/// Why stored bytes are not a signature.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a dedup signature has {expected} bytes, got {got}")]
pub struct SignatureBytesError {
    /// The length a signature must have.
    pub expected: usize,
    /// The length given.
    pub got: usize,
}

impl Signature {
    /// The byte form kept by the store: the positions as little-endian `u32`s.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Reads [`Signature::to_bytes`]' output back.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, SignatureBytesError> {
        let expected = PERMUTATIONS * 4;
        if bytes.len() != expected {
            return Err(SignatureBytesError {
                expected,
                got: bytes.len(),
            });
        }
        let mut out = [0u32; PERMUTATIONS];
        for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Ok(Signature(out))
    }

    /// The positions.
    pub fn values(&self) -> &[u32; PERMUTATIONS] {
        &self.0
    }
}

/// The text that dedup compares: [`feature_text`] (normalised, personal numbers masked) with
/// everything but letters, digits and the number placeholders removed, so punctuation, spacing
/// and a different phone number do not make two copies of a message differ.
pub fn dedup_text(text: &str) -> Vec<char> {
    feature_text(text)
        .chars()
        .filter(|&c| crate::segment::is_alphanumeric(c) || ('\u{E000}'..='\u{E0FF}').contains(&c))
        .collect()
}

/// splitmix64's finaliser: a fixed, well-mixing 64-bit bijection. Fixed (not `std`'s hasher),
/// because persisted band keys must not change with the compiler.
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The multipliers (odd) and offsets of the multiply-add-shift hash functions, derived from fixed
/// seeds at compile time.
const HASHES: ([u64; PERMUTATIONS], [u64; PERMUTATIONS]) = {
    let mut a = [0u64; PERMUTATIONS];
    let mut b = [0u64; PERMUTATIONS];
    let mut i = 0;
    while i < PERMUTATIONS {
        a[i] = mix(0x9E37_79B9_7F4A_7C15 ^ (i as u64 * 2 + 1)) | 1;
        b[i] = mix(0xD1B5_4A32_D192_ED03 ^ (i as u64 * 2 + 2));
        i += 1;
    }
    (a, b)
};

/// The hash of one shingle (characters folded, then mixed).
fn shingle_hash(gram: &[char]) -> u64 {
    mix(gram.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, c| {
        (h ^ *c as u64).wrapping_mul(0x0000_0100_0000_01B3)
    }))
}

/// The sorted, distinct shingle hashes of a text (after [`dedup_text`]). A text shorter than a
/// shingle is one shingle of itself.
pub fn shingles(text: &str) -> Vec<u64> {
    shingles_of(&dedup_text(text))
}

fn shingles_of(chars: &[char]) -> Vec<u64> {
    let mut out: Vec<u64> = if chars.len() < SHINGLE {
        if chars.is_empty() {
            Vec::new()
        } else {
            vec![shingle_hash(chars)]
        }
    } else {
        chars.windows(SHINGLE).map(shingle_hash).collect()
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Exact Jaccard similarity of two sorted, distinct shingle lists ([`shingles`]); 0 when both
/// are empty.
pub fn jaccard(a: &[u64], b: &[u64]) -> f32 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f32 / union as f32
    }
}

/// The signature of a text. Texts with fewer than [`MIN_SHINGLES`] distinct shingles (and empty
/// ones) get every position set to one hash of the whole text, so they match only themselves:
/// "停车难" and "停车贵" are not the same matter just because they are short.
pub fn signature(text: &str) -> Signature {
    signature_of_chars(&dedup_text(text))
}

fn signature_of_chars(chars: &[char]) -> Signature {
    let sh = shingles_of(chars);
    if sh.len() < MIN_SHINGLES {
        let whole = (mix(shingle_hash(chars) ^ 0x5348_4F52_5400_0000) >> 32) as u32;
        return Signature([whole; PERMUTATIONS]);
    }
    let (a, b) = &HASHES;
    let mut mins = [u32::MAX; PERMUTATIONS];
    for h in sh {
        for ((m, a), b) in mins.iter_mut().zip(a).zip(b) {
            // `min`, not a branch, so the loop vectorises.
            *m = (*m).min((a.wrapping_mul(h).wrapping_add(*b) >> 32) as u32);
        }
    }
    Signature(mins)
}

/// The [`BANDS`] LSH keys of a signature, band index mixed in so equal values in different bands
/// do not collide. `i64` because that is what a `bigint` column holds.
pub fn band_keys(sig: &Signature) -> [i64; BANDS] {
    let mut out = [0i64; BANDS];
    for (band, (key, rows)) in out
        .iter_mut()
        .zip(sig.0[..ROWS * BANDS].chunks_exact(ROWS))
        .enumerate()
    {
        let folded = rows
            .iter()
            .fold(mix(band as u64 + 0x4241_4E44), |h, v| mix(h ^ *v as u64));
        *key = folded as i64;
    }
    out
}

/// Estimated Jaccard similarity: the share of positions on which two signatures agree.
pub fn similarity(a: &Signature, b: &Signature) -> f32 {
    let same = a.0.iter().zip(&b.0).filter(|(x, y)| x == y).count();
    same as f32 / PERMUTATIONS as f32
}

/// An opaque, stable identity of a petitioner: the keyed hash of a phone or ID number, or the id
/// of the petitioner record found through it. Compared for equality only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PetitionerKey(pub Vec<u8>);

/// How a new matter relates to an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// 重复登记: the same petition received again — a shared petitioner, near-identical text
    /// ([`LinkRules::identical`]), while the existing matter is unanswered and was registered
    /// at most [`LinkRules::duplicate_days`] earlier (a second channel, a letter copied to
    /// several offices, a form sent twice). Declined as `duplicate`; not a repeat petition.
    Duplicate,
    /// 重复信访: a shared petitioner, the same matter ([`LinkRules::similar`]), while the existing
    /// matter is open or within [`LinkRules::repeat_days`] (default 180) of its answer, and not a
    /// duplicate. Counts in the repeat rate.
    Repeat,
    /// 联名/集体: near-identical text ([`LinkRules::identical`]) from petitioners none of whom are
    /// on the existing matter, while it is open or within the repeat window: one matter, more
    /// petitioners.
    Joint,
    /// Similar text and none of the above (different wording from other people, an identity
    /// missing on one side, or an old answered matter): shown to the clerk, counted nowhere.
    Similar,
}

impl Link {
    /// The stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            Link::Duplicate => "duplicate",
            Link::Repeat => "repeat",
            Link::Joint => "joint",
            Link::Similar => "similar",
        }
    }

    /// The Simplified Chinese name shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            Link::Duplicate => "重复登记",
            Link::Repeat => "重复信访",
            Link::Joint => "联名信访",
            Link::Similar => "相似事项",
        }
    }
}

/// Thresholds and windows of [`classify`]; an organisation may change them without
/// recomputing any signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRules {
    /// Estimated Jaccard from which two texts are the same matter (tuned by
    /// `examples/dedup_eval.rs`: recall ≥ 0.95 with 15% of the characters edited).
    pub similar: f32,
    /// Estimated Jaccard from which two texts are the same text (duplicates, joint petitions).
    pub identical: f32,
    /// Days after its registration during which an unanswered matter receives duplicates.
    pub duplicate_days: i64,
    /// Days after its answer during which the same matter again is a repeat (DESIGN.md §4: 180).
    pub repeat_days: i64,
}

impl Default for LinkRules {
    fn default() -> Self {
        LinkRules {
            similar: 0.40,
            identical: 0.70,
            // The regulation's 15 days to register and notify: before that the petitioner has
            // heard nothing, so the same text again is the same petition arriving twice.
            duplicate_days: 15,
            repeat_days: 180,
        }
    }
}

/// The new matter, as intake sees it.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// Its signature.
    pub signature: &'a Signature,
    /// Its petitioners' keys (empty when anonymous).
    pub petitioners: &'a [PetitionerKey],
    /// When it was received.
    pub at: DateTime<Utc>,
}

/// An existing matter found through the index.
#[derive(Debug, Clone)]
pub struct Existing<'a> {
    /// Its stored signature.
    pub signature: &'a Signature,
    /// Its petitioners' keys (empty when anonymous).
    pub petitioners: &'a [PetitionerKey],
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// Whether it is still being handled (registered up to in progress, or under review or
    /// re-check), see [`is_open`].
    pub open: bool,
    /// When the petitioner got the answer: the reply's delivery, or the notice that it was not
    /// accepted. `None` while unanswered.
    pub answered_at: Option<DateTime<Utc>>,
}

/// Whether a matter in `state` is still being handled for the purpose of [`Existing::open`]. A
/// replied matter is not open: from its reply the [`LinkRules::repeat_days`] window runs.
pub fn is_open(state: xinfang_core::matter::State) -> bool {
    use xinfang_core::matter::State::*;
    match state {
        Registered | Accepted | Classified | Assigned | InProgress | Review | Recheck => true,
        NotAccepted | Replied | FollowUp | Reviewed | Concluded | Archived => false,
    }
}

/// A link found by [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Linked {
    /// The kind.
    pub link: Link,
    /// The estimated Jaccard similarity of the two texts.
    pub similarity: f32,
}

/// How the new matter relates to an existing one, or `None` when the texts are not similar
/// enough to be the same matter. See [`Link`] for the definitions.
pub fn classify(rules: &LinkRules, new: &Incoming<'_>, old: &Existing<'_>) -> Option<Linked> {
    let s = similarity(new.signature, old.signature);
    if s < rules.similar {
        return None;
    }
    let identical = s >= rules.identical;
    let shared = new.petitioners.iter().any(|p| old.petitioners.contains(p));
    let known_both = !new.petitioners.is_empty() && !old.petitioners.is_empty();
    let in_window = old.open
        || old
            .answered_at
            .is_some_and(|at| new.at >= at && new.at - at <= Duration::days(rules.repeat_days));
    let link = if shared
        && identical
        && old.answered_at.is_none()
        && new.at - old.registered_at <= Duration::days(rules.duplicate_days)
    {
        Link::Duplicate
    } else if shared && in_window {
        Link::Repeat
    } else if known_both && !shared && identical && in_window {
        Link::Joint
    } else {
        Link::Similar
    };
    Some(Linked { link, similarity: s })
}

/// The links of a new matter to the candidates the index found, strongest first (duplicate,
/// repeat, joint, similar; then by similarity). Intake records the first as the matter's link;
/// the rest are shown as related matters.
pub fn links<'a, Id>(
    rules: &LinkRules,
    new: &Incoming<'_>,
    candidates: impl IntoIterator<Item = (Id, Existing<'a>)>,
) -> Vec<(Id, Linked)> {
    let mut out: Vec<(Id, Linked)> = candidates
        .into_iter()
        .filter_map(|(id, old)| classify(rules, new, &old).map(|l| (id, l)))
        .collect();
    out.sort_by(|a, b| {
        a.1.link
            .cmp(&b.1.link)
            .then(b.1.similarity.total_cmp(&a.1.similarity))
    });
    out
}

/// A simple band-key index in memory with the signatures themselves, for tests, evaluation and
/// benchmarks (the server's compact one is [`crate::band_index::BandIndex`]). Bulk-loaded
/// entries sit in one sorted array (12 bytes per key); later inserts go to a hash map beside it.
#[derive(Debug, Clone)]
pub struct DedupIndex<Id> {
    keys: Vec<i64>,
    slots: Vec<u32>,
    recent: HashMap<i64, Vec<u32>>,
    entries: Vec<(Id, Signature)>,
}

impl<Id> Default for DedupIndex<Id> {
    fn default() -> Self {
        DedupIndex {
            keys: Vec::new(),
            slots: Vec::new(),
            recent: HashMap::new(),
            entries: Vec::new(),
        }
    }
}

impl<Id> DedupIndex<Id> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An index of many signatures at once, sorted in one go.
    pub fn bulk(items: impl IntoIterator<Item = (Id, Signature)>) -> Self {
        let entries: Vec<(Id, Signature)> = items.into_iter().collect();
        let mut pairs: Vec<(i64, u32)> = Vec::with_capacity(entries.len() * BANDS);
        for (slot, (_, sig)) in entries.iter().enumerate() {
            pairs.extend(band_keys(sig).into_iter().map(|k| (k, slot as u32)));
        }
        pairs.sort_unstable();
        let (keys, slots) = pairs.into_iter().unzip();
        DedupIndex {
            keys,
            slots,
            recent: HashMap::new(),
            entries,
        }
    }

    /// Adds a matter.
    pub fn insert(&mut self, id: Id, sig: Signature) {
        let slot = self.entries.len() as u32;
        for k in band_keys(&sig) {
            self.recent.entry(k).or_default().push(slot);
        }
        self.entries.push((id, sig));
    }

    /// Number of matters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held by the index (keys, slots, signatures; the hash map approximately).
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 8
            + self.slots.capacity() * 4
            + self.entries.capacity() * std::mem::size_of::<(Id, Signature)>()
            + self.recent.capacity() * (8 + 24)
            + self.recent.values().map(|v| v.capacity() * 4).sum::<usize>()
    }

    /// The matters sharing at least one band key with `sig` (each once), unverified.
    pub fn candidates(&self, sig: &Signature) -> Vec<u32> {
        let mut out = Vec::new();
        for k in band_keys(sig) {
            let start = self.keys.partition_point(|x| *x < k);
            let end = start + self.keys[start..].partition_point(|x| *x == k);
            out.extend_from_slice(&self.slots[start..end]);
            if let Some(v) = self.recent.get(&k) {
                out.extend_from_slice(v);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The matters whose estimated similarity to `sig` is at least `min`, most similar first.
    pub fn query(&self, sig: &Signature, min: f32) -> Vec<(&Id, &Signature, f32)> {
        let mut out: Vec<(&Id, &Signature, f32)> = self
            .candidates(sig)
            .into_iter()
            .filter_map(|slot| {
                let (id, other) = &self.entries[slot as usize];
                let s = similarity(sig, other);
                (s >= min).then_some((id, other, s))
            })
            .collect();
        out.sort_by(|a, b| b.2.total_cmp(&a.2));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const A: &str = "XX小区物业费收费标准不合理，物业公司未经业主大会同意擅自上涨物业费，\
                     希望有关部门核查并督促物业公司退还多收的费用。联系电话13812345678。";

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap() + Duration::days(day as i64)
    }

    fn key(s: &str) -> PetitionerKey {
        PetitionerKey(s.as_bytes().to_vec())
    }

    #[test]
    fn punctuation_spacing_width_and_numbers_do_not_matter() {
        let b = "XX小区物业费收费标准不合理 物业公司未经业主大会同意擅自上涨物业费！\
                 希望有关部门核查并督促物业公司退还多收的费用 联系电话：139-8765-4321";
        assert_eq!(signature(A), signature(b));
        assert_eq!(similarity(&signature(A), &signature(b)), 1.0);
    }

    #[test]
    fn a_lightly_edited_copy_is_similar_and_an_other_matter_is_not() {
        let edited = "XX小区物业费收费标准很不合理，物业公司没经业主大会同意就擅自上涨物业费，\
                      希望有关部门核查，督促物业公司退还多收费用。";
        let other = "夜间航班落地后机场大巴已经停运，打车排队要一个多小时，希望增开夜间线路。";
        let (sa, se, so) = (signature(A), signature(edited), signature(other));
        let exact = jaccard(&shingles(A), &shingles(edited));
        assert!(exact > 0.6, "exact {exact}");
        assert!((similarity(&sa, &se) - exact).abs() < 0.2);
        assert!(similarity(&sa, &so) < 0.1);
        let shared = band_keys(&sa)
            .iter()
            .filter(|k| band_keys(&se).contains(k))
            .count();
        assert!(shared >= 1);
    }

    #[test]
    fn short_texts_match_only_themselves() {
        assert_eq!(signature("停车难！"), signature("停车难"));
        assert_eq!(similarity(&signature("停车难"), &signature("停车贵")), 0.0);
        assert_eq!(similarity(&signature("停车难"), &signature(A)), 0.0);
        assert_eq!(similarity(&signature(""), &signature("，。")), 1.0);
    }

    #[test]
    fn signature_bytes_round_trip_and_keys_are_stable() {
        let s = signature(A);
        let bytes = s.to_bytes();
        assert_eq!(bytes.len(), 4 * PERMUTATIONS);
        assert_eq!(Signature::from_bytes(&bytes).unwrap(), s);
        assert!(Signature::from_bytes(&bytes[1..]).is_err());
        // Keys and signatures are persisted: they must not change between builds or machines.
        // A failure here means SIGNATURE_VERSION must go up and stored rows be recomputed.
        let pinned = signature("夜间航班落地后机场大巴已经停运");
        assert_eq!(
            (pinned.values()[0], band_keys(&pinned)[0]),
            (450463756, -574505276925098965)
        );
        let distinct: std::collections::HashSet<i64> = band_keys(&s).into_iter().collect();
        assert_eq!(distinct.len(), BANDS);
    }

    fn existing<'a>(
        sig: &'a Signature,
        who: &'a [PetitionerKey],
        registered: u32,
        open: bool,
        answered: Option<u32>,
    ) -> Existing<'a> {
        Existing {
            signature: sig,
            petitioners: who,
            registered_at: t(registered),
            open,
            answered_at: answered.map(t),
        }
    }

    #[test]
    fn link_kinds_follow_the_definitions() {
        let rules = LinkRules::default();
        let same = signature(A);
        let reworded = signature(
            "上次反映过XX小区物业公司未经业主大会同意擅自上涨物业费的问题，至今没有退还多收的费用，\
             物业费收费标准不合理，再次希望有关部门核查。",
        );
        let s = similarity(&same, &reworded);
        assert!(
            s >= rules.similar && s < rules.identical,
            "reworded similarity {s}"
        );
        let zhang = [key("zhang")];
        let li = [key("li")];
        let new = |sig, who, day| Incoming {
            signature: sig,
            petitioners: who,
            at: t(day),
        };
        let kind = |n: &Incoming<'_>, o: &Existing<'_>| classify(&rules, n, o).map(|l| l.link);

        // Same person, same text, 3 days later, nothing answered yet: the same petition twice.
        let old = existing(&same, &zhang, 0, true, None);
        assert_eq!(kind(&new(&same, &zhang, 3), &old), Some(Link::Duplicate));
        // Same person, same text, after 20 days while still open: asking again is a repeat.
        assert_eq!(kind(&new(&same, &zhang, 20), &old), Some(Link::Repeat));
        // Same person, reworded, while open: a repeat.
        assert_eq!(kind(&new(&reworded, &zhang, 3), &old), Some(Link::Repeat));
        // Answered on day 30: within 180 days a repeat, after it only similar.
        let answered = existing(&same, &zhang, 0, false, Some(30));
        assert_eq!(kind(&new(&reworded, &zhang, 200), &answered), Some(Link::Repeat));
        assert_eq!(kind(&new(&reworded, &zhang, 211), &answered), Some(Link::Similar));
        // Same text, someone else, while open: a joint petition; reworded by someone else: similar.
        assert_eq!(kind(&new(&same, &li, 2), &old), Some(Link::Joint));
        assert_eq!(kind(&new(&reworded, &li, 2), &old), Some(Link::Similar));
        // Anonymous on either side: identity unknown, only similar.
        assert_eq!(kind(&new(&same, &[], 2), &old), Some(Link::Similar));
        // A different matter: no link.
        let other = signature("夜间航班落地后机场大巴已经停运，打车排队要一个多小时，希望增开夜间线路。");
        assert_eq!(kind(&new(&other, &zhang, 2), &old), None);
    }

    #[test]
    fn links_put_the_strongest_first() {
        let rules = LinkRules::default();
        let sig = signature(A);
        let (zhang, li) = ([key("zhang")], [key("li")]);
        let new = Incoming {
            signature: &sig,
            petitioners: &zhang,
            at: t(40),
        };
        let found = links(
            &rules,
            &new,
            [
                ("li-open", existing(&sig, &li, 30, true, None)),
                ("zhang-answered", existing(&sig, &zhang, 0, false, Some(20))),
            ],
        );
        let order: Vec<(&str, Link)> = found.iter().map(|(id, l)| (*id, l.link)).collect();
        assert_eq!(
            order,
            vec![("zhang-answered", Link::Repeat), ("li-open", Link::Joint)]
        );
    }

    #[test]
    fn index_finds_what_was_inserted_bulk_or_later() {
        let texts = [
            A,
            "夜间航班落地后机场大巴已经停运，打车排队要一个多小时，希望增开夜间线路。",
            "T2航站楼停车场收费标准不透明，停了两个小时收了六十元，请核查是否乱收费。",
        ];
        let mut index = DedupIndex::bulk(texts.iter().take(2).enumerate().map(|(i, t)| (i, signature(t))));
        index.insert(2, signature(texts[2]));
        assert_eq!(index.len(), 3);
        for (i, text) in texts.iter().enumerate() {
            let hits = index.query(&signature(text), 0.3);
            assert_eq!(hits.len(), 1, "{text}");
            assert_eq!(*hits[0].0, i);
        }
        let probe = "T2航站楼停车场收费标准不透明，停两个小时收了60元，请核查是否存在乱收费。";
        let hits = index.query(&signature(probe), 0.3);
        assert_eq!(hits.iter().map(|h| *h.0).collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn open_states() {
        use xinfang_core::matter::State;
        assert!(is_open(State::InProgress));
        assert!(is_open(State::Review));
        assert!(!is_open(State::Replied));
        assert!(!is_open(State::Concluded));
    }
}
