//! Properties of the generated demo data that the loader and the demo rely on.

use chrono::{Datelike, Duration, NaiveDate, Timelike, Weekday};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use xinfang_core::matter::{Channel, PetitionType, State};
use xinfang_core::petitioner::{DocumentKind, IdDocument, PhoneNumber};
use xinfang_demo::{DemoConfig, DemoMatter, categories, generate};

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
}

fn config() -> DemoConfig {
    DemoConfig {
        matters: 3000,
        seed: 42,
        end: end(),
        months: 12,
    }
}

static MATTERS: LazyLock<Vec<DemoMatter>> = LazyLock::new(|| generate(&config()));

fn share(n: usize) -> f64 {
    n as f64 / MATTERS.len() as f64
}

fn replied_or_later(s: State) -> bool {
    matches!(
        s,
        State::Replied
            | State::FollowUp
            | State::Review
            | State::Reviewed
            | State::Recheck
            | State::Concluded
            | State::Archived
    )
}

#[test]
fn deterministic_for_a_seed() {
    let cfg = DemoConfig {
        matters: 400,
        ..config()
    };
    assert_eq!(generate(&cfg), generate(&cfg));
    let other = generate(&DemoConfig {
        seed: 43,
        ..cfg.clone()
    });
    assert_ne!(generate(&cfg), other);
    assert_eq!(MATTERS.len(), 3000);
}

#[test]
fn covers_every_channel_and_state() {
    let channels: HashSet<_> = MATTERS.iter().map(|m| m.channel).collect();
    for c in Channel::ALL {
        assert!(channels.contains(c), "{c}");
    }
    let states: HashSet<_> = MATTERS.iter().map(|m| m.target).collect();
    for s in State::ALL {
        assert!(states.contains(s), "{s}");
    }
    let types: HashSet<_> = MATTERS.iter().map(|m| m.petition_type).collect();
    assert_eq!(types.len(), PetitionType::ALL.len());
    let cats: HashSet<_> = MATTERS.iter().map(|m| m.category).collect();
    assert_eq!(cats.len(), categories().len());
}

#[test]
fn channel_volumes_are_ranked() {
    let mut count: HashMap<Channel, usize> = HashMap::new();
    for m in MATTERS.iter() {
        *count.entry(m.channel).or_default() += 1;
    }
    let max = count.values().max().copied().unwrap_or(0);
    assert_eq!(count[&Channel::Hotline12345], max);
    assert!(count[&Channel::Website] > count[&Channel::WalkIn]);
    assert!(count[&Channel::Open311] < count[&Channel::Letter]);
    assert!(count[&Channel::Open311] > 0);
}

#[test]
fn phones_and_id_numbers_are_valid() {
    let mut people = 0;
    let mut ids = 0;
    for p in MATTERS.iter().flat_map(|m| &m.petitioners) {
        people += 1;
        assert!(p.name.chars().count() >= 2);
        if let Some(phone) = &p.phone {
            let parsed = PhoneNumber::parse(phone).unwrap_or_else(|e| panic!("{phone}: {e}"));
            assert_eq!(parsed.as_str(), phone);
        }
        if let Some(id) = &p.id_number {
            ids += 1;
            IdDocument::parse(DocumentKind::ResidentId, id).unwrap_or_else(|e| panic!("{id}: {e}"));
            let year: i32 = id[6..10].parse().unwrap();
            assert!((1950..=2004).contains(&year), "{id}");
        }
    }
    let id_share = ids as f64 / people as f64;
    assert!((0.3..=0.55).contains(&id_share), "{id_share}");
}

#[test]
fn contents_are_varied() {
    let mut seen = HashSet::new();
    let dups = MATTERS
        .iter()
        .filter(|m| !seen.insert(m.content.as_str()))
        .count();
    assert!(share(dups) < 0.02, "{dups} duplicate contents");
    let examples: HashSet<String> = categories().into_iter().flat_map(|c| c.examples).collect();
    assert!(MATTERS.iter().all(|m| !examples.contains(&m.content)));
    let titles: HashSet<_> = MATTERS.iter().map(|m| m.title.as_str()).collect();
    assert!(titles.len() > 600, "{} titles", titles.len());
}

#[test]
fn texts_have_the_right_shape() {
    let mut long = 0;
    for m in MATTERS.iter() {
        let t = m.title.chars().count();
        let c = m.content.chars().count();
        assert!((1..=60).contains(&t), "{}", m.title);
        assert!((40..=600).contains(&c), "{c}: {}", m.content);
        if c > 200 {
            long += 1;
        }
        for text in [
            Some(&m.title),
            Some(&m.content),
            m.reply.as_ref(),
            m.location.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            assert!(!text.contains('{') && !text.contains('}'), "{text}");
        }
    }
    assert!(share(long) > 0.05, "{long} long contents");
}

#[test]
fn repeats_point_back_to_the_same_petitioner() {
    let mut repeats = 0;
    for (i, m) in MATTERS.iter().enumerate() {
        let Some(j) = m.repeat_of else { continue };
        repeats += 1;
        assert!(j < i);
        let earlier = &MATTERS[j];
        assert!(earlier.registered_at < m.registered_at);
        assert_eq!(earlier.category, m.category);
        let phones = |x: &DemoMatter| -> HashSet<String> {
            x.petitioners.iter().filter_map(|p| p.phone.clone()).collect()
        };
        let (a, b) = (phones(earlier), phones(m));
        assert!(
            !a.is_empty() && a.intersection(&b).next().is_some(),
            "#{i} -> #{j}"
        );
    }
    assert!((0.015..=0.05).contains(&share(repeats)), "{repeats} repeats");
}

#[test]
fn anonymity_only_where_allowed() {
    let mut anonymous = 0;
    for m in MATTERS.iter() {
        if m.petitioners.is_empty() {
            anonymous += 1;
            assert!(m.petition_type.allows_anonymous(), "{:?}", m.petition_type);
        }
    }
    assert!(anonymous > 0);
    let reports = MATTERS.iter().filter(|m| m.petition_type == PetitionType::Report);
    assert!(reports.clone().any(|m| m.petitioners.is_empty()));
    assert!(reports.clone().any(|m| !m.petitioners.is_empty()));
}

#[test]
fn group_petitions() {
    let groups: Vec<_> = MATTERS.iter().filter(|m| m.people_count >= 5).collect();
    assert!((0.01..=0.04).contains(&share(groups.len())), "{}", groups.len());
    for g in &groups {
        assert!((5..=60).contains(&g.people_count));
        assert!((3..=6).contains(&g.petitioners.len()));
    }
    let walk_in = groups.iter().filter(|g| g.channel == Channel::WalkIn).count();
    assert!(walk_in * 2 > groups.len());
}

#[test]
fn lifecycle_fields_agree_with_the_target() {
    for m in MATTERS.iter() {
        assert_eq!(m.decline_reason.is_some(), m.target == State::NotAccepted);
        assert_eq!(m.reply.is_some(), replied_or_later(m.target), "{:?}", m.target);
        let rated = replied_or_later(m.target) && m.target != State::Replied;
        assert_eq!(m.satisfaction.is_some(), rated, "{:?}", m.target);
        assert!(m.extension_days.is_none_or(|d| (1..=30).contains(&d)));
        if matches!(m.target, State::Review | State::Reviewed | State::Recheck) {
            assert_eq!(m.satisfaction.map(|s| s.is_positive()), Some(false));
        }
        if m.target == State::NotAccepted || m.target == State::Registered {
            assert_eq!(m.handling_days, 0);
        }
        let age = (end() - (m.registered_at + Duration::hours(8)).date_naive()).num_days();
        assert!(
            i64::from(m.handling_days) <= age.max(0),
            "{} > {age}",
            m.handling_days
        );
    }
    let rated: Vec<_> = MATTERS.iter().filter_map(|m| m.satisfaction).collect();
    let positive = rated.iter().filter(|s| s.is_positive()).count() as f64 / rated.len() as f64;
    assert!((0.93..=0.98).contains(&positive), "{positive}");
    let overdue = MATTERS.iter().filter(|m| m.is_overdue()).count();
    assert!((0.025..=0.06).contains(&share(overdue)), "{overdue} overdue");
    let extended = MATTERS.iter().filter(|m| m.extension_days.is_some()).count();
    assert!(extended > 20);
    let declined = MATTERS.iter().filter(|m| m.target == State::NotAccepted).count();
    assert!((0.01..=0.08).contains(&share(declined)), "{declined}");
}

#[test]
fn recent_matters_are_early_and_old_ones_done() {
    let early = [
        State::Registered,
        State::Accepted,
        State::Classified,
        State::Assigned,
        State::InProgress,
        State::NotAccepted,
    ];
    let (mut recent, mut recent_early, mut old, mut old_done) = (0, 0, 0, 0);
    for m in MATTERS.iter() {
        let age = (end() - (m.registered_at + Duration::hours(8)).date_naive()).num_days();
        if age <= 7 {
            recent += 1;
            recent_early += usize::from(early.contains(&m.target));
        }
        if age > 120 {
            old += 1;
            old_done += usize::from(matches!(m.target, State::Concluded | State::Archived));
        }
    }
    assert!(
        recent > 0 && recent_early * 10 >= recent * 6,
        "{recent_early}/{recent}"
    );
    assert!(old_done * 10 >= old * 9, "{old_done}/{old}");
}

#[test]
fn time_follows_the_office_and_the_seasons() {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut by_month = [0usize; 13];
    let (mut monday, mut sunday) = (0, 0);
    let mut night_online = 0;
    for (i, m) in MATTERS.iter().enumerate() {
        if i > 0 {
            assert!(MATTERS[i - 1].registered_at <= m.registered_at);
        }
        let local = m.registered_at + Duration::hours(8);
        let day = local.date_naive();
        assert!(day >= start && day <= end(), "{day}");
        by_month[day.month() as usize] += 1;
        let hm = local.hour() * 100 + local.minute();
        match m.channel {
            Channel::WalkIn | Channel::Phone | Channel::Letter => {
                assert!((830..1730).contains(&hm), "{:?} at {hm}", m.channel);
                match day.weekday() {
                    Weekday::Mon => monday += 1,
                    Weekday::Sun => sunday += 1,
                    _ => {}
                }
            }
            _ if local.hour() < 7 || local.hour() >= 22 => night_online += 1,
            _ => {}
        }
    }
    assert!(monday > 4 * sunday.max(1), "{monday} vs {sunday}");
    assert!(night_online > 30);
    let peak = (by_month[1] + by_month[2] + by_month[7] + by_month[8]) as f64 / 4.0;
    let quiet = (by_month[3] + by_month[11]) as f64 / 2.0;
    assert!(peak > 1.2 * quiet, "{by_month:?}");
}

#[test]
fn external_ids() {
    let mut seen = HashSet::new();
    for m in MATTERS.iter() {
        match m.channel {
            Channel::WalkIn | Channel::Phone | Channel::Letter => assert!(m.external_id.is_none()),
            c => {
                let id = m
                    .external_id
                    .as_deref()
                    .unwrap_or_else(|| panic!("{c} without id"));
                assert!(seen.insert(id.to_string()), "duplicate {id}");
                if c == Channel::Hotline12345 {
                    assert!(id.starts_with("GD2025") && id.len() == 16, "{id}");
                }
            }
        }
    }
}

#[test]
fn other_periods_work() {
    let ms = generate(&DemoConfig {
        matters: 500,
        seed: 7,
        end: NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
        months: 18,
    });
    assert_eq!(ms.len(), 500);
    let first = (ms[0].registered_at + Duration::hours(8)).date_naive();
    assert!(first >= NaiveDate::from_ymd_opt(2024, 9, 16).unwrap());
    assert!(
        generate(&DemoConfig {
            matters: 0,
            ..config()
        })
        .is_empty()
    );
}

#[test]
fn chunks_cover_the_plan_with_unique_external_ids_and_are_deterministic() {
    let cfg = DemoConfig {
        matters: 5000,
        seed: 9,
        end: end(),
        months: 36,
    };
    let chunks = xinfang_demo::Chunks::new(&cfg, 1200);
    assert_eq!(chunks.len(), 5);
    let all: Vec<DemoMatter> = (0..chunks.len()).flat_map(|k| chunks.chunk(k)).collect();
    // A planned matter is only skipped when its channel has no topic, which never happens.
    assert_eq!(all.len(), 5000);
    assert!(
        all.windows(2).all(|w| w[0].registered_at <= w[1].registered_at),
        "time order"
    );
    let first = all.first().unwrap().registered_at.date_naive();
    assert!((end() - first).num_days() > 900, "three years: from {first}");
    let mut ids = HashSet::new();
    for m in &all {
        if let Some(e) = &m.external_id {
            assert!(ids.insert((m.channel, e.clone())), "duplicate external id {e}");
        }
    }
    assert_eq!(chunks.chunk(3), chunks.chunk(3), "deterministic");
    assert!(chunks.chunk(5).is_empty());
}
