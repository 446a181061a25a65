//! Candidate lookup against N stored matters (issue 4, part 4: "a lookup against 1,000,000
//! stored matters under 5 ms"), as intake makes it: `CandidateIndex::candidates` — catch up with
//! the signature log (one query), 40 band probes and the sketch check in the node's memory,
//! then the similar candidates' signatures and rows from the database — by p50/p99 latency. Also the time to
//! read the whole log into a fresh index (what a node does at start) and the index's size.
//!
//! ```sh
//! cargo bench -p xinfang-store --bench dedup_lookup [-- --stored N --queries Q --postgres URL --keep DIR]
//! ```
//!
//! Benchmark only, it reads `../shared/data/tipdm_c_train.csv` beside the repository (another
//! file with `--input`). The stored matters are made from those real messages: each is a
//! message with 5–40% of its characters edited at random (and for a third of them a sentence
//! of another message appended), so at 1,000,000 there are about 180 near-copies of every
//! message. The rows (matters, petitioners, signatures) are written in bulk with SQL after the
//! store has created and migrated the database; lookups then go through the store as intake
//! makes them. Two query sets:
//! - `novel`: the last tenth of the messages, never used for stored matters (another subject,
//!   as most new matters are): few candidates;
//! - `near_copy`: fresh edits of stored messages, each with ~180 similar matters stored, so the
//!   lookup reads the signatures of up to its limit of 200 candidates: an upper bound.
//!
//! Prints one JSON line per measurement. SQLite by default (a temporary file, removed at the
//! end unless `--keep DIR`, and measured again without reloading by running once more with the
//! same `--keep DIR`); with `--postgres URL` the same on PostgreSQL in a fresh schema.

use chrono::{TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sqlx::{Connection, QueryBuilder};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;
use xinfang_core::clock::FixedClock;
use xinfang_core::ids::{OrganisationId, PetitionId};
use xinfang_nlp::dataset::load_csv;
use xinfang_nlp::dedup::{Signature, signature};
use xinfang_store::sqlite::SqliteOptions;
use xinfang_store::{CandidateIndex, Probe, SqliteStore, Store, Vault};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Intake's threshold of "the same matter" (`LinkRules::similar`).
const SIMILAR: f32 = 0.40;

struct Args {
    input: PathBuf,
    stored: usize,
    queries: usize,
    postgres: Option<String>,
    keep: Option<PathBuf>,
}

fn args() -> Result<Args, Error> {
    let data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    let mut a = Args {
        input: data.join("tipdm_c_train.csv"),
        stored: 1_000_000,
        queries: 2_000,
        postgres: None,
        keep: None,
    };
    let mut it = std::env::args().skip(1).filter(|x| x != "--bench");
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--input" => a.input = PathBuf::from(value()?),
            "--stored" => a.stored = value()?.parse()?,
            "--queries" => a.queries = value()?.parse()?,
            "--postgres" => a.postgres = Some(value()?),
            "--keep" => a.keep = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

fn edit(text: &str, fraction: f64, pool: &[char], rng: &mut StdRng) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let n = (chars.len() as f64 * fraction).round() as usize;
    for _ in 0..n {
        let c = pool[rng.random_range(0..pool.len())];
        let at = rng.random_range(0..chars.len().max(1));
        match rng.random_range(0..3) {
            0 => chars.insert(at.min(chars.len()), c),
            1 if chars.len() > 1 => {
                chars.remove(at);
            }
            _ if !chars.is_empty() => chars[at] = c,
            _ => chars.push(c),
        }
    }
    chars.into_iter().collect()
}

fn synthetic(texts: &[String], pool: &[char], rng: &mut StdRng) -> String {
    let base = &texts[rng.random_range(0..texts.len())];
    let mut t = edit(base, rng.random_range(0.05..0.40), pool, rng);
    if rng.random_range(0..3) == 0 {
        let other = &texts[rng.random_range(0..texts.len())];
        t.extend(other.split('。').next().unwrap_or(other).chars().take(80));
    }
    t
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// One stored matter: its ids, its petitioner (one of 100,000: people write more than once)
/// and its signature.
struct Row {
    id: Uuid,
    petitioner: usize,
    signature: Vec<u8>,
}

fn make_rows(texts: &[String], pool: &[char], n: usize) -> Vec<Row> {
    let threads = 2;
    let per = n.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut rng = StdRng::seed_from_u64(t as u64);
                    (0..per.min(n.saturating_sub(t * per)))
                        .map(|_| {
                            let sig = signature(&synthetic(texts, pool, &mut rng));
                            Row {
                                id: Uuid::now_v7(),
                                petitioner: rng.random_range(0..100_000),
                                signature: sig.to_bytes(),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("dedup_lookup bench: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    let a = args()?;
    let mut texts: Vec<String> = load_csv(&a.input)?.rows.into_iter().map(|r| r.text).collect();
    let novel = texts.split_off(texts.len() * 9 / 10);
    let pool: Vec<char> = texts
        .iter()
        .flat_map(|t| t.chars())
        .filter(|c| !c.is_whitespace())
        .collect();

    // `--keep DIR` with a database already in DIR measures it again without reloading.
    let reuse = a.postgres.is_none() && a.keep.as_ref().is_some_and(|d| d.join("bench.db").exists());
    let start = Instant::now();
    let rows = if reuse {
        Vec::new()
    } else {
        make_rows(&texts, &pool, a.stored)
    };
    eprintln!(
        "{} signatures in {:.1} s",
        rows.len(),
        start.elapsed().as_secs_f64()
    );

    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2025, 6, 1, 1, 0, 0).single().ok_or("time")?,
    ));
    // A kept database keeps its key beside it: a store refuses a database written with
    // another key (migration 0006), so a rerun must open it with the same one.
    let key = match a.keep.as_ref().map(|d| d.join("bench.key")) {
        Some(file) if reuse && file.exists() => std::fs::read_to_string(&file)?,
        Some(file) if a.postgres.is_none() => {
            let key = Vault::generate_key();
            std::fs::create_dir_all(file.parent().ok_or("key directory")?)?;
            std::fs::write(&file, &key)?;
            key
        }
        _ => Vault::generate_key(),
    };
    let vault = Vault::from_base64(key.trim())?;
    let dir = tempfile::tempdir()?;
    let (store, org, backend, _schema): (Arc<dyn Store>, OrganisationId, &str, Option<_>) = match &a.postgres
    {
        None => {
            let path = a
                .keep
                .clone()
                .unwrap_or_else(|| dir.path().to_path_buf())
                .join("bench.db");
            let url = format!("sqlite://{}", path.display());
            let org = {
                let s = SqliteStore::connect(&url, vault.clone(), clock.clone(), SqliteOptions::default())
                    .await?;
                match s.organisations().await?.first() {
                    Some(o) if reuse => o.id,
                    _ => s.create_organisation("基准测试").await?,
                }
            };
            if !reuse {
                let start = Instant::now();
                load_sqlite(&url, org, &rows).await?;
                eprintln!("loaded SQLite in {:.1} s", start.elapsed().as_secs_f64());
            }
            let s = SqliteStore::connect(&url, vault, clock, SqliteOptions::default()).await?;
            (Arc::new(s), org, "sqlite", None)
        }
        Some(url) => {
            let schema = xinfang_store::postgres::testing::TestSchema::new(url);
            let s = schema.store(vault, clock).await?;
            let org = s.create_organisation("基准测试").await?;
            let start = Instant::now();
            load_postgres(schema.url(), schema.name(), org, &rows).await?;
            eprintln!("loaded PostgreSQL in {:.1} s", start.elapsed().as_secs_f64());
            (Arc::new(s), org, "postgres", Some(schema))
        }
    };

    // What a node does at start: the whole log into a fresh index.
    let index = CandidateIndex::new();
    let start = Instant::now();
    let loaded = index.catch_up(store.as_ref()).await?;
    let stats = index.stats().await;
    println!(
        "{}",
        json!({
            "measure": "index_load", "backend": backend, "signatures": loaded,
            "seconds": start.elapsed().as_secs_f64(), "index_mb": stats.bytes as f64 / 1e6,
        })
    );

    let mut rng = StdRng::seed_from_u64(99);
    let near: Vec<String> = (0..a.queries)
        .map(|_| synthetic(&texts, &pool, &mut rng))
        .collect();
    let novel: Vec<String> = novel.into_iter().cycle().take(a.queries).collect();
    for (name, set) in [("novel", &novel), ("near_copy", &near)] {
        if set.is_empty() {
            continue;
        }
        let keys: Vec<Signature> = set.iter().map(|t| signature(t)).collect();
        let exclude = PetitionId::new();
        let probe = |signature| Probe {
            signature,
            petitioners: &[],
            exclude,
        };
        // Warm-up: the first queries pull the log's and tables' upper index levels into cache.
        for k in keys.iter().take(200) {
            index
                .candidates(store.as_ref(), org, &probe(k), SIMILAR, 64)
                .await?;
        }
        let mut lat = Vec::with_capacity(keys.len());
        let mut found = 0usize;
        for k in &keys {
            let t = Instant::now();
            found += index
                .candidates(store.as_ref(), org, &probe(k), SIMILAR, 64)
                .await?
                .len();
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        lat.sort_by(f64::total_cmp);
        // The parts: catching up with the log (nothing new), the probes in memory, and the
        // database reading the candidates.
        let (mut log, mut memory, mut db) = (Vec::new(), Vec::new(), Vec::new());
        let mut sharing = 0usize;
        for k in &keys {
            let t = Instant::now();
            index.catch_up(store.as_ref()).await?;
            log.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let among = index.sharing_bands(org, &probe(k), SIMILAR, 64);
            memory.push(t.elapsed().as_secs_f64() * 1e3);
            sharing += among.len();
            let t = Instant::now();
            store.dedup_candidates(org, k, SIMILAR, &among).await?;
            db.push(t.elapsed().as_secs_f64() * 1e3);
        }
        for v in [&mut log, &mut memory, &mut db] {
            v.sort_by(f64::total_cmp);
        }
        println!(
            "{}",
            json!({
                "measure": "candidates", "backend": backend, "stored": if reuse { a.stored } else { rows.len() }, "queries": name,
                "n": lat.len(), "min_similarity": SIMILAR, "mean_similar_found": found as f64 / lat.len() as f64,
                "p50_ms": percentile(&lat, 0.5), "p99_ms": percentile(&lat, 0.99), "max_ms": percentile(&lat, 1.0),
                "mean_examined": sharing as f64 / lat.len() as f64,
                "log_p50_ms": percentile(&log, 0.5), "log_p99_ms": percentile(&log, 0.99),
                "memory_p50_ms": percentile(&memory, 0.5), "memory_p99_ms": percentile(&memory, 0.99),
                "database_p50_ms": percentile(&db, 0.5), "database_p99_ms": percentile(&db, 0.99),
            })
        );
    }
    Ok(())
}

const BATCH: usize = 2_000;

async fn load_sqlite(url: &str, org: OrganisationId, rows: &[Row]) -> Result<(), Error> {
    use sqlx::sqlite::SqliteConnectOptions;
    use std::str::FromStr;
    let opts = SqliteConnectOptions::from_str(url)?
        .pragma("synchronous", "off")
        .pragma("cache_size", "-262144");
    let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
    let org = org.to_string();
    let now = "2025-06-01T01:00:00.000000Z";
    let mut tx = c.begin().await?;
    for chunk in (0..100_000).collect::<Vec<usize>>().chunks(BATCH) {
        let mut q = QueryBuilder::new("insert into petitioners (organisation_id, id, created_at) ");
        q.push_values(chunk, |mut b, p| {
            b.push_bind(&org)
                .push_bind(petitioner_id(*p).to_string())
                .push_bind(now);
        });
        q.build().execute(&mut *tx).await?;
    }
    for (n, chunk) in rows.chunks(BATCH).enumerate() {
        let mut q = QueryBuilder::new(
            "insert into matters (organisation_id, id, tracking_code, secret_mac, channel, title, urgency,
                 people_count, state, registered_at, body, updated_at) ",
        );
        q.push_values(chunk.iter().enumerate(), |mut b, (i, r)| {
            b.push_bind(&org)
                .push_bind(r.id.to_string())
                .push_bind(format!("B{:09}", n * BATCH + i))
                .push_bind(&[0u8; 32][..])
                .push_bind("hotline12345")
                .push_bind("基准测试事项")
                .push_bind("normal")
                .push_bind(1)
                .push_bind("registered")
                .push_bind(now)
                .push_bind("{}")
                .push_bind(now);
        });
        q.build().execute(&mut *tx).await?;
        let mut q = QueryBuilder::new(
            "insert into matter_signatures (organisation_id, matter_id, version, signature, created_at, seq) ",
        );
        q.push_values(chunk.iter().enumerate(), |mut b, (i, r)| {
            b.push_bind(&org)
                .push_bind(r.id.to_string())
                .push_bind(i64::from(xinfang_nlp::dedup::SIGNATURE_VERSION))
                .push_bind(&r.signature)
                .push_bind(now)
                .push_bind((n * BATCH + i + 1) as i64);
        });
        q.build().execute(&mut *tx).await?;
        let mut q = QueryBuilder::new(
            "insert into matter_petitioners (organisation_id, matter_id, petitioner_id, position) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(&org)
                .push_bind(r.id.to_string())
                .push_bind(petitioner_id(r.petitioner).to_string())
                .push_bind(0);
        });
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    sqlx::query("analyze").execute(&mut c).await?;
    c.close().await?;
    Ok(())
}

/// The id of synthetic petitioner `n` (stable across the tables).
fn petitioner_id(n: usize) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n as u128)
}

async fn load_postgres(url: &str, schema: &str, org: OrganisationId, rows: &[Row]) -> Result<(), Error> {
    use sqlx::postgres::PgConnectOptions;
    use std::str::FromStr;
    let opts = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
    let mut c = sqlx::PgConnection::connect_with(&opts).await?;
    let org = org.as_uuid();
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 1, 0, 0).single().ok_or("time")?;
    sqlx::query("set synchronous_commit = off")
        .execute(&mut c)
        .await?;
    let pids: Vec<Uuid> = (0..100_000).map(petitioner_id).collect();
    sqlx::query("insert into petitioners (organisation_id, id, created_at) select $1, p, $3 from unnest($2::uuid[]) p")
        .bind(org)
        .bind(&pids)
        .bind(now)
        .execute(&mut c)
        .await?;
    for (n, chunk) in rows.chunks(BATCH * 5).enumerate() {
        let ids: Vec<Uuid> = chunk.iter().map(|r| r.id).collect();
        let codes: Vec<String> = (0..chunk.len())
            .map(|i| format!("B{:09}", n * BATCH * 5 + i))
            .collect();
        let sigs: Vec<Vec<u8>> = chunk.iter().map(|r| r.signature.clone()).collect();
        let people: Vec<Uuid> = chunk.iter().map(|r| petitioner_id(r.petitioner)).collect();
        let mut tx = c.begin().await?;
        sqlx::query(
            "insert into matters (organisation_id, id, tracking_code, secret_mac, channel, title, urgency,
                 people_count, state, registered_at, body, updated_at)
             select $1, i, c, '\\x00'::bytea, 'hotline12345', '基准测试事项', 'normal', 1, 'registered', $4, '{}'::jsonb, $4
             from unnest($2::uuid[], $3::text[]) as t (i, c)",
        )
        .bind(org)
        .bind(&ids)
        .bind(&codes)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into matter_signatures (organisation_id, matter_id, version, signature, created_at)
             select $1, i, $4, s, $5 from unnest($2::uuid[], $3::bytea[]) as t (i, s)",
        )
        .bind(org)
        .bind(&ids)
        .bind(&sigs)
        .bind(xinfang_nlp::dedup::SIGNATURE_VERSION as i16)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into matter_petitioners (organisation_id, matter_id, petitioner_id, position)
             select $1, i, p, 0 from unnest($2::uuid[], $3::uuid[]) as t (i, p)",
        )
        .bind(org)
        .bind(&ids)
        .bind(&people)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    // As autovacuum would after a load (migration 0007 lowers its threshold for these tables):
    // without it every index entry read also visits the table, which is not the steady state.
    sqlx::query("vacuum (analyze) matter_signatures, matters, matter_petitioners")
        .execute(&mut c)
        .await?;
    c.close().await?;
    Ok(())
}
