//! A compact in-memory index of LSH band keys ([`crate::dedup::band_keys`]) for the app node:
//! which stored matters share a band with a new one.
//!
//! The database keeps every matter's signature; each node derives this index from those rows
//! (the store's signature log, read in order and caught up before each lookup), so every node
//! finds the same candidates and nothing here has to be written back. It exists because a
//! lookup in a database index of 40 rows per matter costs 40 random B-tree descents into a
//! table of 40 million rows at 1,000,000 matters, whose pages do not stay cached: 6–12 ms at
//! p99. Here the same lookup is 40 binary searches in memory.
//!
//! # Layout
//!
//! Each (scope, band key) pair is hashed to 64 bits (`slot_hash`). The top `SHARD_BITS`
//! bits pick a shard; the next 32 bits are stored as the entry's key, next to the 32-bit
//! position of the matter in the index. So an entry costs 8 bytes (40 per
//! matter: 320 bytes per matter, ≈330 MB at 1,000,000 matters), and two different band keys
//! are confused with probability 2⁻⁴⁴ — at 40 million entries, one false candidate in about
//! 10,000 lookups, which the caller's signature check drops like any other dissimilar one.
//!
//! A shard is a sorted run (keys and positions in two arrays) and an unsorted tail of recent
//! entries; a tail that grows past `TAIL` entries or an eighth of the run is merged into it,
//! so an insert costs amortised O(1) per entry and a shard merge touches a few kilobytes.
//!
//! The scope (the organisation) is mixed into every hash, so organisations never see each
//! other's matters, and one index serves all organisations of a node.
//!
//! An entry is never removed: a matter whose signature changed (a re-run of intake with other
//! constants) is inserted again and its old entries stay behind; they can only produce a
//! candidate that the signature check rejects, and `BandIndex::candidates` names each matter
//! once.

use crate::dedup::{BANDS, mix};
use std::collections::HashMap;
use std::hash::Hash;

/// Bits of the hash that choose the shard.
pub const SHARD_BITS: u32 = 12;
const SHARDS: usize = 1 << SHARD_BITS;
/// Tail length at which a shard is always merged.
const TAIL: usize = 64;

/// The 64-bit hash of one band key in one scope.
pub fn slot_hash(scope: u64, band_key: i64) -> u64 {
    mix(scope ^ (band_key as u64).rotate_left(17))
}

#[derive(Default, Clone)]
struct Shard {
    keys: Vec<u32>,
    positions: Vec<u32>,
    tail: Vec<(u32, u32)>,
}

impl Shard {
    fn push(&mut self, key: u32, position: u32) {
        self.tail.push((key, position));
        if self.tail.len() >= TAIL.max(self.keys.len() / 8) {
            self.merge();
        }
    }

    fn merge(&mut self) {
        let mut tail = std::mem::take(&mut self.tail);
        tail.sort_unstable();
        let old_keys = std::mem::take(&mut self.keys);
        let old_positions = std::mem::take(&mut self.positions);
        let total = old_keys.len() + tail.len();
        self.keys.reserve_exact(total);
        self.positions.reserve_exact(total);
        let mut old = old_keys.into_iter().zip(old_positions).peekable();
        let mut new = tail.into_iter().peekable();
        loop {
            let next = match (old.peek(), new.peek()) {
                (Some(a), Some(b)) if a <= b => old.next(),
                (Some(_), Some(_)) => new.next(),
                (Some(_), None) => old.next(),
                (None, Some(_)) => new.next(),
                (None, None) => break,
            };
            if let Some((k, p)) = next {
                self.keys.push(k);
                self.positions.push(p);
            }
        }
    }

    fn find(&self, key: u32, out: &mut Vec<u32>) {
        let start = self.keys.partition_point(|k| *k < key);
        let end = start + self.keys[start..].partition_point(|k| *k == key);
        out.extend_from_slice(&self.positions[start..end]);
        out.extend(self.tail.iter().filter(|(k, _)| *k == key).map(|(_, p)| *p));
    }

    fn entries(&self) -> usize {
        self.keys.len() + self.tail.len()
    }
}

/// Band keys of many matters, by scope, in memory (see the module docs).
pub struct BandIndex<Id> {
    shards: Vec<Shard>,
    ids: Vec<Id>,
}

impl<Id> Default for BandIndex<Id> {
    fn default() -> Self {
        BandIndex {
            shards: vec![Shard::default(); SHARDS],
            ids: Vec::new(),
        }
    }
}

/// Where one (scope, band key) pair goes: the shard and the 32 bits kept there.
fn place(scope: u64, band_key: i64) -> (usize, u32) {
    let h = slot_hash(scope, band_key);
    ((h >> (64 - SHARD_BITS)) as usize, (h >> (32 - SHARD_BITS)) as u32)
}

impl<Id: Copy + Eq + Hash> BandIndex<Id> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a matter's band keys in a scope. Fails only when the index holds 2³² matters.
    pub fn insert(&mut self, scope: u64, id: Id, keys: &[i64; BANDS]) -> Result<(), IndexFull> {
        let position = u32::try_from(self.ids.len()).map_err(|_| IndexFull)?;
        self.ids.push(id);
        for k in keys {
            let (shard, key) = place(scope, *k);
            self.shards[shard].push(key, position);
        }
        Ok(())
    }

    /// The matters of `scope` other than `exclude` that share at least one band key with
    /// `keys`: the ones sharing most bands first, among equals the most recently inserted, at
    /// most `limit`. Each matter is named once.
    pub fn candidates(&self, scope: u64, keys: &[i64; BANDS], exclude: Id, limit: usize) -> Vec<Id> {
        let mut hits = Vec::new();
        for k in keys {
            let (shard, key) = place(scope, *k);
            self.shards[shard].find(key, &mut hits);
        }
        // Shared bands per matter (a matter inserted twice counts its best insertion).
        let mut shared: HashMap<Id, (u32, u32)> = HashMap::new();
        hits.sort_unstable();
        for run in hits.chunk_by(|a, b| a == b) {
            let position = run[0];
            let Some(id) = self.ids.get(position as usize).copied() else {
                continue;
            };
            if id == exclude {
                continue;
            }
            let entry = shared.entry(id).or_insert((0, position));
            entry.0 = entry.0.max(run.len() as u32);
            entry.1 = entry.1.max(position);
        }
        let mut ranked: Vec<(Id, (u32, u32))> = shared.into_iter().collect();
        ranked.sort_unstable_by_key(|r| std::cmp::Reverse(r.1));
        ranked.truncate(limit);
        ranked.into_iter().map(|(id, _)| id).collect()
    }

    /// Matter insertions held (a matter inserted twice counts twice).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Bytes held by entries and ids (allocated capacity).
    pub fn bytes(&self) -> usize {
        let entries: usize = self
            .shards
            .iter()
            .map(|s| (s.keys.capacity() + s.positions.capacity()) * 4 + s.tail.capacity() * 8)
            .sum();
        entries + self.ids.capacity() * std::mem::size_of::<Id>()
    }

    /// Band entries held.
    pub fn entries(&self) -> usize {
        self.shards.iter().map(Shard::entries).sum()
    }
}

/// The index already holds 2³² matters.
#[derive(Debug, thiserror::Error)]
#[error("the band index is full (2^32 matters)")]
pub struct IndexFull;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::{band_keys, signature};

    const BUS: &str =
        "机场大巴T3航站楼到市区的末班车时间太早，晚上航班落地后没有大巴可坐，希望延长运营时间。";
    const BUS_EDITED: &str =
        "机场大巴T3航站楼到市区的末班车时间太早了，晚上的航班落地后没有大巴坐，希望延长运营时间！";
    const NOISE: &str = "小区旁边的工地每天夜里十二点以后还在施工，噪音很大，老人孩子都睡不好觉，请求处理。";

    fn keys(text: &str) -> [i64; BANDS] {
        band_keys(&signature(text))
    }

    #[test]
    fn finds_a_near_copy_and_not_an_unrelated_text() {
        let mut index = BandIndex::new();
        index.insert(1, 10u32, &keys(BUS)).unwrap();
        index.insert(1, 11u32, &keys(NOISE)).unwrap();
        assert_eq!(index.candidates(1, &keys(BUS_EDITED), 0, 10), vec![10]);
        assert_eq!(index.candidates(1, &keys(NOISE), 0, 10), vec![11]);
    }

    #[test]
    fn scopes_do_not_see_each_other() {
        let mut index = BandIndex::new();
        index.insert(1, 10u32, &keys(BUS)).unwrap();
        assert!(index.candidates(2, &keys(BUS), 0, 10).is_empty());
        assert_eq!(index.candidates(1, &keys(BUS), 0, 10), vec![10]);
    }

    #[test]
    fn excludes_the_matter_itself_and_names_each_matter_once() {
        let mut index = BandIndex::new();
        index.insert(1, 10u32, &keys(BUS)).unwrap();
        index.insert(1, 10u32, &keys(BUS_EDITED)).unwrap();
        index.insert(1, 12u32, &keys(BUS)).unwrap();
        assert_eq!(index.candidates(1, &keys(BUS), 12, 10), vec![10]);
        assert_eq!(index.candidates(1, &keys(BUS), 99, 10).len(), 2);
    }

    #[test]
    fn ranks_by_shared_bands_then_recency_and_honours_the_limit() {
        let mut index = BandIndex::new();
        // 20 (exact copy, all 40 bands) beats 21 (edited: fewer bands) though 21 is newer.
        index.insert(1, 20u32, &keys(BUS)).unwrap();
        index.insert(1, 21u32, &keys(BUS_EDITED)).unwrap();
        assert_eq!(index.candidates(1, &keys(BUS), 0, 10), vec![20, 21]);
        assert_eq!(index.candidates(1, &keys(BUS), 0, 1), vec![20]);
        // Among equals the most recent first.
        index.insert(1, 22u32, &keys(BUS)).unwrap();
        assert_eq!(index.candidates(1, &keys(BUS), 0, 10), vec![22, 20, 21]);
    }

    #[test]
    fn stays_exact_across_shard_merges() {
        // Enough matters that every shard merges its tail several times; each must still be
        // found by its own keys, and as the best candidate.
        let mut index = BandIndex::new();
        let pool: Vec<char> = "机场航站楼大巴出租车停车收费噪音施工物业小区电梯漏水供暖燃气工资拖欠合同租户装修垃圾绿化道路照明排水"
            .chars()
            .collect();
        let mut seed = 12345u64;
        let texts: Vec<String> = (0..3000)
            .map(|_| {
                (0..30)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        pool[(seed >> 33) as usize % pool.len()]
                    })
                    .collect()
            })
            .collect();
        for (i, t) in texts.iter().enumerate() {
            index.insert(5, i as u32, &keys(t)).unwrap();
        }
        assert_eq!(index.len(), 3000);
        assert_eq!(index.entries(), 3000 * BANDS);
        for (i, t) in texts.iter().enumerate().step_by(97) {
            let found = index.candidates(5, &keys(t), u32::MAX, 5);
            assert_eq!(found.first(), Some(&(i as u32)), "text {i}");
        }
        assert!(index.bytes() >= 3000 * BANDS * 8);
    }
}
