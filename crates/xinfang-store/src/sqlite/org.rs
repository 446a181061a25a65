//! Organisation data on SQLite: units, users and their grants, sessions, API tokens,
//! categories, rule sets and calendar additions.

use super::{SqliteStore, map_unique, parse_id, parse_ts, ts};
use crate::model::*;
use crate::{Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use xinfang_core::calendar::{Calendar, CalendarEntry, DayKind};
use xinfang_core::deadline::RuleSet;
use xinfang_core::ids::{CategoryId, OrganisationId, RuleSetId, UnitId, UserId};
use xinfang_core::matter::PetitionType;
use xinfang_core::org::{Role, RoleGrant, StaffActor, UnitKind};

pub(super) async fn create_organisation(s: &SqliteStore, name: &str) -> Result<OrganisationId> {
    let id = OrganisationId::new();
    let mut tx = s.writer.begin().await?;
    sqlx::query("insert into organisations (id, name, created_at) values (?, ?, ?)")
        .bind(id.to_string())
        .bind(name)
        .bind(ts(s.now()))
        .execute(&mut *tx)
        .await?;
    let rules = RuleSet::regulation_2022(RuleSetId::new());
    insert_rule_set(&mut tx, id, &rules, true, s.now()).await?;
    // The first data written fixes the database's key (see `check_key`).
    sqlx::query("insert into key_check (id, mac) values (1, ?) on conflict do nothing")
        .bind(crate::shared::key_check_value(&s.vault))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn organisations(s: &SqliteStore) -> Result<Vec<Organisation>> {
    let rows = sqlx::query("select id, name from organisations order by created_at")
        .fetch_all(&s.reader)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Organisation {
                id: parse_id(r.get("id"))?,
                name: r.get("name"),
            })
        })
        .collect()
}

pub(super) async fn create_unit(s: &SqliteStore, org: OrganisationId, u: NewUnit) -> Result<Unit> {
    let id = UnitId::new();
    sqlx::query(
        "insert into units (organisation_id, id, parent_id, name, kind, petition_office, created_at)
         values (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(org.to_string())
    .bind(id.to_string())
    .bind(u.parent_id.map(|p| p.to_string()))
    .bind(&u.name)
    .bind(u.kind.code())
    .bind(u.petition_office)
    .bind(ts(s.now()))
    .execute(&s.writer)
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

pub(super) async fn units(s: &SqliteStore, org: OrganisationId) -> Result<Vec<Unit>> {
    let rows = sqlx::query(
        "select id, parent_id, name, kind, petition_office from units where organisation_id = ? order by created_at, name",
    )
    .bind(org.to_string())
    .fetch_all(&s.reader)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Unit {
                id: parse_id(r.get("id"))?,
                parent_id: r.get::<Option<&str>, _>("parent_id").map(parse_id).transpose()?,
                name: r.get("name"),
                kind: UnitKind::parse(r.get("kind"))
                    .ok_or_else(|| StoreError::Corrupt("unit kind".into()))?,
                petition_office: r.get("petition_office"),
            })
        })
        .collect()
}

pub(super) async fn create_user(s: &SqliteStore, org: OrganisationId, u: NewUser) -> Result<User> {
    let id = UserId::new();
    let mut tx = s.writer.begin().await?;
    sqlx::query(
        "insert into users (organisation_id, id, username, display_name, password_hash, active, created_at)
         values (?, ?, ?, ?, ?, 1, ?)",
    )
    .bind(org.to_string())
    .bind(id.to_string())
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(&u.password_hash)
    .bind(ts(s.now()))
    .execute(&mut *tx)
    .await
    .map_err(|e| map_unique(e, "users_username_key", Some("username")))?;
    for g in &u.grants {
        sqlx::query(
            "insert or ignore into user_roles (organisation_id, user_id, role, unit_id) values (?, ?, ?, ?)",
        )
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(g.role.code())
        .bind(g.unit_id.to_string())
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

async fn grants_by_user(pool: &SqlitePool, org: OrganisationId) -> Result<HashMap<String, Vec<RoleGrant>>> {
    let rows = sqlx::query("select user_id, role, unit_id from user_roles where organisation_id = ?")
        .bind(org.to_string())
        .fetch_all(pool)
        .await?;
    let mut out: HashMap<String, Vec<RoleGrant>> = HashMap::new();
    for r in rows {
        out.entry(r.get("user_id"))
            .or_default()
            .push(grant(r.get("role"), r.get("unit_id"))?);
    }
    Ok(out)
}

fn grant(role: &str, unit: &str) -> Result<RoleGrant> {
    Ok(RoleGrant {
        role: Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        unit_id: parse_id(unit)?,
    })
}

pub(super) async fn users(s: &SqliteStore, org: OrganisationId) -> Result<Vec<User>> {
    let mut grants = grants_by_user(&s.reader, org).await?;
    let rows = sqlx::query(
        "select id, username, display_name, active from users where organisation_id = ? order by username",
    )
    .bind(org.to_string())
    .fetch_all(&s.reader)
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.get("id");
            Ok(User {
                grants: grants.remove(&id).unwrap_or_default(),
                id: parse_id(&id)?,
                username: r.get("username"),
                display_name: r.get("display_name"),
                active: r.get("active"),
            })
        })
        .collect()
}

pub(super) async fn credentials(s: &SqliteStore, username: &str) -> Result<Option<Credentials>> {
    let row = sqlx::query("select organisation_id, id, password_hash, active from users where username = ?")
        .bind(username)
        .fetch_optional(&s.reader)
        .await?;
    row.map(|r| {
        Ok(Credentials {
            organisation_id: parse_id(r.get("organisation_id"))?,
            user_id: parse_id(r.get("id"))?,
            password_hash: r.get("password_hash"),
            active: r.get("active"),
        })
    })
    .transpose()
}

pub(super) async fn staff_actor(pool: &SqlitePool, org: OrganisationId, user: UserId) -> Result<StaffActor> {
    let row = sqlx::query("select display_name, active from users where organisation_id = ? and id = ?")
        .bind(org.to_string())
        .bind(user.to_string())
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !row.get::<bool, _>("active") {
        return Err(StoreError::NotFound);
    }
    let grants =
        sqlx::query("select role, unit_id from user_roles where organisation_id = ? and user_id = ?")
            .bind(org.to_string())
            .bind(user.to_string())
            .fetch_all(pool)
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

pub(super) async fn create_session(s: &SqliteStore, n: NewSession) -> Result<()> {
    sqlx::query(
        "insert into sessions (token_hash, organisation_id, user_id, csrf_token, created_at, expires_at)
         values (?, ?, ?, ?, ?, ?)",
    )
    .bind(&n.token_hash)
    .bind(n.organisation_id.to_string())
    .bind(n.user_id.to_string())
    .bind(&n.csrf_token)
    .bind(ts(n.created_at))
    .bind(ts(n.expires_at))
    .execute(&s.writer)
    .await?;
    Ok(())
}

pub(super) async fn session(
    s: &SqliteStore,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(StaffActor, String)>> {
    let row = sqlx::query(
        "select organisation_id, user_id, csrf_token, expires_at from sessions where token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(&s.reader)
    .await?;
    let Some(r) = row else { return Ok(None) };
    if parse_ts(r.get("expires_at"))? <= now {
        return Ok(None);
    }
    let org = parse_id(r.get("organisation_id"))?;
    let user = parse_id(r.get("user_id"))?;
    match staff_actor(&s.reader, org, user).await {
        Ok(a) => Ok(Some((a, r.get("csrf_token")))),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn create_api_token(
    s: &SqliteStore,
    org: OrganisationId,
    user: UserId,
    name: &str,
    hash: &str,
) -> Result<()> {
    sqlx::query("insert into api_tokens (token_hash, organisation_id, user_id, name, created_at) values (?, ?, ?, ?, ?)")
        .bind(hash)
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(name)
        .bind(ts(s.now()))
        .execute(&s.writer)
        .await
        .map_err(|e| map_unique(e, "api_tokens_pkey", Some("token")))?;
    Ok(())
}

pub(super) async fn api_token(s: &SqliteStore, hash: &str) -> Result<Option<StaffActor>> {
    let row = sqlx::query("select organisation_id, user_id from api_tokens where token_hash = ?")
        .bind(hash)
        .fetch_optional(&s.reader)
        .await?;
    let Some(r) = row else { return Ok(None) };
    match staff_actor(
        &s.reader,
        parse_id(r.get("organisation_id"))?,
        parse_id(r.get("user_id"))?,
    )
    .await
    {
        Ok(a) => Ok(Some(a)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn create_category(
    s: &SqliteStore,
    org: OrganisationId,
    c: NewCategory,
) -> Result<Category> {
    // Checked first so the error names the right field; the foreign keys stay the guarantee.
    if let Some(unit) = c.default_unit_id {
        let found: Option<i64> =
            sqlx::query_scalar("select 1 from units where organisation_id = ? and id = ?")
                .bind(org.to_string())
                .bind(unit.to_string())
                .fetch_optional(&s.reader)
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
         values (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(org.to_string())
    .bind(id.to_string())
    .bind(c.parent_id.map(|p| p.to_string()))
    .bind(&c.name)
    .bind(c.default_unit_id.map(|u| u.to_string()))
    .bind(c.petition_type.map(PetitionType::code))
    .bind(ts(s.now()))
    .execute(&s.writer)
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

pub(super) async fn categories(s: &SqliteStore, org: OrganisationId) -> Result<Vec<Category>> {
    let rows = sqlx::query(
        "select id, parent_id, name, default_unit_id, petition_type, active from categories
         where organisation_id = ? order by position, created_at",
    )
    .bind(org.to_string())
    .fetch_all(&s.reader)
    .await?;
    let mut cats = rows
        .iter()
        .map(|r| {
            Ok(Category {
                id: parse_id(r.get("id"))?,
                parent_id: r.get::<Option<&str>, _>("parent_id").map(parse_id).transpose()?,
                name: r.get("name"),
                path: String::new(),
                default_unit_id: r
                    .get::<Option<&str>, _>("default_unit_id")
                    .map(parse_id)
                    .transpose()?,
                petition_type: r
                    .get::<Option<&str>, _>("petition_type")
                    .and_then(PetitionType::parse),
                active: r.get("active"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
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
    s: &SqliteStore,
    org: OrganisationId,
    category: CategoryId,
) -> Result<Option<UnitId>> {
    let unit: Option<Option<String>> = sqlx::query_scalar(
        "select default_unit_id from categories where organisation_id = ? and id = ? and active = 1",
    )
    .bind(org.to_string())
    .bind(category.to_string())
    .fetch_optional(&s.reader)
    .await?;
    unit.flatten().map(|u| parse_id(&u)).transpose()
}

async fn insert_rule_set(
    conn: &mut sqlx::SqliteConnection,
    org: OrganisationId,
    rules: &RuleSet,
    make_default: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    if make_default {
        sqlx::query("update rule_sets set is_default = 0 where organisation_id = ?")
            .bind(org.to_string())
            .execute(&mut *conn)
            .await?;
    }
    let body = serde_json::to_string(rules).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "insert into rule_sets (organisation_id, id, version, name, body, is_default, created_at) values (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(org.to_string())
    .bind(rules.id.to_string())
    .bind(rules.version as i64)
    .bind(&rules.name)
    .bind(body)
    .bind(make_default)
    .bind(ts(now))
    .execute(&mut *conn)
    .await
    .map_err(|e| map_unique(e, "rule_sets_pkey", Some("version")))?;
    Ok(())
}

pub(super) async fn save_rule_set(
    s: &SqliteStore,
    org: OrganisationId,
    mut rules: RuleSet,
    make_default: bool,
) -> Result<RuleSet> {
    rules.validate().map_err(|e| StoreError::Invalid {
        field: "rules",
        message: e.to_string(),
    })?;
    let mut tx = s.writer.begin().await?;
    let latest: Option<i64> =
        sqlx::query_scalar("select max(version) from rule_sets where organisation_id = ? and id = ?")
            .bind(org.to_string())
            .bind(rules.id.to_string())
            .fetch_one(&mut *tx)
            .await?;
    rules.version = latest.map_or(1, |v| v as u32 + 1);
    insert_rule_set(&mut tx, org, &rules, make_default, s.now()).await?;
    tx.commit().await?;
    Ok(rules)
}

pub(super) async fn rule_sets(s: &SqliteStore, org: OrganisationId) -> Result<Vec<StoredRuleSet>> {
    let rows = sqlx::query(
        "select body, is_default from rule_sets where organisation_id = ? order by name, version",
    )
    .bind(org.to_string())
    .fetch_all(&s.reader)
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

pub(super) async fn default_rule_set(pool: &SqlitePool, org: OrganisationId) -> Result<RuleSet> {
    let body: String = sqlx::query_scalar(
        "select body from rule_sets where organisation_id = ? and is_default = 1 order by version desc limit 1",
    )
    .bind(org.to_string())
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) async fn add_calendar_entries(
    s: &SqliteStore,
    org: OrganisationId,
    entries: Vec<CalendarEntry>,
) -> Result<usize> {
    let mut tx = s.writer.begin().await?;
    for e in &entries {
        sqlx::query(
            "insert into calendar_days (organisation_id, day, kind, name_zh) values (?, ?, ?, ?)
             on conflict (organisation_id, day) do update set kind = excluded.kind, name_zh = excluded.name_zh",
        )
        .bind(org.to_string())
        .bind(e.date.to_string())
        .bind(match e.kind {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        })
        .bind(&e.name_zh)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(entries.len())
}

pub(super) async fn calendar(pool: &SqlitePool, org: OrganisationId) -> Result<Calendar> {
    let rows = sqlx::query("select day, kind, name_zh from calendar_days where organisation_id = ?")
        .bind(org.to_string())
        .fetch_all(pool)
        .await?;
    let entries = rows
        .iter()
        .map(|r| {
            let day: &str = r.get("day");
            Ok(CalendarEntry {
                date: NaiveDate::parse_from_str(day, "%Y-%m-%d")
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                kind: if r.get::<&str, _>("kind") == "workday" {
                    DayKind::Workday
                } else {
                    DayKind::Holiday
                },
                name_zh: r.get("name_zh"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(if entries.is_empty() {
        Calendar::builtin()
    } else {
        Calendar::builtin().with_entries(entries)
    })
}
