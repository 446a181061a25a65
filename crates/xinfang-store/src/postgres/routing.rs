//! The routing model on PostgreSQL: model versions (one active), imported training examples,
//! the routing table and threshold, and the suggestion recorded for each matter. The same
//! meaning as `sqlite/routing.rs`. Every change of the configuration takes the organisation's
//! chain lock and records its `settings_changed` event (see `crate::settings`); transactions
//! that fail are rolled back at once so no row lock outlives the request.

use super::matters::{SUMMARY_COLUMNS, push_scope, summary};
use super::{PgStore, Writer, audit_setting, micros};
use crate::model::*;
use crate::settings::Setting;
use crate::{Result, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;
use xinfang_core::ids::{CategoryId, OrganisationId, PetitionId, UnitId, UserId};
use xinfang_core::matter::{Channel, State};
use xinfang_core::org::{Actor, StaffActor};
use xinfang_core::routing::{Route, RoutingRule};

fn reference(err: sqlx::Error, field: &'static str) -> StoreError {
    match &err {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::InvalidReference { field },
        _ => StoreError::from(err),
    }
}

const MODEL_COLUMNS: &str = "select v.version, v.created_at, v.trained_by, v.training_size, v.active, v.info::text as info,
    (select count(*) from matter_suggestions s join matters m on m.organisation_id = s.organisation_id and m.id = s.matter_id
      where s.organisation_id = v.organisation_id and s.model_version = v.version and m.category_id is not null) as judged,
    (select count(*) from matter_suggestions s join matters m on m.organisation_id = s.organisation_id and m.id = s.matter_id
      where s.organisation_id = v.organisation_id and s.model_version = v.version and m.category_id = s.top_category_id) as confirmed
    from models v where v.organisation_id = $1";

fn stored_model(r: &PgRow) -> Result<StoredModel> {
    Ok(StoredModel {
        version: r.get::<i32, _>("version") as u32,
        created_at: r.get("created_at"),
        trained_by: r.get::<Option<Uuid>, _>("trained_by").map(UserId::from_uuid),
        training_size: r.get::<i32, _>("training_size") as u32,
        active: r.get("active"),
        info: serde_json::from_str(r.get("info"))
            .map_err(|e| StoreError::Corrupt(format!("model info: {e}")))?,
        judged: r.get::<i64, _>("judged").max(0) as u64,
        confirmed: r.get::<i64, _>("confirmed").max(0) as u64,
    })
}

async fn model_row(s: &PgStore, org: OrganisationId, version: u32) -> Result<StoredModel> {
    let sql = format!("{MODEL_COLUMNS} and v.version = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.as_uuid())
        .bind(version as i32)
        .fetch_optional(&s.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    stored_model(&row)
}

pub(super) async fn save_model(
    s: &PgStore,
    org: OrganisationId,
    by: &Actor,
    m: NewModel,
) -> Result<StoredModel> {
    let mut w = Writer::begin(s).await?;
    let work = async {
        // The chain lock also serialises version numbers between nodes training at once.
        w.lock(org).await?;
        let next: i32 = sqlx::query_scalar("select coalesce(max(version), 0) + 1 from models where organisation_id = $1")
            .bind(org.as_uuid())
            .fetch_one(w.conn())
            .await?;
        if m.activate {
            sqlx::query("update models set active = false where organisation_id = $1 and active")
                .bind(org.as_uuid())
                .execute(w.conn())
                .await?;
        }
        sqlx::query(
            "insert into models (organisation_id, version, created_at, trained_by, training_size, info, body, active)
             values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)",
        )
        .bind(org.as_uuid())
        .bind(next)
        .bind(micros(s.now()))
        .bind(m.trained_by.map(|u| u.as_uuid()))
        .bind(m.training_size as i32)
        .bind(m.info.to_string())
        .bind(&m.body)
        .bind(m.activate)
        .execute(w.conn())
        .await?;
        let details = crate::settings::model_trained(i64::from(next), &m);
        audit_setting(&mut w, s, org, by, Setting::ModelTrained, details).await?;
        Ok::<_, StoreError>(next)
    }
    .await;
    let next = w.finish(work).await?;
    model_row(s, org, next as u32).await
}

pub(super) async fn models(s: &PgStore, org: OrganisationId) -> Result<Vec<StoredModel>> {
    let sql = format!("{MODEL_COLUMNS} order by v.version desc");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.as_uuid())
        .fetch_all(&s.pool)
        .await?;
    rows.iter().map(stored_model).collect()
}

pub(super) async fn active_model(s: &PgStore, org: OrganisationId) -> Result<Option<(u32, Vec<u8>)>> {
    let row = sqlx::query("select version, body from models where organisation_id = $1 and active")
        .bind(org.as_uuid())
        .fetch_optional(&s.pool)
        .await?;
    Ok(row.map(|r| (r.get::<i32, _>("version") as u32, r.get("body"))))
}

pub(super) async fn active_model_version(s: &PgStore, org: OrganisationId) -> Result<Option<u32>> {
    let v: Option<i32> =
        sqlx::query_scalar("select version from models where organisation_id = $1 and active")
            .bind(org.as_uuid())
            .fetch_optional(&s.pool)
            .await?;
    Ok(v.map(|v| v as u32))
}

pub(super) async fn activate_model(
    s: &PgStore,
    org: OrganisationId,
    by: &Actor,
    version: u32,
) -> Result<StoredModel> {
    let mut w = Writer::begin(s).await?;
    let work = async {
        w.lock(org).await?;
        let exists: Option<i32> =
            sqlx::query_scalar("select 1 from models where organisation_id = $1 and version = $2")
                .bind(org.as_uuid())
                .bind(version as i32)
                .fetch_optional(w.conn())
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let before: Option<i32> =
            sqlx::query_scalar("select version from models where organisation_id = $1 and active")
                .bind(org.as_uuid())
                .fetch_optional(w.conn())
                .await?;
        // Two statements, so the unique "one active" index never sees two at once.
        sqlx::query("update models set active = false where organisation_id = $1 and active")
            .bind(org.as_uuid())
            .execute(w.conn())
            .await?;
        sqlx::query("update models set active = true where organisation_id = $1 and version = $2")
            .bind(org.as_uuid())
            .bind(version as i32)
            .execute(w.conn())
            .await?;
        let details = serde_json::json!({ "version": version, "version_before": before });
        audit_setting(&mut w, s, org, by, Setting::ModelActivated, details).await?;
        Ok(())
    }
    .await;
    w.finish(work).await?;
    model_row(s, org, version).await
}

pub(super) async fn add_training_examples(
    s: &PgStore,
    org: OrganisationId,
    by: &Actor,
    examples: Vec<TrainingExample>,
) -> Result<usize> {
    let mut w = Writer::begin(s).await?;
    let now = micros(s.now());
    let work = async {
        w.lock(org).await?;
        for e in &examples {
            sqlx::query(
                "insert into training_examples (organisation_id, id, text, category_id, source, created_at)
                 values ($1, $2, $3, $4, 'import', $5)",
            )
            .bind(org.as_uuid())
            .bind(Uuid::now_v7())
            .bind(&e.text)
            .bind(e.category_id.as_uuid())
            .bind(now)
            .execute(w.conn())
            .await
            .map_err(|err| reference(err, "category"))?;
        }
        let details = serde_json::json!({ "added": examples.len() });
        audit_setting(&mut w, s, org, by, Setting::TrainingExamples, details).await?;
        Ok(examples.len())
    }
    .await;
    w.finish(work).await
}

pub(super) async fn training_examples(
    s: &PgStore,
    org: OrganisationId,
    limit: u32,
) -> Result<Vec<TrainingExample>> {
    let rows = sqlx::query(
        "select text, category_id from (
             select m.title || ' ' || (m.body->>'content') as text, m.category_id, m.registered_at as at
             from matters m where m.organisation_id = $1 and m.category_id is not null
             union all
             select t.text, t.category_id, t.created_at as at from training_examples t where t.organisation_id = $1
         ) e order by at desc limit $2",
    )
    .bind(org.as_uuid())
    .bind(i64::from(limit))
    .fetch_all(&s.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| TrainingExample {
            text: r.get::<Option<String>, _>("text").unwrap_or_default(),
            category_id: CategoryId::from_uuid(r.get("category_id")),
        })
        .collect())
}

pub(super) async fn routing_config(s: &PgStore, org: OrganisationId) -> Result<RoutingConfig> {
    config_in(&mut *s.pool.acquire().await?, org).await
}

/// The routing configuration as `conn` sees it (inside a writer: what is about to change).
async fn config_in(conn: &mut sqlx::PgConnection, org: OrganisationId) -> Result<RoutingConfig> {
    let threshold: Option<f32> =
        sqlx::query_scalar("select threshold from routing_settings where organisation_id = $1")
            .bind(org.as_uuid())
            .fetch_optional(&mut *conn)
            .await?;
    let rows = sqlx::query(
        "select category_id, unit_id, location_contains, channel, priority from routing_rules
         where organisation_id = $1 order by position",
    )
    .bind(org.as_uuid())
    .fetch_all(&mut *conn)
    .await?;
    Ok(RoutingConfig {
        threshold: threshold.unwrap_or(RoutingConfig::DEFAULT_THRESHOLD),
        rules: rows
            .iter()
            .map(|r| RoutingRule {
                category_id: CategoryId::from_uuid(r.get("category_id")),
                unit_id: UnitId::from_uuid(r.get("unit_id")),
                location_contains: r.get("location_contains"),
                channel: r.get::<Option<&str>, _>("channel").and_then(Channel::parse),
                priority: r.get("priority"),
            })
            .collect(),
    })
}

pub(super) async fn save_routing_config(
    s: &PgStore,
    org: OrganisationId,
    by: &Actor,
    c: RoutingConfig,
) -> Result<RoutingConfig> {
    let mut w = Writer::begin(s).await?;
    let work = async {
        w.lock(org).await?;
        let before = config_in(w.conn(), org).await?;
        sqlx::query(
            "insert into routing_settings (organisation_id, threshold, updated_at) values ($1, $2, $3)
             on conflict (organisation_id) do update set threshold = excluded.threshold, updated_at = excluded.updated_at",
        )
        .bind(org.as_uuid())
        .bind(c.threshold)
        .bind(micros(s.now()))
        .execute(w.conn())
        .await?;
        sqlx::query("delete from routing_rules where organisation_id = $1")
            .bind(org.as_uuid())
            .execute(w.conn())
            .await?;
        for (i, r) in c.rules.iter().enumerate() {
            sqlx::query(
                "insert into routing_rules (organisation_id, position, category_id, unit_id, location_contains, channel, priority)
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(org.as_uuid())
            .bind(i as i32)
            .bind(r.category_id.as_uuid())
            .bind(r.unit_id.as_uuid())
            .bind(&r.location_contains)
            .bind(r.channel.map(Channel::code))
            .bind(r.priority)
            .execute(w.conn())
            .await
            .map_err(|err| reference(err, "rules"))?;
        }
        let details = crate::settings::routing_details(&before, &c);
        audit_setting(&mut w, s, org, by, Setting::Routing, details).await?;
        Ok(())
    }
    .await;
    w.finish(work).await?;
    routing_config(s, org).await
}

pub(super) async fn record_suggestion(s: &PgStore, org: OrganisationId, g: MatterSuggestion) -> Result<()> {
    sqlx::query(
        "insert into matter_suggestions (organisation_id, matter_id, model_version, prediction, top_category_id,
             top_probability, unit_id, route, created_at)
         values ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9) on conflict do nothing",
    )
    .bind(org.as_uuid())
    .bind(g.matter_id.as_uuid())
    .bind(g.model_version as i32)
    .bind(g.prediction.to_string())
    .bind(g.top_category_id.map(|c| c.as_uuid()))
    .bind(g.top_probability)
    .bind(g.unit_id.map(|u| u.as_uuid()))
    .bind(g.route.code())
    .bind(micros(g.created_at))
    .execute(&s.pool)
    .await?;
    Ok(())
}

const SUGGESTION_COLUMNS: &str =
    "s.matter_id, s.model_version, s.prediction::text as prediction, s.top_category_id,
    s.top_probability, s.unit_id as suggested_unit_id, s.route, s.created_at as suggested_at";

fn suggestion_row(r: &PgRow) -> Result<MatterSuggestion> {
    let route: &str = r.get("route");
    Ok(MatterSuggestion {
        matter_id: PetitionId::from_uuid(r.get("matter_id")),
        model_version: r.get::<i32, _>("model_version") as u32,
        prediction: serde_json::from_str(r.get("prediction"))
            .map_err(|e| StoreError::Corrupt(format!("suggestion: {e}")))?,
        top_category_id: r
            .get::<Option<Uuid>, _>("top_category_id")
            .map(CategoryId::from_uuid),
        top_probability: r.get("top_probability"),
        unit_id: r
            .get::<Option<Uuid>, _>("suggested_unit_id")
            .map(UnitId::from_uuid),
        route: Route::parse(route).ok_or_else(|| StoreError::Corrupt(format!("route {route}")))?,
        created_at: r.get("suggested_at"),
    })
}

pub(super) async fn suggestion(
    s: &PgStore,
    viewer: &StaffActor,
    id: PetitionId,
) -> Result<Option<MatterSuggestion>> {
    let mut q = QueryBuilder::<Postgres>::new("select m.id from matters m where");
    push_scope(&mut q, &viewer.scope());
    q.push(" and m.id = ").push_bind(id.as_uuid());
    q.build()
        .fetch_optional(&s.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    let sql = format!(
        "select {SUGGESTION_COLUMNS} from matter_suggestions s where s.organisation_id = $1 and s.matter_id = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(viewer.organisation_id.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&s.pool)
        .await?;
    row.as_ref().map(suggestion_row).transpose()
}

pub(super) async fn triage_queue(
    s: &PgStore,
    viewer: &StaffActor,
    route: Route,
    limit: u32,
) -> Result<Vec<QueuedMatter>> {
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select {SUMMARY_COLUMNS}, {SUGGESTION_COLUMNS} from matter_suggestions s
         join matters m on m.organisation_id = s.organisation_id and m.id = s.matter_id where"
    ));
    push_scope(&mut q, &viewer.scope());
    q.push(" and s.route = ")
        .push_bind(route.code())
        .push(" and m.category_id is null and m.state = any(")
        .push_bind(vec![State::Registered.code(), State::Accepted.code()])
        .push(") order by s.created_at, m.id limit ")
        .push_bind(i64::from(limit.clamp(1, 500)));
    let now = s.now();
    let rows = q.build().fetch_all(&s.pool).await?;
    rows.iter()
        .map(|r| {
            Ok(QueuedMatter {
                matter: summary(r, now)?,
                suggestion: suggestion_row(r)?,
            })
        })
        .collect()
}

pub(super) async fn user_dictionary(s: &PgStore, org: OrganisationId) -> Result<String> {
    let body: Option<String> =
        sqlx::query_scalar("select body from user_dictionaries where organisation_id = $1")
            .bind(org.as_uuid())
            .fetch_optional(&s.pool)
            .await?;
    Ok(body.unwrap_or_default())
}

pub(super) async fn save_user_dictionary(
    s: &PgStore,
    org: OrganisationId,
    text: &str,
    by: &Actor,
) -> Result<()> {
    let mut w = Writer::begin(s).await?;
    let work = async {
        w.lock(org).await?;
        let before: Option<String> =
            sqlx::query_scalar("select body from user_dictionaries where organisation_id = $1")
                .bind(org.as_uuid())
                .fetch_optional(w.conn())
                .await?;
        let details = crate::settings::dictionary_details(before.as_deref(), text);
        sqlx::query(
            "insert into user_dictionaries (organisation_id, body, updated_at, updated_by) values ($1, $2, $3, $4)
             on conflict (organisation_id) do update set body = excluded.body, updated_at = excluded.updated_at,
                 updated_by = excluded.updated_by",
        )
        .bind(org.as_uuid())
        .bind(text)
        .bind(micros(s.now()))
        .bind(by.user_id().map(|u| u.as_uuid()))
        .execute(w.conn())
        .await?;
        audit_setting(&mut w, s, org, by, Setting::UserDictionary, details).await?;
        Ok(())
    }
    .await;
    w.finish(work).await
}
