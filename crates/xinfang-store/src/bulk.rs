//! Bulk loading: a large volume of matters (a million, for a benchmark or a demo) built in
//! memory and written in big batches instead of one transaction per verb.
//!
//! A [`MatterBuilder`] does for one matter what `register_matter` and `transition` do — the
//! same lifecycle functions, the same deadline columns, encrypted numbers with their lookup
//! macs, the search tokens, an event per step — but without a database, so many builders can
//! run on several threads. What comes out, a [`BulkMatter`], is a set of fully formed rows
//! except for the audit chain: each event's position and hash depend on every event before it,
//! so the backend's loader ([`SqliteStore::bulk_loader`](crate::SqliteStore::bulk_loader),
//! [`PgStore::bulk_loader`](crate::PgStore::bulk_loader)) seals them onto the organisation's
//! chain as it writes, under the same lock that ordinary writes take. The database is then
//! exactly what as many ordinary registrations and transitions would have left behind, and
//! `xinfang audit verify` passes on it.
//!
//! Each matter also gets what intake would record for it (`Store::record_intake`): its
//! MinHash signature, from which every node's duplicate index is derived, and its triage by
//! the organisation's lexicon — so a loaded million behaves like a million registered ones
//! (the node's index holds them all, the intake backfill has nothing left to do). Links
//! between the loaded matters are not computed.
//!
//! Differences from the one-at-a-time path, all invisible to a reader: a petitioner with a
//! phone or ID number gets an id derived from the number's mac, so the builders (which cannot
//! look each other's petitioners up) agree on one record per person, and the loader writes it
//! once; references (units, categories, leaders) are trusted rather than looked up. So a bulk
//! load is meant for an organisation's first matters: petitioners already in the database are
//! not looked up (registrations after the load do find the loaded ones).

use crate::audit::{self, HashedFields};
use crate::intake::{TriageColumns, triage_columns};
use crate::model::{ActorKind, NewMatter, NewPetitioner};
use crate::vault::Vault;
use crate::{Result, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use xinfang_core::calendar::Calendar;
use xinfang_core::deadline::{DeadlineStatus, RuleSet};
use xinfang_core::ids::{
    EventId, OrganisationId, PetitionId, PetitionerId, TrackingCode, TrackingSecret, UnitId, UserId,
};
use xinfang_core::lifecycle::{self, Command, Context, Registration, Transition};
use xinfang_core::matter::{Matter, State};
use xinfang_core::org::Actor;
use xinfang_nlp::dedup::{self, SIGNATURE_VERSION};
use xinfang_nlp::triage::Triage;

/// What every matter of a load shares: the organisation, its keys and rules, and the time the
/// load counts as "now" (the `recorded_at` of its events and the base of deadline statuses).
#[derive(Clone)]
pub struct BulkContext {
    pub vault: Vault,
    pub organisation_id: OrganisationId,
    /// The rule set new matters are registered under (the organisation's default).
    pub rules: RuleSet,
    pub calendar: Calendar,
    pub now: DateTime<Utc>,
    /// The organisation's triage lexicon, compiled, and its revision (0: the built-in one).
    pub triage: std::sync::Arc<Triage>,
    pub lexicon_revision: i64,
}

impl BulkContext {
    /// The context of a load into `org`: its default rule set, calendar and triage lexicon as
    /// the store has them.
    pub async fn of(
        store: &dyn crate::Store,
        vault: Vault,
        org: OrganisationId,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let (triage, lexicon_revision) = match store.lexicon(org).await? {
            Some(stored) => (
                Triage::new(stored.lexicon).map_err(|e| StoreError::Corrupt(format!("lexicon: {e}")))?,
                stored.revision,
            ),
            None => (Triage::builtin().clone(), 0),
        };
        Ok(BulkContext {
            vault,
            organisation_id: org,
            rules: store.default_rule_set(org).await?,
            calendar: store.calendar(org).await?,
            now,
            triage: std::sync::Arc::new(triage),
            lexicon_revision,
        })
    }
}

/// The deadline columns of a matter row, as both backends compute them.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeadlineRow {
    pub kind: Option<&'static str>,
    pub due_at: Option<DateTime<Utc>>,
    pub due_soon_at: Option<DateTime<Utc>>,
    pub paused: bool,
}

impl DeadlineRow {
    pub(crate) fn of(m: &Matter, rules: &RuleSet, cal: &Calendar, now: DateTime<Utc>) -> Self {
        match lifecycle::current_deadline(m, rules, cal, now) {
            Some((d, a)) => Self {
                kind: Some(d.kind.code()),
                due_at: d.due_at,
                due_soon_at: d.due_soon_at,
                paused: a.status == DeadlineStatus::Paused,
            },
            None => Self::default(),
        }
    }
}

/// A petitioner row, numbers encrypted.
#[derive(Debug, Clone)]
pub(crate) struct BulkPetitioner {
    pub id: PetitionerId,
    pub name: Option<String>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_mac: Option<Vec<u8>>,
    pub phone_masked: Option<String>,
    pub id_kind: Option<&'static str>,
    pub id_enc: Option<Vec<u8>>,
    pub id_mac: Option<Vec<u8>>,
    pub id_masked: Option<String>,
    pub address_enc: Option<Vec<u8>>,
}

/// An event before it is sealed onto the chain (no position, no hash yet).
#[derive(Debug, Clone)]
pub(crate) struct BulkEvent {
    pub kind: &'static str,
    pub actor_kind: ActorKind,
    pub actor_user_id: Option<UserId>,
    pub actor_name: Option<String>,
    /// Whole microseconds, as stored and hashed.
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub before_state: Option<&'static str>,
    pub after_state: Option<&'static str>,
    pub data: String,
}

/// The rows of one matter, ready for a backend's loader.
#[derive(Debug, Clone)]
pub struct BulkMatter {
    pub(crate) matter: Matter,
    pub(crate) secret_mac: Vec<u8>,
    pub(crate) search_tokens: String,
    pub(crate) deadline: DeadlineRow,
    pub(crate) body: String,
    pub(crate) petitioners: Vec<BulkPetitioner>,
    pub(crate) events: Vec<BulkEvent>,
    pub(crate) updated_at: DateTime<Utc>,
    /// What intake would record for it.
    pub(crate) intake: BulkIntake,
}

/// A loaded matter's signature and triage, as intake computes them.
#[derive(Debug, Clone)]
pub(crate) struct BulkIntake {
    /// `Signature::to_bytes` of [`SIGNATURE_VERSION`].
    pub signature: Vec<u8>,
    pub triage: TriageColumns,
    pub lexicon_revision: i64,
}

impl BulkIntake {
    /// Intake's reading of a matter's title and content (the text it reads, see the server's
    /// `intake`).
    fn of(cx: &BulkContext, m: &Matter) -> Result<Self> {
        let text = format!("{}\n{}", m.title, m.content);
        Ok(BulkIntake {
            signature: dedup::signature(&text).to_bytes(),
            triage: triage_columns(&cx.triage.assess(&text))?,
            lexicon_revision: cx.lexicon_revision,
        })
    }

    /// The signature's version, as stored.
    pub fn version(&self) -> u16 {
        SIGNATURE_VERSION
    }
}

impl BulkMatter {
    /// The matter as it stands after its last step.
    pub fn matter(&self) -> &Matter {
        &self.matter
    }

    /// The matter's units: the lead unit, then the co-handling ones (what `matter_units` holds).
    pub(crate) fn units(&self) -> Vec<(UnitId, &'static str)> {
        self.matter
            .lead_unit_id
            .map(|u| (u, "lead"))
            .into_iter()
            .chain(self.matter.co_unit_ids.iter().map(|&u| (u, "co")))
            .collect()
    }
}

/// Tracking codes of one load: 31^8 codes make a collision likely somewhere in a million (the
/// birthday bound), which the one-at-a-time path survives by retrying the insert; a batch
/// cannot retry one row, so the loader draws a new code before writing instead.
#[derive(Default)]
pub(crate) struct TrackingCodes(std::collections::HashSet<String>);

impl TrackingCodes {
    /// Gives every matter of `batch` a code no other matter of the load has.
    pub(crate) fn make_unique(&mut self, batch: &mut [BulkMatter]) -> Result<()> {
        for bm in batch {
            while !self.0.insert(bm.matter.tracking_code.as_str().to_string()) {
                bm.matter.tracking_code = TrackingCode::generate(&mut rand::rng());
                bm.body =
                    serde_json::to_string(&bm.matter).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            }
        }
        Ok(())
    }
}

/// One matter being built in memory: registered, then moved through lifecycle commands.
pub struct MatterBuilder<'a> {
    cx: &'a BulkContext,
    matter: Matter,
    secret_mac: Vec<u8>,
    search_tokens: String,
    petitioners: Vec<BulkPetitioner>,
    events: Vec<BulkEvent>,
}

/// Whole microseconds: the precision of a PostgreSQL timestamp and of the hashed text.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The text the audit hash covers for a time (the same on every backend).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn actor_fields(actor: &Actor) -> (ActorKind, Option<UserId>, Option<String>) {
    match actor {
        Actor::Staff(s) => (ActorKind::Staff, Some(s.user_id), Some(s.display_name.clone())),
        Actor::Petitioner => (ActorKind::Petitioner, None, None),
        Actor::System => (ActorKind::System, None, None),
    }
}

/// The row of a petitioner. One with a phone or ID number has an id derived from the number's
/// mac (the ID document first, as the ordinary path looks it up first), so every matter of the
/// same person names the same record.
fn petitioner_row(vault: &Vault, p: &NewPetitioner) -> BulkPetitioner {
    let mut row = encrypt_petitioner(vault, p);
    if let Some(mac) = row.id_mac.as_ref().or(row.phone_mac.as_ref()) {
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&vault.mac("bulk-petitioner", &hex::encode(mac))[..16]);
        row.id = PetitionerId::from_uuid(uuid::Builder::from_random_bytes(bytes).into_uuid());
    }
    row
}

/// A new petitioner's row under a fresh id: numbers encrypted, with the macs they are found by.
pub(crate) fn encrypt_petitioner(vault: &Vault, p: &NewPetitioner) -> BulkPetitioner {
    let (phone_mac, id_mac) = petitioner_macs(vault, p);
    BulkPetitioner {
        id: PetitionerId::new(),
        name: p.name.as_ref().map(|n| n.as_str().to_string()),
        phone_enc: p.phone.as_ref().map(|ph| vault.encrypt(ph.as_str())),
        phone_mac,
        phone_masked: p.phone.as_ref().map(|ph| ph.masked()),
        id_kind: p.id_document.as_ref().map(|d| d.kind().code()),
        id_enc: p.id_document.as_ref().map(|d| vault.encrypt(d.number())),
        id_mac,
        id_masked: p.id_document.as_ref().map(|d| d.masked()),
        address_enc: p.address.as_ref().map(|a| vault.encrypt(a)),
    }
}

/// The keyed hashes a petitioner is found by: of their phone number and of their ID document.
pub(crate) fn petitioner_macs(vault: &Vault, p: &NewPetitioner) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let phone_mac = p.phone.as_ref().map(|ph| vault.mac("phone", ph.as_str()));
    let id_mac = p
        .id_document
        .as_ref()
        .map(|d| vault.mac("id", &format!("{}:{}", d.kind().code(), d.number())));
    (phone_mac, id_mac)
}

/// A new matter as every registration path makes it (both backends' `register_matter`, the
/// PostgreSQL batch, the bulk loader), with the tracking secret whose mac the row keeps.
/// `petitioner_ids` are the records the petitioners were found or created as.
pub(crate) fn new_matter(
    rules: &RuleSet,
    org: OrganisationId,
    actor: &Actor,
    n: NewMatter,
    petitioner_ids: Vec<PetitionerId>,
    now: DateTime<Utc>,
) -> Result<(Matter, TrackingSecret)> {
    let (code, secret) = {
        let mut rng = rand::rng();
        (
            TrackingCode::generate(&mut rng),
            TrackingSecret::generate(&mut rng),
        )
    };
    let matter = lifecycle::register(
        Registration {
            id: PetitionId::new(),
            organisation_id: org,
            tracking_code: code,
            channel: n.channel,
            external_id: n.external_id,
            title: n.title.into_inner(),
            content: n.content.into_inner(),
            location: n.location,
            petition_type: n.petition_type,
            urgency: n.urgency,
            people_count: n.people_count,
            petitioner_ids,
            rule_set_id: rules.id,
            rule_set_version: rules.version,
            registered_at: n.received_at.unwrap_or(now),
        },
        actor,
    )?;
    Ok((matter, secret))
}

/// The data of a new matter's `register` event (what every registration path records).
pub(crate) fn registration_data(m: &Matter) -> serde_json::Value {
    serde_json::json!({
        "channel": m.channel.code(),
        "external_id": m.external_id,
        "petitioners": m.petitioner_ids.len(),
        "people_count": m.people_count,
    })
}

/// [`new_matter`] with its `register` event, not yet on the chain.
pub(crate) fn registration(
    rules: &RuleSet,
    org: OrganisationId,
    actor: &Actor,
    n: NewMatter,
    petitioner_ids: Vec<PetitionerId>,
    now: DateTime<Utc>,
) -> Result<(Matter, BulkEvent, TrackingSecret)> {
    let (matter, secret) = new_matter(rules, org, actor, n, petitioner_ids, now)?;
    let (actor_kind, actor_user_id, actor_name) = actor_fields(actor);
    let event = BulkEvent {
        kind: Transition::Register.code(),
        actor_kind,
        actor_user_id,
        actor_name,
        occurred_at: micros(matter.registered_at),
        recorded_at: micros(now),
        reason: None,
        before_state: None,
        after_state: Some(State::Registered.code()),
        data: registration_data(&matter).to_string(),
    };
    Ok((matter, event, secret))
}

impl<'a> MatterBuilder<'a> {
    /// Registers a matter as `register_matter` would (its raw payload is not kept).
    pub fn register(cx: &'a BulkContext, actor: &Actor, n: NewMatter) -> Result<Self> {
        let search_tokens =
            xinfang_nlp::index_tokens(&format!("{} {}", n.title.as_str(), n.content.as_str()));
        let mut petitioners: Vec<BulkPetitioner> = n
            .petitioners
            .iter()
            .map(|p| petitioner_row(&cx.vault, p))
            .collect();
        petitioners.dedup_by_key(|p| p.id);
        let ids = petitioners.iter().map(|p| p.id).collect();
        let (matter, event, secret) = registration(&cx.rules, cx.organisation_id, actor, n, ids, cx.now)?;
        Ok(Self {
            cx,
            secret_mac: cx.vault.mac("secret", secret.as_str()),
            matter,
            search_tokens,
            petitioners,
            events: vec![event],
        })
    }

    /// The matter as it stands.
    pub fn matter(&self) -> &Matter {
        &self.matter
    }

    /// Applies `cmd` at `at` as `actor`, as `transition` would; the lifecycle's refusal comes
    /// back as [`StoreError::Lifecycle`] and changes nothing.
    pub fn apply(&mut self, actor: &Actor, cmd: &Command, at: DateTime<Utc>) -> Result<&Matter> {
        let next = lifecycle::apply(
            &self.matter,
            cmd,
            &Context {
                actor,
                at,
                rules: &self.cx.rules,
                calendar: &self.cx.calendar,
            },
        )?;
        let (actor_kind, actor_user_id, actor_name) = actor_fields(actor);
        // Through a Value, as `transition` does, so the stored text is the same.
        let data = serde_json::to_value(cmd)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
            .to_string();
        self.events.push(BulkEvent {
            kind: cmd.transition().code(),
            actor_kind,
            actor_user_id,
            actor_name,
            occurred_at: micros(at),
            recorded_at: micros(self.cx.now),
            reason: cmd.reason().map(str::to_string),
            before_state: Some(self.matter.state.code()),
            after_state: Some(next.state.code()),
            data,
        });
        self.matter = next;
        Ok(&self.matter)
    }

    /// The rows of the matter as it stands.
    pub fn finish(self) -> Result<BulkMatter> {
        let deadline = DeadlineRow::of(&self.matter, &self.cx.rules, &self.cx.calendar, self.cx.now);
        let body = serde_json::to_string(&self.matter).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let intake = BulkIntake::of(self.cx, &self.matter)?;
        Ok(BulkMatter {
            intake,
            matter: self.matter,
            secret_mac: self.secret_mac,
            search_tokens: self.search_tokens,
            deadline,
            body,
            petitioners: self.petitioners,
            events: self.events,
            updated_at: self.cx.now,
        })
    }
}

/// An event sealed onto its organisation's chain.
pub(crate) struct SealedEvent<'a> {
    pub seq: i64,
    pub id: EventId,
    pub matter_id: PetitionId,
    pub event: &'a BulkEvent,
    pub prev_hash: String,
    pub hash: String,
}

/// An organisation's chain head while a batch is appended to it.
pub(crate) struct Chain {
    pub seq: i64,
    pub hash: String,
}

impl Chain {
    /// Gives `e` the next position on the chain and its hash, and moves the head on.
    pub(crate) fn seal<'e>(
        &mut self,
        vault: &Vault,
        org: OrganisationId,
        matter_id: PetitionId,
        e: &'e BulkEvent,
    ) -> SealedEvent<'e> {
        let seq = self.seq + 1;
        let id = EventId::new();
        let (org_text, id_text, matter_text) = (org.to_string(), id.to_string(), matter_id.to_string());
        let actor_user_id = e.actor_user_id.map(|u| u.to_string());
        let (occurred, recorded) = (ts(e.occurred_at), ts(e.recorded_at));
        let hash = audit::event_hash(
            vault.audit_key(),
            &self.hash,
            &HashedFields {
                organisation_id: &org_text,
                seq,
                id: &id_text,
                matter_id: Some(&matter_text),
                kind: e.kind,
                actor_kind: e.actor_kind.code(),
                actor_user_id: actor_user_id.as_deref(),
                actor_name: e.actor_name.as_deref(),
                occurred_at: &occurred,
                recorded_at: &recorded,
                reason: e.reason.as_deref(),
                before_state: e.before_state,
                after_state: e.after_state,
                data: &e.data,
            },
        );
        let prev_hash = std::mem::replace(&mut self.hash, hash.clone());
        self.seq = seq;
        SealedEvent {
            seq,
            id,
            matter_id,
            event: e,
            prev_hash,
            hash,
        }
    }
}

/// A backend's bulk writer for one organisation. Each [`load`](BulkLoad::load) writes its batch
/// in one transaction under the organisation's chain lock; a failed batch leaves nothing of
/// itself behind.
#[async_trait]
pub trait BulkLoad: Send {
    /// Writes a batch of matters (in the order given: it is their order on the chain).
    async fn load(&mut self, batch: Vec<BulkMatter>) -> Result<()>;
    /// Rebuilds what the load left for the end (statistics, dropped indexes).
    async fn finish(self: Box<Self>) -> Result<()>;
}
