//! The routing classifier: which category (and so which unit) a matter belongs to, how sure the
//! model is, and which words made it say so.
//!
//! Model: one-vs-rest linear SVMs (L2-regularised squared hinge, trained by dual coordinate
//! descent as in liblinear, Hsieh et al. 2008) over the TF-IDF features of [`crate::features`],
//! each label's features scaled by its NB log-count ratio (NBSVM, Wang & Manning 2012). Training
//! runs k-fold cross-validation (5 by default) for out-of-fold margins, on which it fits the
//! calibration: Platt scaling of the gap between the first two margins gives the first label's
//! probability (so "95%" is right about 95 times in 100, and rows rank by how clearly the first
//! label won), and a softmax temperature shares the rest among the others. The figures of that
//! cross-validation stay in the model ([`ModelInfo::cv`]); the final model is trained on every row.
//!
//! For the server: [`Classifier::from_bytes`] loads a stored model, [`Classifier::predict`] gives
//! the top 3 labels with calibrated probabilities and the words that drove the top one. Training
//! is CPU-bound (seconds): run it in `spawn_blocking`. Prediction is read-only (`&self`): share
//! one model between threads behind an `Arc`.
//!
//! File format (all integers little-endian): magic `XFROUTE\0`, u32 format version, u64 length and
//! JSON of [`ModelInfo`], the vocabulary (words as u32 length + UTF-8, bigrams as word-index pairs,
//! character grams as packed u64 keys), IDF, weights and biases as f32, and an FNV-1a 64 checksum
//! of everything before it.

use crate::eval::{Report, SplitMix, evaluate, stratified_folds};
use crate::features::{Corpus, FeatureConfig, FeatureSpace};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Version of the model file format written by [`Classifier::to_bytes`].
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"XFROUTE\0";

/// How many labels [`Classifier::predict`] returns.
pub const TOP_K: usize = 3;
/// How many words [`Classifier::predict`] gives as the reasons for the top label.
pub const REASONS: usize = 6;

/// Training settings. Stored in the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Features.
    pub features: FeatureConfig,
    /// SVM cost C: larger fits the training rows more closely.
    pub c: f32,
    /// Stop when the projected gradient's spread falls below this.
    pub tolerance: f32,
    /// At most this many passes over the rows per label.
    pub max_passes: u32,
    /// Cross-validation folds for calibration and the stored figures (≥ 2).
    pub folds: usize,
    /// Seed of fold assignment and row order: same data and seed, same model.
    pub seed: u64,
    /// Threads to train on.
    pub threads: usize,
    /// NBSVM feature scaling: each label's features scaled by |log-count ratio|^nb_scale (0 = off).
    #[serde(default)]
    pub nb_scale: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            features: FeatureConfig::default(),
            c: 1.0,
            tolerance: 0.1,
            max_passes: 50,
            folds: 5,
            seed: 0x5EED,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
            // Routing benchmark, 5-fold CV macro-F1: 0.9061 without, 0.9151 at 0.5, 0.9100 at 1.
            nb_scale: 0.5,
        }
    }
}

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The text (title and content).
    pub text: String,
    /// The category it belongs to.
    pub label: String,
}

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Fewer than two distinct labels.
    #[error("need at least two labels to learn from, found {0}")]
    TooFewLabels(usize),
    /// Too few rows for the folds.
    #[error("need at least {need} labelled rows for {folds}-fold calibration, found {found}")]
    TooFewExamples {
        /// Rows needed.
        need: usize,
        /// Rows given.
        found: usize,
        /// Folds configured.
        folds: usize,
    },
    /// The user dictionary in the feature configuration does not parse.
    #[error("user dictionary: {0}")]
    Dictionary(String),
    /// No term occurs often enough to be a feature.
    #[error("no features: every word is rarer than min_df ({0}) or the texts are empty")]
    NoFeatures(u32),
    /// A worker thread panicked (a bug).
    #[error("a training thread failed")]
    Thread,
    /// Cross-validation was given a fold number for a different number of rows.
    #[error("{folds} fold numbers for {rows} rows")]
    FoldMismatch {
        /// Fold numbers given.
        folds: usize,
        /// Rows given.
        rows: usize,
    },
}

/// Why a model file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading or writing the file failed.
    #[error("model file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The bytes are not a model file.
    #[error("not a xinfang routing model (bad magic)")]
    NotAModel,
    /// Written by a newer version of xinfang.
    #[error("model format {0} is not supported by this version (supports {FORMAT_VERSION})")]
    UnsupportedVersion(u32),
    /// Truncated, altered or inconsistent.
    #[error("corrupt model file: {0}")]
    Corrupt(String),
}

/// What a model is: stored at the start of its file, readable without the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// File format version.
    pub format: u32,
    /// Version of xinfang-nlp that trained it.
    pub software_version: String,
    /// The learning method.
    pub algorithm: String,
    /// Labels, in the order of the weights.
    pub labels: Vec<String>,
    /// Training rows per label.
    pub label_counts: Vec<usize>,
    /// Training rows.
    pub n_train: usize,
    /// Features in the vocabulary.
    pub n_features: usize,
    /// Softmax temperature fitted on out-of-fold margins: how the labels after the first share
    /// what the first leaves.
    pub temperature: f32,
    /// Platt scaling (a, b) of the first label's probability, sigmoid(a·gap + b), where gap is
    /// the first margin minus the second, fitted on out-of-fold margins.
    #[serde(default)]
    pub margin_platt: (f32, f32),
    /// Settings it was trained with.
    pub config: TrainConfig,
    /// Cross-validated figures of training (out-of-fold predictions; the calibration was fitted on
    /// the same margins). `None` for models trained without calibration folds.
    pub cv: Option<Report>,
    /// Wall-clock seconds training took.
    pub train_seconds: f64,
}

/// A label with its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The category.
    pub label: String,
    /// Calibrated probability.
    pub probability: f32,
}

/// A word (or character sequence) that pushed the top label, with its share of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The text as it appears (normalised).
    pub text: String,
    /// Weight × feature value, summed over the features with this text.
    pub weight: f32,
}

/// What the classifier says about one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The most probable labels, best first (at most [`TOP_K`]).
    pub top: Vec<Suggestion>,
    /// The words that drove the top label, strongest first (at most [`REASONS`]).
    pub words: Vec<Contribution>,
}

/// A trained routing model.
#[derive(Debug, Clone)]
pub struct Classifier {
    info: ModelInfo,
    space: FeatureSpace,
    /// Feature-major: `weights[f * n_labels + label]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// Compressed rows of the training matrix.
struct Csr {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl Csr {
    fn new(rows: impl Iterator<Item = crate::features::SparseVec>) -> Csr {
        let mut m = Csr {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
        };
        for r in rows {
            m.indices.extend_from_slice(&r.indices);
            m.values.extend_from_slice(&r.values);
            m.indptr.push(m.indices.len());
        }
        m
    }

    fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }
}

/// One-vs-rest weights: class-major `w[label][feature]` and biases.
struct Linear {
    w: Vec<Vec<f32>>,
    b: Vec<f32>,
}

impl Linear {
    fn scores(&self, idx: &[u32], val: &[f32]) -> Vec<f32> {
        self.w
            .iter()
            .zip(&self.b)
            .map(|(w, b)| b + idx.iter().zip(val).map(|(j, v)| w[*j as usize] * v).sum::<f32>())
            .collect()
    }
}

/// L2-regularised squared-hinge SVM, dual coordinate descent with shrinking (liblinear's
/// `solve_l2r_l1l2_svc`). The bias is a feature of constant value 1 (regularised, as liblinear).
fn train_binary(
    x: &Csr,
    values: &[f32],
    positive: &[bool],
    n_features: usize,
    config: &TrainConfig,
    seed: u64,
) -> (Vec<f32>, f32) {
    let l = x.rows();
    let diag = 0.5 / config.c.max(1e-6);
    let mut w = vec![0f32; n_features];
    let mut b = 0f32;
    let mut alpha = vec![0f32; l];
    let qd: Vec<f32> = (0..l)
        .map(|i| {
            diag + 1.0
                + values[x.indptr[i]..x.indptr[i + 1]]
                    .iter()
                    .map(|v| v * v)
                    .sum::<f32>()
        })
        .collect();
    let mut index: Vec<usize> = (0..l).collect();
    let mut active = l;
    // With no upper bound on alpha (squared hinge), only rows at alpha = 0 are ever shrunk.
    let mut pg_max_old = f32::INFINITY;
    let mut rng = SplitMix::new(seed);
    let mut pass = 0;
    while pass < config.max_passes {
        let (mut pg_max, mut pg_min) = (f32::NEG_INFINITY, f32::INFINITY);
        rng.shuffle(&mut index[..active]);
        let mut s = 0;
        while s < active {
            let i = index[s];
            let y = if positive[i] { 1.0 } else { -1.0 };
            let (idx, _) = x.row(i);
            let val = &values[x.indptr[i]..x.indptr[i + 1]];
            let mut wx = b;
            for (j, v) in idx.iter().zip(val) {
                wx += w[*j as usize] * v;
            }
            let g = y * wx - 1.0 + alpha[i] * diag;
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / qd[i]).max(0.0);
                let d = (alpha[i] - old) * y;
                for (j, v) in idx.iter().zip(val) {
                    w[*j as usize] += d * v;
                }
                b += d;
            }
            s += 1;
        }
        pass += 1;
        if pg_max - pg_min <= config.tolerance {
            if active == l {
                break;
            }
            active = l;
            pg_max_old = f32::INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f32::INFINITY } else { pg_max };
    }
    (w, b)
}

fn train_ovr(x: &Csr, y: &[usize], n_labels: usize, n_features: usize, config: &TrainConfig) -> Linear {
    let mut w = Vec::with_capacity(n_labels);
    let mut b = Vec::with_capacity(n_labels);
    for label in 0..n_labels {
        let positive: Vec<bool> = y.iter().map(|l| *l == label).collect();
        if config.nb_scale > 0.0 {
            let scale = nb_scale(x, &positive, n_features, config.nb_scale);
            let values: Vec<f32> = x
                .indices
                .iter()
                .zip(&x.values)
                .map(|(j, v)| v * scale[*j as usize])
                .collect();
            let (mut wl, bl) = train_binary(
                x,
                &values,
                &positive,
                n_features,
                config,
                config.seed ^ label as u64,
            );
            wl.iter_mut().zip(&scale).for_each(|(w, s)| *w *= s);
            w.push(wl);
            b.push(bl);
        } else {
            let (wl, bl) = train_binary(
                x,
                &x.values,
                &positive,
                n_features,
                config,
                config.seed ^ label as u64,
            );
            w.push(wl);
            b.push(bl);
        }
    }
    Linear { w, b }
}

/// Per-feature scale |r|^power of NBSVM (Wang & Manning 2012): r is the log ratio of how often
/// the feature occurs in the label's rows and in the others' (document counts, add-one smoothed).
/// Scaling a feature by |r| before an L2-regularised fit penalises telling features less.
fn nb_scale(x: &Csr, positive: &[bool], n_features: usize, power: f32) -> Vec<f32> {
    let mut p = vec![1f32; n_features];
    let mut q = vec![1f32; n_features];
    for (i, pos) in positive.iter().enumerate() {
        let counts = if *pos { &mut p } else { &mut q };
        for j in x.row(i).0 {
            counts[*j as usize] += 1.0;
        }
    }
    let (sp, sq): (f32, f32) = (p.iter().sum(), q.iter().sum());
    p.iter()
        .zip(&q)
        .map(|(a, b)| ((a / sp) / (b / sq)).ln().abs().max(1e-3).powf(power))
        .collect()
}

/// Probabilities from one-vs-rest margins: the first label gets sigmoid(a·gap + b) (gap = its
/// margin minus the second's), which ranks rows by how clearly the first label won and is
/// calibrated on held-out rows; the others share the rest as softmax(margins / temperature) does.
/// The order of the margins is kept.
fn calibrate(scores: &[f32], temperature: f32, (a, b): (f32, f32)) -> Vec<f32> {
    let mut p = scores.to_vec();
    softmax(&mut p, temperature);
    if scores.len() < 2 || a <= 0.0 {
        return p;
    }
    let (best, _) = argmax(scores);
    let second = scores
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .fold(f32::NEG_INFINITY, |m, (_, v)| m.max(*v));
    let gap = scores[best] - second;
    let mut rest: Vec<f32> = scores
        .iter()
        .enumerate()
        .map(|(i, v)| if i == best { f32::NEG_INFINITY } else { *v })
        .collect();
    softmax(&mut rest, temperature);
    let runner_up = rest.iter().copied().fold(0.0, f32::max);
    // Never below what the runner-up then gets: the first label stays first.
    let top = (1.0 / (1.0 + (-(a * gap + b)).exp())).max(runner_up / (1.0 + runner_up) * 1.001);
    for (i, v) in p.iter_mut().enumerate() {
        *v = if i == best { top } else { rest[i] * (1.0 - top) };
    }
    p
}

/// Platt scaling of "the first label is right" on the gap between the first two held-out margins
/// (Newton's method on the log loss with Platt's smoothed targets). (0, 0) when it cannot be fitted.
pub(crate) fn fit_margin_platt(scores: &[Vec<f32>], truth: &[usize]) -> (f32, f32) {
    let mut gaps = Vec::with_capacity(scores.len());
    let mut right = Vec::with_capacity(scores.len());
    for (s, y) in scores.iter().zip(truth) {
        if s.len() < 2 {
            continue;
        }
        let (best, _) = argmax(s);
        let second = s
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != best)
            .fold(f32::NEG_INFINITY, |m, (_, v)| m.max(*v));
        gaps.push(f64::from(s[best] - second));
        right.push(best == *y);
    }
    let n_pos = right.iter().filter(|r| **r).count() as f64;
    let n_neg = right.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return (0.0, 0.0);
    }
    let (t_pos, t_neg) = ((n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0));
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for (g, r) in gaps.iter().zip(&right) {
            let p = 1.0 / (1.0 + (-(a * g + b)).exp());
            let t = if *r { t_pos } else { t_neg };
            let d = p - t;
            let w = (p * (1.0 - p)).max(1e-12);
            ga += d * g;
            gb += d;
            haa += w * g * g;
            hab += w * g;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-9 {
            break;
        }
    }
    if a.is_finite() && b.is_finite() && a > 0.0 {
        (a as f32, b as f32)
    } else {
        (0.0, 0.0)
    }
}

/// Softmax of `scores / temperature`, in place.
fn softmax(scores: &mut [f32], temperature: f32) {
    let t = temperature.max(1e-4);
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = ((*s - max) / t).exp();
        sum += *s;
    }
    if sum > 0.0 {
        scores.iter_mut().for_each(|s| *s /= sum);
    }
}

/// Mean negative log-likelihood of the true labels under softmax(scores / t).
fn nll(scores: &[Vec<f32>], truth: &[usize], t: f32) -> f64 {
    let mut total = 0f64;
    for (s, y) in scores.iter().zip(truth) {
        let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse: f64 = s.iter().map(|v| f64::from((v - max) / t).exp()).sum::<f64>().ln();
        total += lse - f64::from((s[*y] - max) / t);
    }
    total / scores.len().max(1) as f64
}

/// The temperature minimising the NLL of held-out margins (golden-section search on log t).
pub(crate) fn fit_temperature(scores: &[Vec<f32>], truth: &[usize]) -> f32 {
    if scores.is_empty() {
        return 1.0;
    }
    let (mut lo, mut hi) = ((0.002f64).ln(), (20.0f64).ln());
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let f = |x: f64| nll(scores, truth, x.exp() as f32);
    let (mut a, mut b) = (hi - phi * (hi - lo), lo + phi * (hi - lo));
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..60 {
        if fa < fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - phi * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + phi * (hi - lo);
            fb = f(b);
        }
    }
    ((lo + hi) / 2.0).exp() as f32
}

/// What one training job produced: held-out margins of its test rows, or the final model.
enum JobOutput {
    Fold(Vec<(usize, Vec<f32>)>),
    Final(Box<(FeatureSpace, Linear)>),
}

impl Classifier {
    /// Trains on `examples`: k-fold cross-validation for the calibration and the stored figures,
    /// then the final model on every row, the folds and the final model sharing `config.threads`.
    ///
    /// Errors when there are fewer than two labels, too few rows for the folds, no features, or a
    /// user dictionary that does not parse.
    pub fn train(examples: &[Example], config: &TrainConfig) -> Result<Classifier, TrainError> {
        let started = Instant::now();
        let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        if labels.len() < 2 {
            return Err(TrainError::TooFewLabels(labels.len()));
        }
        config.features.segmenter().map_err(TrainError::Dictionary)?;
        let folds = config.folds.max(2);
        let need = 2 * folds;
        if examples.len() < need {
            return Err(TrainError::TooFewExamples {
                need,
                found: examples.len(),
                folds,
            });
        }
        let index: HashMap<&str, usize> = labels.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
        let y: Vec<usize> = examples.iter().map(|e| index[e.label.as_str()]).collect();
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let threads = config.threads.max(1);
        let corpus = Corpus::analyse(&texts, &config.features, threads);
        let fold_of = stratified_folds(&y, folds, config.seed);
        let n_labels = labels.len();

        // Jobs 0..folds hold out one fold each; job `folds` is the final model.
        let next = AtomicUsize::new(0);
        let outputs: Mutex<Vec<(usize, JobOutput)>> = Mutex::new(Vec::new());
        let run_job = |job: usize| -> JobOutput {
            let train: Vec<usize> = (0..examples.len())
                .filter(|i| job == folds || fold_of[*i] != job)
                .collect();
            let fitted = FeatureSpace::fit(&corpus, &train, &config.features, job == folds);
            let nf = fitted.space.len();
            let x = Csr::new(train.iter().map(|d| fitted.vectorise_doc(*d)));
            let ty: Vec<usize> = train.iter().map(|d| y[*d]).collect();
            let model = train_ovr(&x, &ty, n_labels, nf, config);
            if job == folds {
                JobOutput::Final(Box::new((fitted.space, model)))
            } else {
                let held: Vec<(usize, Vec<f32>)> = (0..examples.len())
                    .filter(|i| fold_of[*i] == job)
                    .map(|i| {
                        let v = fitted.vectorise_doc(i);
                        (i, model.scores(&v.indices, &v.values))
                    })
                    .collect();
                JobOutput::Fold(held)
            }
        };
        let joined = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads.min(folds + 1))
                .map(|_| {
                    s.spawn(|| {
                        loop {
                            let job = next.fetch_add(1, Ordering::Relaxed);
                            if job > folds {
                                break;
                            }
                            let out = run_job(job);
                            if let Ok(mut o) = outputs.lock() {
                                o.push((job, out));
                            }
                        }
                    })
                })
                .collect();
            handles.into_iter().all(|h| h.join().is_ok())
        });
        let outputs = outputs.into_inner().map_err(|_| TrainError::Thread)?;
        if !joined || outputs.len() != folds + 1 {
            return Err(TrainError::Thread);
        }
        let mut held_out: Vec<Vec<f32>> = vec![Vec::new(); examples.len()];
        let mut final_model = None;
        for (_, out) in outputs {
            match out {
                JobOutput::Fold(rows) => rows.into_iter().for_each(|(i, s)| held_out[i] = s),
                JobOutput::Final(m) => final_model = Some(*m),
            }
        }
        let Some((space, model)) = final_model else {
            return Err(TrainError::Thread);
        };
        if space.is_empty() {
            return Err(TrainError::NoFeatures(config.features.min_df));
        }
        let temperature = fit_temperature(&held_out, &y);
        let platt = fit_margin_platt(&held_out, &y);
        let (mut predicted, mut confidence) = (Vec::new(), Vec::new());
        for s in &held_out {
            let p = calibrate(s, temperature, platt);
            let (best, conf) = argmax(&p);
            predicted.push(best);
            confidence.push(conf);
        }
        let cv = evaluate(&labels, &y, &predicted, &confidence);
        let mut label_counts = vec![0usize; n_labels];
        y.iter().for_each(|l| label_counts[*l] += 1);
        let nf = space.len();
        let mut weights = vec![0f32; nf * n_labels];
        for (l, w) in model.w.iter().enumerate() {
            for (f, v) in w.iter().enumerate() {
                weights[f * n_labels + l] = *v;
            }
        }
        Ok(Classifier {
            info: ModelInfo {
                format: FORMAT_VERSION,
                software_version: env!("CARGO_PKG_VERSION").to_string(),
                algorithm: "ovr-l2svm-dual-cd+nb-scaling+margin-platt".into(),
                labels,
                label_counts,
                n_train: examples.len(),
                n_features: nf,
                temperature,
                margin_platt: platt,
                config: config.clone(),
                cv: Some(cv),
                train_seconds: started.elapsed().as_secs_f64(),
            },
            space,
            weights,
            bias: model.b,
        })
    }

    /// What the model is: labels, training size, cross-validated figures, settings.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The labels, in the order of [`Classifier::probabilities`].
    pub fn labels(&self) -> &[String] {
        &self.info.labels
    }

    fn scores(&self, v: &crate::features::SparseVec) -> Vec<f32> {
        let n = self.bias.len();
        let mut s = self.bias.clone();
        for (j, x) in v.indices.iter().zip(&v.values) {
            let row = &self.weights[*j as usize * n..(*j as usize + 1) * n];
            for (acc, w) in s.iter_mut().zip(row) {
                *acc += w * x;
            }
        }
        s
    }

    /// The calibrated probability of every label (in [`Classifier::labels`] order) for `text`.
    pub fn probabilities(&self, text: &str) -> Vec<f32> {
        self.probabilities_of(&self.space.vectorise(text))
    }

    /// Softmax of the margins; a text with no known feature gets the training label frequencies
    /// (the model knows nothing about it, so it must not sound sure).
    fn probabilities_of(&self, v: &crate::features::SparseVec) -> Vec<f32> {
        if v.indices.is_empty() {
            let n = self.info.n_train.max(1) as f32;
            return self.info.label_counts.iter().map(|c| *c as f32 / n).collect();
        }
        calibrate(&self.scores(v), self.info.temperature, self.info.margin_platt)
    }

    /// The top [`TOP_K`] labels of `text` with calibrated probabilities, and the words that drove
    /// the top one. A text without any known word gets the training label frequencies and no
    /// words.
    pub fn predict(&self, text: &str) -> Prediction {
        let v = self.space.vectorise(text);
        let p = self.probabilities_of(&v);
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
        let top: Vec<Suggestion> = order
            .iter()
            .take(TOP_K)
            .map(|i| Suggestion {
                label: self.info.labels[*i].clone(),
                probability: p[*i],
            })
            .collect();
        let words = order
            .first()
            .map_or_else(Vec::new, |best| self.reasons(&v, *best));
        Prediction { top, words }
    }

    /// The strongest positive weight × value of `label` over the features of `v`, summed per
    /// word: a character n-gram counts toward the word it spells when that word is one of the
    /// text's (so a reason is always a whole word: 理社 of 办理社保 is not one); punctuation and
    /// masked numbers are not reasons, a word inside (or containing) a stronger one is skipped, and
    /// so is one worth less than a tenth of the strongest.
    fn reasons(&self, v: &crate::features::SparseVec, label: usize) -> Vec<Contribution> {
        let n = self.bias.len();
        let mut contrib: Vec<(u32, f32)> = Vec::with_capacity(v.indices.len());
        for (j, x) in v.indices.iter().zip(&v.values) {
            let c = self.weights[*j as usize * n + label] * x;
            if c <= 0.0 {
                continue;
            }
            let key = if self.space.is_gram(*j) {
                match self.space.word_of_gram(*j) {
                    Some(w) if v.indices.binary_search(&w).is_ok() => w,
                    _ => continue,
                }
            } else {
                *j
            };
            contrib.push((key, c));
        }
        contrib.sort_unstable_by_key(|(k, _)| *k);
        let mut merged: Vec<(u32, f32)> = Vec::with_capacity(contrib.len());
        for (k, c) in contrib {
            match merged.last_mut() {
                Some((last, sum)) if *last == k => *sum += c,
                _ => merged.push((k, c)),
            }
        }
        merged.sort_by(|a, b| b.1.total_cmp(&a.1));
        // A word worth less than a tenth of the strongest explains nothing (了, 的 …).
        let floor = merged.first().map_or(0.0, |(_, w)| w * 0.1);
        let mut out: Vec<Contribution> = Vec::new();
        for (k, weight) in merged {
            if out.len() == REASONS || weight < floor {
                break;
            }
            let Some(name) = self.space.name(k) else { continue };
            let text = name.display().trim().to_string();
            if !text.chars().any(char::is_alphanumeric)
                || text.contains(['〔', '〕'])
                || out
                    .iter()
                    .any(|o| o.text.contains(&text) || text.contains(&o.text))
            {
                continue;
            }
            out.push(Contribution { text, weight });
        }
        out
    }

    /// The model as bytes (see the module doc for the format).
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.info).unwrap_or_default();
        let s = &self.space;
        let mut out = Vec::with_capacity(64 + header.len() + self.weights.len() * 4 + s.len() * 12);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&(s.word_list().len() as u32).to_le_bytes());
        for w in s.word_list() {
            out.extend_from_slice(&(w.len() as u32).to_le_bytes());
            out.extend_from_slice(w.as_bytes());
        }
        out.extend_from_slice(&(s.bigram_list().len() as u32).to_le_bytes());
        for (a, b) in s.bigram_list() {
            out.extend_from_slice(&a.to_le_bytes());
            out.extend_from_slice(&b.to_le_bytes());
        }
        out.extend_from_slice(&(s.gram_list().len() as u32).to_le_bytes());
        for g in s.gram_list() {
            out.extend_from_slice(&g.to_le_bytes());
        }
        for v in s.idf().iter().chain(&self.weights).chain(&self.bias) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let sum = fnv1a(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads a model from bytes made by [`Classifier::to_bytes`]. Every length is checked before
    /// anything is allocated, so a truncated or hostile file is an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Classifier, ModelError> {
        if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ModelError::NotAModel);
        }
        let mut r = Reader {
            buf: bytes,
            pos: MAGIC.len(),
        };
        let format = r.u32()?;
        if format != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion(format));
        }
        if bytes.len() < 8 + 4 + 8 + 8 {
            return Err(corrupt("too short"));
        }
        let body_end = bytes.len() - 8;
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&bytes[body_end..]);
        if fnv1a(&bytes[..body_end]) != u64::from_le_bytes(sum) {
            return Err(corrupt("checksum mismatch"));
        }
        r.buf = &bytes[..body_end];
        let header_len = r.u64()?;
        let header = r.take(usize::try_from(header_len).map_err(|_| corrupt("header length"))?)?;
        let info: ModelInfo = serde_json::from_slice(header).map_err(|e| corrupt(&format!("header: {e}")))?;
        let config = info.config.features.clone();
        let n_words = r.count(4)?;
        let mut words: Vec<Box<str>> = Vec::with_capacity(n_words);
        for _ in 0..n_words {
            let len = r.u32()? as usize;
            let w = std::str::from_utf8(r.take(len)?).map_err(|_| corrupt("word is not UTF-8"))?;
            words.push(w.into());
        }
        let n_bigrams = r.count(8)?;
        let mut bigrams = Vec::with_capacity(n_bigrams);
        for _ in 0..n_bigrams {
            bigrams.push((r.u32()?, r.u32()?));
        }
        let n_grams = r.count(8)?;
        let mut grams = Vec::with_capacity(n_grams);
        for _ in 0..n_grams {
            grams.push(r.u64()?);
        }
        let nf = n_words + n_bigrams + n_grams;
        let nl = info.labels.len();
        if nf != info.n_features || nl < 2 || info.label_counts.len() != nl {
            return Err(corrupt("vocabulary size does not match the header"));
        }
        let floats = nf
            .checked_mul(nl)
            .and_then(|x| x.checked_add(nf + nl))
            .ok_or_else(|| corrupt("sizes overflow"))?;
        if r.remaining() != floats * 4 {
            return Err(corrupt("weights do not match the vocabulary"));
        }
        let mut all = Vec::with_capacity(floats);
        for _ in 0..floats {
            all.push(f32::from_le_bytes(r.array()?));
        }
        if all.iter().any(|v| !v.is_finite()) {
            return Err(corrupt("non-finite weight"));
        }
        let bias = all.split_off(nf + nf * nl);
        let weights = all.split_off(nf);
        let idf = all;
        let space = FeatureSpace::from_parts(config, words, bigrams, grams, idf).map_err(|e| corrupt(&e))?;
        Ok(Classifier {
            info,
            space,
            weights,
            bias,
        })
    }

    /// Writes the model to `path`.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads a model from `path`.
    pub fn load(path: &Path) -> Result<Classifier, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Classifier::from_bytes(&bytes)
    }
}

fn argmax(p: &[f32]) -> (usize, f32) {
    p.iter().enumerate().fold(
        (0, f32::NEG_INFINITY),
        |(bi, bv), (i, v)| if *v > bv { (i, *v) } else { (bi, bv) },
    )
}

fn corrupt(what: &str) -> ModelError {
    ModelError::Corrupt(what.to_string())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        if n > self.remaining() {
            return Err(corrupt("truncated"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, ModelError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A count of items of at least `min_size` bytes each, checked against what is left.
    fn count(&mut self, min_size: usize) -> Result<usize, ModelError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.remaining() {
            return Err(corrupt("count exceeds the file"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny routing problem with three clearly separate topics.
    fn toy() -> Vec<Example> {
        let topics = [
            ("交通运输", ["公交车", "地铁站", "出租车", "班车线路", "公交站台"]),
            ("教育文体", ["学校", "老师", "学生补课", "幼儿园", "学费"]),
            (
                "环境保护",
                ["噪音", "污水排放", "空气污染", "垃圾焚烧", "油烟扰民"],
            ),
        ];
        let tails = [
            "问题严重",
            "希望尽快解决",
            "多次反映无果",
            "请领导重视",
            "影响很大",
            "恳请处理",
        ];
        let mut out = Vec::new();
        for (label, words) in topics {
            for (i, w) in words.iter().enumerate() {
                for (k, t) in tails.iter().enumerate() {
                    let other = words[(i + k + 1) % words.len()];
                    out.push(Example {
                        text: format!("关于{w}的反映：{other}{t}"),
                        label: label.to_string(),
                    });
                }
            }
        }
        out
    }

    fn quick() -> TrainConfig {
        TrainConfig {
            threads: 2,
            ..TrainConfig::default()
        }
    }

    #[test]
    fn learns_a_separable_problem() {
        let model = Classifier::train(&toy(), &quick()).unwrap();
        let p = model.predict("这个公交站台的班车线路太少了");
        assert_eq!(p.top[0].label, "交通运输");
        assert_eq!(p.top.len(), 3);
        let sum: f32 = model.probabilities("学校老师乱收学费").iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
        assert_eq!(model.predict("幼儿园学费太贵").top[0].label, "教育文体");
        assert_eq!(model.predict("晚上噪音很大，油烟扰民").top[0].label, "环境保护");
        let cv = model.info().cv.as_ref().unwrap();
        assert!(cv.accuracy > 0.9, "{cv:?}");
        assert_eq!(model.info().n_train, 90);
        assert_eq!(model.info().label_counts, vec![30, 30, 30]);
    }

    #[test]
    fn reasons_are_words_of_the_text() {
        let model = Classifier::train(&toy(), &quick()).unwrap();
        let text = "地铁站门口出租车乱停，电话13812345678";
        let p = model.predict(text);
        assert_eq!(p.top[0].label, "交通运输");
        assert!(!p.words.is_empty());
        for w in &p.words {
            assert!(text.contains(&w.text), "{} is not in the text", w.text);
            assert!(w.weight > 0.0);
        }
        assert!(p.words.windows(2).all(|w| w[0].weight >= w[1].weight));
        assert!(p.words.iter().all(|w| !w.text.contains("138")));
    }

    #[test]
    fn probabilities_are_ordered_and_unknown_text_is_unsure() {
        let model = Classifier::train(&toy(), &quick()).unwrap();
        let p = model.predict("公交车班车线路地铁站出租车");
        assert!(p.top.windows(2).all(|w| w[0].probability >= w[1].probability));
        assert!(p.top[0].probability > 0.6, "{p:?}");
        // Nothing known: close to uniform, no reasons.
        let p = model.predict("ʕ•ᴥ•ʔ");
        assert!(p.top[0].probability < 0.6, "{p:?}");
        assert!(p.words.is_empty());
    }

    #[test]
    fn calibrated_probabilities_sum_to_one_and_keep_the_order() {
        for scores in [
            vec![0.9, -0.2, -0.8],
            vec![0.1, 0.05, -1.0],
            vec![-0.3, -0.3, -0.9],
            vec![3.0, -3.0, -3.0],
        ] {
            let p = calibrate(&scores, 0.2, (6.0, -0.5));
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{p:?}");
            for i in 0..3 {
                for j in 0..3 {
                    if scores[i] > scores[j] {
                        assert!(p[i] >= p[j], "{scores:?} → {p:?}");
                    }
                }
            }
        }
        // Larger gap, more confident.
        let a = calibrate(&[0.5, 0.4, -1.0], 0.2, (6.0, -0.5))[0];
        let b = calibrate(&[0.9, 0.0, -1.0], 0.2, (6.0, -0.5))[0];
        assert!(b > a);
        // Without a fitted Platt scaling it is the plain softmax.
        let mut s = vec![0.5, 0.0, -1.0];
        let p = calibrate(&s, 0.3, (0.0, 0.0));
        softmax(&mut s, 0.3);
        assert_eq!(p, s);
    }

    #[test]
    fn margin_platt_is_right_as_often_as_it_says() {
        // Gap 1.0: right 9 times in 10; gap 0.1: right half the time.
        let mut scores = Vec::new();
        let mut truth = Vec::new();
        for i in 0..200 {
            let wide = i % 2 == 0;
            scores.push(if wide { vec![1.0, 0.0] } else { vec![0.1, 0.0] });
            let right = if wide { i % 20 != 0 } else { i % 4 == 1 };
            truth.push(if right { 0 } else { 1 });
        }
        let (a, b) = fit_margin_platt(&scores, &truth);
        let p = |g: f32| 1.0 / (1.0 + (-(a * g + b)).exp());
        assert!((p(1.0) - 0.9).abs() < 0.03, "{a} {b} {}", p(1.0));
        assert!((p(0.1) - 0.5).abs() < 0.05, "{a} {b} {}", p(0.1));
    }

    #[test]
    fn nb_scale_favours_telling_features() {
        // Feature 0 only in positive rows, feature 1 everywhere, feature 2 only in negatives.
        let rows = (0..6).map(|i| crate::features::SparseVec {
            indices: if i < 3 { vec![0, 1] } else { vec![1, 2] },
            values: vec![0.7, 0.7],
        });
        let x = Csr::new(rows);
        let positive = [true, true, true, false, false, false];
        let s = nb_scale(&x, &positive, 3, 1.0);
        assert!(s[0] > 10.0 * s[1] && s[2] > 10.0 * s[1], "{s:?}");
        assert!((s[0] - s[2]).abs() < 1e-4);
        assert!(nb_scale(&x, &positive, 3, 0.0).iter().all(|v| *v == 1.0));
    }

    #[test]
    fn temperature_fit_sharpens_or_softens() {
        // Margins always right with a small gap: the best temperature is small (sharp).
        let scores: Vec<Vec<f32>> = (0..50)
            .map(|i| {
                if i % 2 == 0 {
                    vec![0.2, 0.0]
                } else {
                    vec![0.0, 0.2]
                }
            })
            .collect();
        let truth: Vec<usize> = (0..50).map(|i| i % 2).collect();
        assert!(fit_temperature(&scores, &truth) < 0.05);
        // Right only 3 times in 4 with a large gap: the temperature softens toward p = 0.75.
        let truth: Vec<usize> = (0..100)
            .map(|i| if i % 4 == 0 { 1 - i % 2 } else { i % 2 })
            .collect();
        let scores: Vec<Vec<f32>> = (0..100)
            .map(|i| {
                if i % 2 == 0 {
                    vec![5.0, 0.0]
                } else {
                    vec![0.0, 5.0]
                }
            })
            .collect();
        let t = fit_temperature(&scores, &truth);
        let mut p = vec![5.0, 0.0];
        softmax(&mut p, t);
        assert!((p[0] - 0.75).abs() < 0.01, "{t} {p:?}");
    }

    #[test]
    fn round_trip_through_bytes() {
        let model = Classifier::train(&toy(), &quick()).unwrap();
        let bytes = model.to_bytes();
        let back = Classifier::from_bytes(&bytes).unwrap();
        assert_eq!(back.info(), model.info());
        for t in ["公交站台太远", "学校补课", "噪音"] {
            assert_eq!(back.predict(t), model.predict(t));
        }
        let dir = std::env::temp_dir().join(format!("xf-model-{}", std::process::id()));
        model.save(&dir).unwrap();
        assert_eq!(
            Classifier::load(&dir).unwrap().predict("学校"),
            model.predict("学校")
        );
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn damaged_files_are_errors() {
        let bytes = Classifier::train(&toy(), &quick()).unwrap().to_bytes();
        assert!(matches!(
            Classifier::from_bytes(b"hello"),
            Err(ModelError::NotAModel)
        ));
        assert!(matches!(
            Classifier::from_bytes(&bytes[..bytes.len() / 2]),
            Err(ModelError::Corrupt(_))
        ));
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 0x40;
        assert!(matches!(
            Classifier::from_bytes(&flipped),
            Err(ModelError::Corrupt(_))
        ));
        let mut newer = bytes.clone();
        newer[8] = 99;
        assert!(matches!(
            Classifier::from_bytes(&newer),
            Err(ModelError::UnsupportedVersion(99))
        ));
        assert!(matches!(
            Classifier::load(Path::new("/nonexistent/model")),
            Err(ModelError::Io { .. })
        ));
    }

    #[test]
    fn one_model_serves_many_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Classifier>();
    }

    #[test]
    fn cross_validation_scores_every_row_once() {
        let rows = toy();
        let labels: Vec<usize> = rows.iter().map(|r| usize::from(r.label == "交通运输")).collect();
        let folds = crate::eval::stratified_folds(&labels, 3, 1);
        let r = crate::eval::cross_validate(&rows, &folds, &quick()).unwrap();
        assert_eq!(r.n, rows.len());
        assert!(r.macro_f1 > 0.8, "{r:?}");
        assert!(matches!(
            crate::eval::cross_validate(&rows, &folds[1..], &quick()),
            Err(TrainError::FoldMismatch { .. })
        ));
    }

    #[test]
    fn too_little_data_is_an_error() {
        let one = vec![
            Example {
                text: "公交".into(),
                label: "交通".into(),
            };
            20
        ];
        assert!(matches!(
            Classifier::train(&one, &quick()),
            Err(TrainError::TooFewLabels(1))
        ));
        let few: Vec<Example> = toy().into_iter().step_by(20).collect();
        assert!(matches!(
            Classifier::train(&few, &quick()),
            Err(TrainError::TooFewExamples { .. })
        ));
    }
}
