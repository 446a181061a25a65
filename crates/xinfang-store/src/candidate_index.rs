//! The app node's duplicate index: which stored matters may be near-duplicates of a new one.
//!
//! The signatures live in the database ([`Store::record_intake`]); this node keeps their LSH
//! band keys in memory ([`BandIndex`]) and derives them from the database's signature log
//! ([`Store::signatures_since`]), so every node finds the same candidates and none has
//! anything to write back:
//!
//! - **At start** the node reads the whole log (at 1,000,000 matters, ≈620 MB of index: band
//!   entries, a 16-bit sketch of each signature and its petitioners' bits; see the README for
//!   figures). Intake waits for this first read, like any later catch-up.
//! - **Before each lookup** it reads the log after the last position it has read, so a matter
//!   whose intake committed on another node before this lookup began is found. Lookups that
//!   arrive while a catch-up is running wait for it and then take another only if that one
//!   began before they arrived: a burst of registrations shares one read.
//! - **Positions that come late.** On PostgreSQL a position is taken when the row is written
//!   and becomes visible when its transaction commits, so position n + 1 can be read before n.
//!   Every position skipped over near the head of the log (within [`GAP_WINDOW`] of the
//!   newest) is remembered and asked for again at each catch-up until it turns up, falls out of
//!   the window or [`GAP_LIFETIME`] has passed: a write still in flight took its position a
//!   moment ago (an intake write is one short statement), while a hole that never fills (a
//!   re-run of intake consumes a position it does not keep) must not be asked for forever.
//!   On SQLite positions commit in order and there is never a hole.
//!
//! The database answers the rest: the candidates whose sketch is similar enough are read with
//! their stored signature, which decides ([`Store::dedup_candidates`]).

use crate::model::DedupCandidate;
use crate::{Result, Store};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use xinfang_core::ids::{OrganisationId, PetitionId, PetitionerId};
use xinfang_nlp::band_index::{BandIndex, people_bits};
use xinfang_nlp::dedup::{SIGNATURE_VERSION, Signature};

/// Log rows read per query.
const PAGE: u32 = 5_000;
/// How long a skipped log position is asked for again.
pub const GAP_LIFETIME: Duration = Duration::from_secs(600);
/// Only skipped positions this close to the newest one read are asked for again: a write in
/// flight took its position moments before the newest visible one (at 2,000 registrations a
/// second, this is half a minute of writes).
pub const GAP_WINDOW: i64 = 65_536;
/// At most this many skipped positions are remembered (the newest): more writes than this
/// cannot be in flight at once (each holds a database connection).
const MAX_GAPS: usize = 4_096;

/// Where this node is in the signature log.
#[derive(Default)]
struct Cursor {
    /// Highest position read.
    last: i64,
    /// Positions below `last` not (yet) seen, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
    /// When the latest completed catch-up began.
    caught_up_from: Option<Instant>,
}

/// What a node holds in its duplicate index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    /// Signatures indexed (a changed signature counts again).
    pub signatures: usize,
    /// Highest log position read.
    pub position: i64,
    /// Bytes held by the index.
    pub bytes: usize,
}

/// A new matter as a duplicate lookup sees it.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    pub signature: &'a Signature,
    /// Its petitioners: earlier matters of the same people are read first.
    pub petitioners: &'a [PetitionerId],
    /// The matter itself (never its own candidate).
    pub exclude: PetitionId,
}

/// A node's in-memory duplicate index over the store's signature log (see the module docs).
#[derive(Default)]
pub struct CandidateIndex {
    index: Arc<RwLock<BandIndex<PetitionId>>>,
    cursor: tokio::sync::Mutex<Cursor>,
    /// A catch-up has read the whole log once (see [`CandidateIndex::is_loaded`]).
    loaded: AtomicBool,
}

/// The people bits of a matter's petitioners (one id per person, so equal ids are one person).
fn people(petitioners: &[PetitionerId]) -> u64 {
    people_bits(petitioners.iter().map(|p| p.as_uuid().as_u64_pair().1))
}

/// The scope of an organisation in the band index.
fn scope(org: OrganisationId) -> u64 {
    let bytes = org.as_uuid().into_bytes();
    let (hi, lo) = bytes.split_at(8);
    let word = |b: &[u8]| b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
    word(hi) ^ word(lo).rotate_left(29)
}

impl CandidateIndex {
    /// An empty index; the first lookup (or [`CandidateIndex::catch_up`]) reads the log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the signature log up to what is committed now. Returns how many signatures were
    /// added.
    pub async fn catch_up(&self, store: &dyn Store) -> Result<usize> {
        self.catch_up_for(store, Instant::now()).await
    }

    /// Whether the whole log has been read once. Until then every lookup waits for that first
    /// read (seconds at a million matters), so a node reports itself not ready (`/readyz`)
    /// and a load balancer sends its registrations elsewhere.
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// Reads the log unless a catch-up that began at or after `asked` has completed since.
    async fn catch_up_for(&self, store: &dyn Store, asked: Instant) -> Result<usize> {
        let mut cursor = self.cursor.lock().await;
        if cursor.caught_up_from.is_some_and(|t| t >= asked) {
            return Ok(0);
        }
        let began = Instant::now();
        cursor
            .gaps
            .retain(|_, missed| began.duration_since(*missed) < GAP_LIFETIME);
        let mut added = 0;
        let mut bulk_loaded = false;
        loop {
            let also: Vec<i64> = cursor.gaps.keys().copied().collect();
            let rows = store.signatures_since(cursor.last, &also, PAGE).await?;
            let full = rows.len() >= PAGE as usize;
            let mut batch: Vec<(u64, PetitionId, Signature, u64)> = Vec::with_capacity(rows.len());
            for row in rows {
                if row.seq > cursor.last {
                    let from = (cursor.last + 1).max(row.seq - GAP_WINDOW);
                    for missing in from..row.seq {
                        cursor.gaps.insert(missing, began);
                    }
                    cursor.last = row.seq;
                } else {
                    cursor.gaps.remove(&row.seq);
                }
                // A signature of other constants is recomputed by intake (and logged again);
                // its bands would not be comparable.
                if row.version != SIGNATURE_VERSION {
                    continue;
                }
                if let Ok(sig) = Signature::from_bytes(&row.signature) {
                    batch.push((
                        scope(row.organisation_id),
                        row.matter_id,
                        sig,
                        people(&row.petitioners),
                    ));
                }
            }
            let oldest = cursor.last - GAP_WINDOW;
            cursor.gaps.retain(|seq, _| *seq > oldest);
            while cursor.gaps.len() > MAX_GAPS {
                cursor.gaps.pop_first();
            }
            added += batch.len();
            if !batch.is_empty() || (bulk_loaded && !full) {
                let index = self.index.clone();
                // A full page is part of a load (the node's start, or a long absence): loaded
                // in bulk and compacted after the last page.
                let (bulk, last) = (full || bulk_loaded, !full);
                bulk_loaded |= full;
                let insert = move || {
                    let mut index = index.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                    for (scope, id, sig, people) in &batch {
                        let inserted = if bulk {
                            index.insert_bulk(*scope, *id, sig, *people)
                        } else {
                            index.insert(*scope, *id, sig, *people)
                        };
                        // Full only at 2^32 signatures; past that new matters go unindexed.
                        if inserted.is_err() {
                            tracing::error!("the duplicate index is full; new matters are not indexed");
                            break;
                        }
                    }
                    if bulk && last {
                        index.compact();
                    }
                };
                // A page at start costs milliseconds of CPU; one row per lookup, microseconds.
                if bulk {
                    tokio::task::spawn_blocking(insert)
                        .await
                        .map_err(|e| crate::StoreError::Unavailable(format!("duplicate index: {e}")))?;
                } else {
                    insert();
                }
            }
            if !full {
                break;
            }
        }
        cursor.caught_up_from = Some(began);
        self.loaded.store(true, Ordering::Release);
        Ok(added)
    }

    /// The earlier matters of `org` whose stored signature is at least `min_similarity` similar
    /// to the probe's, after catching up with the log. At most `limit` of them are read: first
    /// those of the probe's petitioners, then those the index estimates most similar, then the
    /// newest.
    pub async fn candidates(
        &self,
        store: &dyn Store,
        org: OrganisationId,
        probe: &Probe<'_>,
        min_similarity: f32,
        limit: usize,
    ) -> Result<Vec<DedupCandidate>> {
        self.catch_up_for(store, Instant::now()).await?;
        let among = self.sharing_bands(org, probe, min_similarity, limit);
        if among.is_empty() {
            return Ok(Vec::new());
        }
        store
            .dedup_candidates(org, probe.signature, min_similarity, &among)
            .await
    }

    /// The matters of `org` that share a band key with the probe and whose sketch is about
    /// `min_similarity` similar, in the index as it stands (no catch-up, no stored signature
    /// read): those of the probe's petitioners first, then the most similar, at most `limit`.
    pub fn sharing_bands(
        &self,
        org: OrganisationId,
        probe: &Probe<'_>,
        min_similarity: f32,
        limit: usize,
    ) -> Vec<PetitionId> {
        let index = self.index.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        index
            .candidates(
                scope(org),
                probe.signature,
                people(probe.petitioners),
                probe.exclude,
                min_similarity,
                limit,
            )
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// What the index holds now.
    pub async fn stats(&self) -> IndexStats {
        let position = self.cursor.lock().await.last;
        let index = self.index.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        IndexStats {
            signatures: index.len(),
            position,
            bytes: index.bytes(),
        }
    }
}
