//! Intake on SQLite: the signature log the node derives its duplicate index from, the links
//! intake found, each matter's triage, safety alerts for the petition office, the repeat-rate
//! counts and the organisation's triage lexicon.
//!
//! Writes that append an event (the safety alert) go through [`Writer`]; the others are plain
//! transactions on the single writer connection. Because there is one writer, a signature's
//! log position (`seq`, one more than the highest) is committed in position order: a reader
//! never sees a gap fill in later.

use super::matters::push_scope;
use super::{NewEvent, SqliteStore, Writer, audit_setting, parse_id, parse_ts, ts};
use crate::intake::{alert_event_data, assessment, parse_rfc3339, sort_links, triage_columns};
use crate::model::*;
use crate::settings::Setting;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use xinfang_core::ids::{OrganisationId, PetitionId, PetitionerId, ReminderId, UserId};
use xinfang_core::matter::{Matter, State};
use xinfang_core::org::{Actor, StaffActor};
use xinfang_nlp::dedup::{Link, Signature};
use xinfang_nlp::triage::{Alert, Lexicon};

fn state(s: &str) -> Result<State> {
    State::parse(s).ok_or_else(|| StoreError::Corrupt(format!("state {s}")))
}

fn link_kind(s: &str) -> Result<Link> {
    [Link::Duplicate, Link::Repeat, Link::Joint, Link::Similar]
        .into_iter()
        .find(|l| l.code() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("link kind {s}")))
}

pub(super) async fn subject(s: &SqliteStore, org: OrganisationId, id: PetitionId) -> Result<IntakeSubject> {
    let body: String = sqlx::query_scalar("select body from matters where organisation_id = ? and id = ?")
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(&s.reader)
        .await?
        .ok_or(StoreError::NotFound)?;
    let m: Matter =
        serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("matter body: {e}")))?;
    Ok(IntakeSubject::of(id, m))
}

pub(super) async fn record(
    s: &SqliteStore,
    org: OrganisationId,
    id: PetitionId,
    r: IntakeRecord,
) -> Result<()> {
    let (org_s, id_s) = (org.to_string(), id.to_string());
    let now = ts(s.now());
    let t = triage_columns(&r.triage)?;
    let mut tx = s.writer.begin().await?;
    sqlx::query("delete from intake_failures where organisation_id = ? and matter_id = ?")
        .bind(&org_s)
        .bind(&id_s)
        .execute(&mut *tx)
        .await?;
    // A changed signature takes a new log position so that every node reads it again; an
    // unchanged one (a re-run) keeps its position.
    sqlx::query(
        "insert into matter_signatures (organisation_id, matter_id, version, signature, created_at, seq)
         values (?, ?, ?, ?, ?, (select coalesce(max(seq), 0) + 1 from matter_signatures))
         on conflict (organisation_id, matter_id) do update set
             version = excluded.version, signature = excluded.signature, created_at = excluded.created_at,
             seq = excluded.seq
         where matter_signatures.version <> excluded.version or matter_signatures.signature <> excluded.signature",
    )
    .bind(&org_s)
    .bind(&id_s)
    .bind(i64::from(r.signature_version))
    .bind(&r.signature)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into matter_triage (organisation_id, matter_id, petition_type, type_confidence, urgency,
             emotional_intensity, alerts, evidence, lexicon_revision, assessed_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (organisation_id, matter_id) do update set
             petition_type = excluded.petition_type, type_confidence = excluded.type_confidence,
             urgency = excluded.urgency, emotional_intensity = excluded.emotional_intensity,
             alerts = excluded.alerts, evidence = excluded.evidence,
             lexicon_revision = excluded.lexicon_revision, assessed_at = excluded.assessed_at",
    )
    .bind(&org_s)
    .bind(&id_s)
    .bind(t.petition_type)
    .bind(t.type_confidence)
    .bind(t.urgency)
    .bind(t.emotional_intensity)
    .bind(t.alerts.to_string())
    .bind(t.evidence.to_string())
    .bind(r.lexicon_revision)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    write_links(&mut tx, &org_s, &id_s, &r.links, &now).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn signatures_since(
    s: &SqliteStore,
    after: i64,
    also: &[i64],
    limit: u32,
) -> Result<Vec<StoredSignature>> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "select s.seq, s.organisation_id, s.matter_id, s.version, s.signature,
             (select group_concat(mp.petitioner_id) from matter_petitioners mp
              where mp.organisation_id = s.organisation_id and mp.matter_id = s.matter_id) as petitioners
         from matter_signatures s where s.seq > ",
    );
    q.push_bind(after);
    if !also.is_empty() {
        q.push(" or s.seq in (");
        let mut sep = q.separated(", ");
        for seq in also {
            sep.push_bind(*seq);
        }
        q.push(")");
    }
    q.push(" order by s.seq limit ").push_bind(i64::from(limit));
    q.build()
        .fetch_all(&s.reader)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredSignature {
                seq: r.get("seq"),
                organisation_id: parse_id(r.get("organisation_id"))?,
                matter_id: parse_id(r.get("matter_id"))?,
                version: u16::try_from(r.get::<i64, _>("version"))
                    .map_err(|_| StoreError::Corrupt("signature version".into()))?,
                signature: r.get("signature"),
                petitioners: petitioner_list(r.get("petitioners"))?,
            })
        })
        .collect()
}

/// Petitioner ids as `group_concat` lists them.
fn petitioner_list(list: Option<&str>) -> Result<Vec<PetitionerId>> {
    list.unwrap_or("")
        .split(',')
        .filter(|p| !p.is_empty())
        .map(parse_id)
        .collect()
}

pub(super) async fn candidates(
    s: &SqliteStore,
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
    let org_s = org.to_string();
    let mut q = QueryBuilder::<Sqlite>::new(
        "select m.id, m.state, m.registered_at, m.replied_at,
             case when m.state = 'not_accepted' then json_extract(m.body, '$.decided_at') end as decided_at,
             (select group_concat(mp.petitioner_id) from matter_petitioners mp
              where mp.organisation_id = m.organisation_id and mp.matter_id = m.id) as petitioners,
             s.version, s.signature
         from matter_signatures s
         join matters m on m.organisation_id = s.organisation_id and m.id = s.matter_id
         where s.organisation_id = ",
    );
    q.push_bind(&org_s).push(" and s.matter_id in (");
    let mut sep = q.separated(", ");
    for id in among {
        sep.push_bind(id.to_string());
    }
    q.push(")");
    let mut out = Vec::new();
    for r in q.build().fetch_all(&s.reader).await? {
        let (version, bytes): (i64, Vec<u8>) = (r.get("version"), r.get("signature"));
        if let Some(sim) = crate::intake::similar(probe, min_similarity, version, &bytes) {
            out.push(candidate(&r, version, bytes, sim)?);
        }
    }
    Ok(out)
}

fn candidate(r: &SqliteRow, version: i64, signature: Vec<u8>, similarity: f32) -> Result<DedupCandidate> {
    let replied = r.get::<Option<&str>, _>("replied_at").map(parse_ts).transpose()?;
    let decided = r
        .get::<Option<&str>, _>("decided_at")
        .map(parse_rfc3339)
        .transpose()?;
    let petitioners = petitioner_list(r.get("petitioners"))?;
    Ok(DedupCandidate {
        matter_id: parse_id(r.get("id"))?,
        signature_version: u16::try_from(version)
            .map_err(|_| StoreError::Corrupt("signature version".into()))?,
        signature,
        similarity,
        petitioners,
        state: state(r.get("state"))?,
        registered_at: parse_ts(r.get("registered_at"))?,
        answered_at: replied.or(decided),
    })
}

/// Replaces the links of a matter in `conn`'s transaction.
async fn write_links(
    conn: &mut sqlx::SqliteConnection,
    org_s: &str,
    id_s: &str,
    links: &[NewLink],
    now: &str,
) -> Result<()> {
    sqlx::query("delete from matter_links where organisation_id = ? and matter_id = ?")
        .bind(org_s)
        .bind(id_s)
        .execute(&mut *conn)
        .await?;
    if !links.is_empty() {
        let mut q = QueryBuilder::<Sqlite>::new(
            "insert into matter_links (organisation_id, matter_id, linked_matter_id, kind, similarity, created_at) ",
        );
        q.push_values(links, |mut b, l| {
            b.push_bind(org_s)
                .push_bind(id_s)
                .push_bind(l.linked_matter_id.to_string())
                .push_bind(l.kind.code())
                .push_bind(l.similarity)
                .push_bind(now);
        });
        q.push(" on conflict do nothing");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn visible(s: &SqliteStore, viewer: &StaffActor, id: PetitionId) -> Result<()> {
    let mut q = QueryBuilder::<Sqlite>::new("select 1 from matters m where");
    push_scope(&mut q, &viewer.scope());
    q.push(" and m.id = ").push_bind(id.to_string());
    q.build()
        .fetch_optional(&s.reader)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

pub(super) async fn links(s: &SqliteStore, viewer: &StaffActor, id: PetitionId) -> Result<Vec<MatterLink>> {
    visible(s, viewer, id).await?;
    let org_s = viewer.organisation_id.to_string();
    let mut out = Vec::new();
    // (the column naming this matter, the column naming the other one, the direction)
    for (this, other, direction) in [
        ("matter_id", "linked_matter_id", LinkDirection::Earlier),
        ("linked_matter_id", "matter_id", LinkDirection::Later),
    ] {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "select m.id, m.tracking_code, m.title, m.state, m.registered_at, l.kind, l.similarity, l.created_at
             from matter_links l join matters m on m.organisation_id = l.organisation_id and m.id = l.{other}
             where l.organisation_id = "
        ));
        q.push_bind(&org_s)
            .push(format!(" and l.{this} = "))
            .push_bind(id.to_string())
            .push(" and");
        push_scope(&mut q, &viewer.scope());
        for r in q.build().fetch_all(&s.reader).await? {
            let kind = link_kind(r.get("kind"))?;
            out.push(MatterLink {
                matter_id: parse_id(r.get("id"))?,
                tracking_code: r.get("tracking_code"),
                title: r.get("title"),
                state: state(r.get("state"))?,
                registered_at: parse_ts(r.get("registered_at"))?,
                kind,
                label_zh: kind.label_zh(),
                similarity: r.get("similarity"),
                direction,
                created_at: parse_ts(r.get("created_at"))?,
            });
        }
    }
    sort_links(&mut out);
    Ok(out)
}

pub(super) async fn triage(
    s: &SqliteStore,
    viewer: &StaffActor,
    id: PetitionId,
) -> Result<Option<StoredTriage>> {
    visible(s, viewer, id).await?;
    let row = sqlx::query(
        "select urgency, emotional_intensity, alerts, evidence, lexicon_revision, assessed_at
         from matter_triage where organisation_id = ? and matter_id = ?",
    )
    .bind(viewer.organisation_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&s.reader)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let parse = |c: &str| -> Result<serde_json::Value> {
        serde_json::from_str(r.get::<&str, _>(c)).map_err(|e| StoreError::Corrupt(format!("triage {c}: {e}")))
    };
    Ok(Some(StoredTriage {
        matter_id: id,
        assessment: assessment(
            r.get("urgency"),
            r.get::<f32, _>("emotional_intensity"),
            parse("alerts")?,
            parse("evidence")?,
        )?,
        lexicon_revision: r.get("lexicon_revision"),
        assessed_at: parse_ts(r.get("assessed_at"))?,
    }))
}

pub(super) async fn raise_safety_alert(
    s: &SqliteStore,
    org: OrganisationId,
    id: PetitionId,
    alerts: &[Alert],
) -> Result<Option<ReminderId>> {
    let now = s.now();
    let (org_s, id_s) = (org.to_string(), id.to_string());
    let mut w = Writer::begin(s).await?;
    let st: String = sqlx::query_scalar("select state from matters where organisation_id = ? and id = ?")
        .bind(&org_s)
        .bind(&id_s)
        .fetch_optional(w.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
    let raised: Option<i64> = sqlx::query_scalar(
        "select 1 from reminders where organisation_id = ? and matter_id = ? and kind = ?",
    )
    .bind(&org_s)
    .bind(&id_s)
    .bind(ReminderKind::SafetyAlert.code())
    .fetch_optional(w.conn())
    .await?;
    if raised.is_some() {
        return Ok(None);
    }
    let office: Option<String> = sqlx::query_scalar(
        "select id from units where organisation_id = ? and petition_office = 1 order by name, id limit 1",
    )
    .bind(&org_s)
    .fetch_optional(w.conn())
    .await?;
    let seq = w
        .append(
            &s.vault,
            NewEvent {
                organisation_id: org,
                matter_id: Some(id),
                kind: EventKind::SafetyAlert.code(),
                actor: &Actor::System,
                occurred_at: now,
                recorded_at: now,
                reason: None,
                before_state: Some(&st),
                after_state: Some(&st),
                data: alert_event_data(alerts),
            },
        )
        .await?;
    let rid = ReminderId::new();
    sqlx::query(
        "insert into reminders (organisation_id, id, matter_id, kind, unit_id, deadline_kind, due_at, event_seq, created_at)
         values (?, ?, ?, ?, ?, null, null, ?, ?)",
    )
    .bind(&org_s)
    .bind(rid.to_string())
    .bind(&id_s)
    .bind(ReminderKind::SafetyAlert.code())
    .bind(office)
    .bind(seq)
    .bind(ts(now))
    .execute(w.conn())
    .await?;
    w.commit().await?;
    Ok(Some(rid))
}

pub(super) async fn repeat_counts(
    s: &SqliteStore,
    org: OrganisationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<RepeatCounts> {
    let (from, to) = (ts(from), ts(to));
    // A matter counts once, when a repeat is its strongest link: a duplicate (the same petition
    // received twice) is not a repeat petition.
    let row = sqlx::query(
        "select count(*) as registered,
             coalesce(sum(exists (select 1 from matter_links l
                 where l.organisation_id = m.organisation_id and l.matter_id = m.id and l.kind = 'repeat')
               and not exists (select 1 from matter_links d
                 where d.organisation_id = m.organisation_id and d.matter_id = m.id and d.kind = 'duplicate')), 0) as repeats
         from matters m where m.organisation_id = ? and m.registered_at >= ? and m.registered_at < ?",
    )
    .bind(org.to_string())
    .bind(&from)
    .bind(&to)
    .fetch_one(&s.reader)
    .await?;
    Ok(RepeatCounts {
        registered: r_u64(&row, "registered"),
        repeats: r_u64(&row, "repeats"),
    })
}

fn r_u64(r: &SqliteRow, c: &str) -> u64 {
    r.get::<i64, _>(c).max(0) as u64
}

fn stored_lexicon(r: &SqliteRow) -> Result<StoredLexicon> {
    let lexicon: Lexicon = serde_json::from_str(r.get::<&str, _>("body"))
        .map_err(|e| StoreError::Corrupt(format!("lexicon: {e}")))?;
    Ok(StoredLexicon {
        lexicon,
        revision: r.get("revision"),
        updated_at: parse_ts(r.get("updated_at"))?,
        updated_by: r
            .get::<Option<&str>, _>("updated_by")
            .map(parse_id::<UserId>)
            .transpose()?,
    })
}

pub(super) async fn lexicon(s: &SqliteStore, org: OrganisationId) -> Result<Option<StoredLexicon>> {
    sqlx::query("select body, revision, updated_at, updated_by from lexicons where organisation_id = ?")
        .bind(org.to_string())
        .fetch_optional(&s.reader)
        .await?
        .as_ref()
        .map(stored_lexicon)
        .transpose()
}

pub(super) async fn lexicon_revision(s: &SqliteStore, org: OrganisationId) -> Result<i64> {
    let rev: Option<i64> = sqlx::query_scalar("select revision from lexicons where organisation_id = ?")
        .bind(org.to_string())
        .fetch_optional(&s.reader)
        .await?;
    Ok(rev.unwrap_or(0))
}

pub(super) async fn save_lexicon(
    s: &SqliteStore,
    org: OrganisationId,
    by: &Actor,
    lexicon: &Lexicon,
) -> Result<StoredLexicon> {
    let body = serde_json::to_string(lexicon).map_err(|e| StoreError::Corrupt(format!("lexicon: {e}")))?;
    let mut w = Writer::begin(s).await?;
    let before =
        sqlx::query("select body, revision, updated_at, updated_by from lexicons where organisation_id = ?")
            .bind(org.to_string())
            .fetch_optional(w.conn())
            .await?
            .as_ref()
            .map(stored_lexicon)
            .transpose()?;
    let row = sqlx::query(
        "insert into lexicons (organisation_id, body, revision, updated_at, updated_by) values (?, ?, 1, ?, ?)
         on conflict (organisation_id) do update set body = excluded.body, revision = lexicons.revision + 1,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by
         returning body, revision, updated_at, updated_by",
    )
    .bind(org.to_string())
    .bind(body)
    .bind(ts(s.now()))
    .bind(by.user_id().map(|u| u.to_string()))
    .fetch_one(w.conn())
    .await?;
    let saved = stored_lexicon(&row)?;
    let details =
        crate::settings::lexicon_details(before.as_ref().map(|b| &b.lexicon), lexicon, saved.revision);
    audit_setting(&mut w, s, org, by, Setting::TriageLexicon, details).await?;
    w.commit().await?;
    Ok(saved)
}

pub(super) async fn without_intake(
    s: &SqliteStore,
    org: OrganisationId,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<PetitionId>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "select m.id from matters m where m.organisation_id = ?
             and not exists (select 1 from matter_signatures g where g.organisation_id = m.organisation_id and g.matter_id = m.id)
             and not exists (select 1 from intake_failures f where f.organisation_id = m.organisation_id
                 and f.matter_id = m.id and f.retry_at > ?)
         order by m.registered_at, m.seq limit ?",
    )
    .bind(org.to_string())
    .bind(ts(now))
    .bind(i64::from(limit))
    .fetch_all(&s.reader)
    .await?;
    ids.iter().map(|i| parse_id(i)).collect()
}

pub(super) async fn record_failure(
    s: &SqliteStore,
    org: OrganisationId,
    id: PetitionId,
    error: &str,
    now: DateTime<Utc>,
) -> Result<u32> {
    let mut tx = s.writer.begin().await?;
    let attempts: i64 = sqlx::query_scalar(
        "insert into intake_failures (organisation_id, matter_id, attempts, last_error, failed_at, retry_at)
         values (?, ?, 1, ?, ?, ?)
         on conflict (organisation_id, matter_id) do update set attempts = intake_failures.attempts + 1,
             last_error = excluded.last_error, failed_at = excluded.failed_at
         returning attempts",
    )
    .bind(org.to_string())
    .bind(id.to_string())
    .bind(crate::intake::error_text(error))
    .bind(ts(now))
    .bind(ts(now))
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::intake::missing_matter)?;
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    sqlx::query("update intake_failures set retry_at = ? where organisation_id = ? and matter_id = ?")
        .bind(ts(now + crate::intake::retry_delay(attempts)))
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(attempts)
}
