//! The PostgreSQL bulk loader: each batch of [`BulkMatter`]s in one transaction that holds the
//! organisation's chain lock ([`Writer::lock`]), its rows sent with `COPY … FROM STDIN` (text
//! format). The search vectors go through `to_tsvector('simple', …)` in an INSERT … SELECT over
//! arrays, so they are exactly what a registration would store.

use super::{PgStore, Writer, classify};
use crate::Result;
use crate::bulk::{BulkLoad, BulkMatter, Chain, TrackingCodes};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::PgConnection;
use std::collections::HashSet;
use std::fmt::Write as _;
use uuid::Uuid;
use xinfang_core::ids::{OrganisationId, PetitionerId};
use xinfang_core::matter::PetitionType;

/// One `COPY … FROM STDIN` in text format: tab-separated columns, one row a line.
struct CopyText {
    buf: String,
    first: bool,
}

impl CopyText {
    fn new() -> Self {
        Self {
            buf: String::with_capacity(1 << 20),
            first: true,
        }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push('\t');
        }
        self.first = false;
    }

    fn end_row(&mut self) {
        self.buf.push('\n');
        self.first = true;
    }

    fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.push_str("\\N");
        self
    }

    fn text(&mut self, v: &str) -> &mut Self {
        self.sep();
        for c in v.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
        self
    }

    fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    fn display(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    fn opt_display(&mut self, v: Option<impl std::fmt::Display>) -> &mut Self {
        match v {
            Some(v) => self.display(v),
            None => self.null(),
        }
    }

    fn time(&mut self, t: DateTime<Utc>) -> &mut Self {
        self.display(t.to_rfc3339_opts(SecondsFormat::Micros, true))
    }

    fn opt_time(&mut self, t: Option<DateTime<Utc>>) -> &mut Self {
        match t {
            Some(t) => self.time(t),
            None => self.null(),
        }
    }

    /// bytea in hex (`\x…`, the backslash escaped for COPY).
    fn bytes(&mut self, v: Option<&[u8]>) -> &mut Self {
        match v {
            Some(b) => {
                self.sep();
                self.buf.push_str("\\\\x");
                self.buf.push_str(&hex::encode(b));
                self
            }
            None => self.null(),
        }
    }

    async fn send(self, conn: &mut PgConnection, statement: &str) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut copy = conn.copy_in_raw(statement).await?;
        match copy.send(self.buf.into_bytes()).await {
            Ok(_) => {
                copy.finish().await?;
                Ok(())
            }
            Err(e) => {
                let _ = copy.abort(e.to_string()).await;
                Err(e.into())
            }
        }
    }
}

impl PgStore {
    /// A bulk loader for `org` (see [`crate::bulk`]).
    pub(super) async fn open_bulk_loader(&self, org: OrganisationId) -> Result<Box<dyn BulkLoad>> {
        Ok(Box::new(PgBulk {
            store: self.clone(),
            org,
            seen: HashSet::new(),
            codes: TrackingCodes::default(),
        }))
    }
}

struct PgBulk {
    store: PgStore,
    org: OrganisationId,
    /// Petitioners written by this load: a repeat petitioner's row is written once.
    seen: HashSet<PetitionerId>,
    codes: TrackingCodes,
}

async fn load_batch(
    s: &PgStore,
    w: &mut Writer,
    org: OrganisationId,
    seen: &mut HashSet<PetitionerId>,
    added: &mut Vec<PetitionerId>,
    batch: &[BulkMatter],
) -> Result<()> {
    w.lock(org).await?;
    let (head_seq, head_hash) = w.head(org)?;
    let org_text = org.to_string();
    let now = s.now();

    let mut c = CopyText::new();
    for p in batch.iter().flat_map(|m| m.petitioners.iter()) {
        if !seen.insert(p.id) {
            continue;
        }
        added.push(p.id);
        c.text(&org_text)
            .display(p.id)
            .opt_text(p.name.as_deref())
            .bytes(p.phone_enc.as_deref())
            .bytes(p.phone_mac.as_deref())
            .opt_text(p.phone_masked.as_deref())
            .opt_text(p.id_kind)
            .bytes(p.id_enc.as_deref())
            .bytes(p.id_mac.as_deref())
            .opt_text(p.id_masked.as_deref())
            .bytes(p.address_enc.as_deref())
            .time(now)
            .end_row();
    }
    c.send(
        w.conn(),
        "copy petitioners (organisation_id, id, name, phone_enc, phone_mac, phone_masked, id_kind, id_enc, id_mac,
             id_masked, address_enc, created_at) from stdin",
    )
    .await?;

    let mut c = CopyText::new();
    for bm in batch {
        let m = &bm.matter;
        c.text(&org_text)
            .display(m.id)
            .text(m.tracking_code.as_str())
            .bytes(Some(&bm.secret_mac))
            .text(m.channel.code())
            .opt_text(m.external_id.as_deref())
            .text(&m.title)
            .opt_text(m.location.as_deref())
            .opt_text(m.petition_type.map(PetitionType::code))
            .opt_display(m.category_id)
            .text(m.urgency.code())
            .display(m.people_count)
            .opt_display(m.lead_unit_id)
            .opt_display(m.owning_leader_id)
            .text(m.state.code())
            .time(m.registered_at)
            .opt_time(m.replied_at)
            .opt_text(bm.deadline.kind)
            .opt_time(bm.deadline.due_at)
            .opt_time(bm.deadline.due_soon_at)
            .text(if bm.deadline.paused { "t" } else { "f" })
            .text(&bm.body)
            .null()
            .time(bm.updated_at)
            .end_row();
    }
    c.send(
        w.conn(),
        "copy matters (organisation_id, id, tracking_code, secret_mac, channel, external_id, title, location,
             petition_type, category_id, urgency, people_count, lead_unit_id, owning_leader_id, state, registered_at,
             replied_at, deadline_kind, due_at, due_soon_at, paused, body, raw_payload, updated_at) from stdin",
    )
    .await?;

    let ids: Vec<Uuid> = batch.iter().map(|m| m.matter.id.as_uuid()).collect();
    let tokens: Vec<&str> = batch.iter().map(|m| m.search_tokens.as_str()).collect();
    sqlx::query(
        "insert into matter_search (organisation_id, matter_id, search)
         select $1, t.id, to_tsvector('simple', t.tokens) from unnest($2::uuid[], $3::text[]) as t (id, tokens)",
    )
    .bind(org.as_uuid())
    .bind(&ids)
    .bind(&tokens)
    .execute(w.conn())
    .await?;

    let mut c = CopyText::new();
    for bm in batch {
        for (pos, p) in bm.matter.petitioner_ids.iter().enumerate() {
            c.text(&org_text)
                .display(bm.matter.id)
                .display(p)
                .display(pos)
                .end_row();
        }
    }
    c.send(
        w.conn(),
        "copy matter_petitioners (organisation_id, matter_id, petitioner_id, position) from stdin",
    )
    .await?;
    let mut c = CopyText::new();
    for bm in batch {
        for (u, role) in bm.units() {
            c.text(&org_text)
                .display(bm.matter.id)
                .display(u)
                .text(role)
                .end_row();
        }
    }
    c.send(
        w.conn(),
        "copy matter_units (organisation_id, matter_id, unit_id, role) from stdin",
    )
    .await?;

    // What intake would record: each signature (its log position from the sequence, in load
    // order) and triage.
    let mut c = CopyText::new();
    for bm in batch {
        c.text(&org_text)
            .display(bm.matter.id)
            .display(bm.intake.version())
            .bytes(Some(&bm.intake.signature))
            .time(now)
            .end_row();
    }
    c.send(
        w.conn(),
        "copy matter_signatures (organisation_id, matter_id, version, signature, created_at) from stdin",
    )
    .await?;
    let mut c = CopyText::new();
    for bm in batch {
        let t = &bm.intake.triage;
        c.text(&org_text)
            .display(bm.matter.id)
            .opt_text(t.petition_type)
            .opt_display(t.type_confidence)
            .text(t.urgency)
            .display(t.emotional_intensity)
            .text(&t.alerts.to_string())
            .text(&t.evidence.to_string())
            .display(bm.intake.lexicon_revision)
            .time(now)
            .end_row();
    }
    c.send(
        w.conn(),
        "copy matter_triage (organisation_id, matter_id, petition_type, type_confidence, urgency,
             emotional_intensity, alerts, evidence, lexicon_revision, assessed_at) from stdin",
    )
    .await?;

    let mut chain = Chain {
        seq: head_seq,
        hash: head_hash,
    };
    let mut c = CopyText::new();
    for bm in batch {
        for e in &bm.events {
            let sealed = chain.seal(&s.vault, org, bm.matter.id, e);
            c.text(&org_text)
                .display(sealed.seq)
                .display(sealed.id)
                .display(sealed.matter_id)
                .text(e.kind)
                .text(e.actor_kind.code())
                .opt_display(e.actor_user_id)
                .opt_text(e.actor_name.as_deref())
                .time(e.occurred_at)
                .time(e.recorded_at)
                .opt_text(e.reason.as_deref())
                .opt_text(e.before_state)
                .opt_text(e.after_state)
                .text(&e.data)
                .text(&sealed.prev_hash)
                .text(&sealed.hash)
                .end_row();
        }
    }
    c.send(
        w.conn(),
        "copy events (organisation_id, seq, id, matter_id, kind, actor_kind, actor_user_id, actor_name, occurred_at,
             recorded_at, reason, before_state, after_state, data, prev_hash, hash) from stdin",
    )
    .await?;
    w.move_head(org, head_seq, chain.seq, chain.hash).await?;
    Ok(())
}

#[async_trait]
impl BulkLoad for PgBulk {
    async fn load(&mut self, mut batch: Vec<BulkMatter>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.codes.make_unique(&mut batch)?;
        let mut added = Vec::new();
        let mut w = Writer::begin(&self.store).await.map_err(classify)?;
        let done = load_batch(&self.store, &mut w, self.org, &mut self.seen, &mut added, &batch).await;
        let done = w.finish(done).await.map_err(classify);
        if done.is_err() {
            // Petitioners first seen in a batch that failed were not written: forget them.
            for p in added {
                self.seen.remove(&p);
            }
        }
        done
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        // Fresh statistics for the planner over the tables the load has grown, and their
        // visibility maps set, so index-only scans (the deadline lists) need no heap visits.
        for table in [
            "matters",
            "matter_search",
            "matter_units",
            "matter_petitioners",
            "petitioners",
            "events",
            "matter_signatures",
            "matter_triage",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!("vacuum (analyze) {table}")))
                .execute(&self.store.pool)
                .await
                .map_err(|e| classify(e.into()))?;
        }
        Ok(())
    }
}
