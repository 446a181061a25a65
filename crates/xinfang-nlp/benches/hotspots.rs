//! Hotspot benchmark (issue 4): time to read and cluster a CSV of messages (default
//! `../shared/data/tipdm_c_hot.csv` beside the repository, read only here, never by tests), the
//! segmenter build with a user dictionary, and the top hotspots for inspection.
//!
//! ```sh
//! cargo bench -p xinfang-nlp --bench hotspots                  # default file, top 10
//! cargo bench -p xinfang-nlp --bench hotspots -- FILE.csv --top 20 --threshold 0.25
//! ```
//!
//! Prints one JSON line per measurement, then one per hotspot.

use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use xinfang_nlp::hotspots::{HotspotConfig, find_hotspots, load_csv};
use xinfang_nlp::{Segmenter, UserDictionary};

fn main() {
    if let Err(e) = run() {
        eprintln!("hotspots bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut input = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/tipdm_c_hot.csv"
    ));
    let mut config = HotspotConfig::default();
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--top" => config.top = value()?.parse()?,
            "--threshold" => config.threshold = value()?.parse()?,
            "--title-weight" => config.title_weight = value()?.parse()?,
            "--max-df" => config.max_df = value()?.parse()?,
            "--min-size" => config.min_size = value()?.parse()?,
            other if !other.starts_with("--") => input = PathBuf::from(other),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let started = Instant::now();
    Segmenter::base().words("预热");
    let warm = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let dict = UserDictionary::parse("T3航站楼\n卫星厅\n空港物业\n").map_err(|e| format!("{e:?}"))?;
    let custom = Segmenter::with_dictionary(&dict);
    let build = started.elapsed().as_secs_f64();
    drop(custom);
    let started = Instant::now();
    let data = load_csv(&input)?;
    let read = started.elapsed().as_secs_f64();
    let n = data.records.len();
    let started = Instant::now();
    let hs = find_hotspots(data.records, &config, &Segmenter::base());
    let cluster = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"input": input.display().to_string(), "records": n, "rejected": data.rejected.len(),
               "jieba_load_s": warm, "user_dictionary_segmenter_s": build,
               "read_s": read, "cluster_s": cluster})
    );
    for h in &hs {
        println!(
            "{}",
            json!({"label": h.label, "title": h.title, "size": h.size, "petitioners": h.petitioners,
                   "likes": h.likes, "growth": h.growth, "heat": h.heat,
                   "first": h.first.to_string(), "last": h.last.to_string(),
                   "members": h.members.iter().take(6).collect::<Vec<_>>()})
        );
    }
    Ok(())
}
