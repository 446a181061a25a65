//! The routing model on SQLite: model versions (one active), imported training examples,
//! the routing table and threshold, and the suggestion recorded for each matter.

use super::matters::{SUMMARY_COLUMNS, push_scope, summary};
use super::{SqliteStore, Writer, audit_setting, map_unique, parse_id, parse_ts, ts};
use crate::model::*;
use crate::settings::Setting;
use crate::{Result, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use xinfang_core::ids::{CategoryId, OrganisationId, PetitionId, UnitId};
use xinfang_core::matter::{Channel, State};
use xinfang_core::org::{Actor, StaffActor};
use xinfang_core::routing::{Route, RoutingRule};

/// A foreign-key violation as the field that named nothing in the organisation.
fn reference(err: sqlx::Error, field: &'static str) -> StoreError {
    match &err {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::InvalidReference { field },
        _ => StoreError::from(err),
    }
}

/// A model row; `judged`/`confirmed` come from the suggestions of that version whose matter a
/// person has classified since.
const MODEL_COLUMNS: &str = "select v.version, v.created_at, v.trained_by, v.training_size, v.active, v.info,
    (select count(*) from matter_suggestions s join matters m on m.organisation_id = s.organisation_id and m.id = s.matter_id
      where s.organisation_id = v.organisation_id and s.model_version = v.version and m.category_id is not null) as judged,
    (select count(*) from matter_suggestions s join matters m on m.organisation_id = s.organisation_id and m.id = s.matter_id
      where s.organisation_id = v.organisation_id and s.model_version = v.version and m.category_id = s.top_category_id) as confirmed
    from models v where v.organisation_id = ?";

fn stored_model(r: &SqliteRow) -> Result<StoredModel> {
    Ok(StoredModel {
        version: r.get::<i64, _>("version") as u32,
        created_at: parse_ts(r.get("created_at"))?,
        trained_by: r.get::<Option<&str>, _>("trained_by").map(parse_id).transpose()?,
        training_size: r.get::<i64, _>("training_size") as u32,
        active: r.get("active"),
        info: serde_json::from_str(r.get("info"))
            .map_err(|e| StoreError::Corrupt(format!("model info: {e}")))?,
        judged: r.get::<i64, _>("judged").max(0) as u64,
        confirmed: r.get::<i64, _>("confirmed").max(0) as u64,
    })
}

async fn model_row(s: &SqliteStore, org: OrganisationId, version: u32) -> Result<StoredModel> {
    let sql = format!("{MODEL_COLUMNS} and v.version = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.to_string())
        .bind(i64::from(version))
        .fetch_optional(&s.writer)
        .await?
        .ok_or(StoreError::NotFound)?;
    stored_model(&row)
}

pub(super) async fn save_model(
    s: &SqliteStore,
    org: OrganisationId,
    by: &Actor,
    m: NewModel,
) -> Result<StoredModel> {
    let mut w = Writer::begin(s).await?;
    let next: i64 =
        sqlx::query_scalar("select coalesce(max(version), 0) + 1 from models where organisation_id = ?")
            .bind(org.to_string())
            .fetch_one(w.conn())
            .await?;
    if m.activate {
        sqlx::query("update models set active = 0 where organisation_id = ? and active = 1")
            .bind(org.to_string())
            .execute(w.conn())
            .await?;
    }
    sqlx::query(
        "insert into models (organisation_id, version, created_at, trained_by, training_size, info, body, active)
         values (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(org.to_string())
    .bind(next)
    .bind(ts(s.now()))
    .bind(m.trained_by.map(|u| u.to_string()))
    .bind(i64::from(m.training_size))
    .bind(m.info.to_string())
    .bind(&m.body)
    .bind(m.activate)
    .execute(w.conn())
    .await?;
    let details = crate::settings::model_trained(next, &m);
    audit_setting(&mut w, s, org, by, Setting::ModelTrained, details).await?;
    w.commit().await?;
    model_row(s, org, next as u32).await
}

pub(super) async fn models(s: &SqliteStore, org: OrganisationId) -> Result<Vec<StoredModel>> {
    let sql = format!("{MODEL_COLUMNS} order by v.version desc");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.to_string())
        .fetch_all(&s.reader)
        .await?;
    rows.iter().map(stored_model).collect()
}

pub(super) async fn active_model(s: &SqliteStore, org: OrganisationId) -> Result<Option<(u32, Vec<u8>)>> {
    let row = sqlx::query("select version, body from models where organisation_id = ? and active = 1")
        .bind(org.to_string())
        .fetch_optional(&s.reader)
        .await?;
    Ok(row.map(|r| (r.get::<i64, _>("version") as u32, r.get("body"))))
}

pub(super) async fn active_model_version(s: &SqliteStore, org: OrganisationId) -> Result<Option<u32>> {
    let v: Option<i64> =
        sqlx::query_scalar("select version from models where organisation_id = ? and active = 1")
            .bind(org.to_string())
            .fetch_optional(&s.reader)
            .await?;
    Ok(v.map(|v| v as u32))
}

pub(super) async fn activate_model(
    s: &SqliteStore,
    org: OrganisationId,
    by: &Actor,
    version: u32,
) -> Result<StoredModel> {
    let mut w = Writer::begin(s).await?;
    let exists: Option<i64> =
        sqlx::query_scalar("select 1 from models where organisation_id = ? and version = ?")
            .bind(org.to_string())
            .bind(i64::from(version))
            .fetch_optional(w.conn())
            .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let before: Option<i64> =
        sqlx::query_scalar("select version from models where organisation_id = ? and active = 1")
            .bind(org.to_string())
            .fetch_optional(w.conn())
            .await?;
    // Two statements: the unique "one active" index is checked row by row.
    sqlx::query("update models set active = 0 where organisation_id = ? and active = 1")
        .bind(org.to_string())
        .execute(w.conn())
        .await?;
    sqlx::query("update models set active = 1 where organisation_id = ? and version = ?")
        .bind(org.to_string())
        .bind(i64::from(version))
        .execute(w.conn())
        .await?;
    let details = serde_json::json!({ "version": version, "version_before": before });
    audit_setting(&mut w, s, org, by, Setting::ModelActivated, details).await?;
    w.commit().await?;
    model_row(s, org, version).await
}

pub(super) async fn add_training_examples(
    s: &SqliteStore,
    org: OrganisationId,
    by: &Actor,
    examples: Vec<TrainingExample>,
) -> Result<usize> {
    let mut w = Writer::begin(s).await?;
    let now = ts(s.now());
    for e in &examples {
        sqlx::query(
            "insert into training_examples (organisation_id, id, text, category_id, source, created_at)
             values (?, ?, ?, ?, 'import', ?)",
        )
        .bind(org.to_string())
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&e.text)
        .bind(e.category_id.to_string())
        .bind(&now)
        .execute(w.conn())
        .await
        .map_err(|err| reference(err, "category"))?;
    }
    let details = serde_json::json!({ "added": examples.len() });
    audit_setting(&mut w, s, org, by, Setting::TrainingExamples, details).await?;
    w.commit().await?;
    Ok(examples.len())
}

pub(super) async fn training_examples(
    s: &SqliteStore,
    org: OrganisationId,
    limit: u32,
) -> Result<Vec<TrainingExample>> {
    // Matters a person classified, then the imports; the newest first in each.
    let rows = sqlx::query(
        "select text, category_id from (
             select m.title || ' ' || json_extract(m.body, '$.content') as text, m.category_id, m.registered_at as at
             from matters m where m.organisation_id = ? and m.category_id is not null
             union all
             select t.text, t.category_id, t.created_at as at from training_examples t where t.organisation_id = ?
         ) order by at desc limit ?",
    )
    .bind(org.to_string())
    .bind(org.to_string())
    .bind(i64::from(limit))
    .fetch_all(&s.reader)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TrainingExample {
                text: r.get::<Option<String>, _>("text").unwrap_or_default(),
                category_id: parse_id(r.get("category_id"))?,
            })
        })
        .collect()
}

pub(super) async fn routing_config(s: &SqliteStore, org: OrganisationId) -> Result<RoutingConfig> {
    config_in(&mut *s.reader.acquire().await?, org).await
}

/// The routing configuration as `conn` sees it (inside a writer: what is about to change).
async fn config_in(conn: &mut sqlx::SqliteConnection, org: OrganisationId) -> Result<RoutingConfig> {
    let threshold: Option<f64> =
        sqlx::query_scalar("select threshold from routing_settings where organisation_id = ?")
            .bind(org.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    let rows = sqlx::query(
        "select category_id, unit_id, location_contains, channel, priority from routing_rules
         where organisation_id = ? order by position",
    )
    .bind(org.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let rules = rows
        .iter()
        .map(|r| {
            Ok(RoutingRule {
                category_id: parse_id(r.get("category_id"))?,
                unit_id: parse_id(r.get("unit_id"))?,
                location_contains: r.get("location_contains"),
                channel: r.get::<Option<&str>, _>("channel").and_then(Channel::parse),
                priority: r.get::<i64, _>("priority") as i32,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RoutingConfig {
        threshold: threshold.map_or(RoutingConfig::DEFAULT_THRESHOLD, |t| t as f32),
        rules,
    })
}

pub(super) async fn save_routing_config(
    s: &SqliteStore,
    org: OrganisationId,
    by: &Actor,
    c: RoutingConfig,
) -> Result<RoutingConfig> {
    let mut w = Writer::begin(s).await?;
    let before = config_in(w.conn(), org).await?;
    sqlx::query(
        "insert into routing_settings (organisation_id, threshold, updated_at) values (?, ?, ?)
         on conflict (organisation_id) do update set threshold = excluded.threshold, updated_at = excluded.updated_at",
    )
    .bind(org.to_string())
    .bind(f64::from(c.threshold))
    .bind(ts(s.now()))
    .execute(w.conn())
    .await?;
    sqlx::query("delete from routing_rules where organisation_id = ?")
        .bind(org.to_string())
        .execute(w.conn())
        .await?;
    for (i, r) in c.rules.iter().enumerate() {
        sqlx::query(
            "insert into routing_rules (organisation_id, position, category_id, unit_id, location_contains, channel, priority)
             values (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(org.to_string())
        .bind(i as i64)
        .bind(r.category_id.to_string())
        .bind(r.unit_id.to_string())
        .bind(&r.location_contains)
        .bind(r.channel.map(Channel::code))
        .bind(i64::from(r.priority))
        .execute(w.conn())
        .await
        .map_err(|err| reference(err, "rules"))?;
    }
    let details = crate::settings::routing_details(&before, &c);
    audit_setting(&mut w, s, org, by, Setting::Routing, details).await?;
    w.commit().await?;
    routing_config(s, org).await
}

pub(super) async fn record_suggestion(
    s: &SqliteStore,
    org: OrganisationId,
    g: MatterSuggestion,
) -> Result<()> {
    sqlx::query(
        "insert into matter_suggestions (organisation_id, matter_id, model_version, prediction, top_category_id,
             top_probability, unit_id, route, created_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
    )
    .bind(org.to_string())
    .bind(g.matter_id.to_string())
    .bind(i64::from(g.model_version))
    .bind(g.prediction.to_string())
    .bind(g.top_category_id.map(|c| c.to_string()))
    .bind(f64::from(g.top_probability))
    .bind(g.unit_id.map(|u| u.to_string()))
    .bind(g.route.code())
    .bind(ts(g.created_at))
    .execute(&s.writer)
    .await
    .map_err(|e| map_unique(e, "matter_suggestions_pkey", None))?;
    Ok(())
}

const SUGGESTION_COLUMNS: &str =
    "s.matter_id, s.model_version, s.prediction, s.top_category_id, s.top_probability,
    s.unit_id, s.route, s.created_at as suggested_at";

fn suggestion_row(r: &SqliteRow) -> Result<MatterSuggestion> {
    let route: &str = r.get("route");
    Ok(MatterSuggestion {
        matter_id: parse_id::<PetitionId>(r.get("matter_id"))?,
        model_version: r.get::<i64, _>("model_version") as u32,
        prediction: serde_json::from_str(r.get("prediction"))
            .map_err(|e| StoreError::Corrupt(format!("suggestion: {e}")))?,
        top_category_id: r
            .get::<Option<&str>, _>("top_category_id")
            .map(parse_id::<CategoryId>)
            .transpose()?,
        top_probability: r.get::<f64, _>("top_probability") as f32,
        unit_id: r
            .get::<Option<&str>, _>("unit_id")
            .map(parse_id::<UnitId>)
            .transpose()?,
        route: Route::parse(route).ok_or_else(|| StoreError::Corrupt(format!("route {route}")))?,
        created_at: parse_ts(r.get("suggested_at"))?,
    })
}

pub(super) async fn suggestion(
    s: &SqliteStore,
    viewer: &StaffActor,
    id: PetitionId,
) -> Result<Option<MatterSuggestion>> {
    // The matter first, in the viewer's scope: "not found" for a matter they may not see.
    let mut q = QueryBuilder::<Sqlite>::new("select m.id from matters m where");
    push_scope(&mut q, &viewer.scope());
    q.push(" and m.id = ").push_bind(id.to_string());
    q.build()
        .fetch_optional(&s.reader)
        .await?
        .ok_or(StoreError::NotFound)?;
    let sql = format!(
        "select {SUGGESTION_COLUMNS} from matter_suggestions s where s.organisation_id = ? and s.matter_id = ?"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(viewer.organisation_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&s.reader)
        .await?;
    row.as_ref().map(suggestion_row).transpose()
}

pub(super) async fn triage_queue(
    s: &SqliteStore,
    viewer: &StaffActor,
    route: Route,
    limit: u32,
) -> Result<Vec<QueuedMatter>> {
    let mut q = QueryBuilder::<Sqlite>::new(format!(
        "select {SUMMARY_COLUMNS}, {SUGGESTION_COLUMNS} from matter_suggestions s
         join matters m on m.organisation_id = s.organisation_id and m.id = s.matter_id where"
    ));
    push_scope(&mut q, &viewer.scope());
    q.push(" and s.route = ")
        .push_bind(route.code())
        .push(" and m.category_id is null and m.state in (")
        .push_bind(State::Registered.code())
        .push(", ")
        .push_bind(State::Accepted.code())
        .push(") order by s.created_at, m.id limit ")
        .push_bind(i64::from(limit.clamp(1, 500)));
    let now = s.now();
    let rows = q.build().fetch_all(&s.reader).await?;
    rows.iter()
        .map(|r| {
            Ok(QueuedMatter {
                matter: summary(r, now)?,
                suggestion: suggestion_row(r)?,
            })
        })
        .collect()
}

pub(super) async fn user_dictionary(s: &SqliteStore, org: OrganisationId) -> Result<String> {
    let body: Option<String> =
        sqlx::query_scalar("select body from user_dictionaries where organisation_id = ?")
            .bind(org.to_string())
            .fetch_optional(&s.reader)
            .await?;
    Ok(body.unwrap_or_default())
}

pub(super) async fn save_user_dictionary(
    s: &SqliteStore,
    org: OrganisationId,
    text: &str,
    by: &Actor,
) -> Result<()> {
    let mut w = Writer::begin(s).await?;
    let before: Option<String> =
        sqlx::query_scalar("select body from user_dictionaries where organisation_id = ?")
            .bind(org.to_string())
            .fetch_optional(w.conn())
            .await?;
    let details = crate::settings::dictionary_details(before.as_deref(), text);
    sqlx::query(
        "insert into user_dictionaries (organisation_id, body, updated_at, updated_by) values (?, ?, ?, ?)
         on conflict (organisation_id) do update set body = excluded.body, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by",
    )
    .bind(org.to_string())
    .bind(text)
    .bind(ts(s.now()))
    .bind(by.user_id().map(|u| u.to_string()))
    .execute(w.conn())
    .await?;
    audit_setting(&mut w, s, org, by, Setting::UserDictionary, details).await?;
    w.commit().await
}
