//! Reads for analytics on PostgreSQL: the matters of a time window as hotspot discovery needs
//! them.

use super::PgStore;
use super::matters::push_scope;
use crate::Result;
use crate::model::HotspotSource;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;
use xinfang_core::ids::{PetitionId, PetitionerId};
use xinfang_core::org::StaffActor;

pub(super) async fn hotspot_sources(
    s: &PgStore,
    viewer: &StaffActor,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<HotspotSource>> {
    let mut q = QueryBuilder::<Postgres>::new(
        "select m.id, m.registered_at, m.title, m.body->>'content' as content,
             (select mp.petitioner_id from matter_petitioners mp
              where mp.organisation_id = m.organisation_id and mp.matter_id = m.id order by mp.position limit 1) as petitioner_id
         from matters m where",
    );
    push_scope(&mut q, &viewer.scope());
    q.push(" and m.registered_at >= ")
        .push_bind(from)
        .push(" and m.registered_at < ")
        .push_bind(to)
        .push(" order by m.registered_at desc limit ")
        .push_bind(i64::from(limit));
    let rows = q.build().fetch_all(&s.pool).await?;
    Ok(rows
        .iter()
        .map(|r| HotspotSource {
            id: PetitionId::from_uuid(r.get("id")),
            petitioner_id: r
                .get::<Option<Uuid>, _>("petitioner_id")
                .map(PetitionerId::from_uuid),
            registered_at: r.get("registered_at"),
            title: r.get("title"),
            content: r.get::<Option<String>, _>("content").unwrap_or_default(),
        })
        .collect())
}
