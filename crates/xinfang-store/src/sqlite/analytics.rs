//! Reads for analytics on SQLite: the matters of a time window as hotspot discovery needs them.

use super::matters::push_scope;
use super::{SqliteStore, parse_id, parse_ts, ts};
use crate::Result;
use crate::model::HotspotSource;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite};
use xinfang_core::org::StaffActor;

pub(super) async fn hotspot_sources(
    s: &SqliteStore,
    viewer: &StaffActor,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<HotspotSource>> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "select m.id, m.registered_at, m.title, json_extract(m.body, '$.content') as content,
             (select mp.petitioner_id from matter_petitioners mp
              where mp.organisation_id = m.organisation_id and mp.matter_id = m.id order by mp.position limit 1) as petitioner_id
         from matters m where",
    );
    push_scope(&mut q, &viewer.scope());
    q.push(" and m.registered_at >= ")
        .push_bind(ts(from))
        .push(" and m.registered_at < ")
        .push_bind(ts(to))
        .push(" order by m.registered_at desc limit ")
        .push_bind(i64::from(limit));
    let rows = q.build().fetch_all(&s.reader).await?;
    rows.iter()
        .map(|r| {
            Ok(HotspotSource {
                id: parse_id(r.get("id"))?,
                petitioner_id: r
                    .get::<Option<&str>, _>("petitioner_id")
                    .map(parse_id)
                    .transpose()?,
                registered_at: parse_ts(r.get("registered_at"))?,
                title: r.get("title"),
                content: r.get::<Option<String>, _>("content").unwrap_or_default(),
            })
        })
        .collect()
}
