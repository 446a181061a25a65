//! Intake on PostgreSQL, shared by every app node on the database: the signature log each
//! node derives its duplicate index from, the links intake found, each matter's triage, safety
//! alerts for the petition office, the repeat-rate counts and the organisation's triage lexicon.
//!
//! A signature's log position comes from the sequence `matter_signatures_seq`, taken when the
//! row is written; the transaction commits a moment later, so a reader can see position n + 1
//! before n. [`crate::CandidateIndex`] asks again for the positions it found missing. The
//! safety alert appends an event, so it takes the organisation's chain lock ([`Writer::lock`]);
//! under that lock the "already raised?" check and the insert cannot interleave with another
//! node's.

use super::matters::push_scope;
use super::{PgStore, Writer, audit_setting, micros};
use crate::intake::{assessment, sort_links};
use crate::model::*;
use crate::settings::Setting;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;
use xinfang_core::ids::{OrganisationId, PetitionId, PetitionerId, ReminderId, UserId};
use xinfang_core::matter::{Matter, State};
use xinfang_core::org::{Actor, StaffActor};
use xinfang_nlp::dedup::{Link, Signature};
use xinfang_nlp::triage::{Alert, Lexicon};

pub(super) fn state(s: &str) -> Result<State> {
    State::parse(s).ok_or_else(|| StoreError::Corrupt(format!("state {s}")))
}

fn link_kind(s: &str) -> Result<Link> {
    [Link::Duplicate, Link::Repeat, Link::Joint, Link::Similar]
        .into_iter()
        .find(|l| l.code() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("link kind {s}")))
}

pub(super) async fn subject(s: &PgStore, org: OrganisationId, id: PetitionId) -> Result<IntakeSubject> {
    let body: serde_json::Value =
        sqlx::query_scalar("select body from matters where organisation_id = $1 and id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&s.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
    let m: Matter =
        serde_json::from_value(body).map_err(|e| StoreError::Corrupt(format!("matter body: {e}")))?;
    Ok(IntakeSubject::of(id, m))
}

pub(super) async fn signatures_since(
    s: &PgStore,
    after: i64,
    also: &[i64],
    limit: u32,
) -> Result<Vec<StoredSignature>> {
    // The missed positions are asked for in a branch of their own: one `where seq > $1 or seq
    // = any($3)` made the generic plan walk the whole position index from the start (17 ms a
    // catch-up at 100,000 signatures, ten times that at a million), because the `or` leaves the
    // index walk no lower bound.
    let rows = sqlx::query(
        "select s.seq, s.organisation_id, s.matter_id, s.version, s.signature,
             (select array_agg(mp.petitioner_id) from matter_petitioners mp
              where mp.organisation_id = s.organisation_id and mp.matter_id = s.matter_id) as petitioners
         from (
             (select seq, organisation_id, matter_id, version, signature from matter_signatures
              where seq > $1 order by seq limit $2)
             union all
             (select seq, organisation_id, matter_id, version, signature from matter_signatures
              where seq = any($3) and seq <= $1)
         ) s
         order by s.seq limit $2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .bind(also)
    .fetch_all(&s.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredSignature {
                seq: r.get("seq"),
                organisation_id: OrganisationId::from_uuid(r.get("organisation_id")),
                matter_id: PetitionId::from_uuid(r.get("matter_id")),
                version: u16::try_from(r.get::<i16, _>("version"))
                    .map_err(|_| StoreError::Corrupt("signature version".into()))?,
                signature: r.get("signature"),
                petitioners: petitioner_list(r),
            })
        })
        .collect()
}

pub(super) async fn candidates(
    s: &PgStore,
    org: OrganisationId,
    probe: &Signature,
    min_similarity: f32,
    among: &[PetitionId],
) -> Result<Vec<DedupCandidate>> {
    if among.is_empty() {
        return Ok(Vec::new());
    }
    // The caller's index estimated these similar; the stored signature decides. (Stale index
    // entries and chance agreements of sketches make the odd row read for nothing.)
    let ids: Vec<Uuid> = among.iter().map(|id| id.as_uuid()).collect();
    let mut out = Vec::new();
    for stored in super::lookups::read(s, org, ids).await? {
        let version = i64::from(stored.version);
        if let Some(sim) = crate::intake::similar(probe, min_similarity, version, &stored.signature) {
            out.push(stored.candidate(sim)?);
        }
    }
    Ok(out)
}

/// The `petitioners` column (an `array_agg` of ids, null for none).
pub(super) fn petitioner_list(r: &PgRow) -> Vec<PetitionerId> {
    r.get::<Option<Vec<Uuid>>, _>("petitioners")
        .unwrap_or_default()
        .into_iter()
        .map(PetitionerId::from_uuid)
        .collect()
}

async fn visible(s: &PgStore, viewer: &StaffActor, id: PetitionId) -> Result<()> {
    let mut q = QueryBuilder::<Postgres>::new("select 1 as one from matters m where");
    push_scope(&mut q, &viewer.scope());
    q.push(" and m.id = ").push_bind(id.as_uuid());
    q.build()
        .fetch_optional(&s.pool)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

pub(super) async fn links(s: &PgStore, viewer: &StaffActor, id: PetitionId) -> Result<Vec<MatterLink>> {
    visible(s, viewer, id).await?;
    let mut out = Vec::new();
    // (the column naming this matter, the column naming the other one, the direction)
    for (this, other, direction) in [
        ("matter_id", "linked_matter_id", LinkDirection::Earlier),
        ("linked_matter_id", "matter_id", LinkDirection::Later),
    ] {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "select m.id, m.tracking_code, m.title, m.state, m.registered_at, l.kind, l.similarity, l.created_at
             from matter_links l join matters m on m.organisation_id = l.organisation_id and m.id = l.{other}
             where l.organisation_id = "
        ));
        q.push_bind(viewer.organisation_id.as_uuid())
            .push(format!(" and l.{this} = "))
            .push_bind(id.as_uuid())
            .push(" and");
        push_scope(&mut q, &viewer.scope());
        for r in q.build().fetch_all(&s.pool).await? {
            let kind = link_kind(r.get("kind"))?;
            out.push(MatterLink {
                matter_id: PetitionId::from_uuid(r.get("id")),
                tracking_code: r.get("tracking_code"),
                title: r.get("title"),
                state: state(r.get("state"))?,
                registered_at: r.get("registered_at"),
                kind,
                label_zh: kind.label_zh(),
                similarity: r.get("similarity"),
                direction,
                created_at: r.get("created_at"),
            });
        }
    }
    sort_links(&mut out);
    Ok(out)
}

pub(super) async fn triage(s: &PgStore, viewer: &StaffActor, id: PetitionId) -> Result<Option<StoredTriage>> {
    visible(s, viewer, id).await?;
    let row = sqlx::query(
        "select urgency, emotional_intensity, alerts, evidence, lexicon_revision, assessed_at
         from matter_triage where organisation_id = $1 and matter_id = $2",
    )
    .bind(viewer.organisation_id.as_uuid())
    .bind(id.as_uuid())
    .fetch_optional(&s.pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(StoredTriage {
        matter_id: id,
        assessment: assessment(
            r.get("urgency"),
            r.get::<f32, _>("emotional_intensity"),
            r.get("alerts"),
            r.get("evidence"),
        )?,
        lexicon_revision: r.get("lexicon_revision"),
        assessed_at: r.get("assessed_at"),
    }))
}

pub(super) async fn raise_safety_alert(
    s: &PgStore,
    org: OrganisationId,
    id: PetitionId,
    alerts: &[Alert],
) -> Result<Option<ReminderId>> {
    if s.batcher.is_some() {
        return super::batch::raise_alert(s, org, id, alerts).await;
    }
    let mut w = Writer::begin(s).await?;
    let done = super::alerts::raise_one(s, &mut w, org, id, alerts).await;
    w.finish(done).await
}

pub(super) async fn repeat_counts(
    s: &PgStore,
    org: OrganisationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<RepeatCounts> {
    // A matter counts once, when a repeat is its strongest link: a duplicate (the same petition
    // received twice) is not a repeat petition.
    let row = sqlx::query(
        "select count(*) as registered,
             count(*) filter (where exists (select 1 from matter_links l
                 where l.organisation_id = m.organisation_id and l.matter_id = m.id and l.kind = 'repeat')
               and not exists (select 1 from matter_links d
                 where d.organisation_id = m.organisation_id and d.matter_id = m.id and d.kind = 'duplicate')) as repeats
         from matters m where m.organisation_id = $1 and m.registered_at >= $2 and m.registered_at < $3",
    )
    .bind(org.as_uuid())
    .bind(from)
    .bind(to)
    .fetch_one(&s.pool)
    .await?;
    Ok(RepeatCounts {
        registered: row.get::<i64, _>("registered").max(0) as u64,
        repeats: row.get::<i64, _>("repeats").max(0) as u64,
    })
}

fn stored_lexicon(r: &PgRow) -> Result<StoredLexicon> {
    let lexicon: Lexicon =
        serde_json::from_value(r.get("body")).map_err(|e| StoreError::Corrupt(format!("lexicon: {e}")))?;
    Ok(StoredLexicon {
        lexicon,
        revision: r.get("revision"),
        updated_at: r.get("updated_at"),
        updated_by: r.get::<Option<Uuid>, _>("updated_by").map(UserId::from_uuid),
    })
}

pub(super) async fn lexicon(s: &PgStore, org: OrganisationId) -> Result<Option<StoredLexicon>> {
    sqlx::query("select body, revision, updated_at, updated_by from lexicons where organisation_id = $1")
        .bind(org.as_uuid())
        .fetch_optional(&s.pool)
        .await?
        .as_ref()
        .map(stored_lexicon)
        .transpose()
}

pub(super) async fn lexicon_revision(s: &PgStore, org: OrganisationId) -> Result<i64> {
    let rev: Option<i64> = sqlx::query_scalar("select revision from lexicons where organisation_id = $1")
        .bind(org.as_uuid())
        .fetch_optional(&s.pool)
        .await?;
    Ok(rev.unwrap_or(0))
}

pub(super) async fn save_lexicon(
    s: &PgStore,
    org: OrganisationId,
    by: &Actor,
    lexicon: &Lexicon,
) -> Result<StoredLexicon> {
    let body = serde_json::to_value(lexicon).map_err(|e| StoreError::Corrupt(format!("lexicon: {e}")))?;
    let mut w = Writer::begin(s).await?;
    let work = async {
        // The chain lock orders two nodes' saves: each gets its own revision and event.
        w.lock(org).await?;
        let before = sqlx::query(
            "select body, revision, updated_at, updated_by from lexicons where organisation_id = $1",
        )
        .bind(org.as_uuid())
        .fetch_optional(w.conn())
        .await?
        .as_ref()
        .map(stored_lexicon)
        .transpose()?;
        let row = sqlx::query(
            "insert into lexicons (organisation_id, body, revision, updated_at, updated_by) values ($1, $2, 1, $3, $4)
             on conflict (organisation_id) do update set body = excluded.body, revision = lexicons.revision + 1,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by
             returning body, revision, updated_at, updated_by",
        )
        .bind(org.as_uuid())
        .bind(body)
        .bind(micros(s.now()))
        .bind(by.user_id().map(|u| u.as_uuid()))
        .fetch_one(w.conn())
        .await?;
        let saved = stored_lexicon(&row)?;
        let details = crate::settings::lexicon_details(before.as_ref().map(|b| &b.lexicon), lexicon, saved.revision);
        audit_setting(&mut w, s, org, by, Setting::TriageLexicon, details).await?;
        Ok(saved)
    }
    .await;
    w.finish(work).await
}

pub(super) async fn without_intake(
    s: &PgStore,
    org: OrganisationId,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<PetitionId>> {
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "select m.id from matters m where m.organisation_id = $1
             and not exists (select 1 from matter_signatures g where g.organisation_id = m.organisation_id and g.matter_id = m.id)
             and not exists (select 1 from intake_failures f where f.organisation_id = m.organisation_id
                 and f.matter_id = m.id and f.retry_at > $2)
         order by m.registered_at, m.seq limit $3",
    )
    .bind(org.as_uuid())
    .bind(micros(now))
    .bind(i64::from(limit))
    .fetch_all(&s.pool)
    .await?;
    Ok(ids.into_iter().map(PetitionId::from_uuid).collect())
}

pub(super) async fn record_failure(
    s: &PgStore,
    org: OrganisationId,
    id: PetitionId,
    error: &str,
    now: DateTime<Utc>,
) -> Result<u32> {
    let mut tx = s.pool.begin().await?;
    let attempts: i32 = sqlx::query_scalar(
        "insert into intake_failures (organisation_id, matter_id, attempts, last_error, failed_at, retry_at)
         values ($1, $2, 1, $3, $4, $4)
         on conflict (organisation_id, matter_id) do update set attempts = intake_failures.attempts + 1,
             last_error = excluded.last_error, failed_at = excluded.failed_at
         returning attempts",
    )
    .bind(org.as_uuid())
    .bind(id.as_uuid())
    .bind(crate::intake::error_text(error))
    .bind(micros(now))
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::intake::missing_matter)?;
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    sqlx::query("update intake_failures set retry_at = $1 where organisation_id = $2 and matter_id = $3")
        .bind(micros(now + crate::intake::retry_delay(attempts)))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(attempts)
}
