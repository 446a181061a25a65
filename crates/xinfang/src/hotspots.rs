//! `xinfang hotspots`: clusters of similar matters in a time window, ranked by heat (DESIGN.md
//! section 6, issue 4). Reads `id,user,title,time,detail[,likes,dislikes]` CSV, prints one JSON
//! line `{"hotspots":[{"label","size","first","last","heat","members"}]}` on stdout and says on
//! stderr which CSV lines it left out. The method and the heat formula are documented in
//! `xinfang_nlp::hotspots`.

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use xinfang_nlp::hotspots::{HotspotConfig, find_hotspots, load_csv};
use xinfang_nlp::{Segmenter, UserDictionary};

/// Arguments of `xinfang hotspots`.
#[derive(Args, Debug)]
pub struct HotspotsArgs {
    /// CSV with columns id,user,title,time,detail[,likes,dislikes].
    #[arg(long)]
    input: PathBuf,
    /// First day of the window, YYYY-MM-DD (inclusive).
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Last day of the window, YYYY-MM-DD (inclusive).
    #[arg(long)]
    to: Option<NaiveDate>,
    /// How many hotspots to print, hottest first.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// A user dictionary (one word a line: word [frequency] [tag]) whose words stay whole.
    #[arg(long)]
    dictionary: Option<PathBuf>,
    /// Mean cosine similarity at which two clusters still merge (0–1).
    #[arg(long)]
    threshold: Option<f32>,
}

/// Reads a user dictionary file, every bad line reported on stderr with its number; answers
/// the text and the dictionary.
pub fn read_dictionary(path: &std::path::Path) -> anyhow::Result<(String, UserDictionary)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match UserDictionary::parse(&text) {
        Ok(d) => Ok((text, d)),
        Err(errors) => {
            for e in &errors {
                eprintln!("{}: {e}", path.display());
            }
            bail!(
                "{}: {} bad line(s) in the dictionary",
                path.display(),
                errors.len()
            );
        }
    }
}

/// Runs `xinfang hotspots`.
pub fn run(args: HotspotsArgs) -> anyhow::Result<ExitCode> {
    if let (Some(f), Some(t)) = (args.from, args.to)
        && f > t
    {
        bail!("--from {f} is after --to {t}");
    }
    let mut config = HotspotConfig {
        from: args.from,
        to: args.to,
        top: args.top,
        ..HotspotConfig::default()
    };
    if let Some(t) = args.threshold {
        if !(t > 0.0 && t <= 1.0) {
            bail!("--threshold must be above 0 and at most 1");
        }
        config.threshold = t;
    }
    let segmenter = match &args.dictionary {
        None => Segmenter::base(),
        Some(path) => Segmenter::with_dictionary(&read_dictionary(path)?.1),
    };
    let input = load_csv(&args.input)?;
    const SHOWN: usize = 20;
    for bad in input.rejected.iter().take(SHOWN) {
        eprintln!(
            "跳过 skipped {}:{}: {}",
            args.input.display(),
            bad.line,
            bad.reason
        );
    }
    if input.rejected.len() > SHOWN {
        eprintln!("… and {} more skipped rows", input.rejected.len() - SHOWN);
    }
    if input.records.is_empty() {
        bail!("{}: no usable rows", args.input.display());
    }
    let hotspots = find_hotspots(input.records, &config, &segmenter);
    let time = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let list: Vec<serde_json::Value> = hotspots
        .iter()
        .map(|h| {
            json!({
                "label": h.label,
                "size": h.size,
                "first": time(h.first),
                "last": time(h.last),
                "heat": h.heat,
                "members": h.members,
            })
        })
        .collect();
    println!("{}", json!({ "hotspots": list }));
    Ok(ExitCode::SUCCESS)
}
