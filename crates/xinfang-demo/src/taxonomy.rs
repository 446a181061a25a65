//! The demo category tree, compiled in from `data/airport_taxonomy.csv`.
//!
//! Columns: `category,subcategory,default_unit,petition_type,examples`, examples separated by
//! `|`. The petition type column holds the Chinese labels of [`PetitionType`].

use serde::Serialize;
use xinfang_core::matter::PetitionType;

/// The taxonomy CSV as shipped with this crate.
pub const TAXONOMY_CSV: &str = include_str!("../data/airport_taxonomy.csv");

/// One two-level category of the airport group's petition office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoCategory {
    /// First level (e.g. 交通接驳).
    pub top: String,
    /// Second level (e.g. 出租车与网约车).
    pub sub: String,
    /// Name of the unit that usually handles it; a [`crate::DemoUnit`] of that name exists.
    pub default_unit: String,
    /// The usual petition type of matters in this category.
    pub petition_type: PetitionType,
    /// Short example complaints from the taxonomy.
    pub examples: Vec<String>,
}

/// Maps a Chinese petition type label (建议意见 / 检举控告 / 申诉求决 / 咨询) to its type.
pub fn petition_type_from_label(label: &str) -> Option<PetitionType> {
    PetitionType::ALL
        .iter()
        .copied()
        .find(|t| t.label_zh() == label.trim())
}

/// The categories of the taxonomy CSV, in file order (a matter's `category` indexes this).
/// Rows that do not have five fields or a known petition type are skipped; the shipped file
/// has none.
pub fn categories() -> Vec<DemoCategory> {
    TAXONOMY_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let f: Vec<&str> = line.trim_end_matches('\r').splitn(5, ',').collect();
            if f.len() != 5 {
                return None;
            }
            Some(DemoCategory {
                top: f[0].trim().to_string(),
                sub: f[1].trim().to_string(),
                default_unit: f[2].trim().to_string(),
                petition_type: petition_type_from_label(f[3])?,
                examples: f[4]
                    .split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_parses() {
        let rows = TAXONOMY_CSV.lines().skip(1).filter(|l| !l.is_empty()).count();
        let cats = categories();
        assert_eq!(cats.len(), rows);
        assert_eq!(cats.len(), 24);
        assert_eq!(cats[0].top, "交通接驳");
        assert_eq!(cats[0].sub, "机场大巴班次");
        assert_eq!(cats[0].petition_type, PetitionType::Appeal);
        assert_eq!(cats[0].examples.len(), 3);
        assert!(cats.iter().all(|c| !c.examples.is_empty()));
        for t in PetitionType::ALL {
            assert!(cats.iter().any(|c| c.petition_type == *t), "{t}");
        }
    }

    #[test]
    fn labels_map_to_types() {
        assert_eq!(
            petition_type_from_label("建议意见"),
            Some(PetitionType::Suggestion)
        );
        assert_eq!(petition_type_from_label("检举控告"), Some(PetitionType::Report));
        assert_eq!(petition_type_from_label("申诉求决"), Some(PetitionType::Appeal));
        assert_eq!(petition_type_from_label("咨询"), Some(PetitionType::Inquiry));
        assert_eq!(petition_type_from_label("投诉"), None);
    }
}
