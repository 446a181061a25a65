//! Evaluation of duplicate detection (issue 4, part 4). Reads the shared data beside the
//! repository (`../shared/data/tipdm_c_train.csv` and `tipdm_c_hot.csv`; other paths as the first
//! two arguments) — evaluation only, the product never reads /work/shared.
//!
//! ```sh
//! cargo run --release -p xinfang-nlp --example dedup_eval [TRAIN.csv HOT.csv] [--examples N]
//! ```
//!
//! 1. Recall: every message of the training file is edited at random (insert, delete or
//!    substitute one character, repeated for 5%, 10% and 15% of its length; new characters are
//!    drawn from other messages) and looked up in the index of all the originals: a hit is the
//!    original among the candidates with an estimated similarity ≥ `LinkRules::similar`.
//! 2. Precision: every original is looked up among the originals. A linked pair of messages with
//!    different labels is certainly two different matters (a false link); a linked pair with the
//!    same label is unknown and left out. Precision = true links (edited copy → its original at
//!    15%) / (true links + false links), and the false-link rate over all cross-label pairs.
//! 3. What it links in the hot-topic file, in time order, with `user` as the petitioner key and
//!    each message assumed answered 60 days after it arrived (the file has no states): links by
//!    kind, groups, and examples.
//!
//! Prints JSON lines, then readable examples.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use xinfang_nlp::dataset::load_csv;
use xinfang_nlp::dedup::{
    self, DedupIndex, Existing, Incoming, Link, LinkRules, PetitionerKey, Signature, jaccard, shingles,
    signature,
};

fn main() {
    if let Err(e) = run() {
        eprintln!("dedup_eval: {e}");
        std::process::exit(1);
    }
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/")).join(name)
}

/// Applies `n` random single-character edits to `text`, new characters drawn from `pool`.
fn edit(text: &str, fraction: f64, pool: &[char], rng: &mut StdRng) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let n = (chars.len() as f64 * fraction).round() as usize;
    for _ in 0..n {
        let c = pool[rng.random_range(0..pool.len())];
        match rng.random_range(0..3) {
            0 => {
                let at = rng.random_range(0..=chars.len());
                chars.insert(at, c);
            }
            1 if chars.len() > 1 => {
                let at = rng.random_range(0..chars.len());
                chars.remove(at);
            }
            _ => {
                if !chars.is_empty() {
                    let at = rng.random_range(0..chars.len());
                    chars[at] = c;
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn quantiles(mut v: Vec<f32>) -> serde_json::Value {
    v.sort_by(f32::total_cmp);
    let q = |p: f64| v.get(((v.len() - 1) as f64 * p) as usize).copied().unwrap_or(0.0);
    json!({"p1": q(0.01), "p5": q(0.05), "p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "max": q(1.0)})
}

struct Hot {
    id: String,
    user: String,
    title: String,
    text: String,
    at: DateTime<Utc>,
}

fn read_hot(path: &PathBuf) -> Result<Vec<Hot>, Box<dyn std::error::Error>> {
    let mut r = csv::Reader::from_path(path)?;
    let h = r.headers()?.clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x.trim_start_matches('\u{feff}') == n)
            .ok_or(n.to_string())
    };
    let (id, user, title, time, detail) = (
        col("id")?,
        col("user")?,
        col("title")?,
        col("time")?,
        col("detail")?,
    );
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
        let at = NaiveDateTime::parse_from_str(&get(time), "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(&get(time), "%Y/%m/%d %H:%M:%S"))
            .or_else(|_| NaiveDateTime::parse_from_str(&get(time), "%Y/%m/%d %H:%M"))
            .map(|t| t.and_utc())
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        out.push(Hot {
            id: get(id),
            user: get(user),
            title: get(title),
            text: format!("{}\n{}", get(title), get(detail)),
            at,
        });
    }
    Ok(out)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut train_path = data("tipdm_c_train.csv");
    let mut hot_path = data("tipdm_c_hot.csv");
    let mut n_examples = 8usize;
    let mut positional = 0;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--examples" => n_examples = args.next().ok_or("--examples needs N")?.parse()?,
            _ => {
                if positional == 0 {
                    train_path = a.into();
                } else {
                    hot_path = a.into();
                }
                positional += 1;
            }
        }
    }
    let rules = LinkRules::default();
    eprintln!("reading {} and {}", train_path.display(), hot_path.display());
    let train = load_csv(&train_path)?;
    let texts: Vec<&str> = train.rows.iter().map(|r| r.text.as_str()).collect();
    let labels: Vec<&str> = train.rows.iter().map(|r| r.label.as_str()).collect();
    let sigs: Vec<Signature> = texts.iter().map(|t| signature(t)).collect();
    let index = DedupIndex::bulk(sigs.iter().cloned().enumerate());
    let pool: Vec<char> = texts
        .iter()
        .flat_map(|t| t.chars())
        .filter(|c| !c.is_whitespace())
        .collect();

    // 1. Recall on edited copies.
    let mut recall_at_15 = 0usize;
    let sweep = [0.30f32, 0.35, 0.40, 0.45, 0.50];
    let mut sweep_recall15 = vec![0usize; sweep.len()];
    for pct in [5u32, 10, 15] {
        let mut rng = StdRng::seed_from_u64(4 + pct as u64);
        let (mut cand, mut hit) = (0usize, 0usize);
        let mut exact = Vec::with_capacity(texts.len());
        let mut estimated = Vec::with_capacity(texts.len());
        let mut misses = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let e = edit(t, pct as f64 / 100.0, &pool, &mut rng);
            let sig = signature(&e);
            exact.push(jaccard(&shingles(t), &shingles(&e)));
            estimated.push(dedup::similarity(&sig, &sigs[i]));
            if index.candidates(&sig).contains(&(i as u32)) {
                cand += 1;
                if pct == 15 {
                    let s = dedup::similarity(&sig, &sigs[i]);
                    for (k, t) in sweep.iter().enumerate() {
                        sweep_recall15[k] += usize::from(s >= *t);
                    }
                }
                if dedup::similarity(&sig, &sigs[i]) >= rules.similar {
                    hit += 1;
                    continue;
                }
            }
            misses.push(t.chars().count());
        }
        if pct == 15 {
            recall_at_15 = hit;
        }
        misses.sort_unstable();
        println!(
            "{}",
            json!({
                "measure": "recall", "edited_pct": pct, "n": texts.len(),
                "candidate_rate": cand as f64 / texts.len() as f64,
                "recall": hit as f64 / texts.len() as f64,
                "exact_jaccard": quantiles(exact), "estimated_jaccard": quantiles(estimated),
                "missed_lengths_median": misses.get(misses.len() / 2),
            })
        );
    }

    // 2. Precision among the originals.
    let mut by_label: HashMap<&str, u64> = HashMap::new();
    for l in &labels {
        *by_label.entry(l).or_default() += 1;
    }
    let total: u64 = by_label.values().sum();
    let cross_pairs: u64 = (total * total - by_label.values().map(|n| n * n).sum::<u64>()) / 2;
    let (mut same_label, mut cross) = (Vec::new(), Vec::new());
    let mut candidates_seen = 0usize;
    for (i, sig) in sigs.iter().enumerate() {
        let c = index.candidates(sig);
        candidates_seen += c.len().saturating_sub(1);
        for (&j, _, s) in index.query(sig, sweep[0].min(rules.similar)) {
            if j <= i {
                continue;
            }
            if labels[i] == labels[j] {
                same_label.push((i, j, s));
            } else {
                cross.push((i, j, s));
            }
        }
    }
    for (k, t) in sweep.iter().enumerate() {
        let fp_t = cross.iter().filter(|p| p.2 >= *t).count();
        let same_t = same_label.iter().filter(|p| p.2 >= *t).count();
        println!(
            "{}",
            json!({"measure": "sweep", "threshold": t, "recall_15pct": sweep_recall15[k] as f64 / texts.len() as f64,
                   "linked_cross_label_pairs": fp_t, "linked_same_label_pairs": same_t,
                   "precision_vs_15pct_edits": sweep_recall15[k] as f64 / (sweep_recall15[k] + fp_t) as f64})
        );
    }
    cross.retain(|p| p.2 >= rules.similar);
    same_label.retain(|p| p.2 >= rules.similar);
    let fp = cross.len();
    println!(
        "{}",
        json!({
            "measure": "precision", "threshold": rules.similar, "n": texts.len(), "cross_label_pairs": cross_pairs,
            "candidate_pairs_per_lookup": candidates_seen as f64 / texts.len() as f64,
            "linked_same_label_pairs": same_label.len(), "linked_cross_label_pairs": fp,
            "false_link_rate": fp as f64 / cross_pairs as f64,
            "precision_vs_15pct_edits": recall_at_15 as f64 / (recall_at_15 + fp) as f64,
            "linked_cross_label_identical": cross.iter().filter(|p| p.2 >= rules.identical).count(),
        })
    );
    cross.sort_by(|a, b| b.2.total_cmp(&a.2));
    for (i, j, s) in cross.iter().take(n_examples) {
        let cut = |t: &str| t.chars().take(70).collect::<String>().replace('\n', " ");
        eprintln!(
            "cross-label link {s:.2}: [{}] {}\n                      [{}] {}",
            labels[*i],
            cut(texts[*i]),
            labels[*j],
            cut(texts[*j])
        );
    }

    // 3. The hot-topic file.
    let mut hot = read_hot(&hot_path)?;
    hot.sort_by_key(|h| h.at);
    let hot_sigs: Vec<Signature> = hot.iter().map(|h| signature(&h.text)).collect();
    let keys: Vec<Vec<PetitionerKey>> = hot
        .iter()
        .map(|h| {
            if h.user.is_empty() {
                vec![]
            } else {
                vec![PetitionerKey(h.user.as_bytes().to_vec())]
            }
        })
        .collect();
    let mut idx: DedupIndex<usize> = DedupIndex::new();
    let mut counts: HashMap<Link, usize> = HashMap::new();
    let mut parent: Vec<usize> = (0..hot.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut examples: HashMap<Link, Vec<(usize, usize, f32)>> = HashMap::new();
    let mut linked_matters = 0usize;
    for (i, h) in hot.iter().enumerate() {
        let new = Incoming {
            signature: &hot_sigs[i],
            petitioners: &keys[i],
            at: h.at,
        };
        let cands = idx.candidates(&hot_sigs[i]).into_iter().map(|slot| {
            let j = slot as usize;
            let answered = hot[j].at + Duration::days(60);
            (
                j,
                Existing {
                    signature: &hot_sigs[j],
                    petitioners: &keys[j],
                    registered_at: hot[j].at,
                    open: h.at < answered,
                    answered_at: (h.at >= answered).then_some(answered),
                },
            )
        });
        let found = dedup::links(&rules, &new, cands);
        if let Some((j, l)) = found.first() {
            linked_matters += 1;
            *counts.entry(l.link).or_default() += 1;
            examples.entry(l.link).or_default().push((*j, i, l.similarity));
        }
        for (j, _) in &found {
            let (a, b) = (root(&mut parent, *j), root(&mut parent, i));
            parent[a] = b;
        }
        idx.insert(i, hot_sigs[i].clone());
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..hot.len() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    println!(
        "{}",
        json!({
            "measure": "hot", "n": hot.len(), "linked_matters": linked_matters,
            "first_link_by_kind": counts.iter().map(|(k, v)| (k.code(), *v)).collect::<HashMap<_, _>>(),
            "groups": groups.len(), "largest_groups": groups.iter().take(10).map(Vec::len).collect::<Vec<_>>(),
            "matters_in_groups": groups.iter().map(Vec::len).sum::<usize>(),
        })
    );
    let show = |i: usize| {
        format!(
            "{} {} ({} {})",
            hot[i].id,
            hot[i].title,
            hot[i].user,
            hot[i].at.format("%Y-%m-%d")
        )
    };
    for kind in [Link::Duplicate, Link::Repeat, Link::Joint, Link::Similar] {
        let list = examples.get(&kind).cloned().unwrap_or_default();
        let step = (list.len() / n_examples.max(1)).max(1);
        for (j, i, s) in list.iter().step_by(step).take(n_examples) {
            eprintln!("{} {s:.2}: {}\n        ← {}", kind.code(), show(*i), show(*j));
        }
    }
    for g in groups.iter().take(5) {
        eprintln!("group of {}:", g.len());
        for &i in g.iter().take(4) {
            eprintln!("    {}", show(i));
        }
    }
    Ok(())
}
