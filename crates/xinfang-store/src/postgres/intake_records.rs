//! Group writing of intake records on PostgreSQL.
//!
//! Every registration is followed by its intake record (signature, triage, links to earlier
//! matters: [`record_one`]), one statement and one transaction of its own. Under
//! a crowd of registrations those small transactions cost more in statement start-up, commit
//! and wake-ups than in the rows they write, so the records are queued, like registrations
//! ([`super::batch`]), to one task per store that writes every record waiting (up to
//! [`MAX_BATCH`]) with one multi-row statement: one transaction, one commit. No record waits
//! for a batch to fill; a batch is what queued while the previous one was written.
//!
//! Each caller is answered after the statement has committed, as before. When the statement
//! fails (a link to a matter that is not there), nothing of it is kept and the batch is written
//! again one record at a time, so the failing record fails alone and its caller gets its own
//! error; when the database cannot be reached, every caller is told so at once.
//!
//! Records are derived data that intake recomputes, so, as for one record, the transaction does
//! not wait for its WAL flush (`synchronous_commit` off): the registration it follows was
//! flushed before it was acknowledged. Two records of one matter in one batch (intake run again
//! at the moment of the first run) are written in turn, the later one last, exactly as two
//! statements would have been.

use super::batch::{MAX_BATCH, again, submit};
use super::{PgStore, classify, micros};
use crate::intake::triage_columns;
use crate::model::IntakeRecord;
use crate::{Result, StoreError};
use std::collections::HashSet;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use xinfang_core::ids::{OrganisationId, PetitionId};

/// One queued intake record with the channel its answer goes back on.
pub(crate) struct Job {
    org: OrganisationId,
    id: PetitionId,
    record: IntakeRecord,
    reply: oneshot::Sender<Result<()>>,
}

/// Stores a matter's intake record, through the store's queue when group commit is on.
pub(super) async fn record(
    s: &PgStore,
    org: OrganisationId,
    id: PetitionId,
    record: IntakeRecord,
) -> Result<()> {
    let Some(queues) = &s.batcher else {
        return record_one(s, org, id, &record).await;
    };
    submit(s, &queues.intake, run, "intake record", |reply| Job {
        org,
        id,
        record,
        reply,
    })
    .await
}

async fn run(s: PgStore, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let batch = std::mem::take(&mut jobs);
        // A matter twice in a batch: its later record goes in the next statement, after the
        // earlier one, as the two callers' statements would have run.
        let (now, later) = split_repeats(batch);
        write(&s, now).await;
        for job in later {
            let done = record_one(&s, job.org, job.id, &job.record).await;
            let _ = job.reply.send(done);
        }
    }
}

/// The jobs of distinct matters, in order, and the repeats of a matter already among them.
fn split_repeats(batch: Vec<Job>) -> (Vec<Job>, Vec<Job>) {
    let mut seen = HashSet::with_capacity(batch.len());
    batch.into_iter().partition(|j| seen.insert((j.org, j.id)))
}

/// Writes the jobs with one statement, or one by one when it fails, and answers each.
async fn write(s: &PgStore, jobs: Vec<Job>) {
    if jobs.len() > 1 {
        let written = match Columns::of(jobs.iter().map(|j| (j.org, j.id, &j.record))) {
            Ok(c) => record_all(s, c).await,
            Err(e) => Err(e),
        };
        match written {
            Ok(()) => {
                for job in jobs {
                    let _ = job.reply.send(Ok(()));
                }
                return;
            }
            // The database is out of reach: one at a time, each would wait for it in turn.
            Err(e) => match classify(e) {
                e @ StoreError::Unavailable(_) => {
                    for job in jobs {
                        let _ = job.reply.send(Err(again(&e)));
                    }
                    return;
                }
                e => {
                    tracing::debug!(error = %e, records = jobs.len(), "intake records written again one at a time")
                }
            },
        }
    }
    for job in jobs {
        let done = record_one(s, job.org, job.id, &job.record).await;
        let _ = job.reply.send(done);
    }
}

/// The records' columns, one array per column (links flattened, each with its matter).
#[derive(Default)]
struct Columns {
    orgs: Vec<Uuid>,
    ids: Vec<Uuid>,
    versions: Vec<i16>,
    signatures: Vec<Vec<u8>>,
    petition_types: Vec<Option<&'static str>>,
    type_confidences: Vec<Option<f32>>,
    urgencies: Vec<&'static str>,
    intensities: Vec<f32>,
    alerts: Vec<serde_json::Value>,
    evidence: Vec<serde_json::Value>,
    revisions: Vec<i64>,
    link_orgs: Vec<Uuid>,
    link_ids: Vec<Uuid>,
    linked: Vec<Uuid>,
    kinds: Vec<&'static str>,
    similarities: Vec<f32>,
}

impl Columns {
    fn of<'r>(
        records: impl IntoIterator<Item = (OrganisationId, PetitionId, &'r IntakeRecord)>,
    ) -> Result<Self> {
        let mut c = Columns::default();
        for (org, id, r) in records {
            let t = triage_columns(&r.triage)?;
            let (org, id) = (org.as_uuid(), id.as_uuid());
            c.orgs.push(org);
            c.ids.push(id);
            c.versions.push(
                i16::try_from(r.signature_version)
                    .map_err(|_| StoreError::Corrupt("signature version".into()))?,
            );
            c.signatures.push(r.signature.clone());
            c.petition_types.push(t.petition_type);
            c.type_confidences.push(t.type_confidence);
            c.urgencies.push(t.urgency);
            c.intensities.push(t.emotional_intensity);
            c.alerts.push(t.alerts);
            c.evidence.push(t.evidence);
            c.revisions.push(r.lexicon_revision);
            for l in &r.links {
                c.link_orgs.push(org);
                c.link_ids.push(id);
                c.linked.push(l.linked_matter_id.as_uuid());
                c.kinds.push(l.kind.code());
                c.similarities.push(l.similarity);
            }
        }
        Ok(c)
    }
}

/// Stores one matter's intake record: [`record_all`] of one (without the queue, and for the
/// records the queue writes one at a time).
async fn record_one(s: &PgStore, org: OrganisationId, id: PetitionId, r: &IntakeRecord) -> Result<()> {
    record_all(s, Columns::of([(org, id, r)])?).await
}

/// Writes the records of distinct matters with one statement, so one implicit transaction
/// and one round trip. Its parts touch disjoint rows, as parts sharing one snapshot must:
/// - `synchronous_commit` off for this transaction: derived data that the backfill
///   recomputes for a matter without a signature need not wait for its own WAL flush (the
///   registration it follows was flushed before it was acknowledged);
/// - a changed signature takes a new log position so that every node reads it again; an
///   unchanged one (a re-run) keeps its position and costs no node anything. The position is
///   taken and committed within this statement, so it is invisible to readers of the log for
///   milliseconds (`CandidateIndex` asks again for positions it skipped);
/// - the links of an earlier run that this one did not find again go, the others are
///   replaced.
async fn record_all(s: &PgStore, c: Columns) -> Result<()> {
    sqlx::query(
        "with sync as (select set_config('synchronous_commit', 'off', true)),
         rec as (
             select * from unnest($1::uuid[], $2::uuid[], $3::int2[], $4::bytea[], $5::text[], $6::real[],
                 $7::text[], $8::real[], $9::jsonb[], $10::jsonb[], $11::int8[])
                 as t (org, id, version, signature, petition_type, type_confidence, urgency,
                     emotional_intensity, alerts, evidence, lexicon_revision)),
         lk as (
             select * from unnest($12::uuid[], $13::uuid[], $14::uuid[], $15::text[], $16::real[])
                 as t (org, id, linked, kind, similarity)),
         failures as (
             delete from intake_failures f using rec
             where f.organisation_id = rec.org and f.matter_id = rec.id),
         signature as (
             insert into matter_signatures (organisation_id, matter_id, version, signature, created_at)
             select org, id, version, signature, $17 from rec
             on conflict (organisation_id, matter_id) do update set
                 version = excluded.version, signature = excluded.signature, created_at = excluded.created_at,
                 seq = nextval('matter_signatures_seq')
             where (matter_signatures.version, matter_signatures.signature)
                 is distinct from (excluded.version, excluded.signature)),
         triage as (
             insert into matter_triage (organisation_id, matter_id, petition_type, type_confidence, urgency,
                 emotional_intensity, alerts, evidence, lexicon_revision, assessed_at)
             select org, id, petition_type, type_confidence, urgency, emotional_intensity, alerts, evidence,
                 lexicon_revision, $17 from rec
             on conflict (organisation_id, matter_id) do update set
                 petition_type = excluded.petition_type, type_confidence = excluded.type_confidence,
                 urgency = excluded.urgency, emotional_intensity = excluded.emotional_intensity,
                 alerts = excluded.alerts, evidence = excluded.evidence,
                 lexicon_revision = excluded.lexicon_revision, assessed_at = excluded.assessed_at),
         gone as (
             delete from matter_links l using rec
             where l.organisation_id = rec.org and l.matter_id = rec.id
                 and not exists (select 1 from lk where lk.org = l.organisation_id and lk.id = l.matter_id
                     and lk.linked = l.linked_matter_id)),
         links as (
             insert into matter_links (organisation_id, matter_id, linked_matter_id, kind, similarity, created_at)
             select org, id, linked, kind, similarity, $17 from lk
             on conflict (organisation_id, matter_id, linked_matter_id) do update set
                 kind = excluded.kind, similarity = excluded.similarity, created_at = excluded.created_at)
         select 1 from sync",
    )
    .bind(&c.orgs)
    .bind(&c.ids)
    .bind(&c.versions)
    .bind(&c.signatures)
    .bind(&c.petition_types)
    .bind(&c.type_confidences)
    .bind(&c.urgencies)
    .bind(&c.intensities)
    .bind(&c.alerts)
    .bind(&c.evidence)
    .bind(&c.revisions)
    .bind(&c.link_orgs)
    .bind(&c.link_ids)
    .bind(&c.linked)
    .bind(&c.kinds)
    .bind(&c.similarities)
    .bind(micros(s.now()))
    // Planned for each batch, never from a cached generic plan: a generic plan is made once
    // per connection with the table sizes of that moment, and one made while `matter_links`
    // was small kept hashing the whole table for every batch as it grew (13 ms a batch after
    // 20,000 registrations into a fresh database, against 5 ms planned each time).
    .persistent(false)
    .execute(&s.pool)
    .await?;
    Ok(())
}
