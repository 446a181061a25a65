//! The SQLite bulk loader: each batch of [`BulkMatter`]s in one write transaction, as
//! multi-row INSERTs of a fixed shape (so each is prepared once and reused), with the audit
//! chain sealed under the store's write lock.

use super::{SqliteStore, Writer, ts};
use crate::Result;
use crate::bulk::{BulkLoad, BulkMatter, Chain, TrackingCodes};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::collections::HashSet;
use xinfang_core::ids::{OrganisationId, PetitionerId};
use xinfang_core::matter::PetitionType;

/// SQLite allows 32,766 bound values per statement; a statement holds as many rows as fit.
const MAX_BINDS: usize = 32_000;

/// Page cache of the writer during a load (KiB): index pages stay in memory between batches.
const LOAD_CACHE_KIB: i64 = 262_144;
/// The writer's page cache otherwise (what [`SqliteStore::connect`] sets).
const NORMAL_CACHE_KIB: i64 = 8_000;

impl SqliteStore {
    /// A bulk loader for `org` (see [`crate::bulk`]).
    pub(super) async fn open_bulk_loader(&self, org: OrganisationId) -> Result<Box<dyn BulkLoad>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "pragma cache_size = -{LOAD_CACHE_KIB}"
        )))
        .execute(&self.writer)
        .await?;
        Ok(Box::new(SqliteBulk {
            store: self.clone(),
            org,
            seen: HashSet::new(),
            codes: TrackingCodes::default(),
        }))
    }
}

struct SqliteBulk {
    store: SqliteStore,
    org: OrganisationId,
    /// Petitioners written by this load: a repeat petitioner's row is written once.
    seen: HashSet<PetitionerId>,
    codes: TrackingCodes,
}

/// Runs `insert <head> values (...), (...)` over `rows`, as many rows per statement as fit.
async fn insert_rows<T>(
    conn: &mut SqliteConnection,
    head: &str,
    columns: usize,
    rows: &[T],
    mut bind: impl FnMut(&mut sqlx::query_builder::Separated<'_, Sqlite, &'static str>, &T),
) -> Result<()> {
    for chunk in rows.chunks((MAX_BINDS / columns).max(1)) {
        let mut q = QueryBuilder::<Sqlite>::new(head);
        q.push_values(chunk, |mut b, row| bind(&mut b, row));
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

#[async_trait]
impl BulkLoad for SqliteBulk {
    async fn load(&mut self, mut batch: Vec<BulkMatter>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.codes.make_unique(&mut batch)?;
        let mut added = Vec::new();
        let done = load_batch(&self.store, self.org, &mut self.seen, &mut added, &batch).await;
        if done.is_err() {
            // Petitioners first seen in a batch that failed were not written: forget them.
            for p in added {
                self.seen.remove(&p);
            }
        }
        done
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "pragma cache_size = -{NORMAL_CACHE_KIB}"
        )))
        .execute(&self.store.writer)
        .await?;
        Ok(())
    }
}

async fn load_batch(
    s: &SqliteStore,
    org: OrganisationId,
    seen: &mut HashSet<PetitionerId>,
    added: &mut Vec<PetitionerId>,
    batch: &[BulkMatter],
) -> Result<()> {
    let org_text = org.to_string();
    let mut w = Writer::begin(s).await?;
    let (head_seq, head_hash) = w.head(org).await?;
    let first_seq: i64 = sqlx::query("select coalesce(max(seq), 0) + 1 from matters")
        .fetch_one(w.conn())
        .await?
        .get(0);
    let mut chain = Chain {
        seq: head_seq,
        hash: head_hash,
    };

    let petitioners: Vec<_> = batch
        .iter()
        .flat_map(|m| m.petitioners.iter())
        .filter(|p| seen.insert(p.id))
        .collect();
    added.extend(petitioners.iter().map(|p| p.id));
    insert_rows(
        w.conn(),
        "insert or ignore into petitioners (organisation_id, id, name, phone_enc, phone_mac, phone_masked,
                 id_kind, id_enc, id_mac, id_masked, address_enc, created_at) ",
        12,
        &petitioners,
        |b, p| {
            b.push_bind(org_text.as_str())
                .push_bind(p.id.to_string())
                .push_bind(p.name.as_deref())
                .push_bind(p.phone_enc.as_deref())
                .push_bind(p.phone_mac.as_deref())
                .push_bind(p.phone_masked.as_deref())
                .push_bind(p.id_kind)
                .push_bind(p.id_enc.as_deref())
                .push_bind(p.id_mac.as_deref())
                .push_bind(p.id_masked.as_deref())
                .push_bind(p.address_enc.as_deref())
                .push_bind(ts(s.now()));
        },
    )
    .await?;

    let rows: Vec<(i64, &BulkMatter)> = batch
        .iter()
        .enumerate()
        .map(|(i, m)| (first_seq + i as i64, m))
        .collect();
    insert_rows(
            w.conn(),
            "insert into matters (seq, organisation_id, id, tracking_code, secret_mac, channel, external_id, title,
                 location, petition_type, category_id, urgency, people_count, lead_unit_id, owning_leader_id, state,
                 registered_at, replied_at, deadline_kind, due_at, due_soon_at, paused, body, raw_payload, updated_at) ",
            25,
            &rows,
            |b, (seq, bm)| {
                let m = &bm.matter;
                b.push_bind(*seq)
                    .push_bind(org_text.as_str())
                    .push_bind(m.id.to_string())
                    .push_bind(m.tracking_code.as_str().to_string())
                    .push_bind(bm.secret_mac.as_slice())
                    .push_bind(m.channel.code())
                    .push_bind(m.external_id.as_deref())
                    .push_bind(m.title.as_str())
                    .push_bind(m.location.as_deref())
                    .push_bind(m.petition_type.map(PetitionType::code))
                    .push_bind(m.category_id.map(|c| c.to_string()))
                    .push_bind(m.urgency.code())
                    .push_bind(m.people_count as i64)
                    .push_bind(m.lead_unit_id.map(|u| u.to_string()))
                    .push_bind(m.owning_leader_id.map(|u| u.to_string()))
                    .push_bind(m.state.code())
                    .push_bind(ts(m.registered_at))
                    .push_bind(m.replied_at.map(ts))
                    .push_bind(bm.deadline.kind)
                    .push_bind(bm.deadline.due_at.map(ts))
                    .push_bind(bm.deadline.due_soon_at.map(ts))
                    .push_bind(bm.deadline.paused)
                    .push_bind(bm.body.as_str())
                    .push_bind(None::<Vec<u8>>)
                    .push_bind(ts(bm.updated_at));
            },
        )
        .await?;
    insert_rows(
        w.conn(),
        "insert into matters_fts (rowid, tokens) ",
        2,
        &rows,
        |b, (seq, bm)| {
            b.push_bind(*seq).push_bind(bm.search_tokens.as_str());
        },
    )
    .await?;

    let links: Vec<(String, String, i64)> = batch
        .iter()
        .flat_map(|bm| {
            bm.matter
                .petitioner_ids
                .iter()
                .enumerate()
                .map(|(pos, p)| (bm.matter.id.to_string(), p.to_string(), pos as i64))
        })
        .collect();
    insert_rows(
        w.conn(),
        "insert or ignore into matter_petitioners (organisation_id, matter_id, petitioner_id, position) ",
        4,
        &links,
        |b, (m, p, pos)| {
            b.push_bind(org_text.as_str())
                .push_bind(m.as_str())
                .push_bind(p.as_str())
                .push_bind(*pos);
        },
    )
    .await?;
    let units: Vec<(String, String, &'static str)> = batch
        .iter()
        .flat_map(|bm| {
            bm.units()
                .into_iter()
                .map(|(u, role)| (bm.matter.id.to_string(), u.to_string(), role))
        })
        .collect();
    insert_rows(
        w.conn(),
        "insert into matter_units (organisation_id, matter_id, unit_id, role) ",
        4,
        &units,
        |b, (m, u, role)| {
            b.push_bind(org_text.as_str())
                .push_bind(m.as_str())
                .push_bind(u.as_str())
                .push_bind(*role);
        },
    )
    .await?;

    // What intake would record: each signature, at the next positions of the log (this
    // writer holds the database, so positions commit in order), and triage.
    let first_position: i64 = sqlx::query("select coalesce(max(seq), 0) + 1 from matter_signatures")
        .fetch_one(w.conn())
        .await?
        .get(0);
    let now = ts(s.now());
    let numbered: Vec<(i64, &BulkMatter)> = batch
        .iter()
        .enumerate()
        .map(|(i, bm)| (first_position + i as i64, bm))
        .collect();
    insert_rows(
        w.conn(),
        "insert into matter_signatures (organisation_id, matter_id, version, signature, created_at, seq) ",
        6,
        &numbered,
        |b, (position, bm)| {
            b.push_bind(org_text.as_str())
                .push_bind(bm.matter.id.to_string())
                .push_bind(i64::from(bm.intake.version()))
                .push_bind(bm.intake.signature.as_slice())
                .push_bind(now.clone())
                .push_bind(*position);
        },
    )
    .await?;
    insert_rows(
        w.conn(),
        "insert into matter_triage (organisation_id, matter_id, petition_type, type_confidence, urgency,
             emotional_intensity, alerts, evidence, lexicon_revision, assessed_at) ",
        10,
        batch,
        |b, bm| {
            let t = &bm.intake.triage;
            b.push_bind(org_text.as_str())
                .push_bind(bm.matter.id.to_string())
                .push_bind(t.petition_type)
                .push_bind(t.type_confidence)
                .push_bind(t.urgency)
                .push_bind(t.emotional_intensity)
                .push_bind(t.alerts.to_string())
                .push_bind(t.evidence.to_string())
                .push_bind(bm.intake.lexicon_revision)
                .push_bind(now.clone());
        },
    )
    .await?;

    let sealed: Vec<_> = batch
        .iter()
        .flat_map(|bm| bm.events.iter().map(move |e| (bm.matter.id, e)))
        .map(|(id, e)| chain.seal(&s.vault, org, id, e))
        .collect();
    insert_rows(
            w.conn(),
            "insert into events (organisation_id, seq, id, matter_id, kind, actor_kind, actor_user_id, actor_name,
                 occurred_at, recorded_at, reason, before_state, after_state, data, prev_hash, hash) ",
            16,
            &sealed,
            |b, e| {
                let ev = e.event;
                b.push_bind(org_text.as_str())
                    .push_bind(e.seq)
                    .push_bind(e.id.to_string())
                    .push_bind(e.matter_id.to_string())
                    .push_bind(ev.kind)
                    .push_bind(ev.actor_kind.code())
                    .push_bind(ev.actor_user_id.map(|u| u.to_string()))
                    .push_bind(ev.actor_name.as_deref())
                    .push_bind(ts(ev.occurred_at))
                    .push_bind(ts(ev.recorded_at))
                    .push_bind(ev.reason.as_deref())
                    .push_bind(ev.before_state)
                    .push_bind(ev.after_state)
                    .push_bind(ev.data.as_str())
                    .push_bind(e.prev_hash.as_str())
                    .push_bind(e.hash.as_str());
            },
        )
        .await?;
    let moved = sqlx::query(
        "insert into audit_heads (organisation_id, seq, hash) values (?, ?, ?)
             on conflict (organisation_id) do update set seq = excluded.seq, hash = excluded.hash
             where audit_heads.seq = ?",
    )
    .bind(&org_text)
    .bind(chain.seq)
    .bind(&chain.hash)
    .bind(head_seq)
    .execute(w.conn())
    .await?;
    if moved.rows_affected() != 1 {
        return Err(crate::StoreError::Conflict {
            constraint: "audit_heads_seq",
            field: None,
        });
    }
    w.pending.push((org, chain.seq, chain.hash));
    w.commit().await
}
