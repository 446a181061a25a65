//! Intake intelligence, run after a registration (staff or public; not on an idempotent
//! replay): triage with the organisation's lexicon, a safety alert for the petition office at
//! once when the text calls for one, and duplicate/repeat/joint detection against the node's
//! duplicate index (DESIGN.md section 6).
//!
//! Everything it learns is stored, so every app node agrees: the signature (from which every
//! node derives its in-memory band index, [`CandidateIndex`]), the triage, the links, the alert
//! (an audit event and a reminder). The compiled lexicon is cached
//! per organisation under the lexicon's revision, which is read from the database on every run:
//! a node never assesses with a lexicon another node has replaced.
//!
//! Decisions:
//! - **Urgency is suggested, not set.** Urgency belongs to classification (分类), a lifecycle
//!   transition a person makes with the machine's suggestion in front of them; intake has no
//!   transition of its own and changing the matter behind the lifecycle's back would leave a
//!   state change without its event. So triage's urgency is stored and shown
//!   (`GET /api/v1/matters/{id}/triage`: `suggested_urgency`, `raise_urgency`), and what cannot
//!   wait — safety and self-harm words — raises the alert at once instead.
//! - **A failure never loses the registration.** The matter is committed before intake starts;
//!   if intake fails (database busy, a corrupt stored lexicon) the error is logged and the
//!   registration answered as usual. Every step is idempotent (records are replaced, the alert
//!   is raised once per matter), so [`Intake::run`] can be run again for the matter later and
//!   fills in what is missing.
//! - The CPU work of an ordinary letter (assessment, MinHash signature: ~80 µs for 500
//!   characters) runs on the request's own worker thread; a long one goes to the blocking pool
//!   ([`READ_INLINE_BYTES`]).

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use xinfang_core::ids::{OrganisationId, PetitionId, PetitionerId};
use xinfang_nlp::dedup::{self, Existing, Incoming, LinkRules, PetitionerKey, Signature};
use xinfang_nlp::triage::{LexiconError, Triage};
use xinfang_store::{CandidateIndex, IntakeRecord, NewLink, Probe, Registered, Store, StoreError};

/// At most this many earlier matters similar to a new one are read and linked: those of the
/// same petitioners first, then the most similar (a mass of identical letters links to its
/// 64 most recent, which is what a clerk can look at; the hotspot view counts them all).
pub const CANDIDATE_LIMIT: usize = 64;

/// The built-in lexicon, compiled once per process.
static BUILTIN: LazyLock<Arc<Triage>> = LazyLock::new(|| Arc::new(Triage::builtin().clone()));

/// Why intake did not finish.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored triage lexicon cannot be compiled: {0}")]
    Lexicon(#[from] LexiconError),
    #[error("intake work did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Letters up to this many bytes (about 1,300 characters of Chinese) are read — assessed and
/// signed — on the request's own worker thread: that is ~80 µs for 500 characters, and handing
/// it to the blocking pool and back cost more than it protected (two thread wake-ups, and a pool
/// thread's cold caches and fresh heap pages: the server's CPU per registration fell from 0.41
/// to 0.38 ms when it stopped, in a burst of 20,000 at a million matters). A longer letter, a
/// pasted essay, still goes to the pool, so no worker is held for a millisecond.
const READ_INLINE_BYTES: usize = 4 * 1024;

/// What intake found for one matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// A safety alert was raised now (false also when it had been raised before).
    pub alert_raised: bool,
    /// Links recorded to earlier matters.
    pub links: usize,
}

/// The intake step of a server process.
pub struct Intake {
    rules: LinkRules,
    /// The node's duplicate index, derived from the stored signatures.
    candidates: CandidateIndex,
    /// Per organisation: the lexicon revision and its compiled automaton.
    compiled: Mutex<HashMap<OrganisationId, (i64, Arc<Triage>)>>,
}

impl Default for Intake {
    fn default() -> Self {
        Self::new(LinkRules::default())
    }
}

fn key(p: &PetitionerId) -> PetitionerKey {
    PetitionerKey(p.as_uuid().as_bytes().to_vec())
}

impl Intake {
    pub fn new(rules: LinkRules) -> Self {
        Self {
            rules,
            candidates: CandidateIndex::new(),
            compiled: Mutex::default(),
        }
    }

    /// Reads the stored signatures into the node's duplicate index (at start, so the first
    /// registration does not wait for it) and logs what it holds. While the database cannot
    /// be read the load is tried again, every `retry`: the node reports itself ready only
    /// once it has the index ([`Intake::ready`]), so it must not wait for a registration that
    /// a load balancer will not send it.
    pub async fn load_index(&self, store: &dyn Store, retry: std::time::Duration) {
        loop {
            // Timed per attempt: the figure is the load's, not the outage's.
            let started = std::time::Instant::now();
            match self.candidates.catch_up(store).await {
                Ok(n) => {
                    let stats = self.candidates.stats().await;
                    tracing::info!(
                        signatures = n,
                        megabytes = stats.bytes / 1_000_000,
                        seconds = started.elapsed().as_secs_f32(),
                        "duplicate index loaded"
                    );
                    return;
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    retry_seconds = retry.as_secs_f32(),
                    "duplicate index not loaded yet; trying again"
                ),
            }
            tokio::time::sleep(retry).await;
        }
    }

    /// Whether the node's duplicate index has been read once: before that, every
    /// registration's intake waits for the whole signature log (seconds at a million matters).
    pub fn ready(&self) -> bool {
        self.candidates.is_loaded()
    }

    /// The organisation's compiled lexicon and its revision (0: the built-in one).
    pub async fn triage_for(
        &self,
        store: &dyn Store,
        org: OrganisationId,
    ) -> Result<(i64, Arc<Triage>), IntakeError> {
        let revision = store.lexicon_revision(org).await?;
        self.triage_at(store, org, revision).await
    }

    /// The organisation's compiled lexicon of `revision` (the current one when it was read),
    /// compiled once per revision; a newer one when the stored lexicon has moved on since.
    async fn triage_at(
        &self,
        store: &dyn Store,
        org: OrganisationId,
        revision: i64,
    ) -> Result<(i64, Arc<Triage>), IntakeError> {
        if revision == 0 {
            return Ok((0, BUILTIN.clone()));
        }
        if let Some((r, t)) = self.compiled.lock().ok().and_then(|m| m.get(&org).cloned())
            && r == revision
        {
            return Ok((r, t));
        }
        let Some(stored) = store.lexicon(org).await? else {
            return Ok((0, BUILTIN.clone()));
        };
        let triage = Arc::new(tokio::task::spawn_blocking(move || Triage::new(stored.lexicon)).await??);
        if let Ok(mut m) = self.compiled.lock() {
            m.insert(org, (stored.revision, triage.clone()));
        }
        Ok((stored.revision, triage))
    }

    /// Runs intake for a registration, unless it was a replay of an earlier one. A failure is
    /// logged, not returned: the matter is registered either way (see the module docs).
    pub async fn after_registration(&self, store: &dyn Store, org: OrganisationId, r: &Registered) {
        if r.replayed {
            return;
        }
        let run = match &r.subject {
            Some(subject) => {
                let lexicon = r.revisions.map(|v| v.lexicon);
                self.run_on(store, org, subject.clone(), lexicon, None).await
            }
            None => self.run(store, org, r.id).await,
        };
        if let Err(e) = run {
            tracing::warn!(matter = %r.id, error = %e, "intake did not finish; the matter is registered and intake can be run again");
        }
    }

    /// Triage, safety alert and duplicate/repeat links for one registered matter. Idempotent.
    pub async fn run(
        &self,
        store: &dyn Store,
        org: OrganisationId,
        id: PetitionId,
    ) -> Result<Outcome, IntakeError> {
        self.run_with(store, org, id, None).await
    }

    /// Intake for a matter registered earlier without it (bulk-loaded, or an intake that
    /// failed): everything is recorded, but a safety alert is raised only for a matter
    /// registered since `alerts_since` — a year-old letter is not an emergency to announce now.
    pub async fn backfill(
        &self,
        store: &dyn Store,
        org: OrganisationId,
        id: PetitionId,
        alerts_since: DateTime<Utc>,
    ) -> Result<Outcome, IntakeError> {
        self.run_with(store, org, id, Some(alerts_since)).await
    }

    async fn run_with(
        &self,
        store: &dyn Store,
        org: OrganisationId,
        id: PetitionId,
        alerts_since: Option<DateTime<Utc>>,
    ) -> Result<Outcome, IntakeError> {
        let subject = store.intake_subject(org, id).await?;
        self.run_on(store, org, subject, None, alerts_since).await
    }

    /// Intake of `subject`; `lexicon` is the lexicon revision its registration read (`None`:
    /// ask the database).
    async fn run_on(
        &self,
        store: &dyn Store,
        org: OrganisationId,
        subject: xinfang_store::IntakeSubject,
        lexicon: Option<i64>,
        alerts_since: Option<DateTime<Utc>>,
    ) -> Result<Outcome, IntakeError> {
        let id = subject.id;
        let (revision, triage) = match lexicon {
            Some(revision) => self.triage_at(store, org, revision).await?,
            None => self.triage_for(store, org).await?,
        };
        let text = format!("{}\n{}", subject.title, subject.content);
        let text_len = text.len();
        let read = move || (triage.assess(&text), dedup::signature(&text));
        let (assessment, signature) = if text_len <= READ_INLINE_BYTES {
            read()
        } else {
            tokio::task::spawn_blocking(read).await?
        };
        let alerts = assessment.alerts.clone();
        let probe = Probe {
            signature: &signature,
            petitioners: &subject.petitioners,
            exclude: id,
        };
        let candidates = self
            .candidates
            .candidates(store, org, &probe, self.rules.similar, CANDIDATE_LIMIT)
            .await?;
        let links = self.classify(
            &signature,
            &subject.petitioners,
            subject.registered_at,
            &candidates,
        );
        let mut outcome = Outcome {
            links: links.len(),
            ..Outcome::default()
        };
        // One transaction for everything derived (see the module docs on re-running).
        store
            .record_intake(
                org,
                id,
                IntakeRecord {
                    signature_version: dedup::SIGNATURE_VERSION,
                    signature: signature.to_bytes(),
                    triage: assessment,
                    lexicon_revision: revision,
                    links,
                },
            )
            .await?;
        if !alerts.is_empty() && alerts_since.is_none_or(|t| subject.registered_at >= t) {
            outcome.alert_raised = store.raise_safety_alert(org, id, &alerts).await?.is_some();
        }
        Ok(outcome)
    }

    /// The links of a new matter to the candidates registered before it, strongest first.
    fn classify(
        &self,
        signature: &Signature,
        petitioners: &[PetitionerId],
        at: DateTime<Utc>,
        candidates: &[xinfang_store::DedupCandidate],
    ) -> Vec<NewLink> {
        let mine: Vec<PetitionerKey> = petitioners.iter().map(key).collect();
        // Signatures of another version were computed with other constants: not comparable
        // (they are recomputed, not guessed at).
        let decoded: Vec<(
            PetitionId,
            Signature,
            Vec<PetitionerKey>,
            &xinfang_store::DedupCandidate,
        )> = candidates
            .iter()
            .filter(|c| c.signature_version == dedup::SIGNATURE_VERSION && c.registered_at <= at)
            .filter_map(|c| {
                Signature::from_bytes(&c.signature)
                    .ok()
                    .map(|s| (c.matter_id, s, c.petitioners.iter().map(key).collect(), c))
            })
            .collect();
        let incoming = Incoming {
            signature,
            petitioners: &mine,
            at,
        };
        dedup::links(
            &self.rules,
            &incoming,
            decoded.iter().map(|(id, sig, keys, c)| {
                (
                    *id,
                    Existing {
                        signature: sig,
                        petitioners: keys,
                        registered_at: c.registered_at,
                        open: dedup::is_open(c.state),
                        answered_at: c.answered_at,
                    },
                )
            }),
        )
        .into_iter()
        .map(|(id, l)| NewLink {
            linked_matter_id: id,
            kind: l.link,
            similarity: l.similarity,
        })
        .collect()
    }
}
