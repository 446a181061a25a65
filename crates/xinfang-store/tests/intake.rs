//! Intake's tables, told once and run against every backend: the node's duplicate index, read
//! from the signature log, finds earlier matters with the same text (and names their
//! petitioners by the one id a person has), sees writes that commit out of order, links
//! are stored and read back within the viewer's scope, the repeat rate counts repeats only, a
//! safety alert reaches the petition office once, and the lexicon keeps its revisions.

mod suite;

use chrono::Duration;
use std::sync::Arc;
use suite::*;
use xinfang_core::clock::Clock;
use xinfang_core::ids::PetitionId;
use xinfang_core::matter::{Channel, PetitionType};
use xinfang_core::org::Actor;
use xinfang_nlp::dedup::{self, Link};
use xinfang_nlp::triage::{self, Lexicon};
use xinfang_store::{
    ActorKind, CandidateIndex, EventKind, IntakeRecord, LinkDirection, NewLink, Probe, ReminderFilter,
    ReminderKind, RepeatCounts, Store, StoreError,
};

const BUS: &str = "本人多次乘坐夜间航班，落地后机场大巴已经停运，只能打车，希望增开夜间线路。";
const NOISE: &str = "航站楼卫生间长时间没有保洁，地面湿滑，洗手液也经常缺货，请加强管理。";

/// What the server's intake step stores for a text.
fn record_of(text: &str) -> IntakeRecord {
    let sig = dedup::signature(text);
    IntakeRecord {
        signature_version: dedup::SIGNATURE_VERSION,
        signature: sig.to_bytes(),
        triage: triage::assess(text),
        lexicon_revision: 0,
        links: Vec::new(),
    }
}

/// [`record_of`] with links (what a re-run of intake stores).
fn with_links(text: &str, links: Vec<NewLink>) -> IntakeRecord {
    IntakeRecord {
        links,
        ..record_of(text)
    }
}

async fn register(
    s: &dyn Store,
    o: &Org,
    content: &str,
    who: Vec<xinfang_store::NewPetitioner>,
) -> PetitionId {
    let id = o
        .register(
            s,
            matter(Channel::Phone, PetitionType::Appeal, "夜间大巴", content, who),
        )
        .await
        .id;
    s.record_intake(o.id, id, record_of(content))
        .await
        .expect("record intake");
    id
}

/// A matter of 张三 registered without intake.
async fn register_only(s: &dyn Store, o: &Org, content: &str) -> PetitionId {
    o.register(
        s,
        matter(
            Channel::Phone,
            PetitionType::Appeal,
            "夜间大巴",
            content,
            vec![zhang_san()],
        ),
    )
    .await
    .id
}

fn sig(text: &str) -> dedup::Signature {
    dedup::signature(text)
}

/// A lookup for matter `exclude` (of no known petitioner) with `signature`.
fn probe(signature: &dedup::Signature, exclude: PetitionId) -> Probe<'_> {
    Probe {
        signature,
        petitioners: &[],
        exclude,
    }
}

/// The threshold from which intake considers two texts the same matter.
const SIMILAR: f32 = 0.4;

#[tokio::test]
async fn earlier_matters_are_found_by_band_key_with_their_petitioners() {
    for b in backends().await {
        let s = b.store.as_ref();
        let index = CandidateIndex::new();
        let o = Org::create(s, "机场集团", b.name).await;
        let first = register(s, &o, BUS, vec![zhang_san()]).await;
        let other = register(s, &o, NOISE, vec![caller("李四", "13900001111")]).await;
        // 张三 again, by phone only: the store finds the same petitioner through the number.
        let again = register(s, &o, BUS, vec![caller("张三", PHONE)]).await;

        let found = index
            .candidates(s, o.id, &probe(&sig(BUS), again), SIMILAR, 50)
            .await
            .expect("candidates");
        let ids: Vec<PetitionId> = found.iter().map(|c| c.matter_id).collect();
        assert_eq!(ids, vec![first], "{}: only the same text, never itself", b.name);
        let c = &found[0];
        assert_eq!(c.signature_version, dedup::SIGNATURE_VERSION);
        assert_eq!(c.signature, dedup::signature(BUS).to_bytes());
        assert_eq!(c.answered_at, None);
        assert_eq!(c.similarity, 1.0, "the same text");
        let mine = s.intake_subject(o.id, again).await.expect("subject").petitioners;
        assert_eq!(c.petitioners, mine, "{}: one person, one petitioner id", b.name);

        let noise = index
            .candidates(s, o.id, &probe(&sig(NOISE), other), SIMILAR, 50)
            .await
            .expect("candidates");
        assert!(noise.is_empty(), "{}: an unrelated text finds nothing", b.name);

        // Another organisation's matters are not candidates.
        let o2 = Org::create(s, "另一集团", &format!("{}2", b.name)).await;
        let foreign = register(s, &o2, BUS, vec![zhang_san()]).await;
        let found = index
            .candidates(s, o2.id, &probe(&sig(BUS), foreign), SIMILAR, 50)
            .await
            .expect("candidates");
        assert!(found.is_empty(), "{}: no matter of another organisation", b.name);

        // Below the threshold a collision is not a candidate.
        let strict = index
            .candidates(s, o.id, &probe(&sig(BUS), again), 1.01, 50)
            .await
            .expect("candidates");
        assert!(strict.is_empty(), "{}", b.name);

        // A re-run replaces the record instead of adding to it.
        s.record_intake(o.id, first, record_of(BUS))
            .await
            .expect("re-run");
        let found = index
            .candidates(s, o.id, &probe(&sig(BUS), again), SIMILAR, 50)
            .await
            .expect("candidates");
        assert_eq!(found.len(), 1, "{}", b.name);

        // A second node starting now reads the same from the log, and is loaded only once it
        // has (what its readiness check reports).
        let fresh = CandidateIndex::new();
        assert!(!fresh.is_loaded(), "{}: nothing read yet", b.name);
        let found = fresh
            .candidates(s, o.id, &probe(&sig(BUS), again), SIMILAR, 50)
            .await
            .expect("candidates");
        assert_eq!(found.len(), 1, "{}", b.name);
        assert!(fresh.is_loaded(), "{}: the lookup read the log", b.name);
        assert_eq!(
            fresh.stats().await.signatures,
            4,
            "{}: four signatures stored",
            b.name
        );
    }
}

#[tokio::test]
async fn the_signature_log_gives_each_change_a_new_position() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let first = register(s, &o, BUS, vec![zhang_san()]).await;
        let second = register(s, &o, NOISE, vec![zhang_san()]).await;
        let log = s.signatures_since(0, &[], 100).await.expect("log");
        let order: Vec<PetitionId> = log.iter().map(|r| r.matter_id).collect();
        assert_eq!(order, vec![first, second], "{}: in the order written", b.name);
        assert!(log[0].seq < log[1].seq);
        assert_eq!(log[0].organisation_id, o.id);
        assert_eq!(log[0].signature, sig(BUS).to_bytes());
        let mine = s.intake_subject(o.id, first).await.expect("subject").petitioners;
        assert_eq!(log[0].petitioners, mine, "{}: with its petitioners", b.name);
        assert_eq!(log[1].petitioners, mine, "{}: the same person", b.name);
        let top = log[1].seq;

        // An unchanged re-run costs no node anything: nothing new in the log.
        s.record_intake(o.id, first, record_of(BUS))
            .await
            .expect("re-run");
        assert!(
            s.signatures_since(top, &[], 100).await.expect("log").is_empty(),
            "{}",
            b.name
        );
        // `also` asks again for a position below the cursor.
        let again = s.signatures_since(top, &[log[0].seq], 100).await.expect("log");
        assert_eq!(again.len(), 1, "{}", b.name);
        assert_eq!(again[0].matter_id, first);

        // A changed text (intake re-run after an edit) is logged again; the index follows.
        let index = CandidateIndex::new();
        let bus_found = index
            .candidates(s, o.id, &probe(&sig(BUS), second), SIMILAR, 50)
            .await
            .expect("candidates");
        assert_eq!(bus_found.len(), 1, "{}", b.name);
        s.record_intake(o.id, first, record_of(NOISE))
            .await
            .expect("changed");
        let moved = s.signatures_since(top, &[], 100).await.expect("log");
        assert_eq!(moved.len(), 1, "{}", b.name);
        assert!(moved[0].seq > top);
        assert_eq!(moved[0].signature, sig(NOISE).to_bytes());
        let bus_found = index
            .candidates(s, o.id, &probe(&sig(BUS), second), SIMILAR, 50)
            .await
            .expect("candidates");
        assert!(
            bus_found.is_empty(),
            "{}: its old text is not found any more",
            b.name
        );
        let noise_found = index
            .candidates(s, o.id, &probe(&sig(NOISE), second), SIMILAR, 50)
            .await
            .expect("candidates");
        assert_eq!(noise_found.len(), 1, "{}: found by its new text", b.name);
        assert_eq!(noise_found[0].matter_id, first);

        // Paging: a small page still reads everything, in order.
        let one = s.signatures_since(0, &[], 1).await.expect("log");
        assert_eq!(one.len(), 1);
    }
}

/// Look-ups made at the same moment (which PostgreSQL reads with one statement,
/// `postgres/lookups.rs`) each get the stored matters they asked for, similar enough to their
/// own letter and of their own organisation, whatever the others asked.
#[tokio::test]
async fn lookups_made_together_each_get_their_own_matters() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let o2 = Org::create(s, "另一集团", &format!("{}2", b.name)).await;
        let bus = register(s, &o, BUS, vec![zhang_san()]).await;
        let noise = register(s, &o, NOISE, vec![caller("李四", "13900001111")]).await;
        let foreign = register(s, &o2, BUS, vec![zhang_san()]).await;
        let unsigned = register_only(s, &o, BUS).await;
        let everything = vec![bus, noise, foreign, unsigned];
        // (organisation, letter, matters asked about, what must come back)
        let asks = [
            (o.id, BUS, everything.clone(), vec![bus]),
            (o.id, NOISE, everything.clone(), vec![noise]),
            (o2.id, BUS, everything.clone(), vec![foreign]),
            (o2.id, NOISE, everything.clone(), vec![]),
            (o.id, BUS, vec![noise, foreign], vec![]),
            (o.id, BUS, vec![], vec![]),
        ];
        let tasks: Vec<_> = (0..4)
            .flat_map(|_| asks.iter().cloned())
            .map(|(org, text, among, want)| {
                let store = Arc::clone(&b.store);
                tokio::spawn(async move {
                    let found = store
                        .dedup_candidates(org, &sig(text), SIMILAR, &among)
                        .await
                        .expect("candidates");
                    (found.iter().map(|c| c.matter_id).collect::<Vec<_>>(), want)
                })
            })
            .collect();
        for t in tasks {
            let (found, want) = t.await.expect("the task ran");
            assert_eq!(found, want, "{}", b.name);
        }
    }
}

#[tokio::test]
async fn a_signature_that_commits_late_is_still_found() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let index = CandidateIndex::new();
        // Another node's intake takes a log position and has not committed yet…
        let slow = register_only(s, &o, BUS).await;
        let Some(held) = b.held_signature_write(o.id, slow, &sig(BUS).to_bytes()).await else {
            continue; // SQLite commits positions in order: nothing can come late.
        };
        // …while a later position commits and this node reads past it.
        let noise = register(s, &o, NOISE, vec![zhang_san()]).await;
        let newcomer = register_only(s, &o, BUS).await;
        let found = index
            .candidates(s, o.id, &probe(&sig(BUS), newcomer), SIMILAR, 50)
            .await
            .expect("candidates");
        assert!(found.is_empty(), "not committed yet");
        let stats = index.stats().await;
        assert_eq!(stats.signatures, 1, "only the committed one: {stats:?}");
        let noise_seq = s.signatures_since(0, &[], 10).await.expect("log")[0].seq;
        assert_eq!(stats.position, noise_seq);
        assert_eq!(
            s.signatures_since(0, &[], 10).await.expect("log")[0].matter_id,
            noise
        );

        held.commit().await.expect("the slow intake commits");
        let found = index
            .candidates(s, o.id, &probe(&sig(BUS), newcomer), SIMILAR, 50)
            .await
            .expect("candidates");
        let ids: Vec<PetitionId> = found.iter().map(|c| c.matter_id).collect();
        assert_eq!(ids, vec![slow], "the skipped position was asked for again");
        assert_eq!(index.stats().await.signatures, 2);
    }
}

#[tokio::test]
async fn links_are_stored_both_ways_and_read_within_scope() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let first = register(s, &o, BUS, vec![zhang_san()]).await;
        o.assign_to(s, first, &o.unit_a).await;
        let second = register(s, &o, BUS, vec![zhang_san()]).await;
        let link = NewLink {
            linked_matter_id: first,
            kind: Link::Repeat,
            similarity: 0.92,
        };
        s.record_intake(o.id, second, with_links(BUS, vec![link]))
            .await
            .expect("links");

        let seen = s.links(&o.supervisor, second).await.expect("links");
        assert_eq!(seen.len(), 1, "{}", b.name);
        assert_eq!(seen[0].matter_id, first);
        assert_eq!(seen[0].kind, Link::Repeat);
        assert_eq!(seen[0].label_zh, "重复信访");
        assert_eq!(seen[0].direction, LinkDirection::Earlier);
        assert!((seen[0].similarity - 0.92).abs() < 1e-6);
        let back = s.links(&o.supervisor, first).await.expect("links");
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].matter_id, back[0].direction),
            (second, LinkDirection::Later)
        );

        // Unit A handles the first matter but may not see the second (not assigned to it).
        let a = s.links(&o.handler_a, first).await.expect("links");
        assert!(
            a.is_empty(),
            "{}: a linked matter outside the scope is left out",
            b.name
        );
        assert!(matches!(
            s.links(&o.handler_b, first).await,
            Err(StoreError::NotFound)
        ));

        // A re-run replaces the links of the matter.
        s.record_intake(o.id, second, record_of(BUS))
            .await
            .expect("links");
        assert!(s.links(&o.supervisor, second).await.expect("links").is_empty());
    }
}

/// Intake records that arrive together (PostgreSQL writes them with one statement, see
/// `postgres/intake_records.rs`) are each stored whole, a bad one fails alone and leaves nothing
/// behind, and two records of one matter leave one of them, not a mixture.
#[tokio::test]
async fn intake_records_arriving_together_are_each_stored_and_a_bad_one_fails_alone() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let first = register(s, &o, BUS, vec![zhang_san()]).await;
        let mut later = Vec::new();
        for _ in 0..16 {
            later.push(register_only(s, &o, BUS).await);
        }
        let bad = register_only(s, &o, NOISE).await;
        let twice = register_only(s, &o, NOISE).await;
        let repeat_of_first = |similarity: f32| NewLink {
            linked_matter_id: first,
            kind: Link::Repeat,
            similarity,
        };
        let mut records: Vec<(PetitionId, IntakeRecord)> = later
            .iter()
            .enumerate()
            .map(|(i, id)| {
                (
                    *id,
                    with_links(BUS, vec![repeat_of_first(0.5 + i as f32 / 100.0)]),
                )
            })
            .collect();
        let mut wave = records.split_off(12);
        records.push((twice, with_links(NOISE, vec![repeat_of_first(0.45)])));
        records.push((twice, record_of(NOISE)));
        // A link to a matter that was never registered: the store refuses it.
        let nowhere = NewLink {
            linked_matter_id: PetitionId::new(),
            kind: Link::Similar,
            similarity: 0.6,
        };
        wave.insert(2, (bad, with_links(NOISE, vec![nowhere])));
        let mut results = Vec::new();
        // First records that all can be stored, then a wave with the bad one among them.
        for records in [records, wave] {
            let tasks: Vec<_> = records
                .into_iter()
                .map(|(id, record)| {
                    let (store, org) = (std::sync::Arc::clone(&b.store), o.id);
                    tokio::spawn(async move { (id, store.record_intake(org, id, record).await) })
                })
                .collect();
            for t in tasks {
                results.push(t.await.expect("the task ran"));
            }
        }

        for (id, result) in &results {
            assert_eq!(result.is_ok(), *id != bad, "{}: {id} {result:?}", b.name);
        }
        assert!(
            s.triage(&o.supervisor, bad).await.expect("triage").is_none(),
            "{}: nothing of the refused record is kept",
            b.name
        );
        for (i, id) in later.iter().enumerate() {
            let links = s.links(&o.supervisor, *id).await.expect("links");
            assert_eq!(links.len(), 1, "{}: {i}", b.name);
            assert_eq!((links[0].matter_id, links[0].kind), (first, Link::Repeat));
            assert!((links[0].similarity - (0.5 + i as f32 / 100.0)).abs() < 1e-6);
            assert!(s.triage(&o.supervisor, *id).await.expect("triage").is_some());
        }
        let back = s.links(&o.supervisor, first).await.expect("links");
        let twice_links = s.links(&o.supervisor, twice).await.expect("links");
        assert!(twice_links.len() <= 1, "{}: one of the two records", b.name);
        assert_eq!(back.len(), 16 + twice_links.len(), "{}", b.name);
        let log = s.signatures_since(0, &[], 100).await.expect("log");
        let logged: Vec<PetitionId> = log.iter().map(|r| r.matter_id).collect();
        for id in later.iter().chain([&first, &twice]) {
            assert_eq!(logged.iter().filter(|l| *l == id).count(), 1, "{}: {id}", b.name);
        }
        assert!(!logged.contains(&bad), "{}", b.name);
        assert_eq!(
            log.iter()
                .find(|r| r.matter_id == twice)
                .map(|r| r.signature.clone()),
            Some(sig(NOISE).to_bytes())
        );
    }
}

#[tokio::test]
async fn the_repeat_rate_counts_matters_whose_strongest_link_is_a_repeat() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let before = register(s, &o, BUS, vec![zhang_san()]).await;
        b.clock.advance(Duration::days(10));
        let from = b.clock.now();
        let repeat = register(s, &o, BUS, vec![zhang_san()]).await;
        let duplicate = register(s, &o, BUS, vec![zhang_san()]).await;
        let _plain = register(s, &o, NOISE, vec![caller("李四", "13900001111")]).await;
        let link = |to, kind| NewLink {
            linked_matter_id: to,
            kind,
            similarity: 1.0,
        };
        s.record_intake(o.id, repeat, with_links(BUS, vec![link(before, Link::Repeat)]))
            .await
            .expect("links");
        // The same petition received twice: a duplicate of one, even if it also repeats another.
        let both = vec![link(repeat, Link::Duplicate), link(before, Link::Repeat)];
        s.record_intake(o.id, duplicate, with_links(BUS, both))
            .await
            .expect("links");
        let to = from + Duration::days(30);
        let counts = s.repeat_counts(o.id, from, to).await.expect("counts");
        assert_eq!(
            counts,
            RepeatCounts {
                registered: 3,
                repeats: 1
            },
            "{}",
            b.name
        );
        assert_eq!(counts.rate(), Some(1.0 / 3.0));
        let empty = s
            .repeat_counts(o.id, to, to + Duration::days(30))
            .await
            .expect("counts");
        assert_eq!(empty.rate(), None);
    }
}

#[tokio::test]
async fn a_safety_alert_reaches_the_petition_office_once() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let text = "问题拖了半年没人管，我要跳楼！";
        let id = register(s, &o, text, vec![zhang_san()]).await;
        let a = triage::assess(text);
        assert!(a.alerts_supervisor(), "the built-in lexicon alerts on 跳楼");
        let rid = s.raise_safety_alert(o.id, id, &a.alerts).await.expect("alert");
        assert!(rid.is_some(), "{}", b.name);
        assert_eq!(
            s.raise_safety_alert(o.id, id, &a.alerts).await.expect("again"),
            None
        );

        let every = ReminderFilter {
            open_only: false,
            limit: 100,
        };
        let seen = s.reminders(&o.supervisor, every).await.expect("reminders");
        assert_eq!(seen.len(), 1, "{}: once", b.name);
        assert_eq!(seen[0].kind, ReminderKind::SafetyAlert);
        assert_eq!(seen[0].label_zh, "安全预警");
        assert_eq!(
            seen[0].unit_id,
            Some(o.office.id),
            "addressed to the petition office"
        );
        assert_eq!(seen[0].matter_id, id);
        assert!(
            s.reminders(&o.handler_b, every)
                .await
                .expect("reminders")
                .is_empty()
        );

        let events: Vec<_> = s
            .timeline(&o.supervisor, id)
            .await
            .expect("timeline")
            .into_iter()
            .filter(|e| e.kind == EventKind::SafetyAlert)
            .collect();
        assert_eq!(events.len(), 1, "{}", b.name);
        assert_eq!(events[0].actor_kind, ActorKind::System);
        assert_eq!(events[0].label_zh, "安全预警");
        assert_eq!(events[0].data["alerts"][0]["category"], "self_harm");
        assert!(s.verify_audit().await.expect("verify").broken.is_none());

        let stored = s
            .triage(&o.supervisor, id)
            .await
            .expect("triage")
            .expect("assessed");
        assert_eq!(
            stored.assessment, a,
            "{}: the assessment reads back as it was",
            b.name
        );
        assert!(matches!(
            s.triage(&o.handler_b, id).await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn the_lexicon_keeps_its_revisions() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        assert!(s.lexicon(o.id).await.expect("lexicon").is_none());
        assert_eq!(s.lexicon_revision(o.id).await.expect("revision"), 0);
        let mut lexicon = Lexicon::builtin();
        let saved = s
            .save_lexicon(o.id, &Actor::Staff(o.admin.clone()), &lexicon)
            .await
            .expect("save");
        assert_eq!(saved.revision, 1, "{}", b.name);
        lexicon.entries.truncate(3);
        b.clock.advance(Duration::minutes(5));
        let saved = s
            .save_lexicon(o.id, &Actor::Staff(o.admin.clone()), &lexicon)
            .await
            .expect("save");
        assert_eq!(saved.revision, 2);
        let back = s.lexicon(o.id).await.expect("lexicon").expect("saved");
        assert_eq!(back.lexicon, lexicon, "{}", b.name);
        assert_eq!(back.revision, 2);
        assert_eq!(back.updated_by, Some(o.admin.user_id));
        assert_eq!(back.updated_at, b.clock.now());
        assert_eq!(s.lexicon_revision(o.id).await.expect("revision"), 2);
    }
}

#[tokio::test]
async fn a_matter_whose_intake_fails_is_set_aside_and_does_not_block_the_others() {
    for b in backends().await {
        let s = b.store.as_ref();
        let o = Org::create(s, "机场集团", b.name).await;
        let first = register_only(s, &o, BUS).await;
        b.clock.advance(Duration::minutes(1));
        let second = register_only(s, &o, NOISE).await;
        let now = || b.clock.now();
        assert_eq!(
            s.matters_without_intake(o.id, now(), 1).await.expect("list"),
            [first]
        );

        // The oldest fails: the next run takes the one behind it.
        assert_eq!(
            s.record_intake_failure(o.id, first, "signature: bad text", now())
                .await
                .expect("fail"),
            1
        );
        assert_eq!(
            s.matters_without_intake(o.id, now(), 1).await.expect("list"),
            [second],
            "{}",
            b.name
        );
        // Five minutes later it is tried again; a second failure waits ten.
        b.clock.advance(Duration::minutes(5));
        assert_eq!(
            s.matters_without_intake(o.id, now(), 1).await.expect("list"),
            [first]
        );
        assert_eq!(
            s.record_intake_failure(o.id, first, "again", now())
                .await
                .expect("fail"),
            2
        );
        b.clock.advance(Duration::minutes(9));
        assert_eq!(
            s.matters_without_intake(o.id, now(), 5).await.expect("list"),
            [second]
        );
        b.clock.advance(Duration::minutes(1));
        assert_eq!(
            s.matters_without_intake(o.id, now(), 5).await.expect("list"),
            [first, second]
        );

        // Once recorded, the failures are forgotten and the matter is off the list.
        s.record_intake(o.id, first, record_of(BUS))
            .await
            .expect("record");
        assert_eq!(
            s.matters_without_intake(o.id, now(), 5).await.expect("list"),
            [second]
        );
        assert_eq!(
            s.record_intake_failure(o.id, first, "a later re-run failed", now())
                .await
                .expect("fail"),
            1,
            "{}: counting starts again",
            b.name
        );
        assert!(matches!(
            s.record_intake_failure(o.id, PetitionId::new(), "x", now()).await,
            Err(StoreError::NotFound)
        ));
    }
}
