//! Realistic, deterministic demo data for xinfang (智慧信访平台): the petition office of an
//! airport group.
//!
//! - [`units()`]: the group's unit tree with its petition office (信访办);
//! - [`categories()`]: the two-level category tree of `data/airport_taxonomy.csv`;
//! - [`generate()`]: a period of petition matters over all channels, with petitioners, texts,
//!   replies, and the lifecycle state each should be driven to.
//!
//! Everything is pure: no IO, no clock. The same [`DemoConfig`] always gives the same data,
//! so a demo database, a screenshot or a test can be rebuilt exactly. The loader that writes
//! these into the database lives with the binary.
//!
//! Texts are built from many fragments (openings, time phrases, flights, places, amounts,
//! demands, tones) in Simplified Chinese, so that thousands of matters read like a real
//! office's intake rather than a handful of examples repeated.

#![warn(missing_docs)]

mod generate;
mod people;
mod taxonomy;
mod text;
mod timeline;
mod topics;
mod units;
mod vocab;

pub use generate::{Chunks, DemoConfig, DemoMatter, generate};
pub use people::DemoPetitioner;
pub use taxonomy::{DemoCategory, TAXONOMY_CSV, categories, petition_type_from_label};
pub use units::{DemoUnit, UnitKind, units};
