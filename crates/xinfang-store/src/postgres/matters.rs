//! Matters on PostgreSQL: registration, scoped reads, lifecycle transitions, reveals and the
//! public tracking view — the same queries as on SQLite, in PostgreSQL's dialect.
//!
//! The scope of the viewer is always part of the SQL (`push_scope`), so a handler of unit A
//! asking for a matter of unit B gets `NotFound` from the query itself. Writes lock the
//! organisation's chain head first ([`Writer::lock`]) and the matter row (`for update`) before
//! reading what they change.

use super::search::{self, plain_search, push_tsquery, search_expr};
use super::{NewEvent, PgStore, Writer, map_unique};
use crate::bulk::DeadlineRow;
use crate::model::*;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use uuid::Uuid;
use xinfang_core::deadline::DeadlineStatus;
use xinfang_core::ids::{
    CategoryId, OrganisationId, PetitionId, PetitionerId, TrackingCode, TrackingSecret, UnitId, UserId,
};
use xinfang_core::lifecycle::{self, Command, Context, Transition};
use xinfang_core::matter::{Channel, Matter, PetitionType, State, Urgency};
use xinfang_core::org::{Actor, MatterScope, StaffActor};
use xinfang_core::petitioner::DocumentKind;

fn body_json(m: &Matter) -> Result<String> {
    serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_body(s: &str) -> Result<Matter> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("matter body: {e}")))
}

/// Adds `<viewer may see m>` to a query over `matters m`.
pub(super) fn push_scope(q: &mut QueryBuilder<Postgres>, scope: &MatterScope) {
    q.push(" m.organisation_id = ")
        .push_bind(scope.organisation_id.as_uuid());
    if scope.all {
        return;
    }
    q.push(" and (false");
    if !scope.units.is_empty() {
        let units: Vec<Uuid> = scope.units.iter().map(UnitId::as_uuid).collect();
        q.push(" or exists (select 1 from matter_units mu where mu.organisation_id = m.organisation_id and mu.matter_id = m.id and mu.unit_id = any(")
            .push_bind(units)
            .push("))");
    }
    if let Some(l) = scope.leader {
        q.push(" or m.owning_leader_id = ").push_bind(l.as_uuid());
    }
    q.push(")");
}

pub(super) async fn register(
    s: &PgStore,
    org: OrganisationId,
    actor: &Actor,
    n: NewMatter,
) -> Result<Registered> {
    let search_tokens = xinfang_nlp::index_tokens(&format!("{} {}", n.title.as_str(), n.content.as_str()));
    if s.batcher.is_some() {
        return super::batch::register(s, org, actor, n, search_tokens).await;
    }
    let mut w = Writer::begin(s).await?;
    let done = async {
        // The person's and work order's locks before the chain's (see `registrations`).
        w.lock_keys(super::registrations::serialising_keys(s, org, &n))
            .await?;
        register_in(s, &mut w, org, actor, n, &search_tokens).await
    }
    .await;
    w.finish(done).await
}

/// Registers a matter inside `w`'s transaction (the batcher's, see [`super::batch`]).
pub(super) async fn register_in(
    s: &PgStore,
    w: &mut Writer,
    org: OrganisationId,
    actor: &Actor,
    n: NewMatter,
    search_tokens: &str,
) -> Result<Registered> {
    let now = s.now();
    let received_at = n.received_at.unwrap_or(now);
    // From here on no other node writes to this organisation until we commit: the look-ups
    // below (a replayed work order, a known petitioner) cannot be overtaken.
    let revision = w.lock_once(org).await?;
    let config = s.config(w.conn(), org, revision).await?;
    let (rules, cal) = (&config.default_rules, &config.calendar);

    // Intake is idempotent per channel and external id: a work order pushed twice is one matter.
    if let Some(ext) = &n.external_id
        && let Some(r) = sqlx::query("select id, tracking_code, state from matters where organisation_id = $1 and channel = $2 and external_id = $3")
            .bind(org.as_uuid())
            .bind(n.channel.code())
            .bind(ext)
            .fetch_optional(w.conn())
            .await?
    {
        return replay(&r);
    }

    let mut petitioner_ids = Vec::with_capacity(n.petitioners.len());
    for p in &n.petitioners {
        petitioner_ids.push(upsert_petitioner(s, w.conn(), org, p, now).await?);
    }
    petitioner_ids.dedup();

    // A channel's payload carries the caller's number and ID as often as not: it is encrypted
    // like the petitioner's numbers.
    let raw = n.raw_payload.as_ref().map(|v| s.vault.encrypt(&v.to_string()));
    let (matter, secret) = crate::bulk::new_matter(rules, org, actor, n, petitioner_ids.clone(), now)?;
    let id = matter.id;
    let dl = DeadlineRow::of(&matter, rules, cal, now);
    let secret_mac = s.vault.mac("secret", secret.as_str());

    // A tracking-code collision is astronomically rare (31^8 codes) but cheap to survive. The
    // conflict is absorbed (`do nothing`) rather than raised: an error would abort the
    // transaction, and with it the lock.
    let mut matter = matter;
    let mut inserted = false;
    for _ in 0..4 {
        let res = sqlx::query(
            "insert into matters (organisation_id, id, tracking_code, secret_mac, channel, external_id, title,
                 location, petition_type, category_id, urgency, people_count, lead_unit_id, owning_leader_id, state,
                 registered_at, replied_at, deadline_kind, due_at, due_soon_at, paused, body, raw_payload, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, null, $10, $11, null, null, $12, $13, null, $14, $15, $16, $17,
                 $18::jsonb, $19, $20)
             on conflict on constraint matters_tracking_code_key do nothing
             returning seq",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(matter.tracking_code.as_str())
        .bind(&secret_mac)
        .bind(matter.channel.code())
        .bind(&matter.external_id)
        .bind(&matter.title)
        .bind(&matter.location)
        .bind(matter.petition_type.map(PetitionType::code))
        .bind(matter.urgency.code())
        .bind(matter.people_count as i32)
        .bind(matter.state.code())
        .bind(matter.registered_at)
        .bind(dl.kind)
        .bind(dl.due_at)
        .bind(dl.due_soon_at)
        .bind(dl.paused)
        .bind(body_json(&matter)?)
        .bind(&raw)
        .bind(now)
        .fetch_optional(w.conn())
        .await
        .map_err(|e| map_unique(e, "matters_channel_external_id_key", Some("external_id")))?;
        if res.is_some() {
            inserted = true;
            break;
        }
        matter.tracking_code = TrackingCode::generate(&mut rand::rng());
    }
    if !inserted {
        return Err(StoreError::Conflict {
            constraint: "matters_tracking_code_key",
            field: None,
        });
    }
    // The search vector and the petitioner links in one round trip.
    let pids: Vec<Uuid> = petitioner_ids.iter().map(PetitionerId::as_uuid).collect();
    sqlx::query(
        "with s as (
             insert into matter_search (organisation_id, matter_id, search)
             values ($1, $2, to_tsvector('simple', $3))
         )
         insert into matter_petitioners (organisation_id, matter_id, petitioner_id, position)
         select $1, $2, p.id, (p.ord - 1)::int from unnest($4::uuid[]) with ordinality as p (id, ord)
         on conflict do nothing",
    )
    .bind(org.as_uuid())
    .bind(id.as_uuid())
    .bind(search_tokens)
    .bind(&pids)
    .execute(w.conn())
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
    Ok(Registered {
        id,
        tracking_code: matter.tracking_code.clone(),
        subject: Some(IntakeSubject::of(id, matter)),
        secret: Some(secret),
        state: State::Registered,
        replayed: false,
        revisions: w.intake_revisions(org),
    })
}

/// The answer to a work order registered before, from its matters row (`id`,
/// `tracking_code`, `state`).
pub(super) fn replay(r: &PgRow) -> Result<Registered> {
    Ok(Registered {
        id: PetitionId::from_uuid(r.get("id")),
        tracking_code: TrackingCode::parse(r.get("tracking_code"))
            .map_err(|_| StoreError::Corrupt("tracking code".into()))?,
        secret: None,
        state: State::parse(r.get("state")).ok_or_else(|| StoreError::Corrupt("state".into()))?,
        replayed: true,
        subject: None,
        revisions: None,
    })
}

/// Finds the petitioner by the keyed hash of their phone or ID number, or creates them. The
/// same person's matters thus share one record, whatever name spelling they gave. One
/// statement (this runs in the registration batch, whose statements go one after another): an
/// ID document identifies a person more surely than a (shared, reassigned) phone, so a match on
/// it wins; a match fills in what the earlier registration lacked and never overwrites what it
/// had; no match inserts. The batch holds the organisation's chain lock, so no other
/// registration can insert the same person between the look-up and the insert.
async fn upsert_petitioner(
    s: &PgStore,
    conn: &mut PgConnection,
    org: OrganisationId,
    p: &NewPetitioner,
    now: DateTime<Utc>,
) -> Result<PetitionerId> {
    let row = crate::bulk::encrypt_petitioner(&s.vault, p);
    let id: Uuid = sqlx::query_scalar(
        "with found as (
             select id from petitioners
             where organisation_id = $1 and (id_mac = $9 or phone_mac = $5)
             order by (id_mac is not distinct from $9) desc
             limit 1
         ),
         filled as (
             update petitioners set
                 name = coalesce(name, $3),
                 phone_enc = coalesce(phone_enc, $4), phone_mac = coalesce(phone_mac, $5),
                 phone_masked = coalesce(phone_masked, $6), id_kind = coalesce(id_kind, $7),
                 id_enc = coalesce(id_enc, $8), id_mac = coalesce(id_mac, $9), id_masked = coalesce(id_masked, $10)
             where organisation_id = $1 and id = (select id from found)
             returning id
         ),
         created as (
             insert into petitioners (organisation_id, id, name, phone_enc, phone_mac, phone_masked, id_kind, id_enc,
                 id_mac, id_masked, address_enc, created_at)
             select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
             where not exists (select 1 from found)
             returning id
         )
         select id from filled union all select id from created",
    )
    .bind(org.as_uuid())
    .bind(row.id.as_uuid())
    .bind(&row.name)
    .bind(&row.phone_enc)
    .bind(&row.phone_mac)
    .bind(&row.phone_masked)
    .bind(row.id_kind)
    .bind(&row.id_enc)
    .bind(&row.id_mac)
    .bind(&row.id_masked)
    .bind(&row.address_enc)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(PetitionerId::from_uuid(id))
}

/// Loads a matter's stored body, and its organisation's `config_revision`, if the scope admits
/// it; `lock` takes the row lock for a read-modify-write.
async fn load_scoped(
    conn: &mut PgConnection,
    scope: &MatterScope,
    id: PetitionId,
    lock: bool,
) -> Result<(Matter, i64)> {
    let mut q = QueryBuilder::<Postgres>::new(
        "select m.body::text as body, o.config_revision from matters m
         join organisations o on o.id = m.organisation_id where",
    );
    push_scope(&mut q, scope);
    q.push(" and m.id = ").push_bind(id.as_uuid());
    if lock {
        q.push(" for update of m");
    }
    let row = q
        .build()
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((parse_body(row.get("body"))?, row.get("config_revision")))
}

async fn petitioner_views(
    conn: &mut PgConnection,
    org: OrganisationId,
    id: PetitionId,
) -> Result<Vec<PetitionerView>> {
    let rows = sqlx::query(
        "select p.id, p.name, p.phone_masked, p.id_kind, p.id_masked from matter_petitioners mp
         join petitioners p on p.organisation_id = mp.organisation_id and p.id = mp.petitioner_id
         where mp.organisation_id = $1 and mp.matter_id = $2 order by mp.position",
    )
    .bind(org.as_uuid())
    .bind(id.as_uuid())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| PetitionerView {
            id: PetitionerId::from_uuid(r.get("id")),
            name: r.get("name"),
            phone: r.get("phone_masked"),
            id_kind: r
                .get::<Option<&str>, _>("id_kind")
                .and_then(|k| DocumentKind::parse(k).ok()),
            id_number: r.get("id_masked"),
        })
        .collect())
}

async fn view(
    s: &PgStore,
    conn: &mut PgConnection,
    viewer: &StaffActor,
    m: Matter,
    revision: i64,
) -> Result<MatterView> {
    let confidential = m.petition_type.is_some_and(PetitionType::identity_confidential)
        && !viewer.may_see_confidential_reporter();
    let petitioners = if confidential {
        Vec::new()
    } else {
        petitioner_views(conn, m.organisation_id, m.id).await?
    };
    let rules = s
        .rule_set(conn, m.organisation_id, m.rule_set_id, m.rule_set_version)
        .await?;
    let cal = s.config(conn, m.organisation_id, revision).await?.calendar;
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

pub(super) async fn get(s: &PgStore, viewer: &StaffActor, id: PetitionId) -> Result<MatterView> {
    let mut conn = s.pool.acquire().await?;
    let (m, revision) = load_scoped(&mut conn, &viewer.scope(), id, false).await?;
    view(s, &mut conn, viewer, m, revision).await
}

pub(super) fn summary(r: &PgRow, now: DateTime<Utc>) -> Result<MatterSummary> {
    let due_at: Option<DateTime<Utc>> = r.get("due_at");
    let due_soon_at: Option<DateTime<Utc>> = r.get("due_soon_at");
    let paused: bool = r.get("paused");
    let deadline_status = crate::shared::row_deadline_status(due_at, due_soon_at, paused, now);
    let corrupt = |what: &str| StoreError::Corrupt(what.to_string());
    Ok(MatterSummary {
        id: PetitionId::from_uuid(r.get("id")),
        tracking_code: TrackingCode::parse(r.get("tracking_code")).map_err(|_| corrupt("tracking code"))?,
        title: r.get("title"),
        channel: Channel::parse(r.get("channel")).ok_or_else(|| corrupt("channel"))?,
        state: State::parse(r.get("state")).ok_or_else(|| corrupt("state"))?,
        petition_type: r
            .get::<Option<&str>, _>("petition_type")
            .and_then(PetitionType::parse),
        category_id: r.get::<Option<Uuid>, _>("category_id").map(CategoryId::from_uuid),
        urgency: Urgency::parse(r.get("urgency")).ok_or_else(|| corrupt("urgency"))?,
        lead_unit_id: r.get::<Option<Uuid>, _>("lead_unit_id").map(UnitId::from_uuid),
        people_count: r.get::<i32, _>("people_count") as u32,
        registered_at: r.get("registered_at"),
        due_at,
        deadline_status,
    })
}

pub(super) const SUMMARY_COLUMNS: &str =
    "m.id, m.tracking_code, m.title, m.channel, m.state, m.petition_type, m.category_id, m.urgency,
    m.lead_unit_id, m.people_count, m.registered_at, m.due_at, m.due_soon_at, m.paused";

/// Adds the filters to a query over `matters m`; false when the filter can match nothing
/// (a search of punctuation only).
pub(super) fn push_filters(
    q: &mut QueryBuilder<Postgres>,
    org: OrganisationId,
    f: &MatterFilter,
    now: DateTime<Utc>,
) -> bool {
    match f.states.as_slice() {
        [] => {}
        // `= any(…)` of one state would hide from the planner that the state index returns
        // its matters in registration order.
        [one] => {
            q.push(" and m.state = ").push_bind(one.code());
        }
        many => {
            let states: Vec<&str> = many.iter().map(|s| s.code()).collect();
            q.push(" and m.state = any(").push_bind(states).push(")");
        }
    }
    if let Some(u) = f.unit_id {
        q.push(" and m.id in (select fu.matter_id from matter_units fu where fu.organisation_id = ")
            .push_bind(org.as_uuid())
            .push(" and fu.unit_id = ")
            .push_bind(u.as_uuid())
            .push(")");
    }
    if let Some(c) = f.category_id {
        q.push(" and m.category_id = ").push_bind(c.as_uuid());
    }
    if let Some(c) = f.channel {
        q.push(" and m.channel = ").push_bind(c.code());
    }
    if let Some(t) = f.petition_type {
        q.push(" and m.petition_type = ").push_bind(t.code());
    }
    if let Some(from) = f.registered_from {
        q.push(" and m.registered_at >= ").push_bind(from);
    }
    if let Some(to) = f.registered_to {
        q.push(" and m.registered_at < ").push_bind(to);
    }
    if let Some(st) = f.deadline_status {
        match st {
            DeadlineStatus::Paused => {
                q.push(" and m.paused and (m.due_at is null or m.due_at > ")
                    .push_bind(now)
                    .push(")");
            }
            DeadlineStatus::Overdue => {
                q.push(" and m.due_at <= ").push_bind(now);
            }
            DeadlineStatus::DueSoon => {
                q.push(" and not m.paused and m.due_at > ")
                    .push_bind(now)
                    .push(" and m.due_soon_at <= ")
                    .push_bind(now);
            }
            DeadlineStatus::OnTrack => {
                q.push(" and not m.paused and m.due_soon_at > ").push_bind(now);
            }
        }
    }
    if let Some(text) = &f.q {
        let Some(expr) = search_expr(text) else {
            return false;
        };
        q.push(" and exists (select 1 from matter_search ms where ms.organisation_id = m.organisation_id and ms.matter_id = m.id and ms.search @@ ");
        push_tsquery(q, expr, &f.states);
        q.push(")");
    }
    true
}

/// How many matters the viewer may see match the filters, up to [`COUNT_CAP`] (0 when the
/// filters can match nothing).
pub(super) async fn count_filtered(
    conn: &mut PgConnection,
    scope: &MatterScope,
    f: &MatterFilter,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut c = QueryBuilder::<Postgres>::new("select count(*) from (select 1 from matters m where");
    push_scope(&mut c, scope);
    if !push_filters(&mut c, scope.organisation_id, f, now) {
        return Ok(0);
    }
    c.push(" limit ").push_bind(COUNT_CAP as i64).push(") capped");
    Ok(c.build_query_scalar::<i64>().fetch_one(&mut *conn).await? as u64)
}

pub(super) async fn list(s: &PgStore, viewer: &StaffActor, f: &MatterFilter) -> Result<Page<MatterSummary>> {
    let now = s.now();
    let per_page = f.per_page.clamp(1, MatterFilter::MAX_PER_PAGE);
    let page = f.page.max(1);
    let scope = viewer.scope();
    let mut conn = s.pool.acquire().await?;
    if f.order == ListOrder::Relevance && f.q.is_some() {
        return search::ranked(&s.common, &mut conn, &scope, f, now, page, per_page).await;
    }
    if plain_search(&scope, f) {
        return search::newest_first(
            &s.common,
            &mut conn,
            scope.organisation_id,
            f,
            now,
            page,
            per_page,
        )
        .await;
    }

    // Count first, up to COUNT_CAP, as on SQLite: an exact total of a large result would cost
    // a scan of all of it.
    let total = count_filtered(&mut conn, &scope, f, now).await?;
    let few = total < COUNT_CAP;

    if total == 0 {
        return Ok(Page::counted(Vec::new(), total, page, per_page));
    }
    let offset = (i64::from(page) - 1) * i64::from(per_page);
    let order = " order by m.registered_at desc, m.seq desc limit ";
    let mut q = QueryBuilder::<Postgres>::new("");
    // Each plan builds its query and says which ordering it still needs before the page's
    // limit and offset (`None`: it pages itself).
    let tail = if few && f.deadline_status.is_none() {
        // Every match is at hand, at most COUNT_CAP: the filter picks them by its own index and
        // they are sorted. Left to itself the planner walks all matters newest first for a
        // page and tests each, which when the newest match nothing (a burst of fresh
        // registrations above the few matters of a rare state, say) reads tens of thousands of rows. The
        // materialised CTE keeps the order out of the filter's plan.
        q.push(format!(
            "with hit as materialized (select {SUMMARY_COLUMNS}, m.seq from matters m where"
        ));
        push_scope(&mut q, &scope);
        push_filters(&mut q, scope.organisation_id, f, now);
        q.push(") select * from hit m");
        Some(order)
    } else if let Some(u) = f.unit_id {
        // A unit's matters newest first from its own rows in matter_units (which carry the
        // matter's registered_at and seq, migration 0007): a page reads about as many
        // matters as it shows, however few of all matters the unit has.
        q.push(format!(
            "select {SUMMARY_COLUMNS} from matter_units fu join matters m on m.organisation_id = fu.organisation_id and m.id = fu.matter_id where fu.organisation_id = "
        ))
        .push_bind(scope.organisation_id.as_uuid())
        .push(" and fu.unit_id = ")
        .push_bind(u.as_uuid())
        .push(" and");
        push_scope(&mut q, &scope);
        let others = MatterFilter {
            unit_id: None,
            ..f.clone()
        };
        push_filters(&mut q, scope.organisation_id, &others, now);
        Some(" order by fu.registered_at desc, fu.seq desc limit ")
    } else if f.states.len() > 1 && f.deadline_status.is_none() {
        // Several states: each state's matters newest first from matters_state_seq_idx, as many
        // as the page needs, merged. One index range cannot give two states in order, so the
        // planner otherwise walks all matters and tests each.
        q.push("select * from (");
        for (i, st) in f.states.iter().enumerate() {
            if i > 0 {
                q.push(" union all ");
            }
            q.push(format!("(select {SUMMARY_COLUMNS}, m.seq from matters m where"));
            push_scope(&mut q, &scope);
            let one = MatterFilter {
                states: vec![*st],
                ..f.clone()
            };
            push_filters(&mut q, scope.organisation_id, &one, now);
            q.push(order).push_bind(offset + i64::from(per_page)).push(")");
        }
        q.push(") m");
        Some(order)
    } else if f.deadline_status.is_some() {
        // Every match's id, registration time and seq from an index-only scan of a deadline
        // index (matters_deadline_idx, matters_due_soon_idx: each holds every column the
        // filter and the order need), sorted there, and only the page's rows read. The
        // matters with a deadline are the open ones, tens of thousands; walking all matters
        // newest first instead reads every fresh registration (none overdue yet) on top.
        q.push("with hit as materialized (select m.id, m.registered_at, m.seq from matters m where");
        push_scope(&mut q, &scope);
        push_filters(&mut q, scope.organisation_id, f, now);
        q.push(format!(
            ") select {SUMMARY_COLUMNS} from (select * from hit m order by m.registered_at desc, m.seq desc limit "
        ))
        .push_bind(per_page as i64)
        .push(" offset ")
        .push_bind(offset)
        .push(") h join matters m on m.organisation_id = ")
        .push_bind(scope.organisation_id.as_uuid())
        .push(" and m.id = h.id order by h.registered_at desc, h.seq desc");
        None
    } else {
        q.push(format!("select {SUMMARY_COLUMNS} from matters m where"));
        push_scope(&mut q, &scope);
        push_filters(&mut q, scope.organisation_id, f, now);
        Some(order)
    };
    if let Some(order) = tail {
        q.push(order)
            .push_bind(per_page as i64)
            .push(" offset ")
            .push_bind(offset);
    }
    let rows = q.build().fetch_all(&mut *conn).await?;
    let items = rows.iter().map(|r| summary(r, now)).collect::<Result<Vec<_>>>()?;
    Ok(Page::counted(items, total, page, per_page))
}

pub(super) async fn petitioner_matters(
    s: &PgStore,
    viewer: &StaffActor,
    id: PetitionerId,
) -> Result<Vec<MatterSummary>> {
    let now = s.now();
    let mut q = QueryBuilder::<Postgres>::new(format!("select {SUMMARY_COLUMNS} from matters m where"));
    push_scope(&mut q, &viewer.scope());
    q.push(" and exists (select 1 from matter_petitioners mp where mp.organisation_id = m.organisation_id and mp.matter_id = m.id and mp.petitioner_id = ")
        .push_bind(id.as_uuid())
        .push(")");
    // Confidential reporters stay confidential: outside the office, reports are not linked.
    if !viewer.may_see_confidential_reporter() {
        q.push(" and coalesce(m.petition_type, '') <> 'report'");
    }
    q.push(" order by m.registered_at desc, m.seq desc limit 200");
    let rows = q.build().fetch_all(&s.pool).await?;
    rows.iter().map(|r| summary(r, now)).collect()
}

fn event_record(r: &PgRow) -> Result<EventRecord> {
    let kind_code: &str = r.get("kind");
    let kind =
        EventKind::parse(kind_code).ok_or_else(|| StoreError::Corrupt(format!("event kind {kind_code}")))?;
    Ok(EventRecord {
        seq: r.get("seq"),
        kind,
        label_zh: kind.label_zh(),
        actor_kind: ActorKind::parse(r.get("actor_kind")).unwrap_or(ActorKind::System),
        actor_user_id: r.get::<Option<Uuid>, _>("actor_user_id").map(UserId::from_uuid),
        actor_name: r.get("actor_name"),
        occurred_at: r.get("occurred_at"),
        recorded_at: r.get("recorded_at"),
        reason: r.get("reason"),
        before_state: r.get::<Option<&str>, _>("before_state").and_then(State::parse),
        after_state: r.get::<Option<&str>, _>("after_state").and_then(State::parse),
        data: serde_json::from_str(r.get("data")).unwrap_or(serde_json::Value::Null),
    })
}

async fn events_of(conn: &mut PgConnection, org: OrganisationId, id: PetitionId) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(
        "select seq, kind, actor_kind, actor_user_id, actor_name, occurred_at, recorded_at, reason, before_state,
             after_state, data
         from events where organisation_id = $1 and matter_id = $2 order by seq",
    )
    .bind(org.as_uuid())
    .bind(id.as_uuid())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(event_record).collect()
}

/// Organisation events without a matter (configuration changes), newest first.
pub(super) async fn settings_history(
    s: &PgStore,
    org: OrganisationId,
    limit: u32,
) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(
        "select seq, kind, actor_kind, actor_user_id, actor_name, occurred_at, recorded_at, reason, before_state,
             after_state, data
         from events where organisation_id = $1 and matter_id is null and kind = $2 order by seq desc limit $3",
    )
    .bind(org.as_uuid())
    .bind(EventKind::SettingsChanged.code())
    .bind(i64::from(limit))
    .fetch_all(&s.pool)
    .await?;
    rows.iter().map(event_record).collect()
}

pub(super) async fn timeline(s: &PgStore, viewer: &StaffActor, id: PetitionId) -> Result<Vec<EventRecord>> {
    let mut conn = s.pool.acquire().await?;
    let (m, _) = load_scoped(&mut conn, &viewer.scope(), id, false).await?;
    let mut events = events_of(&mut conn, m.organisation_id, id).await?;
    crate::shared::redact_confidential(viewer, &m, &mut events);
    Ok(events)
}

/// Checks that the units, category and leader a command names exist in the organisation.
async fn check_references(conn: &mut PgConnection, org: OrganisationId, cmd: &Command) -> Result<()> {
    async fn exists(
        conn: &mut PgConnection,
        sql: &'static str,
        org: OrganisationId,
        id: Uuid,
    ) -> Result<bool> {
        Ok(sqlx::query_scalar::<_, i32>(sql)
            .bind(org.as_uuid())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .is_some())
    }
    const UNIT: &str = "select 1 from units where organisation_id = $1 and id = $2";
    match cmd {
        Command::Assign {
            lead_unit_id,
            co_unit_ids,
            owning_leader_id,
            ..
        } => {
            if !exists(conn, UNIT, org, lead_unit_id.as_uuid()).await? {
                return Err(StoreError::InvalidReference {
                    field: "lead_unit_id",
                });
            }
            for u in co_unit_ids {
                if !exists(conn, UNIT, org, u.as_uuid()).await? {
                    return Err(StoreError::InvalidReference { field: "co_unit_ids" });
                }
            }
            if let Some(l) = owning_leader_id {
                let sql = "select 1 from user_roles where organisation_id = $1 and user_id = $2 and role = 'leader' limit 1";
                if !exists(conn, sql, org, l.as_uuid()).await? {
                    return Err(StoreError::InvalidReference {
                        field: "owning_leader_id",
                    });
                }
            }
        }
        Command::Classify { category_id, .. } => {
            let sql = "select 1 from categories where organisation_id = $1 and id = $2 and active";
            if !exists(conn, sql, org, category_id.as_uuid()).await? {
                return Err(StoreError::InvalidReference { field: "category_id" });
            }
        }
        _ => {}
    }
    Ok(())
}

/// Applies `cmd` inside the writer's transaction and writes the row and the event. The
/// organisation is locked and the matter row too (`load_scoped` with `lock`).
async fn apply_and_write(
    s: &PgStore,
    w: &mut Writer,
    m: &Matter,
    revision: i64,
    actor: &Actor,
    cmd: &Command,
    occurred_at: DateTime<Utc>,
) -> Result<Matter> {
    let now = s.now();
    let rules = s
        .rule_set(w.conn(), m.organisation_id, m.rule_set_id, m.rule_set_version)
        .await?;
    let cal = s.config(w.conn(), m.organisation_id, revision).await?.calendar;
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
    let dl = DeadlineRow::of(&next, &rules, &cal, now);
    let org = m.organisation_id.as_uuid();
    sqlx::query(
        "update matters set petition_type = $1, category_id = $2, urgency = $3, lead_unit_id = $4,
             owning_leader_id = $5, state = $6, replied_at = $7, deadline_kind = $8, due_at = $9, due_soon_at = $10,
             paused = $11, body = $12::jsonb, updated_at = $13
         where organisation_id = $14 and id = $15",
    )
    .bind(next.petition_type.map(PetitionType::code))
    .bind(next.category_id.map(|c| c.as_uuid()))
    .bind(next.urgency.code())
    .bind(next.lead_unit_id.map(|u| u.as_uuid()))
    .bind(next.owning_leader_id.map(|u| u.as_uuid()))
    .bind(next.state.code())
    .bind(next.replied_at)
    .bind(dl.kind)
    .bind(dl.due_at)
    .bind(dl.due_soon_at)
    .bind(dl.paused)
    .bind(body_json(&next)?)
    .bind(now)
    .bind(org)
    .bind(m.id.as_uuid())
    .execute(w.conn())
    .await?;
    if next.lead_unit_id != m.lead_unit_id || next.co_unit_ids != m.co_unit_ids {
        let (units, roles): (Vec<Uuid>, Vec<&str>) = next
            .lead_unit_id
            .map(|u| (u.as_uuid(), "lead"))
            .into_iter()
            .chain(next.co_unit_ids.iter().map(|u| (u.as_uuid(), "co")))
            .unzip();
        sqlx::query(
            "with gone as (delete from matter_units where organisation_id = $1 and matter_id = $2)
             insert into matter_units (organisation_id, matter_id, unit_id, role)
             select $1, $2, u.unit_id, u.role from unnest($3::uuid[], $4::text[]) as u (unit_id, role)",
        )
        .bind(org)
        .bind(m.id.as_uuid())
        .bind(&units)
        .bind(&roles)
        .execute(w.conn())
        .await?;
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
    s: &PgStore,
    viewer: &StaffActor,
    id: PetitionId,
    cmd: Command,
    occurred_at: Option<DateTime<Utc>>,
) -> Result<MatterView> {
    let at = occurred_at.unwrap_or_else(|| s.now());
    let mut w = Writer::begin(s).await?;
    let work = async {
        let revision = w.lock(viewer.organisation_id).await?;
        let (m, _) = load_scoped(w.conn(), &viewer.scope(), id, true).await?;
        let next = apply_and_write(s, &mut w, &m, revision, &Actor::Staff(viewer.clone()), &cmd, at).await?;
        Ok((next, revision))
    }
    .await;
    let (next, revision) = w.finish(work).await?;
    // Built from the matter in hand: after a return the viewer may no longer be in its scope.
    let mut conn = s.pool.acquire().await?;
    view(s, &mut conn, viewer, next, revision).await
}

pub(super) async fn reveal(
    s: &PgStore,
    viewer: &StaffActor,
    id: PetitionId,
) -> Result<Vec<RevealedPetitioner>> {
    if !viewer.may_reveal_personal_data() {
        return Err(StoreError::Forbidden {
            code: "reveal_forbidden",
        });
    }
    let mut w = Writer::begin(s).await?;
    let done = reveal_in(s, &mut w, viewer, id).await;
    w.finish(done).await
}

async fn reveal_in(
    s: &PgStore,
    w: &mut Writer,
    viewer: &StaffActor,
    id: PetitionId,
) -> Result<Vec<RevealedPetitioner>> {
    let now = s.now();
    w.lock(viewer.organisation_id).await?;
    let (m, _) = load_scoped(w.conn(), &viewer.scope(), id, false).await?;
    let rows = sqlx::query(
        "select p.id, p.name, p.phone_enc, p.id_kind, p.id_enc, p.address_enc from matter_petitioners mp
         join petitioners p on p.organisation_id = mp.organisation_id and p.id = mp.petitioner_id
         where mp.organisation_id = $1 and mp.matter_id = $2 order by mp.position",
    )
    .bind(m.organisation_id.as_uuid())
    .bind(id.as_uuid())
    .fetch_all(w.conn())
    .await?;
    let open = |col: &str, r: &PgRow| -> Result<Option<String>> {
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
                id: PetitionerId::from_uuid(r.get("id")),
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
    Ok(out)
}

/// Finds a matter by tracking code and checks the secret. A wrong secret and an unknown code
/// both answer `NotFound`, so codes cannot be probed. `lock` takes the row lock.
async fn load_by_secret(
    s: &PgStore,
    conn: &mut PgConnection,
    code: &TrackingCode,
    secret: &str,
    lock: bool,
) -> Result<Matter> {
    let secret = TrackingSecret::parse(secret).map_err(|_| StoreError::NotFound)?;
    let sql = if lock {
        "select body::text as body, secret_mac from matters where tracking_code = $1 for update"
    } else {
        "select body::text as body, secret_mac from matters where tracking_code = $1"
    };
    let row = sqlx::query(sql)
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
    parse_body(row.get("body"))
}

async fn public_view(conn: &mut PgConnection, m: &Matter) -> Result<PublicTrack> {
    let events = events_of(conn, m.organisation_id, m.id).await?;
    Ok(crate::shared::public_track(m, &events))
}

pub(super) async fn track(s: &PgStore, code: &str, secret: &str) -> Result<PublicTrack> {
    let code = TrackingCode::parse(code).map_err(|_| StoreError::NotFound)?;
    let mut conn = s.pool.acquire().await?;
    let m = load_by_secret(s, &mut conn, &code, secret, false).await?;
    public_view(&mut conn, &m).await
}

pub(super) async fn public_transition(
    s: &PgStore,
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
    let code = TrackingCode::parse(code).map_err(|_| StoreError::NotFound)?;
    // The organisation comes first: its chain is locked before the matter is read.
    let org: Uuid = sqlx::query_scalar("select organisation_id from matters where tracking_code = $1")
        .bind(code.as_str())
        .fetch_optional(&s.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut w = Writer::begin(s).await?;
    let work = async {
        let revision = w.lock(OrganisationId::from_uuid(org)).await?;
        let m = load_by_secret(s, w.conn(), &code, secret, true).await?;
        apply_and_write(s, &mut w, &m, revision, &Actor::Petitioner, &cmd, s.now()).await
    }
    .await;
    let next = w.finish(work).await?;
    let mut conn = s.pool.acquire().await?;
    public_view(&mut conn, &next).await
}
