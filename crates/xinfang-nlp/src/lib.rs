//! Chinese text processing for xinfang.
//!
//! This crate owns everything that turns petition text into tokens and decisions: segmentation
//! with jieba (its dictionary is embedded in the binary, nothing is downloaded), the normalisation
//! that makes full-width and half-width forms compare equal, the token streams the stores put
//! into their full-text indexes (SQLite FTS5, PostgreSQL tsvector), and the routing classifier
//! (features, training, calibrated prediction with reasons, evaluation), triage at intake
//! (petition type, urgency, safety alerts, emotional intensity) and duplicate/repeat detection.
//! Indexing and querying must tokenise the same way, which is why both live here and nowhere else.

/// The node's in-memory band-key index of stored matters, derived from the database.
pub mod band_index;
/// The routing classifier: training, calibrated top-3 prediction with reasons, model files.
pub mod classifier;
/// Labelled CSV input with bad rows reported by line.
pub mod dataset;
/// Near-duplicate fingerprints, the band-key index and duplicate/repeat/joint links.
pub mod dedup;
/// Metrics (accuracy, macro-F1, coverage, ECE), stratified folds, cross-validation.
pub mod eval;
/// Normalised, masked text → TF-IDF vectors for the classifier.
pub mod features;
/// Hotspots: clusters of similar matters in a time window, ranked by heat.
pub mod hotspots;
/// Segmentation and the search token streams.
pub mod segment;
/// Petition type, urgency, safety alerts and emotional intensity from an editable lexicon.
pub mod triage;

pub use classifier::{Classifier, Example, ModelError, ModelInfo, Prediction, TrainConfig, TrainError};
pub use eval::Report;
pub use segment::{
    Segmenter, SegmenterCache, UserDictionary, index_tokens, mask_personal_numbers, normalise, query_tokens,
};
