//! Group reading of duplicate candidates on PostgreSQL.
//!
//! Intake checks each new letter against the stored signatures of the matters its node's
//! duplicate index names ([`super::intake::candidates`]): a read by key, once for about every
//! second registration. On its own each read cost three round trips, not one: the pool pings a
//! connection before handing it out and again when it comes back (sqlx's health checks), and
//! under a crowd of registrations those round trips (each a send, a receive and a wake-up on
//! both sides) cost the machine more than the read itself. So the reads are queued, like
//! registrations and intake records ([`super::batch`]), to one task per store that reads every
//! look-up waiting (up to [`MAX_BATCH`]) with one statement: one connection from the pool, one
//! round trip. No look-up waits for a batch to fill; a batch is what queued while the previous
//! one was read.
//!
//! The statement tags each row with the number of the look-up that asked for it, so every
//! caller gets exactly the rows it asked for, within its own organisation, as its own
//! statement would have given it; a row that cannot be read fails only its own look-up. When
//! the database cannot be reached, every caller is told so at once.
//!
//! The reads run on the keyed pool ([`super::keyed_pool`]): planned once per connection.

use super::batch::{MAX_BATCH, again, submit};
use super::intake::{petitioner_list, state};
use super::{PgStore, classify};
use crate::intake::parse_rfc3339;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use xinfang_core::ids::{OrganisationId, PetitionId, PetitionerId};
use xinfang_core::matter::State;

/// An earlier matter as stored, for the caller to measure against its letter.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub matter_id: PetitionId,
    pub version: i16,
    pub signature: Vec<u8>,
    pub petitioners: Vec<PetitionerId>,
    pub state: State,
    pub registered_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// One queued look-up with the channel its answer goes back on.
pub(crate) struct Job {
    org: OrganisationId,
    ids: Vec<Uuid>,
    reply: oneshot::Sender<Result<Vec<Stored>>>,
}

/// The stored signatures and states of `ids` (matters of `org`; ids of other organisations
/// and of matters without a signature give nothing), through the store's queue when group
/// commit is on.
pub(super) async fn read(s: &PgStore, org: OrganisationId, ids: Vec<Uuid>) -> Result<Vec<Stored>> {
    let Some(queues) = &s.batcher else {
        return read_all(s, &[(org, ids.as_slice())])
            .await?
            .pop()
            .unwrap_or_else(|| Ok(Vec::new()));
    };
    submit(s, &queues.lookups, run, "duplicate look-up", |reply| Job {
        org,
        ids,
        reply,
    })
    .await
}

async fn run(s: PgStore, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let batch = std::mem::take(&mut jobs);
        let asks: Vec<(OrganisationId, &[Uuid])> = batch.iter().map(|j| (j.org, j.ids.as_slice())).collect();
        match read_all(&s, &asks).await {
            Ok(found) => {
                for (job, rows) in batch.into_iter().zip(found) {
                    let _ = job.reply.send(rows);
                }
            }
            Err(e) => {
                let e = classify(e);
                for job in batch {
                    let _ = job.reply.send(Err(again(&e)));
                }
            }
        }
    }
}

/// Every look-up of `asks` with one statement: for each, in its order, its rows or the error
/// of a row of its that could not be read.
async fn read_all(s: &PgStore, asks: &[(OrganisationId, &[Uuid])]) -> Result<Vec<Result<Vec<Stored>>>> {
    let (mut numbers, mut orgs, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    for (n, (org, list)) in asks.iter().enumerate() {
        for id in *list {
            numbers.push(n as i32);
            orgs.push(org.as_uuid());
            ids.push(*id);
        }
    }
    let rows = sqlx::query(
        "select k.n, m.id, m.state, m.registered_at, m.replied_at,
             case when m.state = 'not_accepted' then m.body->>'decided_at' end as decided_at,
             (select array_agg(mp.petitioner_id) from matter_petitioners mp
              where mp.organisation_id = m.organisation_id and mp.matter_id = m.id) as petitioners,
             s.version, s.signature
         from unnest($1::int4[], $2::uuid[], $3::uuid[]) as k (n, org, id)
         join matter_signatures s on s.organisation_id = k.org and s.matter_id = k.id
         join matters m on m.organisation_id = s.organisation_id and m.id = s.matter_id",
    )
    .bind(&numbers)
    .bind(&orgs)
    .bind(&ids)
    .fetch_all(&s.keyed)
    .await?;
    let mut out: Vec<Result<Vec<Stored>>> = asks.iter().map(|_| Ok(Vec::new())).collect();
    for r in &rows {
        let n: i32 = r.get("n");
        let Some(Ok(found)) = usize::try_from(n).ok().and_then(|n| out.get_mut(n)) else {
            continue;
        };
        match stored(r) {
            Ok(row) => found.push(row),
            Err(e) => out[n as usize] = Err(e),
        }
    }
    Ok(out)
}

fn stored(r: &PgRow) -> Result<Stored> {
    let decided = r
        .get::<Option<&str>, _>("decided_at")
        .map(parse_rfc3339)
        .transpose()?;
    let replied: Option<DateTime<Utc>> = r.get("replied_at");
    Ok(Stored {
        matter_id: PetitionId::from_uuid(r.get("id")),
        version: r.get("version"),
        signature: r.get("signature"),
        petitioners: petitioner_list(r),
        state: state(r.get("state"))?,
        registered_at: r.get("registered_at"),
        answered_at: replied.or(decided),
    })
}

impl Stored {
    /// The candidate it is for a letter `similarity` similar to it.
    pub(super) fn candidate(self, similarity: f32) -> Result<crate::model::DedupCandidate> {
        Ok(crate::model::DedupCandidate {
            matter_id: self.matter_id,
            signature_version: u16::try_from(self.version)
                .map_err(|_| StoreError::Corrupt("signature version".into()))?,
            signature: self.signature,
            similarity,
            petitioners: self.petitioners,
            state: self.state,
            registered_at: self.registered_at,
            answered_at: self.answered_at,
        })
    }
}
