//! A batch of registrations written with a handful of multi-row statements.
//!
//! `register_in` costs four or five round trips per registration, each waiting for the one
//! before; here a batch of any size ([`super::batch`]) costs
//!
//! 1. the locks that serialise registrations naming the same person or work order
//!    ([`serialising_keys`]),
//! 2. one look-up of the work orders it replays (only when some registration carries an
//!    external id),
//! 3. one look-up of every petitioner it names, by the macs of their numbers,
//! 4. one statement for the new and completed petitioners and the new matters,
//! 5. one statement for the search rows and the petitioner links,
//!
//! all without the organisation's chain lock ([`prepare`]), and then, under it, one statement
//! for the `register` events (hashed here, in order, onto each organisation's chain) and the
//! moved chain heads ([`Prepared::append`]), and the commit. So the chain lock, which every
//! node's writes to the organisation queue for, is held for two round trips and the commit,
//! not for the whole batch, and several batches (of this node and of others) write their
//! matters at the same time.
//!
//! What the chain lock used to make certain is certain still: the look-ups of a person or a
//! work order cannot be overtaken, because every registration first takes transaction-scoped
//! advisory locks on the keys of its petitioners' numbers and its work order, in ascending
//! order (so two batches never wait for each other in a circle), before any chain lock; the
//! calendar and rules a batch computed its deadlines with are still the organisation's when it
//! commits, because their revision is read again under the chain lock (which every change of
//! them takes) and a batch that finds it moved is written again.
//!
//! The result is row for row what as many `register_in` calls would have written: the same
//! lifecycle function makes each matter ([`crate::bulk::registration`], which the bulk loader
//! shares), and the petitioner look-up follows `upsert_petitioner`'s rule, registration by
//! registration, including petitioners that an earlier registration of the same batch created
//! or completed. A work order that arrives twice in one batch is one matter: the second is
//! answered as a replay of the first.
//!
//! Anything that goes wrong (a tracking code that collides, a value PostgreSQL refuses) fails
//! the statement and with it the attempt; the batcher then writes the batch again one
//! registration at a time, each in a savepoint of its own, so the failing one fails alone.

use super::{OrgConfig, PgStore, Writer, search, vectors};
use crate::bulk::{self, BulkEvent, BulkPetitioner, Chain, DeadlineRow};
use crate::model::{IntakeSubject, NewMatter, Registered};
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;
use std::sync::LazyLock;
use uuid::Uuid;
use xinfang_core::ids::{OrganisationId, PetitionId, PetitionerId, TrackingSecret};
use xinfang_core::matter::{Matter, PetitionType, State};
use xinfang_core::org::Actor;

/// One registration of a batch.
pub(super) struct Pending<'a> {
    pub org: OrganisationId,
    pub actor: &'a Actor,
    pub matter: &'a NewMatter,
    pub search_tokens: &'a str,
}

/// What becomes of one registration of the batch.
enum Outcome {
    /// A work order registered before this batch.
    Replay(Registered),
    /// A new matter: its index in the batch's new matters.
    New(usize),
    /// The same work order as an earlier registration of this batch (that new matter).
    Again(usize),
}

/// A new matter's rows, before they are written.
struct NewRow<'a> {
    org: OrganisationId,
    matter: Matter,
    secret: TrackingSecret,
    secret_mac: Vec<u8>,
    deadline: DeadlineRow,
    body: String,
    raw: Option<Vec<u8>>,
    event: BulkEvent,
    search_tokens: &'a str,
}

/// A batch written up to its events ([`prepare`]); what remains is done under the chain
/// locks ([`Prepared::append`]).
pub(super) struct Prepared<'a> {
    outcomes: Vec<Outcome>,
    rows: Vec<NewRow<'a>>,
    /// The config revision each organisation's deadlines were computed under.
    revisions: Vec<(OrganisationId, i64)>,
}

/// Writes everything of the batch but its events in `w`'s transaction, which must not hold a
/// chain lock yet (see the module docs on the order of locks).
pub(super) async fn prepare<'a>(
    s: &PgStore,
    w: &mut Writer,
    batch: &'a [Pending<'a>],
) -> Result<Prepared<'a>> {
    if batch.is_empty() {
        return Ok(Prepared {
            outcomes: Vec::new(),
            rows: Vec::new(),
            revisions: Vec::new(),
        });
    }
    let now = s.now();
    // Every petitioner encrypted, with the macs of their numbers, in the batch's order.
    let mut offered: Vec<Vec<BulkPetitioner>> = batch
        .iter()
        .map(|p| {
            p.matter
                .petitioners
                .iter()
                .map(|np| bulk::encrypt_petitioner(&s.vault, np))
                .collect()
        })
        .collect();
    let mut keys = Vec::new();
    for (p, people) in batch.iter().zip(&offered) {
        keys.extend(order_key(p.org, p.matter));
        for person in people {
            keys.extend(person_keys(
                p.org,
                person.phone_mac.as_deref(),
                person.id_mac.as_deref(),
            ));
        }
    }
    w.lock_keys(keys).await?;

    let mut orgs: Vec<OrganisationId> = batch.iter().map(|p| p.org).collect();
    orgs.sort();
    orgs.dedup();
    let mut configs: Vec<(OrganisationId, OrgConfig)> = Vec::with_capacity(orgs.len());
    for (org, revision) in super::config_revisions(w.conn(), &orgs).await? {
        let config = s.config(w.conn(), org, revision).await?;
        configs.push((org, config));
    }

    let known = replayed_orders(w, batch).await?;
    let mut book = Petitioners::read(w, batch, &offered).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut rows: Vec<NewRow> = Vec::with_capacity(batch.len());
    let mut first_of_order: HashMap<(OrganisationId, &str, &str), usize> = HashMap::new();
    for (p, offered) in batch.iter().zip(offered.iter_mut()) {
        let n = p.matter;
        if let Some(ext) = &n.external_id {
            let key = (p.org, n.channel.code(), ext.as_str());
            if let Some(r) = known.get(&key) {
                outcomes.push(Outcome::Replay(r.clone()));
                continue;
            }
            if let Some(&i) = first_of_order.get(&key) {
                outcomes.push(Outcome::Again(i));
                continue;
            }
            first_of_order.insert(key, rows.len());
        }
        let config = configs
            .iter()
            .find(|(o, _)| *o == p.org)
            .map(|(_, c)| c)
            .ok_or(StoreError::NotFound)?;
        let mut ids: Vec<PetitionerId> = std::mem::take(offered)
            .into_iter()
            .map(|row| book.find_or_add(p.org, row))
            .collect();
        ids.dedup();
        let (matter, event, secret) =
            bulk::registration(&config.default_rules, p.org, p.actor, n.clone(), ids, now)?;
        rows.push(NewRow {
            org: p.org,
            secret_mac: s.vault.mac("secret", secret.as_str()),
            deadline: DeadlineRow::of(&matter, &config.default_rules, &config.calendar, now),
            body: serde_json::to_string(&matter).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            // A channel's payload carries the caller's number and ID as often as not: it is
            // encrypted like the petitioner's numbers.
            raw: n.raw_payload.as_ref().map(|v| s.vault.encrypt(&v.to_string())),
            matter,
            secret,
            event,
            search_tokens: p.search_tokens,
        });
        outcomes.push(Outcome::New(rows.len() - 1));
    }

    let seqs = write_petitioners_and_matters(w, &book, &rows, now).await?;
    write_search_and_links(w, &rows, &seqs).await?;
    Ok(Prepared {
        outcomes,
        rows,
        revisions: configs.iter().map(|(o, c)| (*o, c.revision)).collect(),
    })
}

impl Prepared<'_> {
    /// Appends the batch's events in `w`'s transaction, which now holds each organisation's
    /// chain lock, and answers in the batch's order. A configuration changed since
    /// [`prepare`] fails the attempt (the batch is written again).
    pub(super) async fn append(self, s: &PgStore, w: &mut Writer) -> Result<Vec<Registered>> {
        for (org, revision) in &self.revisions {
            if w.lock_once(*org).await? != *revision {
                return Err(StoreError::Conflict {
                    constraint: "organisations_config_revision",
                    field: None,
                });
            }
        }
        write_events(s, w, &self.rows).await?;
        let registered = |r: &NewRow, replayed: bool| Registered {
            id: r.matter.id,
            tracking_code: r.matter.tracking_code.clone(),
            secret: (!replayed).then(|| r.secret.clone()),
            state: State::Registered,
            replayed,
            subject: (!replayed).then(|| IntakeSubject::of(r.matter.id, r.matter.clone())),
            revisions: if replayed { None } else { w.intake_revisions(r.org) },
        };
        Ok(self
            .outcomes
            .into_iter()
            .map(|o| match o {
                Outcome::Replay(r) => r,
                Outcome::New(i) => registered(&self.rows[i], false),
                Outcome::Again(i) => registered(&self.rows[i], true),
            })
            .collect())
    }
}

/// The advisory-lock keys of a registration (see the module docs): its work order's and each
/// of its petitioners' numbers'. For the paths that register one at a time.
pub(super) fn serialising_keys(s: &PgStore, org: OrganisationId, m: &NewMatter) -> Vec<i64> {
    let mut keys: Vec<i64> = order_key(org, m).into_iter().collect();
    for p in &m.petitioners {
        let (phone, id) = bulk::petitioner_macs(&s.vault, p);
        keys.extend(person_keys(org, phone.as_deref(), id.as_deref()));
    }
    keys
}

/// The key of a registration's work order (organisation, channel, external id), if it has one.
fn order_key(org: OrganisationId, m: &NewMatter) -> Option<i64> {
    m.external_id
        .as_deref()
        .map(|e| lock_key(b'o', org, &[m.channel.code().as_bytes(), e.as_bytes()]))
}

/// The keys of a petitioner's numbers (the macs they are found by).
fn person_keys(
    org: OrganisationId,
    phone_mac: Option<&[u8]>,
    id_mac: Option<&[u8]>,
) -> impl Iterator<Item = i64> {
    let phone = phone_mac.map(|m| lock_key(b'p', org, &[m]));
    let id = id_mac.map(|m| lock_key(b'i', org, &[m]));
    phone.into_iter().chain(id)
}

/// A 64-bit advisory-lock key: FNV-1a over a kind, the organisation and the parts. Stable
/// across builds and nodes (every node must derive the same key); two things sharing a key by
/// chance only wait for each other.
fn lock_key(kind: u8, org: OrganisationId, parts: &[&[u8]]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    eat(kind);
    org.as_uuid().as_bytes().iter().for_each(|b| eat(*b));
    for part in parts {
        part.iter().for_each(|b| eat(*b));
        eat(0xff);
    }
    h as i64
}

/// The batch's work orders that are registered already: (organisation, channel, external id)
/// → the answer a replay gets.
async fn replayed_orders<'b>(
    w: &mut Writer,
    batch: &'b [Pending<'_>],
) -> Result<HashMap<(OrganisationId, &'b str, &'b str), Registered>> {
    let asked: Vec<(OrganisationId, &str, &str)> = batch
        .iter()
        .filter_map(|p| {
            p.matter
                .external_id
                .as_deref()
                .map(|e| (p.org, p.matter.channel.code(), e))
        })
        .collect();
    let mut known = HashMap::new();
    if asked.is_empty() {
        return Ok(known);
    }
    let orgs: Vec<Uuid> = asked.iter().map(|a| a.0.as_uuid()).collect();
    let channels: Vec<&str> = asked.iter().map(|a| a.1).collect();
    let externals: Vec<&str> = asked.iter().map(|a| a.2).collect();
    let found = sqlx::query(
        "select m.organisation_id, m.channel, m.external_id, m.id, m.tracking_code, m.state
         from unnest($1::uuid[], $2::text[], $3::text[]) as k (org, channel, external_id)
         join matters m on m.organisation_id = k.org and m.channel = k.channel and m.external_id = k.external_id",
    )
    .bind(&orgs)
    .bind(&channels)
    .bind(&externals)
    .fetch_all(w.conn())
    .await?;
    for r in found {
        let org = OrganisationId::from_uuid(r.get("organisation_id"));
        let (channel, external): (String, String) = (r.get("channel"), r.get("external_id"));
        let Some(&key) = asked
            .iter()
            .find(|a| a.0 == org && a.1 == channel && a.2 == external)
        else {
            continue;
        };
        known.insert(key, super::matters::replay(&r)?);
    }
    Ok(known)
}

/// A petitioner the batch may name: one found in the database or one the batch creates.
struct Person {
    org: OrganisationId,
    id: PetitionerId,
    /// Created by this batch (inserted), or found (updated where the batch completes it).
    created: bool,
    /// The macs as they stand after the registrations so far (what later ones are found by).
    id_mac: Option<Vec<u8>>,
    phone_mac: Option<Vec<u8>>,
    /// Which of the other completable columns hold a value, stored or given by this batch.
    has: Has,
    /// What this batch writes: the whole row of a created person; the completed columns of a
    /// found one (the rest `None`).
    given: BulkPetitioner,
    completed: bool,
}

#[derive(Clone, Copy)]
struct Has {
    name: bool,
    phone_enc: bool,
    phone_masked: bool,
    id_kind: bool,
    id_enc: bool,
    id_masked: bool,
}

/// The petitioners of a batch, found and created in the order of its registrations.
struct Petitioners {
    people: Vec<Person>,
}

impl Petitioners {
    /// Reads every stored petitioner that a number of the batch could find (`offered`: the
    /// petitioners of each registration).
    async fn read(w: &mut Writer, batch: &[Pending<'_>], offered: &[Vec<BulkPetitioner>]) -> Result<Self> {
        let mut people = Vec::new();
        let mut orgs: Vec<OrganisationId> = batch.iter().map(|p| p.org).collect();
        orgs.sort();
        orgs.dedup();
        for org in orgs {
            let (mut id_macs, mut phone_macs) = (Vec::new(), Vec::new());
            for row in batch
                .iter()
                .zip(offered)
                .filter(|(p, _)| p.org == org)
                .flat_map(|(_, rows)| rows)
            {
                id_macs.extend(row.id_mac.as_deref());
                phone_macs.extend(row.phone_mac.as_deref());
            }
            if id_macs.is_empty() && phone_macs.is_empty() {
                continue;
            }
            let rows = sqlx::query(
                "select id, id_mac, phone_mac, name is not null as name, phone_enc is not null as phone_enc,
                     phone_masked is not null as phone_masked, id_kind is not null as id_kind,
                     id_enc is not null as id_enc, id_masked is not null as id_masked
                 from petitioners
                 where organisation_id = $1 and (id_mac = any($2) or phone_mac = any($3))",
            )
            .bind(org.as_uuid())
            .bind(&id_macs)
            .bind(&phone_macs)
            .fetch_all(w.conn())
            .await?;
            for r in rows {
                let id = PetitionerId::from_uuid(r.get("id"));
                people.push(Person {
                    org,
                    id,
                    created: false,
                    id_mac: r.get("id_mac"),
                    phone_mac: r.get("phone_mac"),
                    has: Has {
                        name: r.get("name"),
                        phone_enc: r.get("phone_enc"),
                        phone_masked: r.get("phone_masked"),
                        id_kind: r.get("id_kind"),
                        id_enc: r.get("id_enc"),
                        id_masked: r.get("id_masked"),
                    },
                    given: empty_row(id),
                    completed: false,
                });
            }
        }
        Ok(Self { people })
    }

    /// `upsert_petitioner`'s rule: the person with this ID number, else one with this phone
    /// (among phone matches, one whose ID number is as unknown as this one's), completed with
    /// what they lacked; otherwise a new person.
    fn find_or_add(&mut self, org: OrganisationId, p: BulkPetitioner) -> PetitionerId {
        let matches = |q: &Person| {
            q.org == org
                && ((p.id_mac.is_some() && q.id_mac == p.id_mac)
                    || (p.phone_mac.is_some() && q.phone_mac == p.phone_mac))
        };
        // The first of the best: `max_by_key` would take the last.
        let mut best: Option<usize> = None;
        for (i, q) in self.people.iter().enumerate() {
            if matches(q) && best.is_none_or(|b| q.id_mac == p.id_mac && self.people[b].id_mac != p.id_mac) {
                best = Some(i);
            }
        }
        let Some(i) = best else {
            let id = p.id;
            self.people.push(Person {
                org,
                id,
                created: true,
                id_mac: p.id_mac.clone(),
                phone_mac: p.phone_mac.clone(),
                has: Has {
                    name: p.name.is_some(),
                    phone_enc: p.phone_enc.is_some(),
                    phone_masked: p.phone_masked.is_some(),
                    id_kind: p.id_kind.is_some(),
                    id_enc: p.id_enc.is_some(),
                    id_masked: p.id_masked.is_some(),
                },
                given: p,
                completed: false,
            });
            return id;
        };
        let q = &mut self.people[i];
        let mut changed = false;
        fill(&mut q.has.name, &mut q.given.name, p.name, &mut changed);
        fill(
            &mut q.has.phone_enc,
            &mut q.given.phone_enc,
            p.phone_enc,
            &mut changed,
        );
        fill(
            &mut q.has.phone_masked,
            &mut q.given.phone_masked,
            p.phone_masked,
            &mut changed,
        );
        fill(&mut q.has.id_kind, &mut q.given.id_kind, p.id_kind, &mut changed);
        fill(&mut q.has.id_enc, &mut q.given.id_enc, p.id_enc, &mut changed);
        fill(
            &mut q.has.id_masked,
            &mut q.given.id_masked,
            p.id_masked,
            &mut changed,
        );
        if q.phone_mac.is_none() && p.phone_mac.is_some() {
            q.phone_mac.clone_from(&p.phone_mac);
            q.given.phone_mac = p.phone_mac;
            changed = true;
        }
        if q.id_mac.is_none() && p.id_mac.is_some() {
            q.id_mac.clone_from(&p.id_mac);
            q.given.id_mac = p.id_mac;
            changed = true;
        }
        // A created person's row is written whole at the end; a found one is updated.
        q.completed |= changed && !q.created;
        q.id
    }
}

/// Takes `offered` into an empty column (the `coalesce(column, offered)` of the upsert).
fn fill<T>(has: &mut bool, given: &mut Option<T>, offered: Option<T>, changed: &mut bool) {
    if !*has && offered.is_some() {
        *given = offered;
        *has = true;
        *changed = true;
    }
}

fn empty_row(id: PetitionerId) -> BulkPetitioner {
    BulkPetitioner {
        id,
        name: None,
        phone_enc: None,
        phone_mac: None,
        phone_masked: None,
        id_kind: None,
        id_enc: None,
        id_mac: None,
        id_masked: None,
        address_enc: None,
    }
}

/// The columns of a set of petitioner rows, as arrays for `unnest`.
#[derive(Default)]
struct PetitionerColumns<'a> {
    org: Vec<Uuid>,
    id: Vec<Uuid>,
    name: Vec<Option<&'a str>>,
    phone_enc: Vec<Option<&'a [u8]>>,
    phone_mac: Vec<Option<&'a [u8]>>,
    phone_masked: Vec<Option<&'a str>>,
    id_kind: Vec<Option<&'a str>>,
    id_enc: Vec<Option<&'a [u8]>>,
    id_mac: Vec<Option<&'a [u8]>>,
    id_masked: Vec<Option<&'a str>>,
    address_enc: Vec<Option<&'a [u8]>>,
}

impl<'a> PetitionerColumns<'a> {
    fn push(&mut self, org: OrganisationId, r: &'a BulkPetitioner) {
        self.org.push(org.as_uuid());
        self.id.push(r.id.as_uuid());
        self.name.push(r.name.as_deref());
        self.phone_enc.push(r.phone_enc.as_deref());
        self.phone_mac.push(r.phone_mac.as_deref());
        self.phone_masked.push(r.phone_masked.as_deref());
        self.id_kind.push(r.id_kind);
        self.id_enc.push(r.id_enc.as_deref());
        self.id_mac.push(r.id_mac.as_deref());
        self.id_masked.push(r.id_masked.as_deref());
        self.address_enc.push(r.address_enc.as_deref());
    }
}

/// Statement 3: the created petitioners, the completed ones, the new matters. A tracking code
/// or work order that is already taken fails it (see the module docs).
async fn write_petitioners_and_matters(
    w: &mut Writer,
    book: &Petitioners,
    rows: &[NewRow<'_>],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, i64>> {
    let (mut created, mut completed) = (PetitionerColumns::default(), PetitionerColumns::default());
    for p in &book.people {
        if p.created {
            created.push(p.org, &p.given);
        } else if p.completed {
            completed.push(p.org, &p.given);
        }
    }
    let m = |f: fn(&Matter) -> Option<&str>| rows.iter().map(|r| f(&r.matter)).collect::<Vec<_>>();
    let orgs: Vec<Uuid> = rows.iter().map(|r| r.org.as_uuid()).collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.matter.id.as_uuid()).collect();
    let codes = m(|m| Some(m.tracking_code.as_str()));
    let secret_macs: Vec<&[u8]> = rows.iter().map(|r| r.secret_mac.as_slice()).collect();
    let channels = m(|m| Some(m.channel.code()));
    let externals = m(|m| m.external_id.as_deref());
    let titles = m(|m| Some(m.title.as_str()));
    let locations = m(|m| m.location.as_deref());
    let types = m(|m| m.petition_type.map(PetitionType::code));
    let urgencies = m(|m| Some(m.urgency.code()));
    let people: Vec<i32> = rows.iter().map(|r| r.matter.people_count as i32).collect();
    let states = m(|m| Some(m.state.code()));
    let registered: Vec<DateTime<Utc>> = rows.iter().map(|r| r.matter.registered_at).collect();
    let kinds: Vec<Option<&str>> = rows.iter().map(|r| r.deadline.kind).collect();
    let due: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.deadline.due_at).collect();
    let due_soon: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.deadline.due_soon_at).collect();
    let paused: Vec<bool> = rows.iter().map(|r| r.deadline.paused).collect();
    let bodies: Vec<&str> = rows.iter().map(|r| r.body.as_str()).collect();
    let raws: Vec<Option<&[u8]>> = rows.iter().map(|r| r.raw.as_deref()).collect();
    sqlx::query(
        "with created as (
             insert into petitioners (organisation_id, id, name, phone_enc, phone_mac, phone_masked, id_kind, id_enc,
                 id_mac, id_masked, address_enc, created_at)
             select p.*, $12::timestamptz from unnest($1::uuid[], $2::uuid[], $3::text[], $4::bytea[], $5::bytea[], $6::text[],
                 $7::text[], $8::bytea[], $9::bytea[], $10::text[], $11::bytea[]) as p
         ),
         completed as (
             update petitioners p set
                 name = coalesce(p.name, c.name), phone_enc = coalesce(p.phone_enc, c.phone_enc),
                 phone_mac = coalesce(p.phone_mac, c.phone_mac), phone_masked = coalesce(p.phone_masked, c.phone_masked),
                 id_kind = coalesce(p.id_kind, c.id_kind), id_enc = coalesce(p.id_enc, c.id_enc),
                 id_mac = coalesce(p.id_mac, c.id_mac), id_masked = coalesce(p.id_masked, c.id_masked)
             from unnest($13::uuid[], $14::uuid[], $15::text[], $16::bytea[], $17::bytea[], $18::text[], $19::text[],
                 $20::bytea[], $21::bytea[], $22::text[])
                 as c (organisation_id, id, name, phone_enc, phone_mac, phone_masked, id_kind, id_enc, id_mac, id_masked)
             where p.organisation_id = c.organisation_id and p.id = c.id
         )
         insert into matters (organisation_id, id, tracking_code, secret_mac, channel, external_id, title,
             location, petition_type, urgency, people_count, state, registered_at, deadline_kind, due_at,
             due_soon_at, paused, body, raw_payload, updated_at)
         select m.organisation_id, m.id, m.tracking_code, m.secret_mac, m.channel, m.external_id, m.title,
             m.location, m.petition_type, m.urgency, m.people_count, m.state, m.registered_at, m.deadline_kind,
             m.due_at, m.due_soon_at, m.paused, m.body::jsonb, m.raw_payload, $12::timestamptz
         from unnest($23::uuid[], $24::uuid[], $25::text[], $26::bytea[], $27::text[], $28::text[], $29::text[],
             $30::text[], $31::text[], $32::text[], $33::int[], $34::text[], $35::timestamptz[], $36::text[],
             $37::timestamptz[], $38::timestamptz[], $39::bool[], $40::text[], $41::bytea[])
             as m (organisation_id, id, tracking_code, secret_mac, channel, external_id, title, location,
                 petition_type, urgency, people_count, state, registered_at, deadline_kind, due_at, due_soon_at,
                 paused, body, raw_payload)
         returning id, seq",
    )
    .bind(&created.org)
    .bind(&created.id)
    .bind(&created.name)
    .bind(&created.phone_enc)
    .bind(&created.phone_mac)
    .bind(&created.phone_masked)
    .bind(&created.id_kind)
    .bind(&created.id_enc)
    .bind(&created.id_mac)
    .bind(&created.id_masked)
    .bind(&created.address_enc)
    .bind(now)
    .bind(&completed.org)
    .bind(&completed.id)
    .bind(&completed.name)
    .bind(&completed.phone_enc)
    .bind(&completed.phone_mac)
    .bind(&completed.phone_masked)
    .bind(&completed.id_kind)
    .bind(&completed.id_enc)
    .bind(&completed.id_mac)
    .bind(&completed.id_masked)
    .bind(&orgs)
    .bind(&ids)
    .bind(&codes)
    .bind(&secret_macs)
    .bind(&channels)
    .bind(&externals)
    .bind(&titles)
    .bind(&locations)
    .bind(&types)
    .bind(&urgencies)
    .bind(&people)
    .bind(&states)
    .bind(&registered)
    .bind(&kinds)
    .bind(&due)
    .bind(&due_soon)
    .bind(&paused)
    .bind(&bodies)
    .bind(&raws)
    .fetch_all(w.conn())
    .await?
    .iter()
    .map(|row| Ok((row.try_get("id")?, row.try_get("seq")?)))
    .collect::<std::result::Result<_, sqlx::Error>>()
    .map_err(Into::into)
}

/// Events sealed onto their organisations' chains in memory, continuing each chain from the
/// head its lock read, for one multi-row insert ([`EVENTS_AND_HEADS`]). The registration batch
/// and the safety alerts written with it ([`super::alerts`]) both append through it.
#[derive(Default)]
pub(super) struct Appended {
    /// Each organisation's chain: (organisation, seq the lock read, chain as moved on).
    chains: Vec<(OrganisationId, i64, Chain)>,
    orgs: Vec<Uuid>,
    seqs: Vec<i64>,
    ids: Vec<Uuid>,
    matters: Vec<Uuid>,
    kinds: Vec<&'static str>,
    actor_kinds: Vec<&'static str>,
    actor_users: Vec<Option<Uuid>>,
    actor_names: Vec<Option<String>>,
    occurred: Vec<DateTime<Utc>>,
    recorded: Vec<DateTime<Utc>>,
    reasons: Vec<Option<String>>,
    before: Vec<Option<&'static str>>,
    after: Vec<Option<&'static str>>,
    data: Vec<String>,
    prev_hashes: Vec<String>,
    hashes: Vec<String>,
}

/// The insert of the events of an [`Appended`] and the move of each chain head (a
/// compare-and-set on the head each lock read: the lock makes it certain, it stays as a
/// guard), as data-modifying CTEs named `appended` and `moved` over parameters $1–$20; a
/// statement adds its own CTEs (parameters from $21) and ends in `select count(*) from moved`.
pub(super) const EVENTS_AND_HEADS: &str = "appended as (
         insert into events (organisation_id, seq, id, matter_id, kind, actor_kind, actor_user_id, actor_name,
             occurred_at, recorded_at, reason, before_state, after_state, data, prev_hash, hash)
         select * from unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[], $5::text[], $6::text[],
             $7::uuid[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[],
             $13::text[], $14::text[], $15::text[], $16::text[])
     ),
     moved as (
         update audit_heads h set seq = n.seq, hash = n.hash
         from unnest($17::uuid[], $18::bigint[], $19::bigint[], $20::text[]) as n (org, from_seq, seq, hash)
         where h.organisation_id = n.org and h.seq = n.from_seq
         returning 1
     )";

impl Appended {
    /// Seals `e` of matter `matter` onto `org`'s chain, which `w` has locked; returns its seq.
    pub(super) fn push(
        &mut self,
        s: &PgStore,
        w: &Writer,
        org: OrganisationId,
        matter: PetitionId,
        e: &BulkEvent,
    ) -> Result<i64> {
        let i = match self.chains.iter().position(|(o, _, _)| *o == org) {
            Some(i) => i,
            None => {
                let (seq, hash) = w.head(org)?;
                self.chains.push((org, seq, Chain { seq, hash }));
                self.chains.len() - 1
            }
        };
        let sealed = self.chains[i].2.seal(&s.vault, org, matter, e);
        self.orgs.push(org.as_uuid());
        self.seqs.push(sealed.seq);
        self.ids.push(sealed.id.as_uuid());
        self.matters.push(matter.as_uuid());
        self.kinds.push(e.kind);
        self.actor_kinds.push(e.actor_kind.code());
        self.actor_users.push(e.actor_user_id.map(|u| u.as_uuid()));
        self.actor_names.push(e.actor_name.clone());
        self.occurred.push(e.occurred_at);
        self.recorded.push(e.recorded_at);
        self.reasons.push(e.reason.clone());
        self.before.push(e.before_state);
        self.after.push(e.after_state);
        self.data.push(e.data.clone());
        self.prev_hashes.push(sealed.prev_hash);
        self.hashes.push(sealed.hash);
        Ok(sealed.seq)
    }

    /// Binds $1–$20 of [`EVENTS_AND_HEADS`].
    pub(super) fn bind<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let head_orgs: Vec<Uuid> = self.chains.iter().map(|(o, _, _)| o.as_uuid()).collect();
        let head_from: Vec<i64> = self.chains.iter().map(|(_, from, _)| *from).collect();
        let head_seq: Vec<i64> = self.chains.iter().map(|(_, _, c)| c.seq).collect();
        let head_hash: Vec<String> = self.chains.iter().map(|(_, _, c)| c.hash.clone()).collect();
        q.bind(&self.orgs)
            .bind(&self.seqs)
            .bind(&self.ids)
            .bind(&self.matters)
            .bind(&self.kinds)
            .bind(&self.actor_kinds)
            .bind(&self.actor_users)
            .bind(&self.actor_names)
            .bind(&self.occurred)
            .bind(&self.recorded)
            .bind(&self.reasons)
            .bind(&self.before)
            .bind(&self.after)
            .bind(&self.data)
            .bind(&self.prev_hashes)
            .bind(&self.hashes)
            .bind(head_orgs)
            .bind(head_from)
            .bind(head_seq)
            .bind(head_hash)
    }

    /// After the statement: checks that every head moved (`moved`: the statement's count) and
    /// records the new heads in `w`.
    pub(super) fn finish(self, w: &mut Writer, moved: i64) -> Result<()> {
        if moved != self.chains.len() as i64 {
            return Err(StoreError::Conflict {
                constraint: "audit_heads_seq",
                field: None,
            });
        }
        for (org, _, chain) in self.chains {
            w.set_head(org, chain.seq, chain.hash);
        }
        Ok(())
    }
}

/// Statement 5: the search rows and the petitioner links.
async fn write_search_and_links(
    w: &mut Writer,
    rows: &[NewRow<'_>],
    seqs: &HashMap<Uuid, i64>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let orgs: Vec<Uuid> = rows.iter().map(|r| r.org.as_uuid()).collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.matter.id.as_uuid()).collect();
    // Each vector as a literal with its facets (the insert trigger then leaves it alone, as it
    // does any row that comes with its seq), or, for the rare text the literal cannot speak
    // for, its tokens and facets for PostgreSQL to put together.
    let (mut seq, mut literal, mut tokens, mut facets) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        let at = *seqs.get(&r.matter.id.as_uuid()).ok_or_else(|| {
            StoreError::Corrupt(format!("matter {} was written without a seq", r.matter.id))
        })?;
        let lexemes = search::facets(&r.matter.state, at);
        let vector = vectors::literal(r.search_tokens, &lexemes);
        seq.push(at);
        tokens.push(vector.is_none().then_some(r.search_tokens));
        facets.push(vector.is_none().then(|| lexemes.join(" ")));
        literal.push(vector);
    }
    let (mut link_org, mut link_matter, mut link_person, mut link_pos) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        for (pos, p) in r.matter.petitioner_ids.iter().enumerate() {
            link_org.push(r.org.as_uuid());
            link_matter.push(r.matter.id.as_uuid());
            link_person.push(p.as_uuid());
            link_pos.push(pos as i32);
        }
    }
    sqlx::query(
        "with search as (
             insert into matter_search (organisation_id, matter_id, seq, search)
             select t.org, t.id, t.seq, coalesce(t.literal::tsvector,
                 to_tsvector('simple', t.tokens) || array_to_tsvector(string_to_array(t.facets, ' ')))
             from unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[])
                 as t (org, id, seq, literal, tokens, facets)
         )
         insert into matter_petitioners (organisation_id, matter_id, petitioner_id, position)
         select * from unnest($7::uuid[], $8::uuid[], $9::uuid[], $10::int[])
         on conflict do nothing",
    )
    .bind(&orgs)
    .bind(&ids)
    .bind(&seq)
    .bind(&literal)
    .bind(&tokens)
    .bind(&facets)
    .bind(&link_org)
    .bind(&link_matter)
    .bind(&link_person)
    .bind(&link_pos)
    .execute(w.conn())
    .await?;
    Ok(())
}

/// Under the chain locks: the `register` events sealed onto each organisation's chain in the
/// batch's order, and the heads moved ([`Appended`]).
async fn write_events(s: &PgStore, w: &mut Writer, rows: &[NewRow<'_>]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut events = Appended::default();
    for r in rows {
        events.push(s, w, r.org, r.matter.id, &r.event)?;
    }
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("with {EVENTS_AND_HEADS} select count(*) from moved"));
    let moved: i64 = events
        .bind(sqlx::query(AssertSqlSafe(SQL.as_str())))
        .fetch_one(w.conn())
        .await?
        .get(0);
    events.finish(w, moved)
}
