//! Organisation data on PostgreSQL: units, users and their grants, sessions, API tokens,
//! categories, rule sets and calendar additions.

use super::{PgStore, map_unique};
use crate::audit::GENESIS;
use crate::model::*;
use crate::{Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, Row};
use std::collections::HashMap;
use uuid::Uuid;
use xinfang_core::calendar::{Calendar, CalendarEntry, DayKind};
use xinfang_core::deadline::RuleSet;
use xinfang_core::ids::{CategoryId, OrganisationId, RuleSetId, UnitId, UserId};
use xinfang_core::matter::PetitionType;
use xinfang_core::org::{Role, RoleGrant, StaffActor, UnitKind};

pub(super) async fn create_organisation(s: &PgStore, name: &str) -> Result<OrganisationId> {
    let id = OrganisationId::new();
    let now = s.now();
    let mut tx = s.pool.begin().await?;
    // The organisation, and the head its audit chain starts from.
    sqlx::query(
        "with o as (insert into organisations (id, name, created_at) values ($1, $2, $3))
         insert into audit_heads (organisation_id, seq, hash) values ($1, 0, $4)",
    )
    .bind(id.as_uuid())
    .bind(name)
    .bind(now)
    .bind(GENESIS)
    .execute(&mut *tx)
    .await?;
    let rules = RuleSet::regulation_2022(RuleSetId::new());
    insert_rule_set(&mut tx, id, &rules, true, now).await?;
    // The first data written fixes the database's key (see `check_key`).
    sqlx::query("insert into key_check (id, mac) values (1, $1) on conflict do nothing")
        .bind(crate::shared::key_check_value(&s.vault))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn organisations(s: &PgStore) -> Result<Vec<Organisation>> {
    let rows = sqlx::query("select id, name from organisations order by created_at, id")
        .fetch_all(&s.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| Organisation {
            id: OrganisationId::from_uuid(r.get("id")),
            name: r.get("name"),
        })
        .collect())
}

pub(super) async fn create_unit(s: &PgStore, org: OrganisationId, u: NewUnit) -> Result<Unit> {
    let id = UnitId::new();
    sqlx::query(
        "insert into units (organisation_id, id, parent_id, name, kind, petition_office, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org.as_uuid())
    .bind(id.as_uuid())
    .bind(u.parent_id.map(|p| p.as_uuid()))
    .bind(&u.name)
    .bind(u.kind.code())
    .bind(u.petition_office)
    .bind(s.now())
    .execute(&s.pool)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::InvalidReference { field: "parent_id" }
        }
        _ => map_unique(e, "units_name_key", Some("name")),
    })?;
    Ok(Unit {
        id,
        parent_id: u.parent_id,
        name: u.name,
        kind: u.kind,
        petition_office: u.petition_office,
    })
}

pub(super) async fn units(s: &PgStore, org: OrganisationId) -> Result<Vec<Unit>> {
    let rows = sqlx::query(
        r#"select id, parent_id, name, kind, petition_office from units where organisation_id = $1
           order by created_at, name collate "C""#,
    )
    .bind(org.as_uuid())
    .fetch_all(&s.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Unit {
                id: UnitId::from_uuid(r.get("id")),
                parent_id: r.get::<Option<Uuid>, _>("parent_id").map(UnitId::from_uuid),
                name: r.get("name"),
                kind: UnitKind::parse(r.get("kind"))
                    .ok_or_else(|| StoreError::Corrupt("unit kind".into()))?,
                petition_office: r.get("petition_office"),
            })
        })
        .collect()
}

pub(super) async fn create_user(s: &PgStore, org: OrganisationId, u: NewUser) -> Result<User> {
    let id = UserId::new();
    let mut tx = s.pool.begin().await?;
    sqlx::query(
        "insert into users (organisation_id, id, username, display_name, password_hash, active, created_at)
         values ($1, $2, $3, $4, $5, true, $6)",
    )
    .bind(org.as_uuid())
    .bind(id.as_uuid())
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(&u.password_hash)
    .bind(s.now())
    .execute(&mut *tx)
    .await
    .map_err(|e| map_unique(e, "users_username_key", Some("username")))?;
    for g in &u.grants {
        sqlx::query(
            "insert into user_roles (organisation_id, user_id, role, unit_id) values ($1, $2, $3, $4)
             on conflict do nothing",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(g.role.code())
        .bind(g.unit_id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::InvalidReference { field: "grants" }
            }
            _ => StoreError::from(e),
        })?;
    }
    tx.commit().await?;
    Ok(User {
        id,
        username: u.username,
        display_name: u.display_name,
        active: true,
        grants: u.grants,
    })
}

fn grant(role: &str, unit: Uuid) -> Result<RoleGrant> {
    Ok(RoleGrant {
        role: Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        unit_id: UnitId::from_uuid(unit),
    })
}

pub(super) async fn users(s: &PgStore, org: OrganisationId) -> Result<Vec<User>> {
    let grant_rows = sqlx::query(
        r#"select user_id, role, unit_id from user_roles where organisation_id = $1
           order by role collate "C", unit_id"#,
    )
    .bind(org.as_uuid())
    .fetch_all(&s.pool)
    .await?;
    let mut grants: HashMap<Uuid, Vec<RoleGrant>> = HashMap::new();
    for r in grant_rows {
        grants
            .entry(r.get("user_id"))
            .or_default()
            .push(grant(r.get("role"), r.get("unit_id"))?);
    }
    let rows = sqlx::query(
        r#"select id, username, display_name, active from users where organisation_id = $1
           order by username collate "C""#,
    )
    .bind(org.as_uuid())
    .fetch_all(&s.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id: Uuid = r.get("id");
            User {
                grants: grants.remove(&id).unwrap_or_default(),
                id: UserId::from_uuid(id),
                username: r.get("username"),
                display_name: r.get("display_name"),
                active: r.get("active"),
            }
        })
        .collect())
}

pub(super) async fn credentials(s: &PgStore, username: &str) -> Result<Option<Credentials>> {
    let row = sqlx::query("select organisation_id, id, password_hash, active from users where username = $1")
        .bind(username)
        .fetch_optional(&s.pool)
        .await?;
    Ok(row.map(|r| Credentials {
        organisation_id: OrganisationId::from_uuid(r.get("organisation_id")),
        user_id: UserId::from_uuid(r.get("id")),
        password_hash: r.get("password_hash"),
        active: r.get("active"),
    }))
}

pub(super) async fn staff_actor(
    conn: &mut PgConnection,
    org: OrganisationId,
    user: UserId,
) -> Result<StaffActor> {
    let row = sqlx::query("select display_name, active from users where organisation_id = $1 and id = $2")
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !row.get::<bool, _>("active") {
        return Err(StoreError::NotFound);
    }
    let grants = sqlx::query(
        r#"select role, unit_id from user_roles where organisation_id = $1 and user_id = $2
           order by role collate "C", unit_id"#,
    )
    .bind(org.as_uuid())
    .bind(user.as_uuid())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| grant(r.get("role"), r.get("unit_id")))
    .collect::<Result<Vec<_>>>()?;
    Ok(StaffActor {
        user_id: user,
        organisation_id: org,
        display_name: row.get("display_name"),
        grants,
    })
}

pub(super) async fn create_session(s: &PgStore, n: NewSession) -> Result<()> {
    sqlx::query(
        "insert into sessions (token_hash, organisation_id, user_id, csrf_token, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&n.token_hash)
    .bind(n.organisation_id.as_uuid())
    .bind(n.user_id.as_uuid())
    .bind(&n.csrf_token)
    .bind(n.created_at)
    .bind(n.expires_at)
    .execute(&s.pool)
    .await?;
    Ok(())
}

pub(super) async fn session(
    s: &PgStore,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(StaffActor, String)>> {
    let mut conn = s.pool.acquire().await?;
    let row = sqlx::query(
        "select organisation_id, user_id, csrf_token, expires_at from sessions where token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    if r.get::<DateTime<Utc>, _>("expires_at") <= now {
        return Ok(None);
    }
    let org = OrganisationId::from_uuid(r.get("organisation_id"));
    let user = UserId::from_uuid(r.get("user_id"));
    match staff_actor(&mut conn, org, user).await {
        Ok(a) => Ok(Some((a, r.get("csrf_token")))),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn create_api_token(
    s: &PgStore,
    org: OrganisationId,
    user: UserId,
    name: &str,
    hash: &str,
) -> Result<()> {
    sqlx::query(
        "insert into api_tokens (token_hash, organisation_id, user_id, name, created_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(hash)
    .bind(org.as_uuid())
    .bind(user.as_uuid())
    .bind(name)
    .bind(s.now())
    .execute(&s.pool)
    .await
    .map_err(|e| map_unique(e, "api_tokens_pkey", Some("token")))?;
    Ok(())
}

pub(super) async fn api_token(s: &PgStore, hash: &str) -> Result<Option<StaffActor>> {
    let mut conn = s.pool.acquire().await?;
    let row = sqlx::query("select organisation_id, user_id from api_tokens where token_hash = $1")
        .bind(hash)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let org = OrganisationId::from_uuid(r.get("organisation_id"));
    let user = UserId::from_uuid(r.get("user_id"));
    match staff_actor(&mut conn, org, user).await {
        Ok(a) => Ok(Some(a)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn create_category(s: &PgStore, org: OrganisationId, c: NewCategory) -> Result<Category> {
    // Checked first so the error names the right field; the foreign keys stay the guarantee.
    if let Some(unit) = c.default_unit_id {
        let found: Option<i32> =
            sqlx::query_scalar("select 1 from units where organisation_id = $1 and id = $2")
                .bind(org.as_uuid())
                .bind(unit.as_uuid())
                .fetch_optional(&s.pool)
                .await?;
        if found.is_none() {
            return Err(StoreError::InvalidReference {
                field: "default_unit_id",
            });
        }
    }
    let id = CategoryId::new();
    sqlx::query(
        "insert into categories (organisation_id, id, parent_id, name, default_unit_id, petition_type, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org.as_uuid())
    .bind(id.as_uuid())
    .bind(c.parent_id.map(|p| p.as_uuid()))
    .bind(&c.name)
    .bind(c.default_unit_id.map(|u| u.as_uuid()))
    .bind(c.petition_type.map(PetitionType::code))
    .bind(s.now())
    .execute(&s.pool)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::InvalidReference { field: "parent_id" },
        _ => map_unique(e, "categories_name_key", Some("name")),
    })?;
    categories(s, org)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or(StoreError::NotFound)
}

pub(super) async fn categories(s: &PgStore, org: OrganisationId) -> Result<Vec<Category>> {
    let rows = sqlx::query(
        "select id, parent_id, name, default_unit_id, petition_type, active from categories
         where organisation_id = $1 order by position, created_at, id",
    )
    .bind(org.as_uuid())
    .fetch_all(&s.pool)
    .await?;
    let mut cats: Vec<Category> = rows
        .iter()
        .map(|r| Category {
            id: CategoryId::from_uuid(r.get("id")),
            parent_id: r.get::<Option<Uuid>, _>("parent_id").map(CategoryId::from_uuid),
            name: r.get("name"),
            path: String::new(),
            default_unit_id: r.get::<Option<Uuid>, _>("default_unit_id").map(UnitId::from_uuid),
            petition_type: r
                .get::<Option<&str>, _>("petition_type")
                .and_then(PetitionType::parse),
            active: r.get("active"),
        })
        .collect();
    let by_id: HashMap<CategoryId, (Option<CategoryId>, String)> = cats
        .iter()
        .map(|c| (c.id, (c.parent_id, c.name.clone())))
        .collect();
    for c in &mut cats {
        let mut parts = vec![c.name.clone()];
        let mut cur = c.parent_id;
        // The depth bound guards against a cycle in hand-edited data.
        while let Some(p) = cur.filter(|_| parts.len() < 16) {
            let Some((pp, name)) = by_id.get(&p) else { break };
            parts.push(name.clone());
            cur = *pp;
        }
        parts.reverse();
        c.path = parts.join(" / ");
    }
    Ok(cats)
}

/// The default unit of an active category (one indexed look-up, for routing).
pub(super) async fn category_default_unit(
    s: &PgStore,
    org: OrganisationId,
    category: CategoryId,
) -> Result<Option<UnitId>> {
    let unit: Option<Option<uuid::Uuid>> = sqlx::query_scalar(
        "select default_unit_id from categories where organisation_id = $1 and id = $2 and active",
    )
    .bind(org.as_uuid())
    .bind(category.as_uuid())
    .fetch_optional(&s.pool)
    .await?;
    Ok(unit.flatten().map(UnitId::from_uuid))
}

/// Tells every app node that the organisation's calendar or default rule set changed.
async fn bump_config_revision(conn: &mut PgConnection, org: OrganisationId) -> Result<()> {
    sqlx::query("update organisations set config_revision = config_revision + 1 where id = $1")
        .bind(org.as_uuid())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_rule_set(
    conn: &mut PgConnection,
    org: OrganisationId,
    rules: &RuleSet,
    make_default: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    if make_default {
        sqlx::query("update rule_sets set is_default = false where organisation_id = $1 and is_default")
            .bind(org.as_uuid())
            .execute(&mut *conn)
            .await?;
        bump_config_revision(conn, org).await?;
    }
    let body = serde_json::to_string(rules).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "insert into rule_sets (organisation_id, id, version, name, body, is_default, created_at)
         values ($1, $2, $3, $4, $5::jsonb, $6, $7)",
    )
    .bind(org.as_uuid())
    .bind(rules.id.as_uuid())
    .bind(rules.version as i32)
    .bind(&rules.name)
    .bind(body)
    .bind(make_default)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| map_unique(e, "rule_sets_pkey", Some("version")))?;
    Ok(())
}

pub(super) async fn save_rule_set(
    s: &PgStore,
    org: OrganisationId,
    mut rules: RuleSet,
    make_default: bool,
) -> Result<RuleSet> {
    rules.validate().map_err(|e| StoreError::Invalid {
        field: "rules",
        message: e.to_string(),
    })?;
    let mut tx = s.pool.begin().await?;
    let latest: Option<i32> =
        sqlx::query_scalar("select max(version) from rule_sets where organisation_id = $1 and id = $2")
            .bind(org.as_uuid())
            .bind(rules.id.as_uuid())
            .fetch_one(&mut *tx)
            .await?;
    rules.version = latest.map_or(1, |v| v as u32 + 1);
    insert_rule_set(&mut tx, org, &rules, make_default, s.now()).await?;
    tx.commit().await?;
    Ok(rules)
}

pub(super) async fn rule_sets(s: &PgStore, org: OrganisationId) -> Result<Vec<StoredRuleSet>> {
    let rows = sqlx::query(
        r#"select body::text as body, is_default from rule_sets where organisation_id = $1
           order by name collate "C", version"#,
    )
    .bind(org.as_uuid())
    .fetch_all(&s.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredRuleSet {
                rules: serde_json::from_str(r.get("body")).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                is_default: r.get("is_default"),
            })
        })
        .collect()
}

pub(super) async fn default_rule_set(conn: &mut PgConnection, org: OrganisationId) -> Result<RuleSet> {
    let body: String = sqlx::query_scalar(
        "select body::text from rule_sets where organisation_id = $1 and is_default
         order by version desc limit 1",
    )
    .bind(org.as_uuid())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) async fn add_calendar_entries(
    s: &PgStore,
    org: OrganisationId,
    entries: Vec<CalendarEntry>,
) -> Result<usize> {
    let mut tx = s.pool.begin().await?;
    for e in &entries {
        sqlx::query(
            "insert into calendar_days (organisation_id, day, kind, name_zh) values ($1, $2, $3, $4)
             on conflict (organisation_id, day) do update set kind = excluded.kind, name_zh = excluded.name_zh",
        )
        .bind(org.as_uuid())
        .bind(e.date)
        .bind(match e.kind {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        })
        .bind(&e.name_zh)
        .execute(&mut *tx)
        .await?;
    }
    bump_config_revision(&mut tx, org).await?;
    tx.commit().await?;
    Ok(entries.len())
}

pub(super) async fn calendar(conn: &mut PgConnection, org: OrganisationId) -> Result<Calendar> {
    let rows = sqlx::query("select day, kind, name_zh from calendar_days where organisation_id = $1")
        .bind(org.as_uuid())
        .fetch_all(&mut *conn)
        .await?;
    let entries: Vec<CalendarEntry> = rows
        .iter()
        .map(|r| CalendarEntry {
            date: r.get::<NaiveDate, _>("day"),
            kind: if r.get::<&str, _>("kind") == "workday" {
                DayKind::Workday
            } else {
                DayKind::Holiday
            },
            name_zh: r.get("name_zh"),
        })
        .collect();
    Ok(if entries.is_empty() {
        Calendar::builtin()
    } else {
        Calendar::builtin().with_entries(entries)
    })
}
