//! The matter generator: who comes through which channel when, about what, and how far the
//! office has got with it by the end of the period.
//!
//! Registration times are drawn first (per channel, with the seasonal and weekly rhythm of
//! [`crate::timeline`]) and sorted, then each matter is built in time order so that a repeat
//! petition can point back to an earlier matter of the same petitioner. The target state
//! depends on the matter's age at `end`: last weeks' matters are still early in the lifecycle,
//! older ones are mostly replied, concluded or archived.

use crate::people::{DemoPetitioner, Person, PersonSpec, person};
use crate::taxonomy::{DemoCategory, categories};
use crate::text::{self, Composed, Ctx, ReplySpec, Spec, Tone};
use crate::timeline::{DaySampler, time_of_day};
use crate::topics::{Audience, Place, Speaker, Topic, topic_for};
use crate::vocab::{pick, pick_weighted};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use xinfang_core::matter::{Channel, DeclineReason, PetitionType, Satisfaction, State, Urgency};

/// How much demo data to generate, and for which period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Number of matters.
    pub matters: usize,
    /// Seed of the random generator: the same config always gives the same matters.
    pub seed: u64,
    /// Last day of the period (Beijing time), inclusive.
    pub end: NaiveDate,
    /// Length of the period in months.
    pub months: u32,
}

impl Default for DemoConfig {
    /// About the yearly volume of the airport group of DESIGN.md, over twelve months of 2025.
    fn default() -> Self {
        Self {
            matters: 2400,
            seed: 20_250_101,
            // A valid constant date.
            end: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or(NaiveDate::MIN),
            months: 12,
        }
    }
}

/// One generated petition matter, with the state the loader drives it to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoMatter {
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// The intake channel.
    pub channel: Channel,
    /// The channel's own id: a 12345 work order number (`GD2025…`), a website message id, an
    /// e-mail Message-ID…; `None` for walk-in, phone and letter. Unique.
    pub external_id: Option<String>,
    /// At most 60 characters.
    pub title: String,
    /// 40–600 characters.
    pub content: String,
    /// Where it happened (T2航站楼出发层, P2停车楼, a village by the runway…).
    pub location: Option<String>,
    /// Index into [`crate::categories()`].
    pub category: usize,
    /// The petition type.
    pub petition_type: PetitionType,
    /// How urgent it is.
    pub urgency: Urgency,
    /// Number of people behind it; 5 or more is a group petition.
    pub people_count: u32,
    /// The named petitioners; empty means anonymous (only suggestions and reports).
    pub petitioners: Vec<DemoPetitioner>,
    /// The state the loader drives the matter to.
    pub target: State,
    /// Set exactly when `target` is [`State::NotAccepted`].
    pub decline_reason: Option<DeclineReason>,
    /// Days from acceptance to the reply; for a matter not replied yet, the days since
    /// acceptance (registration + 1 day) up to `end`; 0 when not accepted or just registered.
    /// Over 60 without an extension is overdue.
    pub handling_days: u32,
    /// The granted extension (at most 30 days), if any.
    pub extension_days: Option<u32>,
    /// The petitioner's rating, set when `target` is follow_up or later.
    pub satisfaction: Option<Satisfaction>,
    /// Index of an earlier matter of the same petitioner (same phone) about the same thing (in
    /// the same [`Chunks::chunk`](crate::Chunks::chunk) for chunked generation).
    pub repeat_of: Option<usize>,
    /// The reply (处理意见), set when `target` is replied or later.
    pub reply: Option<String>,
}

impl DemoMatter {
    /// Whether the matter is overdue at the end of the period: replied after more than 60
    /// days without an extension (or after 60 days plus the extension), or still not replied
    /// that long after acceptance.
    pub fn is_overdue(&self) -> bool {
        let limit = 60 + self.extension_days.unwrap_or(0);
        self.target != State::NotAccepted && self.handling_days > limit
    }
}

/// Channel codes in order with their share of the intake.
const CHANNELS: &[(Channel, f64)] = &[
    (Channel::Hotline12345, 32.0),
    (Channel::Website, 18.0),
    (Channel::Phone, 13.0),
    (Channel::Wechat, 12.0),
    (Channel::WalkIn, 9.0),
    (Channel::Letter, 5.5),
    (Channel::Email, 4.5),
    (Channel::LeaderMailbox, 4.0),
    (Channel::Open311, 2.0),
];

/// How much an audience prefers a channel, in the order of [`CHANNELS`].
fn affinity(a: Audience) -> [f64; 9] {
    match a {
        Audience::Passenger => [1.3, 1.0, 1.0, 1.3, 0.3, 0.3, 1.0, 0.4, 1.0],
        Audience::Community => [1.0, 0.6, 1.0, 0.5, 2.8, 2.0, 0.3, 0.8, 0.6],
        Audience::Staff => [0.35, 0.8, 1.0, 0.8, 1.6, 1.2, 1.2, 3.2, 0.1],
        Audience::Business => [0.6, 0.8, 1.2, 0.7, 2.0, 1.5, 1.2, 1.5, 0.2],
        Audience::Integrity => [0.3, 1.0, 0.6, 0.6, 0.6, 2.5, 1.5, 3.0, 0.1],
        Audience::Public => [1.3, 1.0, 1.5, 1.5, 0.3, 0.2, 0.6, 0.2, 1.0],
    }
}

/// Share of group petitions per channel.
fn group_share(c: Channel) -> f64 {
    match c {
        Channel::WalkIn => 0.17,
        Channel::Letter => 0.06,
        Channel::LeaderMailbox => 0.02,
        Channel::Phone | Channel::Hotline12345 => 0.003,
        _ => 0.0,
    }
}

/// Weighted (category, issue) pairs for one channel.
struct Table {
    entries: Vec<(usize, usize)>,
    weights: Vec<f64>,
}

fn tables(topics: &[&'static Topic], group: bool) -> Vec<Table> {
    (0..CHANNELS.len())
        .map(|ch| {
            let mut entries = Vec::new();
            let mut weights = Vec::new();
            for (cat, t) in topics.iter().enumerate() {
                let aff = affinity(t.audience)[ch];
                for (ii, issue) in t.issues.iter().enumerate() {
                    if group && !issue.group {
                        continue;
                    }
                    entries.push((cat, ii));
                    weights.push(t.weight / t.issues.len() as f64 * aff);
                }
            }
            Table { entries, weights }
        })
        .collect()
}

/// What the generator remembers of each matter for repeats.
struct Meta {
    local: NaiveDateTime,
    issue: usize,
    speaker: Speaker,
    persons: Vec<Person>,
    body: String,
    core: String,
    tone: Tone,
}

/// Beijing time to UTC.
fn to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(local - Duration::hours(8)))
}

/// Per-channel running numbers for external ids.
#[derive(Default)]
struct Seq {
    hotline: u64,
    other: [u64; 9],
}

fn external_id<R: Rng + ?Sized>(
    rng: &mut R,
    seq: &mut Seq,
    ch: usize,
    c: Channel,
    local: NaiveDateTime,
) -> Option<String> {
    let day = local.format("%Y%m%d");
    seq.other[ch] += 1;
    let n = seq.other[ch];
    match c {
        Channel::Hotline12345 => {
            // The hotline centre numbers orders for the whole city; ours are a sparse subset.
            seq.hotline += rng.random_range(7..160);
            Some(format!("GD{day}{:06}", seq.hotline % 1_000_000))
        }
        Channel::Website => Some(format!("LY{day}{n:05}")),
        Channel::Wechat => Some(format!("WX{}{n:04}", local.format("%Y%m%d%H%M"))),
        Channel::Email => Some(format!(
            "<{}.{:08x}{n:04x}@{}>",
            local.format("%Y%m%d%H%M%S"),
            rng.random::<u32>(),
            pick(
                rng,
                &[
                    "qq.com",
                    "163.com",
                    "126.com",
                    "sina.com",
                    "foxmail.com",
                    "outlook.com"
                ]
            )
        )),
        Channel::LeaderMailbox => Some(format!("LDXX-{}-{n:05}", local.year())),
        Channel::Open311 => Some(format!("311-{day}-{n:04}")),
        Channel::WalkIn | Channel::Phone | Channel::Letter => None,
    }
}

/// The target state of a matter registered `age` days before `end`.
fn state_for_age<R: Rng + ?Sized>(rng: &mut R, age: i64, hotline: bool) -> State {
    use State::*;
    let (states, weights): (&[State], &[f64]) = match age {
        i64::MIN..=0 => (&[Registered, Accepted, Classified], &[0.55, 0.3, 0.15]),
        1..=2 => (
            &[Registered, Accepted, Classified, Assigned, InProgress],
            &[0.1, 0.2, 0.25, 0.3, 0.15],
        ),
        3..=9 => (
            &[Assigned, InProgress, Replied, FollowUp],
            if hotline {
                &[0.1, 0.4, 0.3, 0.2]
            } else {
                &[0.2, 0.6, 0.15, 0.05]
            },
        ),
        10..=29 => (
            &[InProgress, Replied, FollowUp, Concluded],
            &[0.3, 0.25, 0.3, 0.15],
        ),
        30..=59 => (
            &[InProgress, Replied, FollowUp, Concluded],
            &[0.07, 0.1, 0.33, 0.5],
        ),
        60..=119 => (
            &[Replied, FollowUp, Concluded, Archived],
            &[0.02, 0.08, 0.55, 0.35],
        ),
        _ => (&[FollowUp, Concluded, Archived], &[0.01, 0.27, 0.72]),
    };
    states[pick_weighted(rng, weights).min(states.len() - 1)]
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

fn rated(s: State) -> bool {
    replied_or_later(s) && s != State::Replied
}

/// Generates `cfg.matters` matters, sorted by `registered_at`. Deterministic for a config.
pub fn generate(cfg: &DemoConfig) -> Vec<DemoMatter> {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let cats = categories();
    let topics: Vec<&'static Topic> = cats.iter().map(|c| topic_for(&c.sub)).collect();
    let single = tables(&topics, false);
    let group = tables(&topics, true);
    let plan = plan(cfg, &mut rng);

    let mut g = Generator {
        rng,
        cfg,
        cats: &cats,
        topics: &topics,
        single,
        group,
        seq: Seq {
            hotline: 0,
            other: [0; 9],
        },
        out: Vec::with_capacity(cfg.matters),
        metas: Vec::with_capacity(cfg.matters),
    };
    g.seq.hotline = g.rng.random_range(1000..20_000);
    for (local, ch) in plan {
        g.one(local, ch);
    }
    g.out
}

/// The (local registration time, channel index) of every matter, in time order.
fn plan(cfg: &DemoConfig, rng: &mut StdRng) -> Vec<(NaiveDateTime, usize)> {
    let sampler = DaySampler::new(cfg.end, cfg.months);
    let channel_weights: Vec<f64> = CHANNELS.iter().map(|(_, w)| *w).collect();
    let mut plan: Vec<(NaiveDateTime, usize)> = (0..cfg.matters)
        .map(|_| {
            let ch = pick_weighted(rng, &channel_weights);
            let c = CHANNELS[ch].0;
            let day = sampler.day(rng, c);
            (time_of_day(rng, c, day), ch)
        })
        .collect();
    plan.sort();
    plan
}

/// A large volume of matters (a million) cut into chunks of consecutive registration times
/// that can be built independently, on several threads, without holding all of them in memory.
///
/// The registration times are planned for the whole period at once, as [`generate`] does; each
/// chunk then has a generator of its own, seeded from the config's seed and the chunk's number,
/// so the result is deterministic whatever the order the chunks are built in. Repeat petitions
/// point back to an earlier matter of the same chunk only. External ids stay unique across
/// chunks: each chunk starts its running numbers where the matters planned before it could
/// have taken them.
pub struct Chunks {
    cfg: DemoConfig,
    plan: Vec<(NaiveDateTime, usize)>,
    size: usize,
}

impl Chunks {
    /// Plans `cfg.matters` matters in chunks of `size`.
    pub fn new(cfg: &DemoConfig, size: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        Self {
            cfg: cfg.clone(),
            plan: plan(cfg, &mut rng),
            size: size.max(1),
        }
    }

    /// How many chunks there are.
    pub fn len(&self) -> usize {
        self.plan.len().div_ceil(self.size)
    }

    /// Whether there is no chunk at all.
    pub fn is_empty(&self) -> bool {
        self.plan.is_empty()
    }

    /// The matters of chunk `k` (`0..len()`), sorted by `registered_at`; empty past the end.
    pub fn chunk(&self, k: usize) -> Vec<DemoMatter> {
        let start = (k * self.size).min(self.plan.len());
        let end = (start + self.size).min(self.plan.len());
        let cats = categories();
        let topics: Vec<&'static Topic> = cats.iter().map(|c| topic_for(&c.sub)).collect();
        let mut seq = Seq {
            hotline: 0,
            other: [0; 9],
        };
        for &(_, ch) in &self.plan[..start] {
            seq.other[ch] += 1;
        }
        // Above anything the chunks before could have reached (at most 160 per hotline order).
        seq.hotline = 20_000 + 160 * seq.other[0];
        let mut g = Generator {
            rng: StdRng::seed_from_u64(self.cfg.seed ^ (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            cfg: &self.cfg,
            cats: &cats,
            single: tables(&topics, false),
            group: tables(&topics, true),
            topics: &topics,
            seq,
            out: Vec::with_capacity(end - start),
            metas: Vec::with_capacity(end - start),
        };
        for &(local, ch) in &self.plan[start..end] {
            g.one(local, ch);
        }
        g.out
    }
}

struct Generator<'a> {
    rng: StdRng,
    cfg: &'a DemoConfig,
    cats: &'a [DemoCategory],
    topics: &'a [&'static Topic],
    single: Vec<Table>,
    group: Vec<Table>,
    seq: Seq,
    out: Vec<DemoMatter>,
    metas: Vec<Meta>,
}

impl Generator<'_> {
    fn one(&mut self, local: NaiveDateTime, ch: usize) {
        let channel = CHANNELS[ch].0;
        if self.rng.random_bool(0.032)
            && let Some(j) = self.repeat_origin(local)
        {
            self.repeat(local, ch, j);
            return;
        }
        let rng = &mut self.rng;
        let is_group = !self.group[ch].entries.is_empty() && rng.random_bool(group_share(channel));
        let table = if is_group {
            &self.group[ch]
        } else {
            &self.single[ch]
        };
        let Some(&(cat, ii)) = table.entries.get(pick_weighted(rng, &table.weights)) else {
            return;
        };
        let topic = self.topics[cat];
        let issue = &topic.issues[ii];
        let kind = issue.kind.unwrap_or(self.cats[cat].petition_type);
        let speaker = issue.speakers.choose(rng).copied().unwrap_or(Speaker::Public);
        let people = if is_group {
            match rng.random_range(0..10) {
                0..=5 => rng.random_range(5..=15),
                6..=8 => rng.random_range(16..=30),
                _ => rng.random_range(31..=60),
            }
        } else if kind == PetitionType::Appeal && rng.random_bool(0.06) {
            rng.random_range(2..=4)
        } else {
            1
        };
        let ctx = Ctx::new(rng, local, people);
        let anonymous_channel = matches!(
            channel,
            Channel::Website | Channel::Letter | Channel::Email | Channel::LeaderMailbox | Channel::Wechat
        );
        let anonymous = kind.allows_anonymous()
            && !is_group
            && anonymous_channel
            && rng.random_bool(if kind == PetitionType::Report { 0.45 } else { 0.12 });
        let persons = if anonymous {
            Vec::new()
        } else {
            let n = if is_group { rng.random_range(3..=6) } else { 1 };
            (0..n)
                .map(|k| {
                    let spec = PersonSpec {
                        speaker,
                        village: ctx.village,
                        phone: k == 0 && !(channel == Channel::Letter && rng.random_bool(0.15))
                            || k > 0 && rng.random_bool(0.7),
                        id_p: id_share(channel),
                        address_p: match (speaker, channel) {
                            (_, Channel::Letter) => 0.95,
                            (Speaker::Resident, _) => 0.8,
                            (_, Channel::WalkIn) => 0.5,
                            _ => 0.12,
                        },
                    };
                    person(rng, &spec)
                })
                .collect()
        };
        let people = people.max(persons.len() as u32);
        let tone = tone(rng, is_group, speaker, kind);
        let spec = Spec {
            topic,
            issue,
            kind,
            speaker,
            channel,
            group: is_group,
            first: persons.first(),
            names: persons.iter().map(|p| p.petitioner.name.clone()).collect(),
            people,
            tone,
        };
        let composed = text::compose(rng, &spec, &ctx);
        let place = if speaker == Speaker::Worker {
            Place::Worksite
        } else {
            topic.place
        };
        let spot = if speaker == Speaker::Worker {
            None
        } else {
            issue.spot
        };
        let location = text::location(rng, spot, place, &ctx);
        let urgency = urgency(rng, topic, speaker, is_group, tone, local);
        let age = (self.cfg.end - local.date()).num_days();

        let decline_p = topic.decline_p + if anonymous { 0.06 } else { 0.0 };
        let declined = age >= 1 && rng.random_bool(decline_p.min(1.0));
        let decline = declined.then(|| match topic.decline {
            DeclineReason::InsufficientInformation if !anonymous => DeclineReason::OutOfScope,
            _ if anonymous => DeclineReason::InsufficientInformation,
            r if rng.random_bool(0.85) => r,
            _ => *[DeclineReason::OutOfScope, DeclineReason::Other]
                .choose(rng)
                .unwrap_or(&DeclineReason::Other),
        });
        let m = self.finish_matter(FinishSpec {
            local,
            ch,
            cat,
            kind,
            urgency,
            people,
            persons: &persons,
            composed: &composed,
            location,
            decline,
            repeat_of: None,
            dissatisfied_p: 0.02,
            ctx: &ctx,
            issue: ii,
        });
        self.out.push(m);
        self.metas.push(Meta {
            local,
            issue: ii,
            speaker,
            persons,
            body: composed.body,
            core: composed.title_core,
            tone,
        });
    }

    /// An earlier matter (1–180 days before) whose first petitioner left a phone number.
    fn repeat_origin(&mut self, local: NaiveDateTime) -> Option<usize> {
        let from = local - Duration::days(180);
        let until = local - Duration::days(1);
        let candidates: Vec<usize> = self
            .metas
            .iter()
            .enumerate()
            .rev()
            .take_while(|(_, m)| m.local > from)
            .filter(|(_, m)| m.local < until)
            .filter(|(_, m)| m.persons.first().is_some_and(|p| p.petitioner.phone.is_some()))
            .map(|(i, _)| i)
            .collect();
        candidates.choose(&mut self.rng).copied()
    }

    fn repeat(&mut self, local: NaiveDateTime, ch: usize, j: usize) {
        let channel = CHANNELS[ch].0;
        let earlier = &self.out[j];
        let meta = &self.metas[j];
        let cat = earlier.category;
        let topic = self.topics[cat];
        let ii = meta.issue;
        let issue = &topic.issues[ii];
        let kind = earlier.petition_type;
        let people = earlier.people_count;
        let persons = meta.persons.clone();
        let speaker = meta.speaker;
        let earlier_target = earlier.target;
        let earlier_day = format!("{}月{}日", meta.local.month(), meta.local.day());
        let body = meta.body.clone();
        let core = meta.core.clone();
        let tone = match meta.tone {
            Tone::Polite | Tone::Neutral if self.rng.random_bool(0.5) => Tone::Anxious,
            Tone::Polite | Tone::Neutral => Tone::Angry,
            t => t,
        };
        let rng = &mut self.rng;
        let ctx = Ctx::new(rng, local, people);
        let spec = Spec {
            topic,
            issue,
            kind,
            speaker,
            channel,
            group: people >= 5,
            first: persons.first(),
            names: persons.iter().map(|p| p.petitioner.name.clone()).collect(),
            people,
            tone,
        };
        let composed = text::compose_repeat(rng, &spec, &ctx, &earlier_day, &body, &core);
        let location = self.out[j].location.clone();
        let urgency = if rng.random_bool(0.35) {
            Urgency::Urgent
        } else {
            self.out[j].urgency
        };
        let age = (self.cfg.end - local.date()).num_days();
        let gap = (local - meta_local(&self.metas, j)).num_days();
        let decline = if age < 1 {
            None
        } else if matches!(earlier_target, State::Concluded | State::Archived)
            && self.out[j].satisfaction == Some(Satisfaction::Dissatisfied)
            && rng.random_bool(0.6)
        {
            Some(DeclineReason::AlreadyConcluded)
        } else if gap < 20 && rng.random_bool(0.2) {
            Some(DeclineReason::Duplicate)
        } else {
            None
        };
        let m = self.finish_matter(FinishSpec {
            local,
            ch,
            cat,
            kind,
            urgency,
            people,
            persons: &persons,
            composed: &composed,
            location,
            decline,
            repeat_of: Some(j),
            dissatisfied_p: 0.12,
            ctx: &ctx,
            issue: ii,
        });
        self.out.push(m);
        self.metas.push(Meta {
            local,
            issue: ii,
            speaker,
            persons,
            body,
            core,
            tone,
        });
    }

    fn finish_matter(&mut self, f: FinishSpec<'_>) -> DemoMatter {
        let channel = CHANNELS[f.ch].0;
        let rng = &mut self.rng;
        let age = (self.cfg.end - f.local.date()).num_days();
        let elapsed = u32::try_from((age - 1).max(0)).unwrap_or(0);
        let hotline = channel == Channel::Hotline12345;

        let mut extension_days = None;
        let mut satisfaction = None;
        let mut appealed = false;
        let target = if f.decline.is_some() {
            State::NotAccepted
        } else {
            let mut s = state_for_age(rng, age, hotline);
            if age > 62 && rng.random_bool(0.015) {
                s = State::InProgress;
            } else if (56..=86).contains(&age) && rng.random_bool(0.012) {
                s = State::InProgress;
                extension_days = Some(rng.random_range(15..=30).max(elapsed.saturating_sub(59)).min(30));
            } else if age >= 45 && rated(s) && rng.random_bool(0.025) {
                appealed = true;
                s = match age {
                    45..=79 => State::Review,
                    80..=119 => *[State::Review, State::Reviewed]
                        .choose(rng)
                        .unwrap_or(&State::Review),
                    _ => *[State::Reviewed, State::Recheck, State::Recheck, State::Concluded]
                        .choose(rng)
                        .unwrap_or(&State::Recheck),
                };
            }
            s
        };

        let handling_days = match target {
            State::NotAccepted | State::Registered => 0,
            s if replied_or_later(s) => {
                // Leave room after the reply for the appeal steps.
                let reserve = match s {
                    State::Review => 10,
                    State::Reviewed => 40,
                    State::Recheck => 50,
                    State::Concluded if appealed => 70,
                    State::FollowUp | State::Concluded | State::Archived => 2,
                    _ => 0,
                };
                let room = elapsed.saturating_sub(reserve).max(1);
                let h = if rng.random_bool(0.03) {
                    rng.random_range(61..=85)
                } else if rng.random_bool(0.03) {
                    let ext = rng.random_range(15..=30);
                    extension_days = Some(ext);
                    rng.random_range(55..=60 + ext)
                } else if hotline {
                    rng.random_range(1..=8)
                } else {
                    match pick_weighted(rng, &[0.35, 0.4, 0.2, 0.05]) {
                        0 => rng.random_range(2..=10),
                        1 => rng.random_range(11..=30),
                        2 => rng.random_range(31..=55),
                        _ => rng.random_range(56..=60),
                    }
                };
                h.min(room)
            }
            _ => elapsed,
        };
        if extension_days.is_some_and(|e| handling_days <= 50 && e > 0) {
            // The clamp above shortened the handling: no extension was needed.
            extension_days = None;
        }

        if rated(target) {
            satisfaction = Some(if appealed {
                Satisfaction::Dissatisfied
            } else {
                let r = rng.random::<f64>();
                if r < f.dissatisfied_p {
                    Satisfaction::Dissatisfied
                } else if r < f.dissatisfied_p + 0.17 {
                    Satisfaction::BasicallySatisfied
                } else {
                    Satisfaction::Satisfied
                }
            });
        }

        let external_id = external_id(rng, &mut self.seq, f.ch, channel, f.local);
        let topic = self.topics[f.cat];
        let reply = replied_or_later(target).then(|| {
            text::reply(
                rng,
                &ReplySpec {
                    topic,
                    issue: &topic.issues[f.issue],
                    kind: f.kind,
                    unit: &self.cats[f.cat].default_unit,
                    channel,
                    registered_day: format!("{}月{}日", f.local.month(), f.local.day()),
                    person: f.persons.first(),
                    core: &f.composed.title_core,
                    external_id: external_id.as_deref(),
                },
                f.ctx,
            )
        });

        DemoMatter {
            registered_at: to_utc(f.local),
            channel,
            external_id,
            title: f.composed.title.clone(),
            content: f.composed.content.clone(),
            location: f.location,
            category: f.cat,
            petition_type: f.kind,
            urgency: f.urgency,
            people_count: f.people,
            petitioners: f.persons.iter().map(|p| p.petitioner.clone()).collect(),
            target,
            decline_reason: f.decline,
            handling_days,
            extension_days,
            satisfaction,
            repeat_of: f.repeat_of,
            reply,
        }
    }
}

fn meta_local(metas: &[Meta], j: usize) -> NaiveDateTime {
    metas.get(j).map_or(NaiveDateTime::MIN, |m| m.local)
}

/// What [`Generator::finish_matter`] needs.
struct FinishSpec<'a> {
    local: NaiveDateTime,
    ch: usize,
    cat: usize,
    issue: usize,
    kind: PetitionType,
    urgency: Urgency,
    people: u32,
    persons: &'a [Person],
    composed: &'a Composed,
    location: Option<String>,
    decline: Option<DeclineReason>,
    repeat_of: Option<usize>,
    dissatisfied_p: f64,
    ctx: &'a Ctx,
}

/// Share of petitioners who give a resident ID number, per channel.
fn id_share(c: Channel) -> f64 {
    match c {
        Channel::WalkIn => 0.8,
        Channel::Letter => 0.55,
        Channel::LeaderMailbox => 0.5,
        Channel::Wechat => 0.5,
        Channel::Website => 0.38,
        Channel::Phone | Channel::Hotline12345 => 0.33,
        Channel::Email => 0.2,
        Channel::Open311 => 0.1,
    }
}

fn tone<R: Rng + ?Sized>(rng: &mut R, group: bool, speaker: Speaker, kind: PetitionType) -> Tone {
    let w: [f64; 4] = if kind == PetitionType::Inquiry {
        [0.6, 0.4, 0.0, 0.0]
    } else if group {
        [0.05, 0.2, 0.4, 0.35]
    } else if speaker == Speaker::Worker {
        [0.1, 0.3, 0.45, 0.15]
    } else {
        [0.3, 0.4, 0.12, 0.18]
    };
    [Tone::Polite, Tone::Neutral, Tone::Anxious, Tone::Angry][pick_weighted(rng, &w).min(3)]
}

fn urgency<R: Rng + ?Sized>(
    rng: &mut R,
    topic: &Topic,
    speaker: Speaker,
    group: bool,
    tone: Tone,
    local: NaiveDateTime,
) -> Urgency {
    let (mut urgent, mut critical) = (0.06, 0.005);
    if group {
        urgent = 0.5;
        critical = 0.15;
    }
    if topic.sub == "安全隐患" {
        urgent = 0.35;
        critical = 0.25;
    }
    if speaker == Speaker::Worker && matches!(local.month(), 12 | 1 | 2) {
        urgent += 0.3;
    }
    if tone == Tone::Angry {
        urgent += 0.08;
    }
    let r = rng.random::<f64>();
    if r < critical {
        Urgency::Critical
    } else if r < critical + urgent {
        Urgency::Urgent
    } else {
        Urgency::Normal
    }
}
