//! Hotspot discovery: clusters of similar matters in a time window, ranked by how hot they are.
//!
//! Method, over the records whose time falls in the window:
//! 1. Text: the title and the content go through [`feature_text`] (normalised, personal numbers
//!    masked) and the segmenter (so an organisation's own words stay whole). Kept: words of two
//!    or more characters that are not stop words ([`STOP_WORDS`]: function words and the set
//!    phrases every petition uses, 反映/希望/领导…) and not anonymisation codes such as a3 or
//!    a市; title words count [`HotspotConfig::title_weight`] times.
//! 2. TF-IDF: sublinear term frequency × ln(N / df), L2-normalised. Words in more than
//!    [`HotspotConfig::max_df`] of the records (and at least 20) are dropped as boilerplate; words of one record
//!    stay in its norm (a long, particular message is less like the others) but cannot link it.
//! 3. Similarity: cosine, computed only for pairs sharing a word, through an inverted index.
//!    Pairs below half the threshold are treated as unrelated.
//! 4. Clustering: average linkage (UPGMA) over that sparse similarity graph: the two clusters
//!    with the highest mean pairwise similarity merge while it is at least
//!    [`HotspotConfig::threshold`]. Mean, not best, similarity, so one message about two topics
//!    does not chain two hotspots together.
//! 5. Heat, for clusters of at least [`HotspotConfig::min_size`] records from at least
//!    [`HotspotConfig::min_petitioners`] petitioners:
//!    `heat = (P + ¼·(n − P) + ln(1 + likes)) × (1 + ¼·tanh(ln g))` where n is the size, P the
//!    distinct petitioners (a record without a petitioner key counts as one of its own), likes
//!    their sum, and g the growth `(recent + 1) / (earlier + 1)`, the records in the second half
//!    of the window against those in the first. A repeat petition counts a quarter of a new one;
//!    support by likes grows with its logarithm (a thousand likes weigh about as much as seven
//!    petitioners); growth moves the heat by at most a quarter either way.
//! 6. Label: the cluster's key words, the three with the highest summed TF-IDF over its members,
//!    none part of another, two of them joined when they stand side by side in the most central
//!    title (丽发 + 新城 → 丽发新城); and that title (of the member closest to the centroid).
//!
//! [`find_hotspots`] takes any iterator of [`HotspotRecord`]s, so the same code runs over a CSV
//! file ([`read_csv`]) or over the matters of a database.

use crate::dataset::{BadRow, DataError};
use crate::features::{FxMap, feature_text};
use crate::segment::Segmenter;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io::Read;
use std::path::Path;

/// One matter as hotspot discovery sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct HotspotRecord {
    /// Its id (returned in [`Hotspot::members`]).
    pub id: String,
    /// Who sent it (a user id or a keyed hash of a phone or ID number); `None` when unknown.
    pub petitioner: Option<String>,
    /// When it was received (local time).
    pub time: NaiveDateTime,
    /// Its title (may be empty).
    pub title: String,
    /// Its content.
    pub text: String,
    /// Public support (likes) where the channel has it.
    pub likes: Option<u32>,
}

/// How hotspots are found and ranked.
#[derive(Debug, Clone, PartialEq)]
pub struct HotspotConfig {
    /// First day of the window (inclusive); `None`: from the earliest record.
    pub from: Option<NaiveDate>,
    /// Last day of the window (inclusive); `None`: to the latest record.
    pub to: Option<NaiveDate>,
    /// How many hotspots to return, hottest first.
    pub top: usize,
    /// Mean cosine similarity at which two clusters still merge.
    pub threshold: f32,
    /// Smallest cluster that can be a hotspot.
    pub min_size: usize,
    /// Fewest distinct petitioners of a hotspot: one person's many messages are a repeat
    /// petition (duplicate detection's business), not a hotspot.
    pub min_petitioners: usize,
    /// How many times a title word counts.
    pub title_weight: f32,
    /// Words in more than this share of the records are dropped.
    pub max_df: f32,
}

impl Default for HotspotConfig {
    fn default() -> Self {
        HotspotConfig {
            from: None,
            to: None,
            top: 10,
            threshold: 0.15,
            min_size: 2,
            min_petitioners: 2,
            title_weight: 2.0,
            max_df: 0.5,
        }
    }
}

/// A cluster of similar matters with its heat.
#[derive(Debug, Clone, PartialEq)]
pub struct Hotspot {
    /// A short label: the key words joined by 、.
    pub label: String,
    /// The key words, strongest first.
    pub keywords: Vec<String>,
    /// The title of the most central member.
    pub title: String,
    /// Number of records.
    pub size: usize,
    /// Distinct petitioners (records without a petitioner key count one each).
    pub petitioners: usize,
    /// Summed likes.
    pub likes: u64,
    /// Growth: (records in the second half of the window + 1) / (in the first half + 1).
    pub growth: f64,
    /// The heat (module doc), rounded to two decimals.
    pub heat: f64,
    /// The earliest record's time.
    pub first: NaiveDateTime,
    /// The latest record's time.
    pub last: NaiveDateTime,
    /// The member ids, oldest first.
    pub members: Vec<String>,
}

/// Words that say nothing about what a petition is about: function words and the phrases every
/// petition uses. Checked after normalisation (simplified, lower case).
pub const STOP_WORDS: &[&str] = &[
    "我们",
    "你们",
    "他们",
    "她们",
    "它们",
    "自己",
    "这个",
    "那个",
    "这些",
    "那些",
    "这样",
    "那样",
    "这里",
    "那里",
    "这种",
    "什么",
    "怎么",
    "怎么办",
    "如何",
    "为什么",
    "为何",
    "因为",
    "所以",
    "但是",
    "而且",
    "并且",
    "如果",
    "虽然",
    "已经",
    "现在",
    "目前",
    "可以",
    "能够",
    "应该",
    "需要",
    "没有",
    "不是",
    "就是",
    "还是",
    "或者",
    "以及",
    "还有",
    "进行",
    "一个",
    "一些",
    "一下",
    "一直",
    "不能",
    "不会",
    "不要",
    "只能",
    "所有",
    "其他",
    "其中",
    "之后",
    "以后",
    "以前",
    "之前",
    "时候",
    "期间",
    "由于",
    "对于",
    "关于",
    "通过",
    "根据",
    "按照",
    "问题",
    "反映",
    "反应",
    "希望",
    "领导",
    "政府",
    "相关",
    "部门",
    "有关",
    "请问",
    "您好",
    "你好",
    "尊敬",
    "谢谢",
    "感谢",
    "非常",
    "情况",
    "要求",
    "解决",
    "处理",
    "工作",
    "市民",
    "群众",
    "老百姓",
    "百姓",
    "我市",
    "本人",
    "大家",
    "咨询",
    "建议",
    "投诉",
    "举报",
    "请求",
    "恳请",
    "尽快",
    "及时",
    "严重",
    "影响",
    "导致",
    "出现",
    "存在",
    "发现",
    "知道",
    "表示",
    "认为",
    "觉得",
    "真的",
    "确实",
    "一样",
    "多次",
    "很多",
    "许多",
    "大量",
    "每天",
    "今天",
    "昨天",
    "今年",
    "去年",
    "明年",
    "目的",
    "方面",
    "办法",
    "事情",
    "时间",
    "地方",
    "单位",
    "有限公司",
    "公司",
    "管理",
    "相关部门",
    "有关部门",
    "职能部门",
    "给予",
    "予以",
    "能否",
    "是否",
    "可否",
    "何时",
    "为了",
    "以上",
    "以下",
    "左右",
    "之间",
    "直到",
    "至今",
    "一年",
    "两年",
    "造成",
    "得到",
    "没法",
    "无法",
    "不了",
    "不到",
    "一次",
    "一名",
    "个人",
    "同时",
    "另外",
    "此外",
    "然后",
    "而是",
    "甚至",
    "特别",
    "尤其",
    "比较",
    "一点",
    "这么",
    "那么",
    "多少",
    "哪里",
    "怎样",
    "不知",
    "不知道",
    "只是",
    "回复",
    "答复",
    "留言",
    "网友",
    "书记",
    "市长",
    "监管",
    "我们小区",
];

fn is_anonymisation_code(w: &str) -> bool {
    // The data anonymise places as A市, A3区, K9县: a letter, digits, an administrative suffix.
    let mut chars = w.chars();
    let Some(first) = chars.next() else {
        return true;
    };
    if !first.is_ascii_alphabetic() {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let tail = &rest[digits..];
    tail.is_empty() || (tail.len() == 1 && "市区县镇村省".contains(tail[0]))
}

fn keep(w: &str) -> bool {
    let n = w.chars().count();
    if n < 2 || w.chars().all(|c| c.is_ascii_digit()) || is_anonymisation_code(w) {
        return false;
    }
    !STOP_WORDS.contains(&w)
}

/// One record's weighted words (word id, weight before IDF).
type Terms = Vec<(u32, f32)>;

fn terms_of(
    records: &[HotspotRecord],
    segmenter: &Segmenter,
    title_weight: f32,
) -> (Vec<String>, Vec<Terms>) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = records.len().div_ceil(threads).max(1);
    let parts: Vec<Vec<Vec<(String, f32)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|r| {
                            let mut bag: FxMap<String, f32> = FxMap::default();
                            for (text, weight) in [(&r.title, title_weight), (&r.text, 1.0)] {
                                let norm = feature_text(text);
                                let mut after_code = false;
                                for w in segmenter.words(&norm) {
                                    // jieba cuts A2区丽发新城 as a2|区丽发|新城: the suffix
                                    // belongs to the code.
                                    let w = match w.strip_prefix(['区', '县', '市']) {
                                        Some(rest) if after_code && rest.chars().count() >= 2 => rest,
                                        _ => w,
                                    };
                                    after_code = is_anonymisation_code(w);
                                    if keep(w) {
                                        *bag.entry(w.to_string()).or_default() += weight;
                                    }
                                }
                            }
                            bag.into_iter().collect()
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join())
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_default();
    let mut ids: FxMap<String, u32> = FxMap::default();
    let mut words = Vec::new();
    let mut docs = Vec::with_capacity(records.len());
    for bag in parts.into_iter().flatten() {
        let mut terms: Terms = bag
            .into_iter()
            .map(|(w, tf)| {
                let next = words.len() as u32;
                let id = *ids.entry(w).or_insert_with_key(|w| {
                    words.push(w.clone());
                    next
                });
                (id, tf)
            })
            .collect();
        terms.sort_unstable_by_key(|t| t.0);
        docs.push(terms);
    }
    (words, docs)
}

/// TF-IDF vectors, L2-normalised, without the words of a single record (kept in the norm).
fn vectors(docs: &[Terms], n_words: usize, max_df: f32) -> Vec<Terms> {
    let n = docs.len();
    let mut df = vec![0u32; n_words];
    for d in docs {
        for (w, _) in d {
            df[*w as usize] += 1;
        }
    }
    // A floor, so a small window's main topic is not taken for boilerplate.
    let cap = (max_df * n as f32).max(20.0) as u32;
    docs.iter()
        .map(|d| {
            let mut v: Terms = d
                .iter()
                .filter(|(w, _)| df[*w as usize] <= cap)
                .map(|(w, tf)| {
                    (
                        *w,
                        (1.0 + tf.ln().max(0.0)) * (n as f32 / df[*w as usize] as f32).ln(),
                    )
                })
                .collect();
            let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|(_, x)| *x /= norm);
            }
            v.retain(|(w, _)| df[*w as usize] >= 2);
            v
        })
        .collect()
}

/// Pairs (i < j) with cosine ≥ `min`, through an inverted index.
fn similar_pairs(vecs: &[Terms], n_words: usize, min: f32) -> Vec<(u32, u32, f32)> {
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_words];
    let mut acc = vec![0f32; vecs.len()];
    let mut touched: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    for (i, v) in vecs.iter().enumerate() {
        for (w, x) in v {
            for (j, y) in &postings[*w as usize] {
                if acc[*j as usize] == 0.0 {
                    touched.push(*j);
                }
                acc[*j as usize] += x * y;
            }
        }
        for j in touched.drain(..) {
            let s = std::mem::take(&mut acc[j as usize]);
            if s >= min {
                out.push((j, i as u32, s));
            }
        }
        for (w, x) in v {
            postings[*w as usize].push((i as u32, *x));
        }
    }
    out
}

#[derive(PartialEq)]
struct Candidate {
    mean: f64,
    a: u32,
    b: u32,
    stamp_a: u32,
    stamp_b: u32,
}

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.mean
            .total_cmp(&other.mean)
            // Ties: the lower ids first, so the result does not depend on the heap's order.
            .then_with(|| other.a.cmp(&self.a))
            .then_with(|| other.b.cmp(&self.b))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Average-linkage clusters (lists of record indices) of `n` records over the sparse `pairs`.
fn average_linkage(n: usize, pairs: &[(u32, u32, f32)], threshold: f64) -> Vec<Vec<u32>> {
    let mut members: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![i]).collect();
    // Summed similarity between each cluster and its neighbours.
    let mut links: Vec<FxMap<u32, f64>> = vec![FxMap::default(); n];
    let mut stamp = vec![0u32; n];
    let mut alive = vec![true; n];
    let mut heap = BinaryHeap::new();
    for &(a, b, s) in pairs {
        links[a as usize].insert(b, f64::from(s));
        links[b as usize].insert(a, f64::from(s));
        heap.push(Candidate {
            mean: f64::from(s),
            a,
            b,
            stamp_a: 0,
            stamp_b: 0,
        });
    }
    while let Some(c) = heap.pop() {
        if c.mean < threshold {
            break;
        }
        let (a, b) = (c.a as usize, c.b as usize);
        if !alive[a] || !alive[b] || stamp[a] != c.stamp_a || stamp[b] != c.stamp_b {
            continue;
        }
        let (big, small) = if members[a].len() >= members[b].len() {
            (a, b)
        } else {
            (b, a)
        };
        let moved = std::mem::take(&mut members[small]);
        members[big].extend(moved);
        alive[small] = false;
        let small_links = std::mem::take(&mut links[small]);
        links[big].remove(&(small as u32));
        for (k, s) in small_links {
            if k as usize == big {
                continue;
            }
            *links[big].entry(k).or_default() += s;
            let lk = &mut links[k as usize];
            lk.remove(&(small as u32));
            *lk.entry(big as u32).or_default() += s;
        }
        stamp[big] += 1;
        let size = members[big].len() as f64;
        for (k, s) in &links[big] {
            let mean = s / (size * members[*k as usize].len() as f64);
            if mean >= threshold {
                let (x, y) = (big as u32, *k);
                heap.push(Candidate {
                    mean,
                    a: x,
                    b: y,
                    stamp_a: stamp[big],
                    stamp_b: stamp[*k as usize],
                });
            }
        }
    }
    members
        .into_iter()
        .zip(alive)
        .filter_map(|(m, a)| a.then_some(m))
        .collect()
}

fn day_start(d: NaiveDate) -> NaiveDateTime {
    d.and_time(NaiveTime::MIN)
}

/// Finds the hotspots among `records` (module doc): at most `config.top`, hottest first.
pub fn find_hotspots(
    records: impl IntoIterator<Item = HotspotRecord>,
    config: &HotspotConfig,
    segmenter: &Segmenter,
) -> Vec<Hotspot> {
    let mut recs: Vec<HotspotRecord> = records
        .into_iter()
        .filter(|r| config.from.is_none_or(|d| r.time.date() >= d))
        .filter(|r| config.to.is_none_or(|d| r.time.date() <= d))
        .collect();
    if recs.is_empty() {
        return Vec::new();
    }
    recs.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    let (words, docs) = terms_of(&recs, segmenter, config.title_weight);
    let vecs = vectors(&docs, words.len(), config.max_df);
    let threshold = f64::from(config.threshold);
    let pairs = similar_pairs(&vecs, words.len(), config.threshold / 2.0);
    let clusters = average_linkage(recs.len(), &pairs, threshold);

    let start = config.from.map_or(recs[0].time, day_start);
    let end = config
        .to
        .and_then(|d| d.succ_opt())
        .map_or(recs[recs.len() - 1].time, day_start);
    let middle = start + (end - start) / 2;
    let mut out: Vec<Hotspot> = clusters
        .into_iter()
        .filter(|c| c.len() >= config.min_size.max(1))
        .map(|mut c| {
            c.sort_unstable();
            describe(&c, &recs, &vecs, &words, middle)
        })
        .filter(|h| h.petitioners >= config.min_petitioners)
        .collect();
    out.sort_by(|a, b| {
        b.heat
            .total_cmp(&a.heat)
            .then_with(|| b.size.cmp(&a.size))
            .then_with(|| a.first.cmp(&b.first))
    });
    out.truncate(config.top);
    out
}

fn describe(
    c: &[u32],
    recs: &[HotspotRecord],
    vecs: &[Terms],
    words: &[String],
    middle: NaiveDateTime,
) -> Hotspot {
    let members: Vec<&HotspotRecord> = c.iter().map(|i| &recs[*i as usize]).collect();
    let mut petitioners: Vec<&str> = members.iter().filter_map(|r| r.petitioner.as_deref()).collect();
    let anonymous = members.len() - petitioners.len();
    petitioners.sort_unstable();
    petitioners.dedup();
    let p = petitioners.len() + anonymous;
    let n = members.len();
    let likes: u64 = members.iter().map(|r| u64::from(r.likes.unwrap_or(0))).sum();
    let recent = members.iter().filter(|r| r.time >= middle).count();
    let growth = (recent as f64 + 1.0) / ((n - recent) as f64 + 1.0);
    let heat =
        (p as f64 + 0.25 * (n - p) as f64 + (1.0 + likes as f64).ln()) * (1.0 + 0.25 * growth.ln().tanh());

    let mut centroid: FxMap<u32, f32> = FxMap::default();
    for i in c {
        for (w, x) in &vecs[*i as usize] {
            *centroid.entry(*w).or_default() += x;
        }
    }
    let central = c
        .iter()
        .max_by(|a, b| {
            let score = |i: u32| -> f32 {
                vecs[i as usize]
                    .iter()
                    .map(|(w, x)| x * centroid.get(w).copied().unwrap_or(0.0))
                    .sum()
            };
            score(**a).total_cmp(&score(**b)).then_with(|| b.cmp(a))
        })
        .map_or(0, |i| *i as usize);
    let mut ranked: Vec<(u32, f32)> = centroid.iter().map(|(w, x)| (*w, *x)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let title = feature_text(&recs[central].title);
    let mut candidates: Vec<String> = ranked
        .iter()
        .take(8)
        .map(|(w, _)| words[*w as usize].clone())
        .collect();
    // Join a strong word with another that stands right beside it in the central title.
    let mut joined = vec![false; candidates.len()];
    let mut i = 0;
    while i < candidates.len() {
        let pair = (0..candidates.len())
            .filter(|j| *j != i && !joined[i] && !joined[*j])
            .find_map(|j| {
                let ab = format!("{}{}", candidates[i], candidates[j]);
                let ba = format!("{}{}", candidates[j], candidates[i]);
                [ab, ba]
                    .into_iter()
                    .find(|p| p.chars().count() <= 6 && title.contains(p.as_str()))
                    .map(|p| (j, p))
            });
        match pair {
            Some((j, phrase)) => {
                candidates[i] = phrase;
                joined[i] = true;
                candidates.remove(j);
                joined.remove(j);
                if j < i {
                    i -= 1;
                }
            }
            None => i += 1,
        }
    }
    let mut keywords: Vec<String> = Vec::new();
    for w in candidates {
        if keywords
            .iter()
            .any(|k| k.contains(w.as_str()) || w.contains(k.as_str()))
        {
            continue;
        }
        keywords.push(w);
        if keywords.len() == 3 {
            break;
        }
    }
    Hotspot {
        label: keywords.join("、"),
        keywords,
        title: recs[central].title.clone(),
        size: n,
        petitioners: p,
        likes,
        growth: (growth * 100.0).round() / 100.0,
        heat: (heat * 100.0).round() / 100.0,
        first: members[0].time,
        last: members[n - 1].time,
        members: members.iter().map(|r| r.id.clone()).collect(),
    }
}

/// Records read from CSV, and the rows left out.
#[derive(Debug, Clone, Default)]
pub struct HotspotInput {
    /// Usable records, in file order.
    pub records: Vec<HotspotRecord>,
    /// Rows left out, with their lines.
    pub rejected: Vec<BadRow>,
}

/// Parses `2019-02-28 11:25:05`, `2019/2/28 11:25`, `2019-02-28T11:25:05` or a bare date.
pub fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    ["%Y-%m-%d", "%Y/%m/%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        .map(day_start)
}

/// Reads `id,user,title,time,detail[,likes,dislikes]` CSV (`id`, `time` and `detail` required;
/// extra columns ignored). A row with the wrong number of fields, no id, a repeated id, an
/// unreadable time, no text or a bad likes count is left out with its line.
pub fn read_csv(reader: impl Read) -> Result<HotspotInput, DataError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let id = col("id").ok_or(DataError::MissingColumn("id"))?;
    let time = col("time").ok_or(DataError::MissingColumn("time"))?;
    let detail = col("detail").ok_or(DataError::MissingColumn("detail"))?;
    let (user, title, likes) = (col("user"), col("title"), col("likes"));
    let width = headers.len();
    let mut out = HotspotInput::default();
    let mut seen: FxMap<String, u64> = FxMap::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line_before = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line_before, |p| p.line());
                match e.kind() {
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. } => {
                        out.rejected.push(BadRow {
                            line,
                            reason: e.to_string(),
                        });
                        continue;
                    }
                    _ => return Err(e.into()),
                }
            }
        }
        let line = record.position().map_or(line_before, |p| p.line());
        let mut reject = |reason: String| out.rejected.push(BadRow { line, reason });
        if record.len() != width {
            reject(format!("{} fields, the header has {width}", record.len()));
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let rid = get(Some(id));
        if rid.is_empty() {
            reject("empty id".into());
            continue;
        }
        if let Some(first) = seen.get(rid) {
            reject(format!("id {rid} already on line {first}"));
            continue;
        }
        let Some(t) = parse_time(get(Some(time))) else {
            reject(format!("unreadable time {:?}", get(Some(time))));
            continue;
        };
        let (ti, de) = (get(title), get(Some(detail)));
        if ti.is_empty() && de.is_empty() {
            reject("empty title and detail".into());
            continue;
        }
        let lk = get(likes);
        let lk = if lk.is_empty() {
            None
        } else if let Ok(n) = lk.parse::<u32>() {
            Some(n)
        } else {
            reject(format!("likes {lk:?} is not a whole number"));
            continue;
        };
        let u = get(user);
        seen.insert(rid.to_string(), line);
        out.records.push(HotspotRecord {
            id: rid.to_string(),
            petitioner: (!u.is_empty()).then(|| u.to_string()),
            time: t,
            title: ti.to_string(),
            text: de.to_string(),
            likes: lk,
        });
    }
    Ok(out)
}

/// Reads hotspot CSV from a file (see [`read_csv`]).
pub fn load_csv(path: &Path) -> Result<HotspotInput, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.display().to_string(),
        source,
    })?;
    read_csv(std::io::BufReader::new(file)).map_err(|e| match e {
        DataError::Csv(c) if c.is_io_error() => DataError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(c.to_string()),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, user: &str, time: &str, title: &str, text: &str, likes: u32) -> HotspotRecord {
        HotspotRecord {
            id: id.into(),
            petitioner: Some(user.into()),
            time: parse_time(time).unwrap(),
            title: title.into(),
            text: text.into(),
            likes: Some(likes),
        }
    }

    /// Two obvious problems (a mixing plant's noise, a school's fees) and unrelated messages.
    fn corpus() -> Vec<HotspotRecord> {
        vec![
            rec(
                "n1",
                "u1",
                "2019-03-02 22:10:00",
                "丽发新城搅拌站噪音扰民",
                "丽发新城小区旁边的搅拌站晚上施工，噪音很大，粉尘污染严重，居民无法休息。",
                3,
            ),
            rec(
                "n2",
                "u2",
                "2019-03-05 23:40:00",
                "投诉丽发新城附近搅拌站",
                "搅拌站夜间噪音扰民，粉尘满天飞，丽发新城业主苦不堪言。",
                0,
            ),
            rec(
                "n3",
                "u3",
                "2019-03-20 21:00:00",
                "丽发新城搅拌站粉尘噪音",
                "丽发新城小区搅拌站粉尘和噪音污染，请环保部门查处搅拌站。",
                12,
            ),
            rec(
                "n4",
                "u2",
                "2019-03-28 22:30:00",
                "再次投诉搅拌站噪音",
                "丽发新城旁搅拌站仍在夜间作业，噪音粉尘扰民。",
                1,
            ),
            rec(
                "n5",
                "u5",
                "2019-03-29 08:00:00",
                "丽发新城搅拌站何时搬迁",
                "丽发新城小区旁的搅拌站噪音粉尘污染，什么时候搬迁？",
                0,
            ),
            rec(
                "s1",
                "u6",
                "2019-03-01 09:00:00",
                "实验中学乱收补课费",
                "实验中学强制学生参加补课，每人收取补课费八百元，家长负担重。",
                2,
            ),
            rec(
                "s2",
                "u7",
                "2019-03-10 10:00:00",
                "实验中学补课收费",
                "实验中学周末补课收费，学生被迫交补课费。",
                0,
            ),
            rec(
                "s3",
                "u8",
                "2019-03-30 11:00:00",
                "举报实验中学违规收取补课费",
                "实验中学违规组织补课并收取补课费。",
                0,
            ),
            rec(
                "x1",
                "u9",
                "2019-03-03 12:00:00",
                "公交线路调整建议",
                "建议增开到火车站的公交线路，早高峰太挤。",
                0,
            ),
            rec(
                "x2",
                "u10",
                "2019-03-15 12:00:00",
                "路灯坏了",
                "小区门口路灯坏了很久，晚上出行不便。",
                0,
            ),
            rec(
                "x3",
                "u11",
                "2019-03-25 12:00:00",
                "医保报销咨询",
                "异地就医的医保报销比例是多少？",
                0,
            ),
        ]
    }

    fn ids(h: &Hotspot) -> Vec<&str> {
        let mut v: Vec<&str> = h.members.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn finds_the_two_problems_and_ranks_the_bigger_first() {
        let hs = find_hotspots(corpus(), &HotspotConfig::default(), &Segmenter::base());
        assert_eq!(hs.len(), 2, "{hs:#?}");
        assert_eq!(ids(&hs[0]), vec!["n1", "n2", "n3", "n4", "n5"]);
        assert_eq!(ids(&hs[1]), vec!["s1", "s2", "s3"]);
        let noise = &hs[0];
        assert_eq!(noise.size, 5);
        assert_eq!(noise.petitioners, 4, "u2 wrote twice");
        assert_eq!(noise.likes, 16);
        assert!(noise.label.contains("搅拌站"), "{}", noise.label);
        assert!(hs[1].label.contains("补课"), "{}", hs[1].label);
        assert_eq!(noise.first, parse_time("2019-03-02 22:10:00").unwrap());
        assert_eq!(noise.last, parse_time("2019-03-29 08:00:00").unwrap());
        assert!(noise.heat > hs[1].heat);
    }

    #[test]
    fn heat_is_the_documented_formula() {
        let hs = find_hotspots(corpus(), &HotspotConfig::default(), &Segmenter::base());
        // School fees: 3 petitioners, 3 records, 2 likes; the window is 2019-03-01 09:00 to
        // 03-30 11:00, its middle 03-15 22:00: one record after it, two before.
        let s = &hs[1];
        let g: f64 = (1.0 + 1.0) / (2.0 + 1.0);
        let heat = (3.0 + 0.0 + 3f64.ln()) * (1.0 + 0.25 * g.ln().tanh());
        assert_eq!(s.heat, (heat * 100.0).round() / 100.0);
        assert_eq!(s.growth, 0.67);
    }

    #[test]
    fn likes_and_petitioners_decide_the_order() {
        let mut data = corpus();
        // The school's messages gather wide support.
        for r in data.iter_mut().filter(|r| r.id.starts_with('s')) {
            r.likes = Some(2000);
        }
        let hs = find_hotspots(data, &HotspotConfig::default(), &Segmenter::base());
        assert_eq!(ids(&hs[0]), vec!["s1", "s2", "s3"]);
    }

    #[test]
    fn the_window_filters_records() {
        let config = HotspotConfig {
            from: NaiveDate::from_ymd_opt(2019, 3, 10),
            to: NaiveDate::from_ymd_opt(2019, 3, 28),
            ..HotspotConfig::default()
        };
        let hs = find_hotspots(corpus(), &config, &Segmenter::base());
        // In the window: n3, n4 (noise); s2 (school, alone, so no hotspot).
        assert_eq!(hs.len(), 1, "{hs:#?}");
        assert_eq!(ids(&hs[0]), vec!["n3", "n4"]);
        let none = HotspotConfig {
            from: NaiveDate::from_ymd_opt(2020, 1, 1),
            ..HotspotConfig::default()
        };
        assert!(find_hotspots(corpus(), &none, &Segmenter::base()).is_empty());
    }

    #[test]
    fn one_persons_series_is_not_a_hotspot() {
        let mut data = corpus();
        for r in data.iter_mut().filter(|r| r.id.starts_with('s')) {
            r.petitioner = Some("u6".into());
        }
        let hs = find_hotspots(data, &HotspotConfig::default(), &Segmenter::base());
        assert_eq!(hs.len(), 1);
        assert_eq!(ids(&hs[0])[0], "n1");
    }

    #[test]
    fn label_joins_words_that_stand_together() {
        let hs = find_hotspots(corpus(), &HotspotConfig::default(), &Segmenter::base());
        let h = &hs[0];
        assert!(h.title.contains("搅拌站"), "{}", h.title);
        // jieba cuts the title's 丽发新城搅拌站 as 丽发|新城|搅拌站; a label word spans two of them.
        assert!(
            h.keywords
                .iter()
                .any(|k| k.chars().count() >= 4 && h.title.contains(k.as_str())),
            "{:?}",
            h.keywords
        );
    }

    #[test]
    fn top_limits_the_list() {
        let config = HotspotConfig {
            top: 1,
            ..HotspotConfig::default()
        };
        assert_eq!(find_hotspots(corpus(), &config, &Segmenter::base()).len(), 1);
    }

    #[test]
    fn stop_words_and_codes_are_not_key_words() {
        assert!(!keep("反映"));
        assert!(!keep("a3"));
        assert!(!keep("a市"));
        assert!(!keep("k9县"));
        assert!(!keep("2019"));
        assert!(!keep("噪"));
        assert!(keep("搅拌站"));
        assert!(keep("a5区魅力之城"));
        assert!(keep("wifi"));
    }

    #[test]
    fn csv_rows_are_read_and_bad_ones_reported_by_line() {
        let csv = "id,user,title,time,detail,likes,dislikes\n\
                   1,u1,噪音,2019-02-28 11:25:05,搅拌站噪音,3,0\n\
                   2,,,2019/3/1,只有正文,,\n\
                   3,u3,时间错,2019-13-01,正文,0,0\n\
                   1,u4,重复,2019-03-02 10:00:00,正文,0,0\n\
                   ,u5,无编号,2019-03-02 10:00:00,正文,0,0\n\
                   6,u6,点赞错,2019-03-02 10:00:00,正文,多,0\n\
                   7,u7,少一列,2019-03-02 10:00:00,正文\n\
                   8,u8,,2019-03-02 10:00:00,,0,0\n";
        let d = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(d.records.len(), 2);
        assert_eq!(d.records[0].likes, Some(3));
        assert_eq!(d.records[1].petitioner, None);
        assert_eq!(d.records[1].time, parse_time("2019-03-01 00:00:00").unwrap());
        let lines: Vec<u64> = d.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7, 8, 9], "{:?}", d.rejected);
        assert!(d.rejected[1].reason.contains("already on line 2"));
    }
}
