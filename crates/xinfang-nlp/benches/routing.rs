//! Routing benchmark (issue 4): cross-validated quality, training time, prediction latency and
//! model size on a labelled CSV (default `../shared/data/tipdm_c_train.csv` beside the repository).
//!
//! ```sh
//! cargo bench -p xinfang-nlp --bench routing                       # everything, 5-fold CV
//! cargo bench -p xinfang-nlp --bench routing -- FILE.csv --folds-file FOLDS.txt   # sklearn's folds
//! cargo bench -p xinfang-nlp --bench routing -- --quick            # training's own CV figures only
//! ```
//!
//! `FOLDS.txt` (one fold number per data row) comes from `benches/baseline_folds.py`, which also
//! prints the sklearn baseline's figures on those folds. Relative paths are taken from
//! `crates/xinfang-nlp` (cargo runs benches there). `--skip-cv` stops after training and latency;
//! `--c`, `--nb`, `--min-df`, `--head-chars`, … override the defaults for tuning. Prints one JSON
//! line per measurement.

use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use xinfang_nlp::classifier::{Classifier, TrainConfig};
use xinfang_nlp::dataset::load_csv;
use xinfang_nlp::eval::{cross_validate, stratified_folds};

fn main() {
    if let Err(e) = run() {
        eprintln!("routing bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut input = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/tipdm_c_train.csv"
    ));
    let mut folds_file = None;
    let mut folds = 5usize;
    let mut quick = false;
    let mut skip_cv = false;
    let mut config = TrainConfig::default();
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--folds-file" => folds_file = Some(PathBuf::from(value()?)),
            "--folds" => folds = value()?.parse()?,
            "--quick" => quick = true,
            "--skip-cv" => skip_cv = true,
            "--c" => config.c = value()?.parse()?,
            "--tol" => config.tolerance = value()?.parse()?,
            "--passes" => config.max_passes = value()?.parse()?,
            "--threads" => config.threads = value()?.parse()?,
            "--min-df" => config.features.min_df = value()?.parse()?,
            "--char-min" => config.features.char_min = value()?.parse()?,
            "--char-max" => config.features.char_max = value()?.parse()?,
            "--bigrams" => config.features.word_bigrams = true,
            "--word-weight" => config.features.word_weight = value()?.parse()?,
            "--bigram-weight" => config.features.bigram_weight = value()?.parse()?,
            "--char-weight" => config.features.char_weight = value()?.parse()?,
            "--head-chars" => config.features.head_chars = value()?.parse()?,
            "--head-weight" => config.features.head_weight = value()?.parse()?,
            "--nb" => config.nb_scale = value()?.parse()?,
            s if s.starts_with("--") => return Err(format!("unknown option {s}").into()),
            s => input = PathBuf::from(s),
        }
    }
    let data = load_csv(&input)?;
    for bad in &data.rejected {
        eprintln!("line {}: {}", bad.line, bad.reason);
    }
    let rows = data.rows;
    eprintln!("{} rows from {}", rows.len(), input.display());

    // Training on every row (its own CV figures come with it).
    let t0 = Instant::now();
    let model = Classifier::train(&rows, &config)?;
    let train_seconds = t0.elapsed().as_secs_f64();
    let bytes = model.to_bytes();
    println!(
        "{}",
        json!({
            "measure": "train",
            "n": rows.len(),
            "seconds": (train_seconds * 100.0).round() / 100.0,
            "model_bytes": bytes.len(),
            "n_features": model.info().n_features,
            "temperature": model.info().temperature,
            "training_cv": model.info().cv,
        })
    );
    if quick {
        return Ok(());
    }

    // Prediction latency on 500-character texts, segmentation included.
    let texts: Vec<String> = rows
        .iter()
        .cycle()
        .scan(String::new(), |acc, r| {
            acc.push_str(&r.text);
            if acc.chars().count() >= 500 {
                let t: String = acc.chars().take(500).collect();
                acc.clear();
                Some(Some(t))
            } else {
                Some(None)
            }
        })
        .flatten()
        .take(2000)
        .collect();
    for t in texts.iter().take(50) {
        std::hint::black_box(model.predict(t));
    }
    let mut micros: Vec<f64> = Vec::with_capacity(texts.len() * 3);
    for _ in 0..3 {
        for t in &texts {
            let s = Instant::now();
            std::hint::black_box(model.predict(t));
            micros.push(s.elapsed().as_secs_f64() * 1e6);
        }
    }
    micros.sort_by(f64::total_cmp);
    let q = |p: f64| micros[((micros.len() as f64 * p) as usize).min(micros.len() - 1)].round();
    // Wall-clock latency: on a shared machine, a preempted call shows in the tail; say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{}",
        json!({
            "loadavg": load.split_whitespace().next().unwrap_or(""),
            "measure": "predict_500_chars",
            "calls": micros.len(),
            "p50_us": q(0.5),
            "p99_us": q(0.99),
            "max_us": q(1.0),
        })
    );
    let reloaded = Instant::now();
    let back = Classifier::from_bytes(&bytes)?;
    println!(
        "{}",
        json!({"measure": "load_model", "ms": (reloaded.elapsed().as_secs_f64() * 1e4).round() / 10.0,
               "labels": back.labels()})
    );
    let example = back.predict(&rows[0].text);
    println!(
        "{}",
        json!({"measure": "example", "label": rows[0].label, "prediction": example})
    );
    if skip_cv {
        return Ok(());
    }

    // Cross-validation with the full training (calibration folds inside each outer fold).
    let fold_of: Vec<usize> = match &folds_file {
        Some(f) => {
            let text = std::fs::read_to_string(f)?;
            let v: Vec<usize> = text.lines().map(str::parse).collect::<Result<_, _>>()?;
            if v.len() != rows.len() {
                return Err(format!("{} folds for {} rows", v.len(), rows.len()).into());
            }
            v
        }
        None => {
            let mut labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
            labels.sort();
            labels.dedup();
            let y: Vec<usize> = rows
                .iter()
                .map(|r| labels.iter().position(|l| *l == r.label).unwrap_or(0))
                .collect();
            stratified_folds(&y, folds, 0)
        }
    };
    let t0 = Instant::now();
    let report = cross_validate(&rows, &fold_of, &config)?;
    let mut v = serde_json::to_value(&report)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("measure".into(), json!("cv"));
        o.insert(
            "folds".into(),
            json!(if folds_file.is_some() {
                "file"
            } else {
                "stratified"
            }),
        );
        o.insert(
            "seconds".into(),
            json!((t0.elapsed().as_secs_f64() * 10.0).round() / 10.0),
        );
    }
    println!("{v}");
    Ok(())
}
