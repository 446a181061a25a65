//! Scoring a classifier: accuracy, macro-F1, F1 per label, accuracy on the most confident part
//! (what a clerk gains by trusting only confident suggestions) and the expected calibration error
//! (whether "90% sure" is right nine times in ten). Also the stratified folds of cross-validation.
//!
//! The figures are those `xinfang model eval` and `xinfang model cv` print, and the same as
//! scikit-learn's `accuracy_score` and `f1_score(average="macro")` (labels present in the truth or
//! the predictions; a label with no true and no predicted row is left out).

use crate::classifier::{Classifier, Example, TrainConfig, TrainError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The coverages of [`Report::accuracy_at_coverage`].
pub const COVERAGES: [f64; 3] = [0.5, 0.8, 0.9];

/// Number of equal-width confidence bins of [`Report::ece`].
pub const ECE_BINS: usize = 10;

/// The figures of one evaluation, printed as one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Rows scored.
    pub n: usize,
    /// Share of rows whose top prediction is the true label.
    pub accuracy: f64,
    /// Unweighted mean of the per-label F1.
    pub macro_f1: f64,
    /// F1 of each label.
    pub per_label: BTreeMap<String, f64>,
    /// Accuracy on the most confident 50%, 80% and 90% of rows (keys "0.5", "0.8", "0.9").
    pub accuracy_at_coverage: BTreeMap<String, f64>,
    /// Expected calibration error of the top probability over 10 equal-width bins.
    pub ece: f64,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Scores predictions. `truth[i]` and `predicted[i]` index `labels`; `confidence[i]` is the
/// probability given to `predicted[i]`. Figures are rounded to four decimals.
///
/// Panics never; an empty input gives zeros.
pub fn evaluate(labels: &[String], truth: &[usize], predicted: &[usize], confidence: &[f32]) -> Report {
    let n = truth.len().min(predicted.len()).min(confidence.len());
    let k = labels.len();
    let mut tp = vec![0usize; k];
    let mut fp = vec![0usize; k];
    let mut fn_ = vec![0usize; k];
    let mut correct = Vec::with_capacity(n);
    for i in 0..n {
        let (t, p) = (truth[i], predicted[i]);
        let ok = t == p;
        correct.push(ok);
        if ok {
            if let Some(x) = tp.get_mut(t) {
                *x += 1;
            }
        } else {
            if let Some(x) = fp.get_mut(p) {
                *x += 1;
            }
            if let Some(x) = fn_.get_mut(t) {
                *x += 1;
            }
        }
    }
    let mut per_label = BTreeMap::new();
    let mut f1_sum = 0.0;
    let mut present = 0usize;
    for (j, name) in labels.iter().enumerate() {
        let denom = 2 * tp[j] + fp[j] + fn_[j];
        if denom == 0 {
            continue;
        }
        let f1 = 2.0 * tp[j] as f64 / denom as f64;
        f1_sum += f1;
        present += 1;
        per_label.insert(name.clone(), round4(f1));
    }
    let accuracy = if n == 0 {
        0.0
    } else {
        correct.iter().filter(|c| **c).count() as f64 / n as f64
    };
    let conf = &confidence[..n];
    Report {
        n,
        accuracy: round4(accuracy),
        macro_f1: round4(if present == 0 {
            0.0
        } else {
            f1_sum / present as f64
        }),
        per_label,
        accuracy_at_coverage: COVERAGES
            .iter()
            .map(|q| (q.to_string(), round4(accuracy_at_coverage(&correct, conf, *q))))
            .collect(),
        ece: round4(expected_calibration_error(&correct, conf, ECE_BINS)),
    }
}

/// Accuracy on the `coverage` share of rows with the highest confidence (at least one row; ties
/// keep input order).
pub fn accuracy_at_coverage(correct: &[bool], confidence: &[f32], coverage: f64) -> f64 {
    let n = correct.len().min(confidence.len());
    if n == 0 {
        return 0.0;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| confidence[*b].total_cmp(&confidence[*a]));
    let k = ((coverage * n as f64).round() as usize).clamp(1, n);
    order[..k].iter().filter(|i| correct[**i]).count() as f64 / k as f64
}

/// Expected calibration error: rows binned by confidence into `bins` equal-width bins
/// (bin = ⌊confidence × bins⌋, 1.0 in the last), Σ |accuracy − mean confidence| × share of rows.
pub fn expected_calibration_error(correct: &[bool], confidence: &[f32], bins: usize) -> f64 {
    let n = correct.len().min(confidence.len());
    if n == 0 || bins == 0 {
        return 0.0;
    }
    let mut count = vec![0usize; bins];
    let mut hits = vec![0usize; bins];
    let mut conf_sum = vec![0f64; bins];
    for i in 0..n {
        let c = f64::from(confidence[i]).clamp(0.0, 1.0);
        let b = ((c * bins as f64) as usize).min(bins - 1);
        count[b] += 1;
        hits[b] += usize::from(correct[i]);
        conf_sum[b] += c;
    }
    (0..bins)
        .filter(|b| count[*b] > 0)
        .map(|b| {
            let m = count[b] as f64;
            (hits[b] as f64 / m - conf_sum[b] / m).abs() * m / n as f64
        })
        .sum()
}

/// A small deterministic generator (SplitMix64) for shuffles: same seed, same folds and order.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Stratified fold of every row: each label's rows are shuffled and dealt round the folds, so
/// every fold has about the same label mix and about the same size.
pub fn stratified_folds(labels: &[usize], folds: usize, seed: u64) -> Vec<usize> {
    let folds = folds.max(1);
    let mut rng = SplitMix::new(seed);
    let n_labels = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut by_label: Vec<Vec<usize>> = vec![Vec::new(); n_labels];
    for (i, l) in labels.iter().enumerate() {
        by_label[*l].push(i);
    }
    let mut out = vec![0usize; labels.len()];
    let mut next = 0usize;
    for rows in &mut by_label {
        rng.shuffle(rows);
        for r in rows.iter() {
            out[*r] = next % folds;
            next += 1;
        }
    }
    out
}

/// Scores `model` on labelled rows. A label the model does not know counts as a miss and
/// appears in `per_label` with F1 0.
pub fn evaluate_model(model: &Classifier, rows: &[Example]) -> Report {
    let mut labels: Vec<String> = model.labels().to_vec();
    let (mut truth, mut predicted, mut confidence) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        let t = match labels.iter().position(|l| *l == row.label) {
            Some(t) => t,
            None => {
                labels.push(row.label.clone());
                labels.len() - 1
            }
        };
        let p = model.probabilities(&row.text);
        let (best, conf) =
            p.iter().enumerate().fold(
                (0, f32::NEG_INFINITY),
                |acc, (i, v)| if *v > acc.1 { (i, *v) } else { acc },
            );
        truth.push(t);
        predicted.push(best);
        confidence.push(conf);
    }
    evaluate(&labels, &truth, &predicted, &confidence)
}

/// Cross-validation: for each fold `k` in `fold_of`, trains on the other folds (with the full
/// training of [`Classifier::train`], its own calibration folds included) and predicts fold `k`
/// from the raw text. The report covers every row once.
pub fn cross_validate(
    rows: &[Example],
    fold_of: &[usize],
    config: &TrainConfig,
) -> Result<Report, TrainError> {
    if fold_of.len() != rows.len() {
        return Err(TrainError::FoldMismatch {
            folds: fold_of.len(),
            rows: rows.len(),
        });
    }
    let folds = fold_of.iter().copied().max().map_or(0, |m| m + 1);
    let mut labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    labels.sort();
    labels.dedup();
    let mut predicted = vec![0usize; rows.len()];
    let mut confidence = vec![0f32; rows.len()];
    for k in 0..folds {
        let train: Vec<Example> = rows
            .iter()
            .zip(fold_of)
            .filter(|(_, f)| **f != k)
            .map(|(r, _)| r.clone())
            .collect();
        let model = Classifier::train(&train, config)?;
        for (i, row) in rows.iter().enumerate().filter(|(i, _)| fold_of[*i] == k) {
            let p = model.probabilities(&row.text);
            let (best, conf) =
                p.iter().enumerate().fold(
                    (0, f32::NEG_INFINITY),
                    |acc, (i, v)| if *v > acc.1 { (i, *v) } else { acc },
                );
            let name = &model.labels()[best];
            predicted[i] = labels.iter().position(|l| l == name).unwrap_or(0);
            confidence[i] = conf;
        }
    }
    let truth: Vec<usize> = rows
        .iter()
        .map(|r| labels.iter().position(|l| *l == r.label).unwrap_or(0))
        .collect();
    Ok(evaluate(&labels, &truth, &predicted, &confidence))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn macro_f1_and_accuracy_by_hand() {
        // truth a a a b b c ; predicted a a b b c c
        // a: tp2 fp0 fn1 → 4/5 = 0.8;  b: tp1 fp1 fn1 → 2/4 = 0.5;  c: tp1 fp1 fn0 → 2/3
        let labels = names(&["a", "b", "c"]);
        let truth = [0, 0, 0, 1, 1, 2];
        let pred = [0, 0, 1, 1, 2, 2];
        let r = evaluate(&labels, &truth, &pred, &[0.9; 6]);
        assert_eq!(r.n, 6);
        assert_eq!(r.accuracy, 0.6667);
        assert_eq!(r.per_label["a"], 0.8);
        assert_eq!(r.per_label["b"], 0.5);
        assert_eq!(r.per_label["c"], 0.6667);
        assert_eq!(r.macro_f1, round4((0.8 + 0.5 + 2.0 / 3.0) / 3.0));
    }

    #[test]
    fn absent_labels_are_left_out_of_macro_f1() {
        let labels = names(&["a", "b", "never"]);
        let r = evaluate(&labels, &[0, 1], &[0, 1], &[1.0, 1.0]);
        assert_eq!(r.macro_f1, 1.0);
        assert!(!r.per_label.contains_key("never"));
    }

    #[test]
    fn coverage_takes_the_most_confident() {
        // confidences 0.9 0.8 0.7 0.6 0.5 0.4 0.3 0.2 0.1 0.05; the top 5 right, the rest wrong
        let conf = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
        let correct = [true, true, true, true, true, false, false, false, false, false];
        assert_eq!(accuracy_at_coverage(&correct, &conf, 0.5), 1.0);
        assert_eq!(accuracy_at_coverage(&correct, &conf, 0.8), 5.0 / 8.0);
        assert_eq!(accuracy_at_coverage(&correct, &conf, 1.0), 0.5);
        assert_eq!(accuracy_at_coverage(&[], &[], 0.5), 0.0);
        let r = evaluate(
            &names(&["x", "y"]),
            &[0; 10],
            &[0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
            &conf,
        );
        assert_eq!(r.accuracy_at_coverage["0.5"], 1.0);
        assert_eq!(r.accuracy_at_coverage["0.8"], 0.625);
        assert_eq!(r.accuracy_at_coverage["0.9"], 0.5556);
    }

    #[test]
    fn ece_by_hand() {
        // Bin 9: confidences 0.95, 0.95, right and wrong → |0.5 − 0.95| × 2/4.
        // Bin 6: 0.6, 0.6 both right → |1 − 0.6| × 2/4.
        let e = expected_calibration_error(&[true, false, true, true], &[0.95, 0.95, 0.6, 0.6], 10);
        assert!((e - (0.45 * 0.5 + 0.4 * 0.5)).abs() < 1e-6, "{e}");
        // Perfectly calibrated: 80% confident, right 4 times in 5.
        let e = expected_calibration_error(&[true, true, true, true, false], &[0.8; 5], 10);
        assert!(e.abs() < 1e-6, "{e}");
        // 1.0 goes into the last bin.
        let e = expected_calibration_error(&[true], &[1.0], 10);
        assert!(e.abs() < 1e-6);
    }

    #[test]
    fn folds_are_stratified_and_deterministic() {
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i >= 70)).collect();
        let f = stratified_folds(&labels, 5, 7);
        assert_eq!(f, stratified_folds(&labels, 5, 7));
        for k in 0..5 {
            let rows: Vec<usize> = (0..100).filter(|i| f[*i] == k).collect();
            assert_eq!(rows.len(), 20);
            assert_eq!(rows.iter().filter(|i| labels[**i] == 1).count(), 6);
        }
    }
}
