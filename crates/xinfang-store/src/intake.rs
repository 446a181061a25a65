//! What the SQLite and PostgreSQL intake tables (`sqlite/intake.rs`, `postgres/intake.rs`)
//! store the same way: a triage assessment split into columns and an evidence document, the
//! safety-alert event's data, and the order links are listed in.

use crate::model::{LinkDirection, MatterLink};
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use xinfang_core::matter::Urgency;
use xinfang_nlp::dedup::{self, Signature};
use xinfang_nlp::triage::{Alert, Assessment, Evidence, TypeSuggestion};

/// How long the backfill leaves a matter alone after its `attempts`-th failure in a row.
pub(crate) fn retry_delay(attempts: u32) -> chrono::Duration {
    let minutes = 5i64 << attempts.saturating_sub(1).min(10);
    chrono::Duration::minutes(minutes.min(24 * 60))
}

/// A foreign-key violation on a matter's row as the matter not being there.
pub(crate) fn missing_matter(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
        _ => StoreError::from(e),
    }
}

/// An error as stored: its first 500 characters.
pub(crate) fn error_text(error: &str) -> String {
    error.chars().take(500).collect()
}

/// The parts of an assessment that are not columns of `matter_triage`.
#[derive(Serialize, Deserialize)]
struct EvidenceDoc {
    petition_type: Option<TypeSuggestion>,
    urgency_reasons: Vec<String>,
    emotion_evidence: Vec<Evidence>,
}

/// The `matter_triage` columns of an assessment.
#[derive(Debug, Clone)]
pub(crate) struct TriageColumns {
    pub petition_type: Option<&'static str>,
    pub type_confidence: Option<f32>,
    pub urgency: &'static str,
    pub emotional_intensity: f32,
    pub alerts: serde_json::Value,
    pub evidence: serde_json::Value,
}

fn json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(format!("triage: {e}")))
}

pub(crate) fn triage_columns(a: &Assessment) -> Result<TriageColumns> {
    Ok(TriageColumns {
        petition_type: a.petition_type.as_ref().map(|t| t.petition_type.code()),
        type_confidence: a.petition_type.as_ref().map(|t| t.confidence),
        urgency: a.urgency.code(),
        emotional_intensity: a.emotional_intensity,
        alerts: json(&a.alerts)?,
        evidence: json(&EvidenceDoc {
            petition_type: a.petition_type.clone(),
            urgency_reasons: a.urgency_reasons.clone(),
            emotion_evidence: a.emotion_evidence.clone(),
        })?,
    })
}

/// The assessment back from its columns.
pub(crate) fn assessment(
    urgency: &str,
    emotional_intensity: f32,
    alerts: serde_json::Value,
    evidence: serde_json::Value,
) -> Result<Assessment> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("triage: {e}"));
    let doc: EvidenceDoc = serde_json::from_value(evidence).map_err(corrupt)?;
    let alerts: Vec<Alert> = serde_json::from_value(alerts).map_err(corrupt)?;
    Ok(Assessment {
        petition_type: doc.petition_type,
        urgency: Urgency::parse(urgency).ok_or_else(|| StoreError::Corrupt(format!("urgency {urgency}")))?,
        urgency_reasons: doc.urgency_reasons,
        alerts,
        emotional_intensity,
        emotion_evidence: doc.emotion_evidence,
    })
}

/// The data of a `safety_alert` event: what was found, not who wrote it.
pub(crate) fn alert_event_data(alerts: &[Alert]) -> serde_json::Value {
    let items: Vec<serde_json::Value> = alerts
        .iter()
        .map(|a| {
            serde_json::json!({
                "term": a.term,
                "category": a.category.code(),
                "label_zh": a.category.label_zh(),
                "negated": a.negated,
            })
        })
        .collect();
    serde_json::json!({ "alerts": items })
}

/// Strongest first (duplicate, repeat, joint, similar), then the more similar, then earlier
/// before later.
pub(crate) fn sort_links(links: &mut [MatterLink]) {
    links.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.similarity.total_cmp(&a.similarity))
            .then((a.direction == LinkDirection::Later).cmp(&(b.direction == LinkDirection::Later)))
            .then(a.registered_at.cmp(&b.registered_at))
    });
}

/// A timestamp another part of the row stores as RFC 3339 text (the matter body's times).
pub(crate) fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s}: {e}")))
}

/// The similarity of a stored signature to the probe, when it is comparable (same version)
/// and at least `min`.
pub(crate) fn similar(probe: &Signature, min: f32, version: i64, bytes: &[u8]) -> Option<f32> {
    if version != i64::from(dedup::SIGNATURE_VERSION) {
        return None;
    }
    let sig = Signature::from_bytes(bytes).ok()?;
    let s = dedup::similarity(probe, &sig);
    (s >= min).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::retry_delay;
    use chrono::Duration;

    #[test]
    fn failures_wait_longer_each_time_up_to_a_day() {
        assert_eq!(retry_delay(1), Duration::minutes(5));
        assert_eq!(retry_delay(2), Duration::minutes(10));
        assert_eq!(retry_delay(5), Duration::minutes(80));
        assert_eq!(retry_delay(9), Duration::minutes(1280));
        assert_eq!(retry_delay(10), Duration::hours(24));
        assert_eq!(retry_delay(u32::MAX), Duration::hours(24));
    }
}
