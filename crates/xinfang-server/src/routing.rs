//! The routing model inside the server: training from the organisation's own matters,
//! suggesting a category and unit for each new matter, and deciding whether it is routed or
//! waits in the manual classification queue.
//!
//! - **Training** reads what people decided — every matter a clerk classified (confirmations and
//!   corrections alike) plus examples an admin imported — trains the classifier of
//!   `xinfang-nlp` on the blocking pool, and stores the model as the organisation's next
//!   version with its cross-validated figures. It runs from the admin console
//!   (`POST /api/v1/models/train`) and nightly as a background job when there is new material.
//! - **Suggesting** happens right after a registration: the active model's top 3 with calibrated
//!   probabilities and the words behind the first, the unit from the routing rules, and the
//!   route (auto at or above the organisation's threshold with a unit, else manual), recorded
//!   for the matter with the model version. A failure here never undoes the registration: the
//!   matter simply has no suggestion and a clerk classifies it.
//! - **Which model**: each node caches the active model per organisation and asks the database
//!   for the active version on every use (one indexed lookup), so a rollback on one node is
//!   followed by every node at once.

use crate::AppState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use xinfang_core::ids::{CategoryId, OrganisationId, PetitionId};
use xinfang_core::matter::Channel;
use xinfang_core::org::Actor;
use xinfang_core::routing::{decide, route};
use xinfang_nlp::{Classifier, Example, TrainConfig, UserDictionary};
use xinfang_store::{
    IntakeRevisions, MatterSuggestion, NewModel, Store, StoreError, StoredModel, TrainingExample,
};

/// At most this many examples are trained on (the newest).
const MAX_EXAMPLES: u32 = 50_000;
/// Fewer classified matters than this, and the nightly job does not train.
pub const MIN_EXAMPLES: usize = 30;

/// Each organisation's active model on this node, by version.
#[derive(Default)]
pub struct Models {
    cache: Mutex<HashMap<OrganisationId, (u32, Arc<Classifier>)>>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models").finish_non_exhaustive()
    }
}

/// Why a model could not be trained or used.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Train(#[from] xinfang_nlp::TrainError),
    #[error(transparent)]
    Model(#[from] xinfang_nlp::ModelError),
    #[error("the training task failed")]
    Task,
}

impl Models {
    /// The organisation's active model, loaded once per version.
    pub async fn active(
        &self,
        st: &AppState,
        org: OrganisationId,
    ) -> Result<Option<(u32, Arc<Classifier>)>, RoutingError> {
        let version = st.store.active_model_version(org).await?;
        self.version(st, org, version).await
    }

    /// The model of `version` (the active one when it was read; `None`: no model), loaded
    /// once per version.
    async fn version(
        &self,
        st: &AppState,
        org: OrganisationId,
        version: Option<u32>,
    ) -> Result<Option<(u32, Arc<Classifier>)>, RoutingError> {
        let Some(version) = version else {
            return Ok(None);
        };
        if let Ok(c) = self.cache.lock()
            && let Some((v, m)) = c.get(&org)
            && *v == version
        {
            return Ok(Some((version, m.clone())));
        }
        let Some((version, bytes)) = st.store.active_model(org).await? else {
            return Ok(None);
        };
        let model = tokio::task::spawn_blocking(move || Classifier::from_bytes(&bytes))
            .await
            .map_err(|_| RoutingError::Task)??;
        let model = Arc::new(model);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(org, (version, model.clone()));
        }
        Ok(Some((version, model)))
    }
}

/// What routing reads of a matter about to be registered (taken before the store consumes
/// the registration; the id comes with the answer).
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Title and content.
    pub text: String,
    pub location: Option<String>,
    pub channel: Channel,
}

impl Incoming {
    pub fn of(m: &xinfang_store::NewMatter) -> Self {
        Self {
            text: format!("{} {}", m.title.as_str(), m.content.as_str()),
            location: m.location.clone(),
            channel: m.channel,
        }
    }
}

/// Suggests and records a category, unit and route for a new matter; `None` when the
/// organisation has no model yet. `model` is the active version as the registration read it
/// ([`IntakeRevisions::model`]); without it the database is asked.
pub async fn suggest(
    st: &AppState,
    org: OrganisationId,
    id: PetitionId,
    m: Incoming,
    model: Option<Option<u32>>,
) -> Result<Option<MatterSuggestion>, RoutingError> {
    let active = match model {
        Some(version) => st.models.version(st, org, version).await?,
        None => st.models.active(st, org).await?,
    };
    let Some((version, model)) = active else {
        return Ok(None);
    };
    let text = m.text.clone();
    let prediction = tokio::task::spawn_blocking(move || model.predict(&text))
        .await
        .map_err(|_| RoutingError::Task)?;
    let top = prediction.top.first();
    let top_category: Option<CategoryId> = top.and_then(|t| t.label.parse().ok());
    let probability = top.map_or(0.0, |t| t.probability);
    let config = st.store.routing_config(org).await?;
    let unit = match top_category {
        Some(c) => {
            let default_unit = st.store.category_default_unit(org, c).await?;
            route(&config.rules, c, m.location.as_deref(), m.channel, default_unit)
        }
        None => None,
    };
    let suggestion = MatterSuggestion {
        matter_id: id,
        model_version: version,
        prediction: serde_json::to_value(&prediction).unwrap_or(serde_json::Value::Null),
        top_category_id: top_category,
        top_probability: probability,
        unit_id: unit,
        route: decide(probability, config.threshold, unit),
        created_at: st.clock.now(),
    };
    st.store.record_suggestion(org, suggestion.clone()).await?;
    Ok(Some(suggestion))
}

/// [`suggest`] after a registration: a failure is logged, never returned (the matter stays
/// registered and goes to a clerk without a suggestion).
pub async fn after_registration(
    st: &AppState,
    org: OrganisationId,
    id: PetitionId,
    m: Incoming,
    revisions: Option<IntakeRevisions>,
) {
    if let Err(e) = suggest(st, org, id, m, revisions.map(|r| r.model)).await {
        tracing::warn!(matter = %id, error = %e, "no routing suggestion");
    }
}

/// Trains on the organisation's labelled matters and imports and stores the model as the next
/// version, made active.
pub async fn train(store: &dyn Store, org: OrganisationId, by: &Actor) -> Result<StoredModel, RoutingError> {
    let examples = store.training_examples(org, MAX_EXAMPLES).await?;
    train_on(store, org, by, examples).await
}

async fn train_on(
    store: &dyn Store,
    org: OrganisationId,
    by: &Actor,
    examples: Vec<TrainingExample>,
) -> Result<StoredModel, RoutingError> {
    let rows: Vec<Example> = examples
        .into_iter()
        .map(|e| Example {
            text: e.text,
            label: e.category_id.to_string(),
        })
        .collect();
    let n = rows.len();
    // The words are cut with the organisation's dictionary as it is now; the model keeps it, so
    // later edits do not change what this version sees (the nightly job retrains on them).
    let dictionary = store.user_dictionary(org).await?;
    let (fingerprint, words) = dictionary_facts(&dictionary);
    let mut config = TrainConfig::default();
    config.features.dictionary = dictionary;
    let model = tokio::task::spawn_blocking(move || Classifier::train(&rows, &config))
        .await
        .map_err(|_| RoutingError::Task)??;
    let mut info = serde_json::to_value(model.info()).unwrap_or(serde_json::Value::Null);
    // The listing shows which dictionary, not all of it (the weights' copy is the one used).
    if let Some(features) = info
        .pointer_mut("/config/features")
        .and_then(|f| f.as_object_mut())
    {
        features.remove("dictionary");
        features.insert("dictionary_words".into(), words.into());
        features.insert("dictionary_fingerprint".into(), fingerprint.into());
    }
    let body = model.to_bytes();
    let stored = store
        .save_model(
            org,
            by,
            NewModel {
                trained_by: by.user_id(),
                training_size: u32::try_from(n).unwrap_or(u32::MAX),
                info,
                body,
                activate: true,
            },
        )
        .await?;
    Ok(stored)
}

/// Which user dictionary a model was trained with, as stored in its listing: the
/// [`UserDictionary::fingerprint`] in hex and the number of words (an unreadable text, which
/// the API never saves, counts as the empty dictionary).
fn dictionary_facts(text: &str) -> (String, usize) {
    let d = UserDictionary::parse(text).unwrap_or_default();
    (format!("{:016x}", d.fingerprint()), d.len())
}

/// The nightly job: retrains when the labelled material or the user dictionary changed since
/// the active model and there is enough material. Answers a line for the job record.
pub async fn retrain_if_new(store: &dyn Store, org: OrganisationId) -> Result<String, RoutingError> {
    let examples = store.training_examples(org, MAX_EXAMPLES).await?;
    if examples.len() < MIN_EXAMPLES {
        return Ok(format!(
            "skipped: {} labelled matters (need {MIN_EXAMPLES})",
            examples.len()
        ));
    }
    let models = store.models(org).await?;
    let (dictionary, _) = dictionary_facts(&store.user_dictionary(org).await?);
    if models.iter().find(|m| m.active).is_some_and(|m| {
        m.training_size as usize == examples.len()
            && m.info
                .pointer("/config/features/dictionary_fingerprint")
                .and_then(|f| f.as_str())
                == Some(dictionary.as_str())
    }) {
        return Ok("skipped: nothing new since the active model".into());
    }
    let stored = train_on(store, org, &Actor::System, examples).await?;
    Ok(format!(
        "model version {} trained on {} examples",
        stored.version, stored.training_size
    ))
}
