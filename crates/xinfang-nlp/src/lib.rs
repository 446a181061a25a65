//! Chinese text processing for xinfang.
//!
//! This crate owns everything that turns petition text into tokens: segmentation with jieba
//! (its dictionary is embedded in the binary, nothing is downloaded), the normalisation that
//! makes full-width and half-width forms compare equal, and the token streams the stores put
//! into their full-text indexes (SQLite FTS5, PostgreSQL tsvector). Indexing and querying must
//! tokenise the same way, which is why both live here and nowhere else.

pub mod segment;

pub use segment::{index_tokens, normalise, query_tokens};
