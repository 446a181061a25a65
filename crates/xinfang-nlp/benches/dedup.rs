//! Dedup and triage benchmark (issue 4, parts 3 and 4): signature time, lookup latency against an
//! index of 1,000,000 stored matters and its memory, and the time of `triage::assess`. Reads
//! `../shared/data/tipdm_c_train.csv` beside the repository (benchmark only; another file as the
//! first argument).
//!
//! ```sh
//! cargo bench -p xinfang-nlp --bench dedup [-- FILE.csv --stored N --queries Q --skip-index]
//! ```
//!
//! The stored matters are made from the real messages: each is a message with 5–40% of its
//! characters edited at random and, for a third of them, a sentence of another message appended,
//! so the index holds many near-copies of every message (about 180 per message at 1,000,000:
//! more true candidates per lookup than a real office would have, so the latency is an upper
//! bound). Prints one JSON line per measurement: the simple index of evaluations
//! (`DedupIndex`) and the app node's compact one (`BandIndex`).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;
use xinfang_nlp::band_index::{BandIndex, people_bits};
use xinfang_nlp::dataset::load_csv;
use xinfang_nlp::dedup::{DedupIndex, LinkRules, Signature, signature};
use xinfang_nlp::triage;

fn main() {
    if let Err(e) = run() {
        eprintln!("dedup bench: {e}");
        std::process::exit(1);
    }
}

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

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut input = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/tipdm_c_train.csv"
    ));
    let mut stored = 1_000_000usize;
    let mut queries = 2_000usize;
    let mut skip_index = false;
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--stored" => stored = value()?.parse()?,
            "--queries" => queries = value()?.parse()?,
            "--skip-index" => skip_index = true,
            _ => input = PathBuf::from(a),
        }
    }
    let data = load_csv(&input)?;
    let texts: Vec<&str> = data.rows.iter().map(|r| r.text.as_str()).collect();
    let pool: Vec<char> = texts
        .iter()
        .flat_map(|t| t.chars())
        .filter(|c| !c.is_whitespace())
        .collect();

    // Signature time on 500-character texts (messages cut or joined to that length).
    let five_hundred: Vec<String> = (0..texts.len())
        .map(|i| {
            texts[i..]
                .iter()
                .chain(texts.iter())
                .flat_map(|t| t.chars())
                .take(500)
                .collect::<String>()
        })
        .take(2000)
        .collect();
    let start = Instant::now();
    let mut sink = 0u64;
    for t in &five_hundred {
        sink += signature(t).values()[0] as u64;
    }
    let per = start.elapsed().as_secs_f64() / five_hundred.len() as f64;
    println!(
        "{}",
        json!({"measure": "signature_500_chars", "n": five_hundred.len(), "us_per_text": per * 1e6, "sink": sink % 7})
    );

    // Triage: the time of assess() on every real message, and what it finds.
    triage::warm_up();
    let mut lat = Vec::with_capacity(texts.len());
    let mut by_type: HashMap<&str, usize> = HashMap::new();
    let mut by_alert: HashMap<&str, usize> = HashMap::new();
    let mut by_urgency: HashMap<&str, usize> = HashMap::new();
    let mut intense = 0usize;
    let mut shown = 0usize;
    for t in &texts {
        let start = Instant::now();
        let a = triage::assess(t);
        lat.push(start.elapsed().as_secs_f64() * 1e6);
        *by_type
            .entry(
                a.petition_type
                    .as_ref()
                    .map_or("none", |p| p.petition_type.code()),
            )
            .or_default() += 1;
        *by_urgency.entry(a.urgency.code()).or_default() += 1;
        intense += usize::from(a.emotional_intensity >= 0.5);
        for al in &a.alerts {
            *by_alert.entry(al.category.code()).or_default() += 1;
            if shown < 12 {
                shown += 1;
                let from = t[..al.start].char_indices().rev().nth(15).map_or(0, |(i, _)| i);
                let ctx: String = t[from..].chars().take(36).collect();
                eprintln!(
                    "alert {} {}: …{}…",
                    al.category.code(),
                    al.term,
                    ctx.replace('\n', " ")
                );
            }
        }
    }
    let mean = lat.iter().sum::<f64>() / lat.len() as f64;
    lat.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "measure": "assess", "n": texts.len(), "mean_us": mean, "p99_us": percentile(&lat, 0.99),
            "mean_chars": texts.iter().map(|t| t.chars().count()).sum::<usize>() as f64 / texts.len() as f64,
            "petition_type": by_type, "urgency": by_urgency, "alerts": by_alert, "intensity_ge_0_5": intense,
        })
    );
    if skip_index {
        return Ok(());
    }

    // The stored matters, made on two threads.
    let rss_before = rss_mb();
    let start = Instant::now();
    let make = |seed: u64, n: usize| -> Vec<(u32, Signature)> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|k| {
                let base = texts[rng.random_range(0..texts.len())];
                let mut t = edit(base, rng.random_range(0.05..0.40), &pool, &mut rng);
                if rng.random_range(0..3) == 0 {
                    let other = texts[rng.random_range(0..texts.len())];
                    t.extend(other.split('。').next().unwrap_or(other).chars().take(80));
                }
                ((seed as usize * n + k) as u32, signature(&t))
            })
            .collect()
    };
    let half = stored / 2;
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| make(0, half));
        let b = s.spawn(|| make(1, stored - half));
        (a.join(), b.join())
    });
    let (a, b) = (
        a.map_err(|_| "worker panicked")?,
        b.map_err(|_| "worker panicked")?,
    );
    let made = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let stored_signatures: Vec<(u32, Signature)> = a.into_iter().chain(b).collect();
    let index = DedupIndex::bulk(stored_signatures.iter().cloned());
    let built = start.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "measure": "index", "stored": index.len(), "make_s": made, "build_s": built,
            "index_mb": index.heap_bytes() as f64 / 1048576.0, "rss_growth_mb": rss_mb() - rss_before,
        })
    );

    // Lookups: a fresh copy of a real message with 15% of it edited; band keys → candidates →
    // verified similarity. Signature time is measured above and left out here.
    let rules = LinkRules::default();
    let mut rng = StdRng::seed_from_u64(99);
    let probes: Vec<Signature> = (0..queries)
        .map(|_| {
            signature(&edit(
                texts[rng.random_range(0..texts.len())],
                0.15,
                &pool,
                &mut rng,
            ))
        })
        .collect();
    let mut lat = Vec::with_capacity(queries);
    let (mut cands, mut hits) = (0usize, 0usize);
    for p in &probes {
        let start = Instant::now();
        let h = index.query(p, rules.similar).len();
        lat.push(start.elapsed().as_secs_f64() * 1e3);
        cands += index.candidates(p).len();
        hits += h;
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "measure": "lookup", "stored": index.len(), "queries": queries,
            "p50_ms": percentile(&lat, 0.5), "p99_ms": percentile(&lat, 0.99), "max_ms": percentile(&lat, 1.0),
            "mean_candidates": cands as f64 / queries as f64, "mean_linked": hits as f64 / queries as f64,
            "note": "latency of one query(): band keys, candidates, verification; candidates counted apart",
        })
    );
    drop(index);

    // The app node's compact index (what the server looks up before reading candidates from
    // the database): loaded in bulk, as a node reads the log at start, then one matter at a
    // time, as it catches up before each lookup.
    let rss_before = rss_mb();
    let start = Instant::now();
    let mut bands = BandIndex::new();
    for (id, sig) in &stored_signatures {
        bands.insert_bulk(1, *id, sig, people_bits([u64::from(*id)]))?;
    }
    bands.compact();
    let built = start.elapsed().as_secs_f64();
    drop(stored_signatures);
    let start = Instant::now();
    let next = u32::try_from(bands.len())?;
    for (i, p) in probes.iter().enumerate() {
        bands.insert(1, next + i as u32, p, people_bits([u64::from(next) + i as u64]))?;
    }
    let single_us = start.elapsed().as_secs_f64() * 1e6 / probes.len() as f64;
    let mut lat = Vec::with_capacity(queries);
    let mut found = 0usize;
    for (i, p) in probes.iter().enumerate() {
        let start = Instant::now();
        // Each probe was inserted above: it excludes itself, as intake does.
        found += bands
            .candidates(1, p, people_bits([7]), next + i as u32, rules.similar, 64)
            .len();
        lat.push(start.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "measure": "band_index_lookup", "stored": bands.len(), "queries": queries,
            "bulk_load_s": built, "single_insert_us": single_us, "index_mb": bands.bytes() as f64 / 1048576.0, "rss_growth_mb": rss_mb() - rss_before,
            "p50_ms": percentile(&lat, 0.5), "p99_ms": percentile(&lat, 0.99), "max_ms": percentile(&lat, 1.0),
            "mean_candidates": found as f64 / queries as f64,
            "note": "BandIndex::candidates, at most 64 (the server's limit): band keys, sketch filter, ranking",
        })
    );
    Ok(())
}
