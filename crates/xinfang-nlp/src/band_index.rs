//! A compact in-memory index of LSH band keys ([`crate::dedup::band_keys`]) for the app node:
//! which stored matters share a band with a new one, and which of those are similar to it.
//!
//! The database keeps every matter's signature; each node derives this index from those rows
//! (the store's signature log, read in order and caught up before each lookup), so every node
//! finds the same candidates and nothing here has to be written back. It exists because a
//! lookup in a database index of 40 rows per matter costs 40 random B-tree descents into a
//! table of 40 million rows at 1,000,000 matters, whose pages do not stay cached: 6–12 ms at
//! p99. Here the same lookup is 40 binary searches in memory.
//!
//! Most matters sharing a band with a new one are not similar to it (at 1,000,000 stored
//! messages on recurring subjects, ≈50 share a band and ≈7 are similar). Reading each one's
//! signature from the database to find out was the rest of the cost, so the index also keeps
//! a 16-bit sketch of every signature (the low half of each of its [`PERMUTATIONS`] values):
//! two sketches agree wherever the signatures agree, and by chance elsewhere with probability
//! 2⁻¹⁶, so the similarity estimated from sketches is never below the signatures' own and
//! rarely above it. A matter whose sketch falls below the threshold cannot be similar; only the
//! matters that pass are read from the database, where the full signature decides.
//!
//! The caller reads at most a few dozen of them, so which come first matters: a matter of the
//! same petitioner (a repeat, or the same letter twice) must never be crowded out by a mass of
//! identical letters from others. Each entry therefore carries 64 "people" bits, one per
//! petitioner ([`people_bits`]), and candidates sharing a bit with the new matter rank first.
//! A shared bit by chance (1 in 64 for one petitioner each) only moves a matter up the list.
//!
//! # Layout
//!
//! Each (scope, band key) pair is hashed to 64 bits (`slot_hash`). The top `SHARD_BITS`
//! bits pick a shard; the next 32 bits are stored as the entry's key, next to the 32-bit
//! position of the matter in the index. So an entry costs 8 bytes (40 per
//! matter: 320 bytes per matter) and the sketch 256 bytes (≈600 MB in all at 1,000,000 matters,
//! with the ids), and two different band keys
//! are confused with probability 2⁻⁴⁴ — at 40 million entries, one false candidate in about
//! 10,000 lookups, which the caller's signature check drops like any other dissimilar one.
//!
//! A shard is a sorted run (keys and positions in two arrays) and an unsorted tail of recent
//! entries. One matter at a time (a node's steady state), a tail is merged into the run at
//! `TAIL` entries, so a lookup scans short tails; when many are loaded at once (the whole log
//! at start), at an eighth of the run, so the load copies each entry a bounded number of
//! times. The keys are hash bits spread evenly, so a lookup in a run starts where the key's
//! rank predicts and gallops from there (a few cache lines, where a binary search through a
//! shard of 10,000 entries would miss the cache at each step).
//!
//! The scope (the organisation) is mixed into every hash, so organisations never see each
//! other's matters, and one index serves all organisations of a node.
//!
//! An entry is never removed: a matter whose signature changed (a re-run of intake with other
//! constants) is inserted again and its old entries stay behind; they can only produce a
//! candidate that the signature check rejects, and `BandIndex::candidates` names each matter
//! once.

use crate::dedup::{PERMUTATIONS, Signature, band_keys, mix};
use std::collections::HashSet;
use std::hash::Hash;

/// Bits of the hash that choose the shard.
pub const SHARD_BITS: u32 = 12;
const SHARDS: usize = 1 << SHARD_BITS;
/// Tail length at which a shard is merged when matters arrive one at a time: a lookup scans
/// each tail it visits, so tails stay short.
const TAIL: usize = 64;

/// The low 16 bits of each signature position.
fn sketch(sig: &Signature) -> [u16; PERMUTATIONS] {
    let mut out = [0u16; PERMUTATIONS];
    for (o, v) in out.iter_mut().zip(sig.values()) {
        *o = *v as u16;
    }
    out
}

/// One bit per person (by any stable 64-bit key of the person): what a matter's people share.
pub fn people_bits(keys: impl IntoIterator<Item = u64>) -> u64 {
    keys.into_iter().fold(0, |bits, k| bits | 1 << (mix(k) >> 58))
}

// The count of agreeing positions fits in 16 bits.
const _: () = assert!(PERMUTATIONS <= u16::MAX as usize);

/// The share of positions on which two sketches agree. Fixed-size arrays and a 16-bit count
/// (at most 128), so the compiler compares and counts eight lanes at a time: a lookup compares
/// hundreds of sketches.
fn sketch_similarity(a: &[u16; PERMUTATIONS], b: &[u16; PERMUTATIONS]) -> f32 {
    let same: u16 = a.iter().zip(b).map(|(x, y)| u16::from(x == y)).sum();
    f32::from(same) / PERMUTATIONS as f32
}

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
    /// Appends an entry to the tail, merging the tail into the run once it reaches `TAIL`, or
    /// in `bulk` an eighth of the run (so loading many matters copies each entry a bounded
    /// number of times; the next single insert brings the tail back down).
    fn push(&mut self, key: u32, position: u32, bulk: bool) {
        self.tail.push((key, position));
        let limit = if bulk { TAIL.max(self.keys.len() / 8) } else { TAIL };
        if self.tail.len() >= limit {
            self.merge();
        }
    }

    /// Merges the tail into the run in place, from the back: the run grows by the tail's
    /// length and each stretch of run entries between two tail entries moves up once, as one
    /// block copy. Entries end up ordered by (key, position); a tail entry is newer than every
    /// run entry, so among equal keys it goes after them.
    fn merge(&mut self) {
        self.tail.sort_unstable();
        let old = self.keys.len();
        let grown = old + self.tail.len();
        // Room for the next few merges too, without the doubling `resize` alone would do:
        // the runs are most of a node's memory.
        if self.keys.capacity() < grown {
            let room = self.tail.len() + old / 16;
            self.keys.reserve_exact(room);
            self.positions.reserve_exact(room);
        }
        self.keys.resize(grown, 0);
        self.positions.resize(grown, 0);
        let (mut read, mut write) = (old, grown);
        for &(key, position) in self.tail.iter().rev() {
            let stay = after_from_end(&self.keys[..read], key);
            let moving = read - stay;
            self.keys.copy_within(stay..read, write - moving);
            self.positions.copy_within(stay..read, write - moving);
            write -= moving + 1;
            read = stay;
            self.keys[write] = key;
            self.positions[write] = position;
        }
        self.tail.clear();
    }

    /// Reads the run entry where `key`'s rank predicts it and the tail's first entry, and
    /// returns them mixed: nothing, except that those lines are then in the cache.
    fn touch(&self, key: u32) -> u32 {
        let n = self.keys.len();
        let at = if n == 0 { 0 } else { self.keys[guess(key, n)] };
        at ^ self.tail.first().map_or(0, |(k, _)| *k)
    }

    fn find(&self, key: u32, out: &mut Vec<u32>) {
        let start = lower_bound(&self.keys, key);
        let end = start + self.keys[start..].iter().take_while(|k| **k == key).count();
        out.extend_from_slice(&self.positions[start..end]);
        out.extend(self.tail.iter().filter(|(k, _)| *k == key).map(|(_, p)| *p));
    }

    fn entries(&self) -> usize {
        self.keys.len() + self.tail.len()
    }
}

/// The first index of sorted `keys` whose key is above `key` (`partition_point(|k| *k <= key)`),
/// searched from the end. A merge places its tail's keys from the largest down, each a little
/// below the one before, so the answer is a few steps from the end of what is left of the
/// run: galloping there reads lines the merge is about to move anyway, where a binary search
/// over the whole run missed the cache at most of its dozen steps (the merge was 5.7 % of the
/// server's CPU in a burst of registrations, as much as the look-ups).
fn after_from_end(keys: &[u32], key: u32) -> usize {
    let (mut hi, mut step) = (keys.len(), 1);
    // keys[hi..] are all above `key`.
    while hi > 0 {
        let lo = hi.saturating_sub(step);
        if keys[lo] <= key {
            return lo + 1 + keys[lo + 1..hi].partition_point(|k| *k <= key);
        }
        hi = lo;
        step *= 2;
    }
    0
}

/// Where `key` would be in `n > 0` sorted keys spread evenly over `u32`.
fn guess(key: u32, n: usize) -> usize {
    (((u64::from(key) * n as u64) >> 32) as usize).min(n - 1)
}

/// The first index of sorted `keys` whose key is not below `key`. The keys are hash bits,
/// spread evenly over `u32`, so the key's rank predicts its place to within a few dozen entries:
/// the search starts there and gallops outwards, touching a few cache lines where a plain
/// binary search over a large shard would miss the cache at each of its dozen steps.
fn lower_bound(keys: &[u32], key: u32) -> usize {
    let n = keys.len();
    if n == 0 {
        return 0;
    }
    let guess = guess(key, n);
    // Bracket the answer in (lo, hi], then binary search inside it.
    let (mut lo, mut hi);
    if keys[guess] < key {
        // The answer is above `guess`.
        lo = guess;
        let mut step = 1;
        hi = guess + step;
        while hi < n && keys[hi] < key {
            lo = hi;
            step *= 2;
            hi = guess + step;
        }
        hi = hi.min(n);
        lo += 1;
    } else {
        // The answer is at or below `guess`.
        hi = guess;
        let mut step = 1;
        lo = guess.saturating_sub(step);
        while lo > 0 && keys[lo] >= key {
            hi = lo;
            step *= 2;
            lo = guess.saturating_sub(step);
        }
        if keys[lo] >= key {
            return lo;
        }
        lo += 1;
    }
    lo + keys[lo..hi].partition_point(|k| *k < key)
}

/// Band keys of many matters, by scope, in memory (see the module docs).
pub struct BandIndex<Id> {
    shards: Vec<Shard>,
    ids: Vec<Id>,
    /// [`PERMUTATIONS`] values per position.
    sketches: Vec<u16>,
    /// [`people_bits`] per position.
    people: Vec<u64>,
}

impl<Id> Default for BandIndex<Id> {
    fn default() -> Self {
        BandIndex {
            shards: vec![Shard::default(); SHARDS],
            ids: Vec::new(),
            sketches: Vec::new(),
            people: Vec::new(),
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

    /// Adds a matter's signature and its [`people_bits`] in a scope. Fails only when the index
    /// holds 2³² matters.
    pub fn insert(&mut self, scope: u64, id: Id, sig: &Signature, people: u64) -> Result<(), IndexFull> {
        self.add(scope, id, sig, people, false)
    }

    /// [`insert`](Self::insert) for one of many matters loaded at once (a node reading the
    /// log at start): shards merge less often, so the load costs O(1) copies per entry; the
    /// lookups in between scan longer tails.
    pub fn insert_bulk(&mut self, scope: u64, id: Id, sig: &Signature, people: u64) -> Result<(), IndexFull> {
        self.add(scope, id, sig, people, true)
    }

    fn add(&mut self, scope: u64, id: Id, sig: &Signature, people: u64, bulk: bool) -> Result<(), IndexFull> {
        let position = u32::try_from(self.ids.len()).map_err(|_| IndexFull)?;
        self.ids.push(id);
        self.people.push(people);
        self.sketches.extend_from_slice(&sketch(sig));
        for k in &band_keys(sig) {
            let (shard, key) = place(scope, *k);
            self.shards[shard].push(key, position, bulk);
        }
        Ok(())
    }

    /// The matters of `scope` other than `exclude` that share at least one band key with
    /// `probe` and whose sketch is at least `min_similarity` similar to it (so every matter
    /// whose signature is): first those sharing a bit of `people`, then the most similar, among
    /// equals the most recently inserted, at most `limit`, each with its estimated similarity.
    /// Each matter is named once, by its latest insertion that shares a band and passes (so an
    /// old signature of a matter can still name it: the caller checks the stored one).
    pub fn candidates(
        &self,
        scope: u64,
        probe: &Signature,
        people: u64,
        exclude: Id,
        min_similarity: f32,
        limit: usize,
    ) -> Vec<(Id, f32)> {
        let places = band_keys(probe).map(|k| place(scope, k));
        // Each band's look-up starts with a read from memory that is not in the cache (the
        // index is hundreds of MB), and the next band's waits for it. Reading where every band
        // will look first lets the processor wait for all of them at once.
        let touched = places
            .iter()
            .fold(0, |acc, &(shard, key)| acc ^ self.shards[shard].touch(key));
        std::hint::black_box(touched);
        let mut hits = Vec::new();
        for &(shard, key) in &places {
            self.shards[shard].find(key, &mut hits);
        }
        let mine = sketch(probe);
        hits.sort_unstable();
        hits.dedup();
        // Most band-sharing matters are not similar: the sketch (cheap, in place) decides
        // first, and only those that pass are named and ranked.
        let mut passing: Vec<(Id, (bool, u32, f32))> = Vec::new();
        for position in hits.into_iter().rev() {
            let at = position as usize * PERMUTATIONS;
            let Some(theirs) = self
                .sketches
                .get(at..at + PERMUTATIONS)
                .and_then(|s| <&[u16; PERMUTATIONS]>::try_from(s).ok())
            else {
                continue;
            };
            let similarity = sketch_similarity(&mine, theirs);
            if similarity < min_similarity {
                continue;
            }
            let Some(id) = self.ids.get(position as usize).copied() else {
                continue;
            };
            if id == exclude {
                continue;
            }
            let shared = self
                .people
                .get(position as usize)
                .is_some_and(|p| p & people != 0);
            passing.push((id, (shared, position, similarity)));
        }
        // Newest positions came first: a matter inserted again keeps its latest insertion.
        let mut seen: HashSet<Id> = HashSet::with_capacity(passing.len());
        passing.retain(|(id, _)| seen.insert(*id));
        passing
            .sort_unstable_by(|(_, a), (_, b)| b.0.cmp(&a.0).then(b.2.total_cmp(&a.2)).then(b.1.cmp(&a.1)));
        passing.truncate(limit);
        passing.into_iter().map(|(id, (_, _, sim))| (id, sim)).collect()
    }

    /// Merges every shard's tail into its run: after a bulk load, so that lookups scan short
    /// tails from the first one on.
    pub fn compact(&mut self) {
        for shard in &mut self.shards {
            if !shard.tail.is_empty() {
                shard.merge();
            }
        }
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
        entries
            + self.ids.capacity() * std::mem::size_of::<Id>()
            + self.sketches.capacity() * 2
            + self.people.capacity() * 8
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
    use crate::dedup::{BANDS, signature, similarity};

    const BUS: &str =
        "机场大巴T3航站楼到市区的末班车时间太早，晚上航班落地后没有大巴可坐，希望延长运营时间。";
    const BUS_EDITED: &str =
        "机场大巴T3航站楼到市区的末班车时间太早了，晚上的航班落地后没有大巴坐，希望延长运营时间！";
    const NOISE: &str = "小区旁边的工地每天夜里十二点以后还在施工，噪音很大，老人孩子都睡不好觉，请求处理。";

    fn ids(found: Vec<(u32, f32)>) -> Vec<u32> {
        found.into_iter().map(|(id, _)| id).collect()
    }

    #[test]
    fn finds_a_near_copy_and_not_an_unrelated_text() {
        let mut index = BandIndex::new();
        index.insert(1, 10u32, &signature(BUS), 0).unwrap();
        index.insert(1, 11u32, &signature(NOISE), 0).unwrap();
        assert_eq!(
            ids(index.candidates(1, &signature(BUS_EDITED), 0, 0, 0.4, 10)),
            vec![10]
        );
        assert_eq!(
            ids(index.candidates(1, &signature(NOISE), 0, 0, 0.4, 10)),
            vec![11]
        );
    }

    #[test]
    fn the_sketch_estimate_is_never_below_the_signatures_similarity() {
        let mut index = BandIndex::new();
        index.insert(1, 10u32, &signature(BUS), 0).unwrap();
        let found = index.candidates(1, &signature(BUS_EDITED), 0, 0, 0.0, 10);
        let exact = similarity(&signature(BUS), &signature(BUS_EDITED));
        assert_eq!(found.len(), 1);
        assert!(found[0].1 >= exact, "{} vs {exact}", found[0].1);
        assert!(found[0].1 - exact < 0.02, "{} vs {exact}", found[0].1);
        // At exactly the signatures' similarity it is still a candidate.
        assert_eq!(
            index.candidates(1, &signature(BUS_EDITED), 0, 0, exact, 10).len(),
            1
        );
        // Above the estimate it is not a candidate.
        assert!(
            index
                .candidates(1, &signature(BUS_EDITED), 0, 0, exact + 0.05, 10)
                .is_empty()
        );
    }

    #[test]
    fn the_same_petitioner_comes_first_however_many_others_wrote_the_same() {
        let mut index = BandIndex::new();
        let me = people_bits([7]);
        // Others whose bit is not mine (a shared bit by chance would rank them with me).
        let mut others = (1000u64..).map(|k| people_bits([k])).filter(|b| b & me == 0);
        index.insert(1, 1u32, &signature(BUS_EDITED), me).unwrap();
        for i in 2..40u32 {
            let theirs = others.next().unwrap();
            index.insert(1, i, &signature(BUS), theirs).unwrap();
        }
        let found = ids(index.candidates(1, &signature(BUS), me, 0, 0.4, 5));
        assert_eq!(found[0], 1, "{found:?}");
        assert_eq!(found.len(), 5);
        // Without the person, the identical letters outrank the edited one.
        let found = ids(index.candidates(1, &signature(BUS), 0, 0, 0.4, 5));
        assert!(!found.contains(&1), "{found:?}");
    }

    #[test]
    fn scopes_do_not_see_each_other() {
        let mut index = BandIndex::new();
        index.insert(1, 10u32, &signature(BUS), 0).unwrap();
        assert!(index.candidates(2, &signature(BUS), 0, 0, 0.4, 10).is_empty());
        assert_eq!(ids(index.candidates(1, &signature(BUS), 0, 0, 0.4, 10)), vec![10]);
    }

    #[test]
    fn excludes_the_matter_itself_and_names_each_matter_once() {
        let mut index = BandIndex::new();
        index.insert(1, 10u32, &signature(BUS), 0).unwrap();
        index.insert(1, 12u32, &signature(BUS), 0).unwrap();
        assert_eq!(
            ids(index.candidates(1, &signature(BUS), 0, 12, 0.4, 10)),
            vec![10]
        );
        // 10's text changes: found by its new text; its old entries may still name it for the
        // old text (the store's check of the stored signature drops it), never twice.
        index.insert(1, 10u32, &signature(NOISE), 0).unwrap();
        assert_eq!(
            ids(index.candidates(1, &signature(NOISE), 0, 99, 0.4, 10)),
            vec![10]
        );
        let bus = ids(index.candidates(1, &signature(BUS), 0, 99, 0.4, 10));
        assert_eq!(bus.iter().filter(|id| **id == 12).count(), 1);
        assert!(bus.len() <= 2);
    }

    #[test]
    fn ranks_by_similarity_then_recency_and_honours_the_limit() {
        let mut index = BandIndex::new();
        // 20 (the same text) beats 21 (edited) though 21 is newer.
        index.insert(1, 20u32, &signature(BUS), 0).unwrap();
        index.insert(1, 21u32, &signature(BUS_EDITED), 0).unwrap();
        assert_eq!(
            ids(index.candidates(1, &signature(BUS), 0, 0, 0.4, 10)),
            vec![20, 21]
        );
        assert_eq!(ids(index.candidates(1, &signature(BUS), 0, 0, 0.4, 1)), vec![20]);
        // Among equals the most recent first.
        index.insert(1, 22u32, &signature(BUS), 0).unwrap();
        assert_eq!(
            ids(index.candidates(1, &signature(BUS), 0, 0, 0.4, 10)),
            vec![22, 20, 21]
        );
    }

    #[test]
    fn lower_bound_and_after_from_end_agree_with_a_binary_search() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 32) as u32
        };
        for n in [0usize, 1, 2, 3, 10, 100, 5_000] {
            let mut keys: Vec<u32> = (0..n).map(|_| next()).collect();
            // Duplicates and the extremes, which the rank guess gets most wrong.
            keys.extend([0, 0, u32::MAX, u32::MAX]);
            if n > 3 {
                keys.extend(keys[..3].to_vec());
            }
            keys.sort_unstable();
            let probes: Vec<u32> = keys
                .iter()
                .flat_map(|k| [*k, k.wrapping_add(1), k.wrapping_sub(1)])
                .chain((0..200).map(|_| next()))
                .collect();
            for key in probes {
                assert_eq!(
                    lower_bound(&keys, key),
                    keys.partition_point(|k| *k < key),
                    "n = {n}, key = {key}"
                );
                assert_eq!(
                    after_from_end(&keys, key),
                    keys.partition_point(|k| *k <= key),
                    "n = {n}, key = {key}"
                );
            }
        }
        assert_eq!(lower_bound(&[], 5), 0);
        assert_eq!(after_from_end(&[], 5), 0);
    }

    #[test]
    fn stays_exact_across_shard_merges() {
        // Enough matters that every shard merges its tail several times; each must still be
        // found by its own signature, and as the best candidate.
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
        let mut index = BandIndex::new();
        for (i, t) in texts.iter().enumerate() {
            // Half loaded in bulk, half one at a time, as a node does.
            if i < 1500 {
                index.insert_bulk(5, i as u32, &signature(t), 0).unwrap();
            } else {
                index.insert(5, i as u32, &signature(t), 0).unwrap();
            }
        }
        assert_eq!(index.len(), 3000);
        assert_eq!(index.entries(), 3000 * BANDS);
        for (i, t) in texts.iter().enumerate().step_by(97) {
            let found = index.candidates(5, &signature(t), 0, u32::MAX, 0.4, 5);
            assert_eq!(found.first(), Some(&(i as u32, 1.0)), "text {i}");
        }
        assert!(index.bytes() >= 3000 * (BANDS * 8 + PERMUTATIONS * 2));
    }
}
