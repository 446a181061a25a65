//! Matters on SQLite: registration, scoped reads, lifecycle transitions, reveals and the
//! public tracking view.
//!
//! The scope of the viewer is always part of the SQL (`push_scope`), so a handler of unit A
//! asking for a matter of unit B gets `NotFound` from the query itself.

use super::{NewEvent, SqliteStore, Writer, map_unique, parse_id, parse_ts, ts};
use crate::model::*;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use xinfang_core::calendar::Calendar;
use xinfang_core::deadline::{DeadlineStatus, RuleSet};
use xinfang_core::ids::{
    OrganisationId, PetitionId, PetitionerId, TrackingCode, TrackingSecret, UnitId, UserId,
};
use xinfang_core::lifecycle::{self, Command, Context, Transition};
use xinfang_core::matter::{Channel, Matter, PetitionType, State, Urgency};
use xinfang_core::org::{Actor, MatterScope, StaffActor};
use xinfang_core::petitioner::DocumentKind;

/// The deadline columns kept on the row so lists can filter by deadline status with an index.
struct DeadlineColumns {
    kind: Option<&'static str>,
    due_at: Option<String>,
    due_soon_at: Option<String>,
    paused: bool,
}

fn deadline_columns(m: &Matter, rules: &RuleSet, cal: &Calendar, now: DateTime<Utc>) -> DeadlineColumns {
    match lifecycle::current_deadline(m, rules, cal, now) {
        Some((d, a)) => DeadlineColumns {
            kind: Some(d.kind.code()),
            due_at: d.due_at.map(ts),
            due_soon_at: d.due_soon_at.map(ts),
            paused: a.status == DeadlineStatus::Paused,
        },
        None => DeadlineColumns {
            kind: None,
            due_at: None,
            due_soon_at: None,
            paused: false,
        },
    }
}

fn body_json(m: &Matter) -> Result<String> {
    serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_body(s: &str) -> Result<Matter> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("matter body: {e}")))
}

/// Adds `and (<viewer may see m>)` to a query over `matters m`.
pub(super) fn push_scope(q: &mut QueryBuilder<Sqlite>, scope: &MatterScope) {
    q.push(" m.organisation_id = ")
        .push_bind(scope.organisation_id.to_string());
    if scope.all {
        return;
    }
    q.push(" and (0");
    if !scope.units.is_empty() {
        q.push(" or exists (select 1 from matter_units mu where mu.organisation_id = m.organisation_id and mu.matter_id = m.id and mu.unit_id in (");
        let mut sep = q.separated(", ");
        for u in &scope.units {
            sep.push_bind(u.to_string());
        }
        q.push("))");
    }
    if let Some(l) = scope.leader {
        q.push(" or m.owning_leader_id = ").push_bind(l.to_string());
    }
    q.push(")");
}

pub(super) async fn register(
    s: &SqliteStore,
    org: OrganisationId,
    actor: &Actor,
    n: NewMatter,
) -> Result<Registered> {
    let now = s.now();
    let received_at = n.received_at.unwrap_or(now);
    let rules = s.default_rule_set_cached(org).await?;
    let cal = s.cached_calendar(org).await?;
    let search_tokens = xinfang_nlp::index_tokens(&format!("{} {}", n.title.as_str(), n.content.as_str()));
    let mut w = Writer::begin(s).await?;

    // Intake is idempotent per channel and external id: a work order pushed twice is one matter.
    if let Some(ext) = &n.external_id
        && let Some(r) = sqlx::query("select id, tracking_code, state from matters where organisation_id = ? and channel = ? and external_id = ?")
            .bind(org.to_string())
            .bind(n.channel.code())
            .bind(ext)
            .fetch_optional(w.conn())
            .await?
    {
        return Ok(Registered {
            id: parse_id(r.get("id"))?,
            tracking_code: TrackingCode::parse(r.get("tracking_code")).map_err(|_| StoreError::Corrupt("tracking code".into()))?,
            secret: None,
            state: State::parse(r.get("state")).ok_or_else(|| StoreError::Corrupt("state".into()))?,
            replayed: true,
            subject: None,
            revisions: None,
        });
    }

    let mut petitioner_ids = Vec::with_capacity(n.petitioners.len());
    for p in &n.petitioners {
        petitioner_ids.push(upsert_petitioner(s, w.conn(), org, p, now).await?);
    }
    petitioner_ids.dedup();

    // A channel's payload carries the caller's number and ID as often as not: it is encrypted
    // like the petitioner's numbers.
    let raw = n.raw_payload.as_ref().map(|v| s.vault.encrypt(&v.to_string()));
    let (matter, secret) = crate::bulk::new_matter(&rules, org, actor, n, petitioner_ids.clone(), now)?;
    let id = matter.id;
    let dl = deadline_columns(&matter, &rules, &cal, now);
    let secret_mac = s.vault.mac("secret", secret.as_str());

    // A tracking-code collision is astronomically rare (31^8 codes) but cheap to survive.
    let mut matter = matter;
    let mut seq = None;
    for _ in 0..4 {
        let res = sqlx::query(
            "insert into matters (organisation_id, id, tracking_code, secret_mac, channel, external_id, title,
                 location, petition_type, category_id, urgency, people_count, lead_unit_id, owning_leader_id, state,
                 registered_at, replied_at, deadline_kind, due_at, due_soon_at, paused, body, raw_payload, updated_at)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?, ?, null, null, ?, ?, null, ?, ?, ?, ?, ?, ?, ?)
             returning seq",
        )
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(matter.tracking_code.as_str())
        .bind(&secret_mac)
        .bind(matter.channel.code())
        .bind(&matter.external_id)
        .bind(&matter.title)
        .bind(&matter.location)
        .bind(matter.petition_type.map(PetitionType::code))
        .bind(matter.urgency.code())
        .bind(matter.people_count as i64)
        .bind(matter.state.code())
        .bind(ts(matter.registered_at))
        .bind(dl.kind)
        .bind(&dl.due_at)
        .bind(&dl.due_soon_at)
        .bind(dl.paused)
        .bind(body_json(&matter)?)
        .bind(&raw)
        .bind(ts(now))
        .fetch_one(w.conn())
        .await;
        match res {
            Ok(r) => {
                seq = Some(r.get::<i64, _>(0));
                break;
            }
            Err(sqlx::Error::Database(db))
                if db.is_unique_violation() && db.message().contains("tracking_code") =>
            {
                matter.tracking_code = TrackingCode::generate(&mut rand::rng());
            }
            Err(e) => {
                return Err(map_unique(
                    e,
                    "matters_channel_external_id_key",
                    Some("external_id"),
                ));
            }
        }
    }
    let seq = seq.ok_or(StoreError::Conflict {
        constraint: "matters_tracking_code_key",
        field: None,
    })?;
    // The search tokens and the petitioner links in one round trip.
    let mut q = QueryBuilder::<Sqlite>::new("insert into matters_fts (rowid, tokens) values (");
    q.push_bind(seq).push(", ").push_bind(search_tokens).push(")");
    if !petitioner_ids.is_empty() {
        q.push("; insert or ignore into matter_petitioners (organisation_id, matter_id, petitioner_id, position) ");
        q.push_values(petitioner_ids.iter().enumerate(), |mut b, (pos, pid)| {
            b.push_bind(org.to_string())
                .push_bind(id.to_string())
                .push_bind(pid.to_string())
                .push_bind(pos as i64);
        });
    }
    q.build().execute(w.conn()).await?;
    // Under the single writer no lexicon or model changes until this commits.
    let (lexicon, model): (Option<i64>, Option<i64>) = sqlx::query_as(
        "select (select revision from lexicons where organisation_id = ?1),
             (select version from models where organisation_id = ?1 and active = 1)",
    )
    .bind(org.to_string())
    .fetch_one(w.conn())
    .await?;
    w.append(
        &s.vault,
        NewEvent {
            organisation_id: org,
            matter_id: Some(id),
            kind: Transition::Register.code(),
            actor,
            occurred_at: received_at,
            recorded_at: now,
            reason: None,
            before_state: None,
            after_state: Some(State::Registered.code()),
            data: crate::bulk::registration_data(&matter),
        },
    )
    .await?;
    w.commit().await?;
    Ok(Registered {
        id,
        tracking_code: matter.tracking_code.clone(),
        subject: Some(IntakeSubject::of(id, matter)),
        secret: Some(secret),
        state: State::Registered,
        replayed: false,
        revisions: Some(IntakeRevisions {
            lexicon: lexicon.unwrap_or(0),
            model: model.and_then(|v| u32::try_from(v).ok()),
        }),
    })
}

/// Finds the petitioner by the keyed hash of their phone or ID number, or creates them. The
/// same person's matters thus share one record, whatever name spelling they gave.
async fn upsert_petitioner(
    s: &SqliteStore,
    conn: &mut SqliteConnection,
    org: OrganisationId,
    p: &NewPetitioner,
    now: DateTime<Utc>,
) -> Result<PetitionerId> {
    let row = crate::bulk::encrypt_petitioner(&s.vault, p);
    let (phone_mac, id_mac) = (&row.phone_mac, &row.id_mac);
    if phone_mac.is_some() || id_mac.is_some() {
        // Two indexed look-ups rather than one `or`, which SQLite would answer with a scan.
        // An ID document identifies a person more surely than a (shared, reassigned) phone.
        let mut existing: Option<String> = None;
        if let Some(mac) = id_mac {
            existing = sqlx::query_scalar(
                "select id from petitioners where organisation_id = ? and id_mac = ? limit 1",
            )
            .bind(org.to_string())
            .bind(mac)
            .fetch_optional(&mut *conn)
            .await?;
        }
        if existing.is_none()
            && let Some(mac) = phone_mac
        {
            existing = sqlx::query_scalar(
                "select id from petitioners where organisation_id = ? and phone_mac = ? limit 1",
            )
            .bind(org.to_string())
            .bind(mac)
            .fetch_optional(&mut *conn)
            .await?;
        }
        if let Some(id) = existing {
            // Fill in what the earlier registration lacked; never overwrite what it had.
            sqlx::query(
                "update petitioners set
                    name = coalesce(name, ?),
                    phone_enc = coalesce(phone_enc, ?), phone_mac = coalesce(phone_mac, ?), phone_masked = coalesce(phone_masked, ?),
                    id_kind = coalesce(id_kind, ?), id_enc = coalesce(id_enc, ?), id_mac = coalesce(id_mac, ?), id_masked = coalesce(id_masked, ?)
                 where organisation_id = ? and id = ?",
            )
            .bind(&row.name)
            .bind(&row.phone_enc)
            .bind(phone_mac)
            .bind(&row.phone_masked)
            .bind(row.id_kind)
            .bind(&row.id_enc)
            .bind(id_mac)
            .bind(&row.id_masked)
            .bind(org.to_string())
            .bind(&id)
            .execute(&mut *conn)
            .await?;
            return parse_id(&id);
        }
    }
    let id = row.id;
    sqlx::query(
        "insert into petitioners (organisation_id, id, name, phone_enc, phone_mac, phone_masked, id_kind, id_enc, id_mac, id_masked, address_enc, created_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(org.to_string())
    .bind(id.to_string())
    .bind(&row.name)
    .bind(&row.phone_enc)
    .bind(phone_mac)
    .bind(&row.phone_masked)
    .bind(row.id_kind)
    .bind(&row.id_enc)
    .bind(id_mac)
    .bind(&row.id_masked)
    .bind(&row.address_enc)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Loads a matter's stored body if the scope admits it.
async fn load_scoped(conn: &mut SqliteConnection, scope: &MatterScope, id: PetitionId) -> Result<Matter> {
    let mut q = QueryBuilder::<Sqlite>::new("select m.body from matters m where");
    push_scope(&mut q, scope);
    q.push(" and m.id = ").push_bind(id.to_string());
    let row = q
        .build()
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    parse_body(row.get::<&str, _>(0))
}

async fn petitioner_views(
    conn: &mut SqliteConnection,
    org: OrganisationId,
    id: PetitionId,
) -> Result<Vec<PetitionerView>> {
    let rows = sqlx::query(
        "select p.id, p.name, p.phone_masked, p.id_kind, p.id_masked from matter_petitioners mp
         join petitioners p on p.organisation_id = mp.organisation_id and p.id = mp.petitioner_id
         where mp.organisation_id = ? and mp.matter_id = ? order by mp.position",
    )
    .bind(org.to_string())
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PetitionerView {
                id: parse_id(r.get("id"))?,
                name: r.get("name"),
                phone: r.get("phone_masked"),
                id_kind: r
                    .get::<Option<&str>, _>("id_kind")
                    .and_then(|k| DocumentKind::parse(k).ok()),
                id_number: r.get("id_masked"),
            })
        })
        .collect()
}

async fn view(
    s: &SqliteStore,
    conn: &mut SqliteConnection,
    viewer: &StaffActor,
    m: Matter,
) -> Result<MatterView> {
    let confidential = m.petition_type.is_some_and(PetitionType::identity_confidential)
        && !viewer.may_see_confidential_reporter();
    let petitioners = if confidential {
        Vec::new()
    } else {
        petitioner_views(conn, m.organisation_id, m.id).await?
    };
    let rules = s
        .rule_set(m.organisation_id, m.rule_set_id, m.rule_set_version)
        .await?;
    let cal = s.cached_calendar(m.organisation_id).await?;
    let now = s.now();
    let deadline = lifecycle::current_deadline(&m, &rules, &cal, now).map(|(_, a)| a);
    let deadlines = lifecycle::all_deadlines(&m, &rules, &cal, now);
    let mut m = m;
    if confidential {
        m.petitioner_ids.clear();
    }
    Ok(MatterView {
        matter: m,
        petitioners,
        reporter_confidential: confidential,
        deadline,
        deadlines,
    })
}

pub(super) async fn get(s: &SqliteStore, viewer: &StaffActor, id: PetitionId) -> Result<MatterView> {
    let mut conn = s.reader.acquire().await?;
    let m = load_scoped(&mut conn, &viewer.scope(), id).await?;
    view(s, &mut conn, viewer, m).await
}

pub(super) fn summary(r: &sqlx::sqlite::SqliteRow, now: DateTime<Utc>) -> Result<MatterSummary> {
    let due_at = r.get::<Option<&str>, _>("due_at").map(parse_ts).transpose()?;
    let due_soon_at = r
        .get::<Option<&str>, _>("due_soon_at")
        .map(parse_ts)
        .transpose()?;
    let paused: bool = r.get("paused");
    let deadline_status = crate::shared::row_deadline_status(due_at, due_soon_at, paused, now);
    let corrupt = |what: &str| StoreError::Corrupt(what.to_string());
    Ok(MatterSummary {
        id: parse_id(r.get("id"))?,
        tracking_code: TrackingCode::parse(r.get("tracking_code")).map_err(|_| corrupt("tracking code"))?,
        title: r.get("title"),
        channel: Channel::parse(r.get("channel")).ok_or_else(|| corrupt("channel"))?,
        state: State::parse(r.get("state")).ok_or_else(|| corrupt("state"))?,
        petition_type: r
            .get::<Option<&str>, _>("petition_type")
            .and_then(PetitionType::parse),
        category_id: r
            .get::<Option<&str>, _>("category_id")
            .map(parse_id)
            .transpose()?,
        urgency: Urgency::parse(r.get("urgency")).ok_or_else(|| corrupt("urgency"))?,
        lead_unit_id: r
            .get::<Option<&str>, _>("lead_unit_id")
            .map(parse_id)
            .transpose()?,
        people_count: r.get::<i64, _>("people_count") as u32,
        registered_at: parse_ts(r.get("registered_at"))?,
        due_at,
        deadline_status,
    })
}

pub(super) const SUMMARY_COLUMNS: &str =
    "m.id, m.tracking_code, m.title, m.channel, m.state, m.petition_type, m.category_id, m.urgency,
    m.lead_unit_id, m.people_count, m.registered_at, m.due_at, m.due_soon_at, m.paused";

/// Adds the filters other than the full-text query (see [`search`]).
fn push_filters(q: &mut QueryBuilder<Sqlite>, org: OrganisationId, f: &MatterFilter, now: DateTime<Utc>) {
    if !f.states.is_empty() {
        q.push(" and m.state in (");
        let mut sep = q.separated(", ");
        for st in &f.states {
            sep.push_bind(st.code());
        }
        q.push(")");
    }
    if let Some(u) = f.unit_id {
        // A probe per candidate row: an `in (select …)` list would first collect every matter
        // the unit ever had (150,000 of a million for a big unit) on every query.
        q.push(" and exists (select 1 from matter_units fu where fu.organisation_id = ")
            .push_bind(org.to_string())
            .push(" and fu.matter_id = m.id and fu.unit_id = ")
            .push_bind(u.to_string())
            .push(")");
    }
    if let Some(c) = f.category_id {
        q.push(" and m.category_id = ").push_bind(c.to_string());
    }
    if let Some(c) = f.channel {
        q.push(" and m.channel = ").push_bind(c.code());
    }
    if let Some(t) = f.petition_type {
        q.push(" and m.petition_type = ").push_bind(t.code());
    }
    if let Some(from) = f.registered_from {
        q.push(" and m.registered_at >= ").push_bind(ts(from));
    }
    if let Some(to) = f.registered_to {
        q.push(" and m.registered_at < ").push_bind(ts(to));
    }
    if let Some(st) = f.deadline_status {
        let now = ts(now);
        match st {
            DeadlineStatus::Paused => {
                q.push(" and m.paused = 1 and (m.due_at is null or m.due_at > ")
                    .push_bind(now)
                    .push(")");
            }
            DeadlineStatus::Overdue => {
                q.push(" and m.due_at <= ").push_bind(now);
            }
            DeadlineStatus::DueSoon => {
                q.push(" and m.paused = 0 and m.due_at > ")
                    .push_bind(now.clone())
                    .push(" and m.due_soon_at <= ")
                    .push_bind(now);
            }
            DeadlineStatus::OnTrack => {
                q.push(" and m.paused = 0 and m.due_soon_at > ").push_bind(now);
            }
        }
    }
}

pub(super) async fn list(
    s: &SqliteStore,
    viewer: &StaffActor,
    f: &MatterFilter,
) -> Result<Page<MatterSummary>> {
    let now = s.now();
    let per_page = f.per_page.clamp(1, MatterFilter::MAX_PER_PAGE);
    let page = f.page.max(1);
    let scope = viewer.scope();
    let mut conn = s.reader.acquire().await?;

    if let Some(text) = &f.q {
        return search(&mut conn, &scope, f, text, now, page, per_page).await;
    }
    // Count first (up to COUNT_CAP): the answer also tells how to fetch the page. A filter
    // that matches few rows is best served by its own index and a small sort; one that
    // matches many by walking the registration-time index until the page is full. Left to
    // itself SQLite prefers the latter even for a handful of matches, which costs hundreds of
    // milliseconds at 100,000 matters; the unary `+` in ORDER BY steers it to the former.
    //
    // A unit's matters are found from the unit's side (`from_unit`): its own rows in
    // matter_units, each joined to its matter, so counting stops after COUNT_CAP of them
    // however many matters other units have.
    let from_unit = |q: &mut QueryBuilder<Sqlite>, unit: UnitId| {
        q.push(" matter_units fu cross join matters m on m.organisation_id = fu.organisation_id and m.id = fu.matter_id where fu.organisation_id = ")
            .push_bind(scope.organisation_id.to_string())
            .push(" and fu.unit_id = ")
            .push_bind(unit.to_string())
            .push(" and");
    };
    let others = MatterFilter {
        unit_id: None,
        ..f.clone()
    };
    let mut c = QueryBuilder::<Sqlite>::new("select count(*) from (select 1 from");
    match f.unit_id {
        Some(u) => {
            from_unit(&mut c, u);
            push_scope(&mut c, &scope);
            push_filters(&mut c, scope.organisation_id, &others, now);
        }
        None => {
            c.push(" matters m where");
            push_scope(&mut c, &scope);
            push_filters(&mut c, scope.organisation_id, f, now);
        }
    }
    c.push(" limit ").push_bind(COUNT_CAP as i64).push(")");
    let total = c.build_query_scalar::<i64>().fetch_one(&mut *conn).await? as u64;
    let few = total < COUNT_CAP;

    if total == 0 {
        return Ok(Page::counted(Vec::new(), total, page, per_page));
    }
    let offset = (i64::from(page) - 1) * i64::from(per_page);
    const ORDER: &str = " order by m.registered_at desc, m.seq desc limit ";
    let mut q = QueryBuilder::<Sqlite>::new("");
    let mut outer_offset = offset;
    let order = if few && f.deadline_status.is_none() {
        q.push(format!("select {SUMMARY_COLUMNS} from"));
        match f.unit_id {
            Some(u) => from_unit(&mut q, u),
            None => {
                q.push(" matters m where");
            }
        }
        push_scope(&mut q, &scope);
        push_filters(
            &mut q,
            scope.organisation_id,
            if f.unit_id.is_some() { &others } else { f },
            now,
        );
        " order by +m.registered_at desc, +m.seq desc limit "
    } else if let Some(u) = f.unit_id {
        // Many matches: the unit's own rows in matter_units newest first (they carry the
        // matter's registered_at and seq, migration 0007), each joined to its matter, so a
        // page reads about as many matters as it shows.
        q.push(format!("select {SUMMARY_COLUMNS} from"));
        from_unit(&mut q, u);
        push_scope(&mut q, &scope);
        push_filters(&mut q, scope.organisation_id, &others, now);
        " order by fu.registered_at desc, fu.seq desc limit "
    } else if f.states.len() > 1 && f.deadline_status.is_none() {
        // Several states: each state's matters newest first from matters_state_seq_idx, as
        // many as the page needs, merged. One index range cannot give two states in order,
        // so SQLite otherwise walks all matters newest first and reads each.
        q.push("select * from (");
        for (i, st) in f.states.iter().enumerate() {
            if i > 0 {
                q.push(" union all ");
            }
            q.push(format!(
                "select * from (select {SUMMARY_COLUMNS}, m.seq from matters m where"
            ));
            push_scope(&mut q, &scope);
            let one = MatterFilter {
                states: vec![*st],
                ..f.clone()
            };
            push_filters(&mut q, scope.organisation_id, &one, now);
            q.push(ORDER).push_bind(offset + i64::from(per_page)).push(")");
        }
        q.push(") m");
        ORDER
    } else if let Some(status) = f.deadline_status {
        // The page's rows are picked from a deadline index alone (matters_deadline_idx,
        // matters_due_soon_idx: each holds every column the filter and the order need), and
        // only they are read: the open matters with a deadline are tens of thousands, and
        // reading each to sort them took a second. Due soon is read from due_soon_at's side,
        // which holds only the overdue and due-soon matters, not every fresh registration
        // whose deadline lies ahead.
        q.push(format!(
            "select {SUMMARY_COLUMNS} from matters m where m.seq in (select m.seq from matters m"
        ));
        if status == DeadlineStatus::DueSoon {
            q.push(" indexed by matters_due_soon_idx");
        }
        q.push(" where");
        push_scope(&mut q, &scope);
        push_filters(&mut q, scope.organisation_id, f, now);
        q.push(" order by +m.registered_at desc, +m.seq desc limit ")
            .push_bind(per_page as i64)
            .push(" offset ")
            .push_bind(offset)
            .push(")");
        outer_offset = 0;
        ORDER
    } else {
        q.push(format!("select {SUMMARY_COLUMNS} from matters m where"));
        push_scope(&mut q, &scope);
        push_filters(&mut q, scope.organisation_id, f, now);
        ORDER
    };
    q.push(order)
        .push_bind(per_page as i64)
        .push(" offset ")
        .push_bind(outer_offset);
    let rows = q.build().fetch_all(&mut *conn).await?;
    let items = rows.iter().map(|r| summary(r, now)).collect::<Result<Vec<_>>>()?;
    Ok(Page::counted(items, total, page, per_page))
}

/// Full-text search: every jieba token of the query must match. The full-text index drives
/// the query, newest recorded first (its rowid is the matter's insertion order), so a page is
/// found after reading about as many matches as it shows, however common the words are, and
/// counting stops at [`COUNT_CAP`].
async fn search(
    conn: &mut SqliteConnection,
    scope: &MatterScope,
    f: &MatterFilter,
    text: &str,
    now: DateTime<Utc>,
    page: u32,
    per_page: u32,
) -> Result<Page<MatterSummary>> {
    let tokens = xinfang_nlp::query_tokens(text);
    if tokens.is_empty() {
        return Ok(Page::counted(Vec::new(), 0, page, per_page));
    }
    // Each token is quoted as an FTS5 string; query_tokens leaves only alphanumerics.
    let expr = tokens
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(" AND ");
    // A state filter of open states only (few by nature: a matter is open for weeks and closed
    // for years) is tested against the set of their matters' seqs, read once from
    // matters_state_by_seq_idx (each state's seqs in seq order, so building the set mostly
    // appends to it: migration 0010) into a temporary index, instead of by reading each match's
    // matters row: a common word in a rare state read hundreds of thousands of rows (0.3-3 s).
    // The unary `+` stops SQLite from driving the query from that set (one full-text lookup
    // per member), and CROSS JOIN keeps the full-text index as the outer loop, newest first.
    // Closed states are most matters; their matches are simply read.
    let in_states = !f.states.is_empty() && f.states.iter().all(|st| st.is_open());
    let push_in_states = |q: &mut QueryBuilder<Sqlite>| {
        if in_states {
            q.push(" and +matters_fts.rowid in (select s.seq from matters s indexed by matters_state_by_seq_idx where s.organisation_id = ")
                .push_bind(scope.organisation_id.to_string())
                .push(" and s.state in (");
            let mut sep = q.separated(", ");
            for st in &f.states {
                sep.push_bind(st.code());
            }
            q.push("))");
        }
    };
    // Only the words and the states, by a viewer who sees the whole organisation (the
    // console's search box): the set of seqs already limits the count to the organisation,
    // so it needs no matters row at all.
    let only_states = scope.all && f.words_and_states_only();
    const FROM: &str =
        " from matters_fts cross join matters m on m.seq = matters_fts.rowid where matters_fts match ";

    let offset = (i64::from(page) - 1) * i64::from(per_page);
    if f.order == ListOrder::Relevance {
        // The newest COUNT_CAP matches, found as below, ranked by FTS5's bm25 (lower is
        // better), ties newest first; one statement counts and pages, and a page past the
        // matches costs a second one to say how many there are.
        let push_hits = |q: &mut QueryBuilder<Sqlite>| {
            q.push("select matters_fts.rowid as seq, bm25(matters_fts) as r")
                .push(FROM)
                .push_bind(expr.clone());
            push_in_states(q);
            q.push(" and");
            push_scope(q, scope);
            push_filters(q, scope.organisation_id, f, now);
            q.push(" order by matters_fts.rowid desc limit ")
                .push_bind(COUNT_CAP as i64);
        };
        let mut q = QueryBuilder::<Sqlite>::new("with hit as materialized (");
        push_hits(&mut q);
        q.push(format!(
            ") select {SUMMARY_COLUMNS}, (select count(*) from hit) as total from (select seq, r from hit order by r, seq desc limit "
        ))
        .push_bind(per_page as i64)
        .push(" offset ")
        .push_bind(offset)
        .push(") h cross join matters m on m.seq = h.seq order by h.r, h.seq desc");
        let rows = q.build().fetch_all(&mut *conn).await?;
        let total = match rows.first() {
            Some(first) => first.get::<i64, _>("total") as u64,
            None => {
                let mut c = QueryBuilder::<Sqlite>::new("select count(*) from (");
                push_hits(&mut c);
                c.push(")");
                c.build_query_scalar::<i64>().fetch_one(&mut *conn).await? as u64
            }
        };
        let items = rows.iter().map(|r| summary(r, now)).collect::<Result<Vec<_>>>()?;
        return Ok(Page::counted(items, total, page, per_page));
    }
    if in_states && only_states && offset + i64::from(per_page) <= COUNT_CAP as i64 {
        // One pass: the first COUNT_CAP matches newest first (which hold the page), counted,
        // and the page's rows read; the set of seqs is built once, not once per statement.
        let mut q = QueryBuilder::<Sqlite>::new(
            "with hit as materialized (select matters_fts.rowid as seq from matters_fts where matters_fts match ",
        );
        q.push_bind(expr.clone());
        push_in_states(&mut q);
        q.push(" order by matters_fts.rowid desc limit ")
            .push_bind(COUNT_CAP as i64)
            .push(format!(
                ") select {SUMMARY_COLUMNS}, (select count(*) from hit) as total from (select seq from hit order by seq desc limit "
            ))
            .push_bind(per_page as i64)
            .push(" offset ")
            .push_bind(offset)
            .push(") h cross join matters m on m.seq = h.seq order by h.seq desc");
        let rows = q.build().fetch_all(&mut *conn).await?;
        if let Some(first) = rows.first() {
            let total = first.get::<i64, _>("total") as u64;
            let items = rows.iter().map(|r| summary(r, now)).collect::<Result<Vec<_>>>()?;
            return Ok(Page::counted(items, total, page, per_page));
        }
        // A page past the last match: the count below says how many there are.
    }
    let mut c = QueryBuilder::<Sqlite>::new("select count(*) from (select 1");
    if in_states && only_states {
        c.push(" from matters_fts where matters_fts match ")
            .push_bind(expr.clone());
        push_in_states(&mut c);
    } else {
        c.push(FROM).push_bind(expr.clone());
        push_in_states(&mut c);
        c.push(" and");
        push_scope(&mut c, scope);
        push_filters(&mut c, scope.organisation_id, f, now);
    }
    c.push(" limit ").push_bind(COUNT_CAP as i64).push(")");
    let total = c.build_query_scalar::<i64>().fetch_one(&mut *conn).await? as u64;

    let mut q = QueryBuilder::<Sqlite>::new(format!("select {SUMMARY_COLUMNS}{FROM}"));
    q.push_bind(expr);
    push_in_states(&mut q);
    q.push(" and");
    push_scope(&mut q, scope);
    push_filters(&mut q, scope.organisation_id, f, now);
    q.push(" order by matters_fts.rowid desc limit ")
        .push_bind(per_page as i64)
        .push(" offset ")
        .push_bind(offset);
    let rows = q.build().fetch_all(&mut *conn).await?;
    let items = rows.iter().map(|r| summary(r, now)).collect::<Result<Vec<_>>>()?;
    Ok(Page::counted(items, total, page, per_page))
}

pub(super) async fn petitioner_matters(
    s: &SqliteStore,
    viewer: &StaffActor,
    id: PetitionerId,
) -> Result<Vec<MatterSummary>> {
    let now = s.now();
    let mut q = QueryBuilder::<Sqlite>::new(format!("select {SUMMARY_COLUMNS} from matters m where"));
    push_scope(&mut q, &viewer.scope());
    q.push(" and exists (select 1 from matter_petitioners mp where mp.organisation_id = m.organisation_id and mp.matter_id = m.id and mp.petitioner_id = ")
        .push_bind(id.to_string())
        .push(")");
    // Confidential reporters stay confidential: outside the office, reports are not linked.
    if !viewer.may_see_confidential_reporter() {
        q.push(" and coalesce(m.petition_type, '') <> 'report'");
    }
    q.push(" order by m.registered_at desc limit 200");
    let rows = q.build().fetch_all(&s.reader).await?;
    rows.iter().map(|r| summary(r, now)).collect()
}

fn event_record(r: &sqlx::sqlite::SqliteRow) -> Result<EventRecord> {
    let kind_code: &str = r.get("kind");
    let kind =
        EventKind::parse(kind_code).ok_or_else(|| StoreError::Corrupt(format!("event kind {kind_code}")))?;
    Ok(EventRecord {
        seq: r.get("seq"),
        kind,
        label_zh: kind.label_zh(),
        actor_kind: ActorKind::parse(r.get("actor_kind")).unwrap_or(ActorKind::System),
        actor_user_id: r
            .get::<Option<&str>, _>("actor_user_id")
            .map(parse_id::<UserId>)
            .transpose()?,
        actor_name: r.get("actor_name"),
        occurred_at: parse_ts(r.get("occurred_at"))?,
        recorded_at: parse_ts(r.get("recorded_at"))?,
        reason: r.get("reason"),
        before_state: r.get::<Option<&str>, _>("before_state").and_then(State::parse),
        after_state: r.get::<Option<&str>, _>("after_state").and_then(State::parse),
        data: serde_json::from_str(r.get("data")).unwrap_or(serde_json::Value::Null),
    })
}

async fn events_of(
    conn: &mut SqliteConnection,
    org: OrganisationId,
    id: PetitionId,
) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(
        "select seq, kind, actor_kind, actor_user_id, actor_name, occurred_at, recorded_at, reason, before_state, after_state, data
         from events where organisation_id = ? and matter_id = ? order by seq",
    )
    .bind(org.to_string())
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(event_record).collect()
}

/// Organisation events without a matter (configuration changes), newest first.
pub(super) async fn settings_history(
    s: &SqliteStore,
    org: OrganisationId,
    limit: u32,
) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(
        "select seq, kind, actor_kind, actor_user_id, actor_name, occurred_at, recorded_at, reason, before_state, after_state, data
         from events where organisation_id = ? and matter_id is null and kind = ? order by seq desc limit ?",
    )
    .bind(org.to_string())
    .bind(EventKind::SettingsChanged.code())
    .bind(i64::from(limit))
    .fetch_all(&s.reader)
    .await?;
    rows.iter().map(event_record).collect()
}

pub(super) async fn timeline(
    s: &SqliteStore,
    viewer: &StaffActor,
    id: PetitionId,
) -> Result<Vec<EventRecord>> {
    let mut conn = s.reader.acquire().await?;
    let m = load_scoped(&mut conn, &viewer.scope(), id).await?;
    let mut events = events_of(&mut conn, m.organisation_id, id).await?;
    crate::shared::redact_confidential(viewer, &m, &mut events);
    Ok(events)
}

/// Checks that the units, category and leader a command names exist in the organisation.
async fn check_references(conn: &mut SqliteConnection, org: OrganisationId, cmd: &Command) -> Result<()> {
    async fn exists(
        conn: &mut SqliteConnection,
        sql: &'static str,
        org: OrganisationId,
        id: String,
    ) -> Result<bool> {
        Ok(sqlx::query_scalar::<_, i64>(sql)
            .bind(org.to_string())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .is_some())
    }
    const UNIT: &str = "select 1 from units where organisation_id = ? and id = ?";
    match cmd {
        Command::Assign {
            lead_unit_id,
            co_unit_ids,
            owning_leader_id,
            ..
        } => {
            if !exists(conn, UNIT, org, lead_unit_id.to_string()).await? {
                return Err(StoreError::InvalidReference {
                    field: "lead_unit_id",
                });
            }
            for u in co_unit_ids {
                if !exists(conn, UNIT, org, u.to_string()).await? {
                    return Err(StoreError::InvalidReference { field: "co_unit_ids" });
                }
            }
            if let Some(l) = owning_leader_id {
                let sql =
                    "select 1 from user_roles where organisation_id = ? and user_id = ? and role = 'leader'";
                if !exists(conn, sql, org, l.to_string()).await? {
                    return Err(StoreError::InvalidReference {
                        field: "owning_leader_id",
                    });
                }
            }
        }
        Command::Classify { category_id, .. } => {
            let sql = "select 1 from categories where organisation_id = ? and id = ? and active = 1";
            if !exists(conn, sql, org, category_id.to_string()).await? {
                return Err(StoreError::InvalidReference { field: "category_id" });
            }
        }
        _ => {}
    }
    Ok(())
}

/// Applies `cmd` inside `conn`'s transaction and writes the row and the event.
async fn apply_and_write(
    s: &SqliteStore,
    w: &mut Writer<'_>,
    m: &Matter,
    actor: &Actor,
    cmd: &Command,
    occurred_at: DateTime<Utc>,
) -> Result<Matter> {
    let now = s.now();
    let rules = s
        .rule_set(m.organisation_id, m.rule_set_id, m.rule_set_version)
        .await?;
    let cal = s.cached_calendar(m.organisation_id).await?;
    let next = lifecycle::apply(
        m,
        cmd,
        &Context {
            actor,
            at: occurred_at,
            rules: &rules,
            calendar: &cal,
        },
    )?;
    check_references(w.conn(), m.organisation_id, cmd).await?;
    let dl = deadline_columns(&next, &rules, &cal, now);
    let org = m.organisation_id.to_string();
    sqlx::query(
        "update matters set petition_type = ?, category_id = ?, urgency = ?, lead_unit_id = ?, owning_leader_id = ?,
             state = ?, replied_at = ?, deadline_kind = ?, due_at = ?, due_soon_at = ?, paused = ?, body = ?, updated_at = ?
         where organisation_id = ? and id = ?",
    )
    .bind(next.petition_type.map(PetitionType::code))
    .bind(next.category_id.map(|c| c.to_string()))
    .bind(next.urgency.code())
    .bind(next.lead_unit_id.map(|u| u.to_string()))
    .bind(next.owning_leader_id.map(|u| u.to_string()))
    .bind(next.state.code())
    .bind(next.replied_at.map(ts))
    .bind(dl.kind)
    .bind(&dl.due_at)
    .bind(&dl.due_soon_at)
    .bind(dl.paused)
    .bind(body_json(&next)?)
    .bind(ts(now))
    .bind(&org)
    .bind(m.id.to_string())
    .execute(w.conn())
    .await?;
    if next.lead_unit_id != m.lead_unit_id || next.co_unit_ids != m.co_unit_ids {
        sqlx::query("delete from matter_units where organisation_id = ? and matter_id = ?")
            .bind(&org)
            .bind(m.id.to_string())
            .execute(w.conn())
            .await?;
        let units: Vec<(UnitId, &str)> = next
            .lead_unit_id
            .map(|u| (u, "lead"))
            .into_iter()
            .chain(next.co_unit_ids.iter().map(|&u| (u, "co")))
            .collect();
        for (u, role) in units {
            sqlx::query(
                "insert into matter_units (organisation_id, matter_id, unit_id, role) values (?, ?, ?, ?)",
            )
            .bind(&org)
            .bind(m.id.to_string())
            .bind(u.to_string())
            .bind(role)
            .execute(w.conn())
            .await?;
        }
    }
    let data = serde_json::to_value(cmd).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    w.append(
        &s.vault,
        NewEvent {
            organisation_id: m.organisation_id,
            matter_id: Some(m.id),
            kind: cmd.transition().code(),
            actor,
            occurred_at,
            recorded_at: now,
            reason: cmd.reason(),
            before_state: Some(m.state.code()),
            after_state: Some(next.state.code()),
            data,
        },
    )
    .await?;
    Ok(next)
}

pub(super) async fn transition(
    s: &SqliteStore,
    viewer: &StaffActor,
    id: PetitionId,
    cmd: Command,
    occurred_at: Option<DateTime<Utc>>,
) -> Result<MatterView> {
    let at = occurred_at.unwrap_or_else(|| s.now());
    let mut w = Writer::begin(s).await?;
    let m = load_scoped(w.conn(), &viewer.scope(), id).await?;
    let next = apply_and_write(s, &mut w, &m, &Actor::Staff(viewer.clone()), &cmd, at).await?;
    w.commit().await?;
    // Built from the matter in hand: after a return the viewer may no longer be in its scope.
    let mut conn = s.reader.acquire().await?;
    view(s, &mut conn, viewer, next).await
}

pub(super) async fn reveal(
    s: &SqliteStore,
    viewer: &StaffActor,
    id: PetitionId,
) -> Result<Vec<RevealedPetitioner>> {
    if !viewer.may_reveal_personal_data() {
        return Err(StoreError::Forbidden {
            code: "reveal_forbidden",
        });
    }
    let now = s.now();
    let mut w = Writer::begin(s).await?;
    let m = load_scoped(w.conn(), &viewer.scope(), id).await?;
    let rows = sqlx::query(
        "select p.id, p.name, p.phone_enc, p.id_kind, p.id_enc, p.address_enc from matter_petitioners mp
         join petitioners p on p.organisation_id = mp.organisation_id and p.id = mp.petitioner_id
         where mp.organisation_id = ? and mp.matter_id = ? order by mp.position",
    )
    .bind(m.organisation_id.to_string())
    .bind(id.to_string())
    .fetch_all(w.conn())
    .await?;
    let open = |col: &str, r: &sqlx::sqlite::SqliteRow| -> Result<Option<String>> {
        r.get::<Option<Vec<u8>>, _>(col)
            .map(|b| {
                s.vault
                    .decrypt(&b)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .transpose()
    };
    let out = rows
        .iter()
        .map(|r| {
            Ok(RevealedPetitioner {
                id: parse_id(r.get("id"))?,
                name: r.get("name"),
                phone: open("phone_enc", r)?,
                id_kind: r
                    .get::<Option<&str>, _>("id_kind")
                    .and_then(|k| DocumentKind::parse(k).ok()),
                id_number: open("id_enc", r)?,
                address: open("address_enc", r)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    w.append(
        &s.vault,
        NewEvent {
            organisation_id: m.organisation_id,
            matter_id: Some(id),
            kind: EventKind::Reveal.code(),
            actor: &Actor::Staff(viewer.clone()),
            occurred_at: now,
            recorded_at: now,
            reason: None,
            before_state: Some(m.state.code()),
            after_state: Some(m.state.code()),
            data: serde_json::json!({ "petitioners": out.iter().map(|p| p.id.to_string()).collect::<Vec<_>>() }),
        },
    )
    .await?;
    w.commit().await?;
    Ok(out)
}

/// Finds a matter by tracking code and checks the secret. A wrong secret and an unknown code
/// both answer `NotFound`, so codes cannot be probed.
async fn load_by_secret(
    s: &SqliteStore,
    conn: &mut SqliteConnection,
    code: &str,
    secret: &str,
) -> Result<Matter> {
    let code = TrackingCode::parse(code).map_err(|_| StoreError::NotFound)?;
    let secret = TrackingSecret::parse(secret).map_err(|_| StoreError::NotFound)?;
    let row = sqlx::query("select body, secret_mac from matters where tracking_code = ?")
        .bind(code.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let stored: Vec<u8> = row.get("secret_mac");
    let given = s.vault.mac("secret", secret.as_str());
    let same =
        stored.len() == given.len() && stored.iter().zip(&given).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return Err(StoreError::NotFound);
    }
    parse_body(row.get::<&str, _>("body"))
}

async fn public_view(conn: &mut SqliteConnection, m: &Matter) -> Result<PublicTrack> {
    let events = events_of(conn, m.organisation_id, m.id).await?;
    Ok(crate::shared::public_track(m, &events))
}

pub(super) async fn track(s: &SqliteStore, code: &str, secret: &str) -> Result<PublicTrack> {
    let mut conn = s.reader.acquire().await?;
    let m = load_by_secret(s, &mut conn, code, secret).await?;
    public_view(&mut conn, &m).await
}

pub(super) async fn public_transition(
    s: &SqliteStore,
    code: &str,
    secret: &str,
    cmd: Command,
) -> Result<PublicTrack> {
    if !matches!(
        cmd,
        Command::RecordSatisfaction { .. } | Command::RequestReview { .. } | Command::RequestRecheck { .. }
    ) {
        return Err(StoreError::Forbidden {
            code: "forbidden_transition",
        });
    }
    let mut w = Writer::begin(s).await?;
    let m = load_by_secret(s, w.conn(), code, secret).await?;
    let next = apply_and_write(s, &mut w, &m, &Actor::Petitioner, &cmd, s.now()).await?;
    w.commit().await?;
    let mut conn = s.reader.acquire().await?;
    public_view(&mut conn, &next).await
}
