//! `xinfang model …`: the routing classifier from the command line (DESIGN.md section 10, issue 4).
//! Train on labelled CSV, score a model, cross-validate, try one text, read a model's header.
//! Everything prints JSON on stdout (one line) and says on stderr which CSV lines it skipped.

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use xinfang_nlp::dataset::{Dataset, load_csv};
use xinfang_nlp::eval::{cross_validate, evaluate_model, stratified_folds};
use xinfang_nlp::{Classifier, TrainConfig};

/// The model subcommands.
#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Train on labelled CSV (id,user,title,time,detail,label) and write the model file; prints
    /// a JSON summary with the cross-validated figures kept in the model.
    Train {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Cross-validation folds for calibration and the stored figures.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// SVM cost C (larger fits the training rows more closely).
        #[arg(long)]
        c: Option<f32>,
        /// A user dictionary (one word a line: `word [freq] [tag]`) to segment with; the model
        /// keeps it and predicts with it.
        #[arg(long)]
        dictionary: Option<PathBuf>,
    },
    /// Score a model on labelled CSV: one JSON line with n, accuracy, macro_f1, per_label,
    /// accuracy_at_coverage and ece.
    Eval {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
    },
    /// Stratified k-fold cross-validation on one labelled CSV: the same JSON as eval.
    Cv {
        #[arg(long)]
        input: PathBuf,
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Seed of the fold assignment.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// The top 3 labels with probabilities, and the words behind the first, for one text.
    Predict {
        #[arg(long)]
        model: PathBuf,
        /// The text (title and content).
        text: String,
    },
    /// A model's header: labels, training size, cross-validated figures, settings.
    Info {
        #[arg(long)]
        model: PathBuf,
    },
}

/// Runs one model subcommand. CPU-bound; the CLI has nothing else to do meanwhile.
pub fn run(command: ModelCommand) -> anyhow::Result<ExitCode> {
    match command {
        ModelCommand::Train {
            input,
            out,
            folds,
            c,
            dictionary,
        } => {
            let data = read(&input)?;
            let mut config = TrainConfig {
                folds,
                ..TrainConfig::default()
            };
            if let Some(path) = dictionary {
                let (text, _) = crate::hotspots::read_dictionary(&path)?;
                config.features.dictionary = text;
            }
            if let Some(c) = c {
                if !(c.is_finite() && c > 0.0) {
                    bail!("--c must be a positive number");
                }
                config.c = c;
            }
            let started = Instant::now();
            let model = Classifier::train(&data.rows, &config).context("training")?;
            model.save(&out)?;
            let info = model.info();
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            println!(
                "{}",
                json!({
                    "model": out.display().to_string(),
                    "bytes": size,
                    "n": info.n_train,
                    "labels": info.labels,
                    "label_counts": info.label_counts,
                    "n_features": info.n_features,
                    "seconds": (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
                    "cv": info.cv,
                })
            );
        }
        ModelCommand::Eval { model, input } => {
            let model = Classifier::load(&model)?;
            let data = read(&input)?;
            println!("{}", serde_json::to_string(&evaluate_model(&model, &data.rows))?);
        }
        ModelCommand::Cv { input, folds, seed } => {
            if folds < 2 {
                bail!("--folds must be at least 2");
            }
            let data = read(&input)?;
            let mut labels: Vec<&str> = data.rows.iter().map(|r| r.label.as_str()).collect();
            labels.sort_unstable();
            labels.dedup();
            let y: Vec<usize> = data
                .rows
                .iter()
                .map(|r| labels.binary_search(&r.label.as_str()).unwrap_or(0))
                .collect();
            let fold_of = stratified_folds(&y, folds, seed);
            let report = cross_validate(&data.rows, &fold_of, &TrainConfig::default()).context("training")?;
            println!("{}", serde_json::to_string(&report)?);
        }
        ModelCommand::Predict { model, text } => {
            let model = Classifier::load(&model)?;
            println!("{}", serde_json::to_string(&model.predict(&text))?);
        }
        ModelCommand::Info { model } => {
            let model = Classifier::load(&model)?;
            println!("{}", serde_json::to_string(model.info())?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads labelled CSV, reporting skipped lines on stderr; fails when no row is usable.
fn read(path: &Path) -> anyhow::Result<Dataset> {
    let data = load_csv(path)?;
    const SHOWN: usize = 20;
    for bad in data.rejected.iter().take(SHOWN) {
        eprintln!("跳过 skipped {}:{}: {}", path.display(), bad.line, bad.reason);
    }
    if data.rejected.len() > SHOWN {
        eprintln!("… and {} more skipped rows", data.rejected.len() - SHOWN);
    }
    if data.rows.is_empty() {
        bail!("{}: no usable labelled rows", path.display());
    }
    Ok(data)
}
