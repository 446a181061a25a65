//! The audit trail of an organisation's configuration: what the triage lexicon, the user
//! dictionary, the routing table and the routing model were changed to, by whom and when.
//!
//! A configuration change steers what happens to every later matter (which words raise a safety
//! alert, where a complaint is routed, which model suggests its category), so it is recorded like
//! a transition: as a `settings_changed` event on the organisation's hash chain, written in the
//! same transaction as the change itself, with no matter. Both backends build the event data
//! here, so the history reads the same on either.
//!
//! The data says what changed, not the whole new configuration (that is in its own table):
//! the words or terms added and removed (the first [`MAX_LISTED`] of each, with the counts),
//! the threshold before and after, the model version made active.

use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Added or removed items listed by name in one event; beyond that only counted.
pub const MAX_LISTED: usize = 50;

/// A part of the configuration whose changes are audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The triage lexicon (type, urgency, safety-alert and emotion words).
    TriageLexicon,
    /// The segmentation user dictionary.
    UserDictionary,
    /// The routing table (category → unit) and the auto-routing threshold.
    Routing,
    /// A routing model trained and stored as a new version.
    ModelTrained,
    /// A stored model version made the active one (a rollback or roll-forward).
    ModelActivated,
    /// Labelled examples imported for training.
    TrainingExamples,
}

impl Setting {
    pub fn code(self) -> &'static str {
        match self {
            Self::TriageLexicon => "triage_lexicon",
            Self::UserDictionary => "user_dictionary",
            Self::Routing => "routing",
            Self::ModelTrained => "model_trained",
            Self::ModelActivated => "model_activated",
            Self::TrainingExamples => "training_examples",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::TriageLexicon => "分诊词库",
            Self::UserDictionary => "分词用户词典",
            Self::Routing => "分流规则",
            Self::ModelTrained => "训练分类模型",
            Self::ModelActivated => "启用分类模型版本",
            Self::TrainingExamples => "导入训练样本",
        }
    }
}

/// The data of a `settings_changed` event: the setting, its Chinese name and `details`' keys.
pub(crate) fn event_data(setting: Setting, details: Value) -> Value {
    let mut data = json!({ "setting": setting.code(), "label_zh": setting.label_zh() });
    if let (Some(d), Value::Object(extra)) = (data.as_object_mut(), details) {
        d.extend(extra);
    }
    data
}

/// What was added to and removed from a list of names (words, terms), each sorted, at most
/// [`MAX_LISTED`] shown, with the full counts.
pub(crate) fn diff<'a>(
    before: impl IntoIterator<Item = &'a str>,
    after: impl IntoIterator<Item = &'a str>,
) -> Value {
    let before: BTreeSet<&str> = before.into_iter().collect();
    let after: BTreeSet<&str> = after.into_iter().collect();
    let added: Vec<&str> = after.difference(&before).copied().collect();
    let removed: Vec<&str> = before.difference(&after).copied().collect();
    json!({
        "count": after.len(),
        "added_count": added.len(),
        "removed_count": removed.len(),
        "added": &added[..added.len().min(MAX_LISTED)],
        "removed": &removed[..removed.len().min(MAX_LISTED)],
    })
}

/// The details of a user dictionary change: the words added and removed between the stored
/// text (`None`: never saved) and the new one. A text the API parsed before saving; an
/// unreadable stored one counts as empty, so its replacement lists every word.
pub(crate) fn dictionary_details(before: Option<&str>, after: &str) -> Value {
    let words = |text: &str| -> Vec<String> {
        xinfang_nlp::UserDictionary::parse(text)
            .map(|d| d.words().iter().map(|w| w.word().to_string()).collect())
            .unwrap_or_default()
    };
    let (old, new) = (words(before.unwrap_or("")), words(after));
    diff(old.iter().map(String::as_str), new.iter().map(String::as_str))
}

/// The details of a lexicon change: the revision saved and the terms added and removed.
/// `before` is the stored lexicon; none means the built-in one, which the first save replaces.
pub(crate) fn lexicon_details(
    before: Option<&xinfang_nlp::triage::Lexicon>,
    after: &xinfang_nlp::triage::Lexicon,
    revision: i64,
) -> Value {
    let builtin;
    let before = match before {
        Some(b) => b,
        None => {
            builtin = xinfang_nlp::triage::Lexicon::builtin();
            &builtin
        }
    };
    let terms = |l: &'_ xinfang_nlp::triage::Lexicon| -> Vec<String> {
        l.entries.iter().map(|e| e.term.clone()).collect()
    };
    let (old, new) = (terms(before), terms(after));
    let mut d = diff(old.iter().map(String::as_str), new.iter().map(String::as_str));
    if let Some(o) = d.as_object_mut() {
        o.insert("revision".into(), json!(revision));
        o.insert("entries".into(), json!(after.entries.len()));
    }
    d
}

/// The details of a routing change: threshold before and after, rule counts.
pub(crate) fn routing_details(
    before: &crate::model::RoutingConfig,
    after: &crate::model::RoutingConfig,
) -> Value {
    json!({
        "threshold_before": before.threshold,
        "threshold": after.threshold,
        "rules_before": before.rules.len(),
        "rules": after.rules.len(),
    })
}

/// The details of a trained model: its version, training size and whether it went live.
pub(crate) fn model_trained(version: i64, m: &crate::model::NewModel) -> Value {
    json!({ "version": version, "training_size": m.training_size, "activated": m.activate })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_added_and_removed_names() {
        let d = diff(["T3航站楼", "空港物流"], ["T3航站楼", "捷运", "卫星厅"]);
        assert_eq!(d["count"], 3);
        assert_eq!(d["added"], json!(["卫星厅", "捷运"]));
        assert_eq!(d["removed"], json!(["空港物流"]));
        assert_eq!(
            (d["added_count"].as_u64(), d["removed_count"].as_u64()),
            (Some(2), Some(1))
        );
    }

    #[test]
    fn long_diffs_are_counted_not_listed() {
        let after: Vec<String> = (0..120).map(|i| format!("词{i:03}")).collect();
        let d = diff([], after.iter().map(String::as_str));
        assert_eq!(d["added_count"], 120);
        assert_eq!(d["added"].as_array().map(Vec::len), Some(MAX_LISTED));
    }

    #[test]
    fn event_data_names_the_setting() {
        let d = event_data(Setting::Routing, json!({"threshold": 0.7}));
        assert_eq!(d["setting"], "routing");
        assert_eq!(d["label_zh"], "分流规则");
        assert_eq!(d["threshold"], 0.7);
    }
}
