//! `xinfang-bench`: measures a real `xinfang serve` process over HTTP.
//!
//! 1. builds a demo database (`xinfang demo --no-serve`, in bulk from 20,000 matters on) as the
//!    starting point, on SQLite (`bench-out/bench.db`) or on the PostgreSQL database of
//!    `--database-url`; `--reuse` starts from the database of an earlier run instead;
//! 2. starts `xinfang serve` on it as a child process;
//! 3. runs filtered lists and full-text searches over it and reports p50/p99 per query kind,
//!    plus one matter's timeline and the matter itself;
//! 4. creates `--creates` matters through `POST /api/v1/matters` with realistic Chinese texts
//!    (the demo generator's), `--concurrency` requests in flight, and reports throughput and
//!    latency percentiles;
//! 5. reports the server's peak resident memory (VmHWM) from /proc and the database's size on
//!    disk (the SQLite files; `pg_database_size` on PostgreSQL), and the CPU time per create of
//!    the whole machine, of the server and of this client;
//! 6. on PostgreSQL, waits for a vacuum in progress to end before the timed queries and names
//!    the tables vacuumed while each phase ran (`vacuumed_during`): a phase that overlaps the
//!    vacuum of a million-row table is slower across the board.
//!
//! The client shares the machine with the server, so figures are conservative. Run with
//! `cargo run --release -p xinfang-bench -- --help`; it needs a release build of `xinfang`
//! (`cargo build --release -p xinfang`).

use anyhow::{Context, bail};
use clap::Parser;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "HTTP benchmark of xinfang (creates, lists, search)")]
struct Args {
    /// The xinfang binary to measure.
    #[arg(long, default_value = "target/release/xinfang")]
    xinfang: PathBuf,
    /// Working directory for the benchmark database.
    #[arg(long, default_value = "bench-out")]
    work: PathBuf,
    /// Matters in the starting demo database.
    #[arg(long, default_value_t = 3000)]
    demo_matters: usize,
    /// Matters to create over HTTP.
    #[arg(long, default_value_t = 100_000)]
    creates: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Requests per list/search query kind.
    #[arg(long, default_value_t = 400)]
    queries: usize,
    #[arg(long, default_value_t = 18_765)]
    port: u16,
    /// Reuse the database of an earlier run instead of building a fresh demo.
    #[arg(long)]
    reuse: bool,
    /// Benchmark PostgreSQL: an empty database to fill (postgres://USER@HOST/DB), or with
    /// --reuse one filled by an earlier run. Default: SQLite in --work.
    #[arg(long)]
    database_url: Option<String>,
    /// Requests in flight for the list and search queries.
    #[arg(long, default_value_t = 4)]
    query_concurrency: usize,
    /// Create matters with the texts of real messages from CSV files with `title` and `detail`
    /// columns (e.g. ../shared/data/tipdm_c_*.csv), each message sent by a caller of its own,
    /// instead of the demo generator's. The generator's texts come from templates, so each new
    /// matter is as similar as a near-copy to several earlier ones and links to them (about a
    /// dozen links a matter after 20,000 creates); real messages link far less.
    #[arg(long)]
    texts: Vec<PathBuf>,
}

/// Title and text of every message in `files` (`title` and `detail` columns; a row without a
/// title takes the text's first 30 characters). Rows without a text are skipped.
fn real_texts(files: &[PathBuf]) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for f in files {
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(f)
            .with_context(|| format!("reading {}", f.display()))?;
        let headers = csv.headers()?.clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == name)
        };
        let detail = col("detail").with_context(|| format!("{} has no detail column", f.display()))?;
        let title = col("title");
        for row in csv.records() {
            let row = row?;
            let text: String = row
                .get(detail)
                .unwrap_or("")
                .trim()
                .chars()
                .take(20_000)
                .collect();
            if text.is_empty() {
                continue;
            }
            let title = title
                .and_then(|t| row.get(t))
                .map(|t| t.trim().replace(['\n', '\r'], " "))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| {
                    text.chars()
                        .take(30)
                        .collect::<String>()
                        .replace(['\n', '\r'], " ")
                });
            out.push((title.chars().take(200).collect(), text));
        }
    }
    if out.is_empty() {
        bail!("no texts in {files:?}");
    }
    Ok(out)
}

const TOKEN: &str = "demo-clerk-token";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() - 1) as f64 * p / 100.0).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

/// Peak and current resident set size of a process, in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The machine's busy CPU time so far, in ms summed over all cores (/proc/stat: every state
/// but idle and iowait). Over the create phase it is what the server, the database and this
/// client spent together: steadier than the throughput on a shared machine.
fn machine_busy_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let busy: f64 = ticks
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    busy * 1000.0 / TICKS_PER_SECOND
}

/// A process's user + system CPU time so far, in ms (/proc/PID/stat).
fn process_cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) closed by ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<f64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the state letter.
    let ticks = fields.get(10).copied().unwrap_or(f64::NAN) + fields.get(11).copied().unwrap_or(f64::NAN);
    ticks * 1000.0 / TICKS_PER_SECOND
}

/// USER_HZ, the unit of /proc's CPU times: 100 on every Linux (fixed in the kernel's ABI).
const TICKS_PER_SECOND: f64 = 100.0;

struct Stats {
    name: String,
    n: usize,
    seconds: f64,
    /// When the phase ran, to match the vacuums seen during it ([`Vacuums`]).
    window: (Instant, Instant),
    lat_ms: Vec<f64>,
    errors: usize,
}

impl Stats {
    fn json(&self) -> serde_json::Value {
        let mut l = self.lat_ms.clone();
        l.sort_by(f64::total_cmp);
        serde_json::json!({
            "name": self.name,
            "n": self.n,
            "errors": self.errors,
            "throughput_per_s": (self.n as f64 / self.seconds * 10.0).round() / 10.0,
            "p50_ms": (percentile(&l, 50.0) * 100.0).round() / 100.0,
            "p90_ms": (percentile(&l, 90.0) * 100.0).round() / 100.0,
            "p99_ms": (percentile(&l, 99.0) * 100.0).round() / 100.0,
            "max_ms": (l.last().copied().unwrap_or(f64::NAN) * 100.0).round() / 100.0,
        })
    }
}

/// The (auto)vacuums PostgreSQL ran in the benchmark's database, sampled every 250 ms.
///
/// A vacuum of a million-row table (autovacuum's, after 0.5 % new rows on the tables the
/// migrations tune, or after a migration's rewrite) takes seconds of both cores and of the
/// page cache: a phase it overlaps is slower across the board. Each phase reports the tables
/// vacuumed while it ran, so a figure can be read for what it is, and the timed queries wait
/// for a vacuum in progress to end before they begin.
struct Vacuums {
    /// The sampler's connection, which [`Vacuums::wait_quiet`] asks too.
    pool: sqlx::PgPool,
    seen: Arc<std::sync::Mutex<Vec<(Instant, String)>>>,
}

/// Tables being vacuumed in the current database now.
const VACUUMING: &str = "select c.relname::text from pg_stat_progress_vacuum p
     join pg_class c on c.oid = p.relid where p.datname = current_database()";

impl Vacuums {
    /// Starts sampling on a connection of its own (until the process ends).
    async fn watch(url: &str) -> anyhow::Result<Vacuums> {
        let v = Vacuums {
            pool: sqlx::PgPool::connect(url).await?,
            seen: Arc::default(),
        };
        let (pool, seen) = (v.pool.clone(), v.seen.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tick.tick().await;
                let Ok(names) = sqlx::query_scalar::<_, String>(VACUUMING).fetch_all(&pool).await else {
                    continue;
                };
                let now = Instant::now();
                if let Ok(mut seen) = seen.lock() {
                    seen.extend(names.into_iter().map(|n| (now, n)));
                }
            }
        });
        Ok(v)
    }

    /// The tables seen being vacuumed within `window`, each once.
    fn during(&self, window: (Instant, Instant)) -> Vec<String> {
        let Ok(seen) = self.seen.lock() else {
            return Vec::new();
        };
        let mut names: Vec<String> = seen
            .iter()
            .filter(|(t, _)| *t >= window.0 && *t <= window.1)
            .map(|(_, n)| n.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Waits (at most `limit`) until no vacuum runs in the database; the seconds waited.
    async fn wait_quiet(&self, limit: Duration) -> anyhow::Result<f64> {
        let started = Instant::now();
        while started.elapsed() < limit {
            let running = sqlx::query_scalar::<_, String>(VACUUMING)
                .fetch_all(&self.pool)
                .await?;
            if running.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(started.elapsed().as_secs_f64())
    }
}

/// Sends `n` requests built by `make(i)`, `concurrency` at a time, expecting `expect` status.
async fn run<F>(
    name: &str,
    client: &reqwest::Client,
    n: usize,
    concurrency: usize,
    expect: u16,
    make: F,
) -> Stats
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, make, next) = (client.clone(), make.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                match make(&client, i).send().await {
                    Ok(r) if r.status().as_u16() == expect => {
                        let _ = r.bytes().await;
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!(
                                "unexpected {}: {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("request failed: {e}");
                        }
                    }
                }
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            (lat, errors)
        }));
    }
    let mut lat_ms = Vec::with_capacity(n);
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            lat_ms.extend(l);
            errors += e;
        }
    }
    let s = Stats {
        name: name.to_string(),
        n,
        seconds: started.elapsed().as_secs_f64(),
        window: (started, Instant::now()),
        lat_ms,
        errors,
    };
    eprintln!("{}", s.json());
    s
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.work)?;
    let db = args.work.join("bench.db");
    let key_file = args.work.join("pg.key");
    let url = match &args.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}", db.display()),
    };
    let pg = args.database_url.is_some();
    if !args.reuse {
        let mut demo = Command::new(&args.xinfang);
        demo.args(["demo", "--no-serve", "--matters", &args.demo_matters.to_string()]);
        if pg {
            if key_file.exists() {
                std::fs::remove_file(&key_file)?;
            }
            demo.args(["--database-url", &url])
                .arg("--key-file")
                .arg(&key_file);
        } else {
            demo.arg("--out").arg(&db);
        }
        let started = Instant::now();
        let status = demo
            .env("XINFANG_LOG", "warn")
            .status()
            .with_context(|| format!("running {} demo", args.xinfang.display()))?;
        if !status.success() {
            bail!("demo build failed");
        }
        eprintln!("demo database built in {:.1}s", started.elapsed().as_secs_f64());
    }
    let base = format!("http://127.0.0.1:{}", args.port);
    let mut serve = Command::new(&args.xinfang);
    serve.args([
        "serve",
        "--bind",
        &format!("127.0.0.1:{}", args.port),
        "--database-url",
        &url,
    ]);
    if pg {
        serve.arg("--key-file").arg(&key_file);
    }
    let child = serve
        .env("XINFANG_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("starting xinfang serve")?;
    let pid = child.id();
    let _server = Server(child);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()?;
    // Ready, not only alive: a node serves from its start, but its first registrations wait
    // for its duplicate index (every stored signature, seconds at a million matters). The
    // timed phases measure a ready node, as a load balancer routing by /readyz would use it;
    // the start is reported on its own.
    let started = Instant::now();
    loop {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("server not ready after 300 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready_seconds = started.elapsed().as_secs_f64();
    eprintln!("server ready in {ready_seconds:.1}s");

    // Realistic texts: the demo generator with another seed, so they differ from the database's
    // (or real messages, --texts).
    let bodies: Arc<Vec<String>> = Arc::new(if args.texts.is_empty() {
        let texts = xinfang_demo::generate(&xinfang_demo::DemoConfig {
            matters: 5000,
            seed: 7,
            end: chrono::Utc::now().date_naive(),
            months: 12,
        });
        texts
            .iter()
            .enumerate()
            .map(|(i, m)| {
                serde_json::json!({
                    "channel": m.channel.code(),
                    "title": m.title,
                    "content": m.content,
                    "location": m.location,
                    "petition_type": m.petition_type.code(),
                    "petitioner": {"name": m.petitioners.first().map_or("匿名", |p| p.name.as_str()),
                                   "phone": format!("13{:09}", (i * 7919) % 1_000_000_000)},
                })
                .to_string()
            })
            .collect()
    } else {
        real_texts(&args.texts)?
            .iter()
            .enumerate()
            .map(|(i, (title, text))| {
                serde_json::json!({
                    "channel": "website",
                    "title": title,
                    "content": text,
                    "petitioner": {"name": "网友", "phone": format!("15{:09}", (i * 7919) % 1_000_000_000)},
                })
                .to_string()
            })
            .collect()
    });
    let mut results = Vec::new();
    // PostgreSQL only: SQLite has no background vacuum.
    let (vacuums, waited_for_vacuum) = if pg {
        let vacuums = Vacuums::watch(&url).await?;
        let waited = vacuums.wait_quiet(Duration::from_secs(300)).await?;
        if waited > 0.5 {
            eprintln!("waited {waited:.1}s for a vacuum in progress to end");
        }
        (Some(vacuums), waited)
    } else {
        (None, 0.0)
    };

    let ids_of = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|u| u["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let get_json = async |path: &str| -> anyhow::Result<serde_json::Value> {
        Ok(client
            .get(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await?
            .json()
            .await?)
    };
    let unit_ids = ids_of(&get_json("/api/v1/units").await?);
    let category_ids = ids_of(&get_json("/api/v1/categories").await?);
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Duration::days(90)).to_string();
    let lists: Vec<(&str, String)> = vec![
        ("list_newest", "/api/v1/matters".into()),
        ("list_state", "/api/v1/matters?state=in_progress,assigned".into()),
        (
            "list_unit",
            format!(
                "/api/v1/matters?unit_id={}",
                unit_ids.get(10).cloned().unwrap_or_default()
            ),
        ),
        (
            "list_category",
            format!(
                "/api/v1/matters?category_id={}",
                category_ids
                    .get(category_ids.len() / 2)
                    .cloned()
                    .unwrap_or_default()
            ),
        ),
        (
            "list_channel_type",
            "/api/v1/matters?channel=hotline12345&petition_type=appeal".into(),
        ),
        ("list_overdue", "/api/v1/matters?deadline_status=overdue".into()),
        ("list_due_soon", "/api/v1/matters?deadline_status=due_soon".into()),
        (
            "list_date_range_page3",
            format!("/api/v1/matters?from={from}&to={today}&page=3"),
        ),
    ];
    let qc = args.query_concurrency;
    for (name, path) in lists {
        let u = format!("{base}{path}");
        results.push(
            run(name, &client, args.queries, qc, 200, move |c, _| {
                c.get(&u).bearer_auth(TOKEN)
            })
            .await,
        );
    }
    let words = [
        "停车",
        "出租车",
        "行李",
        "安检",
        "噪音",
        "租金",
        "航班延误",
        "大巴",
        "投诉",
        "退款",
        "保洁",
        "网约车",
        "拆迁",
        "欠薪",
        "服务态度",
        "收费",
    ];
    let u = base.clone();
    results.push(
        run("search", &client, args.queries, qc, 200, move |c, i| {
            c.get(format!("{u}/api/v1/matters"))
                .query(&[("q", words[i % words.len()])])
                .bearer_auth(TOKEN)
        })
        .await,
    );
    let u = base.clone();
    results.push(
        run("search_ranked", &client, args.queries, qc, 200, move |c, i| {
            c.get(format!("{u}/api/v1/matters"))
                .query(&[("q", words[i % words.len()]), ("sort", "relevance")])
                .bearer_auth(TOKEN)
        })
        .await,
    );
    let u = base.clone();
    results.push(
        run("search_state", &client, args.queries, qc, 200, move |c, i| {
            c.get(format!("{u}/api/v1/matters"))
                .query(&[("q", words[i % words.len()]), ("state", "in_progress")])
                .bearer_auth(TOKEN)
        })
        .await,
    );
    // Timelines and single matters of many archived matters (a long history each).
    let mut sample = Vec::new();
    for page in 1..=5 {
        sample.extend(ids_of(
            &get_json(&format!(
                "/api/v1/matters?state=archived&per_page=100&page={}",
                page * 37
            ))
            .await?["items"],
        ));
    }
    if !sample.is_empty() {
        let sample = Arc::new(sample);
        let (u, ids) = (base.clone(), sample.clone());
        results.push(
            run("timeline", &client, args.queries, qc, 200, move |c, i| {
                c.get(format!("{u}/api/v1/matters/{}/timeline", ids[i % ids.len()]))
                    .bearer_auth(TOKEN)
            })
            .await,
        );
        let (u, ids) = (base.clone(), sample.clone());
        results.push(
            run("get_one", &client, args.queries, qc, 200, move |c, i| {
                c.get(format!("{u}/api/v1/matters/{}", ids[i % ids.len()]))
                    .bearer_auth(TOKEN)
            })
            .await,
        );
    }
    let (hwm_after_queries, _) = rss_mib(pid);
    let db_size_before = db_size(pg, &url, &db).await?;

    let (b, u) = (bodies.clone(), base.clone());
    let cpu_before = (
        machine_busy_ms(),
        process_cpu_ms(pid),
        process_cpu_ms(std::process::id()),
    );
    results.push(
        run(
            "create",
            &client,
            args.creates,
            args.concurrency,
            201,
            move |c, i| {
                c.post(format!("{u}/api/v1/matters"))
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/json")
                    .body(b[i % b.len()].clone())
            },
        )
        .await,
    );
    let cpu_after = (
        machine_busy_ms(),
        process_cpu_ms(pid),
        process_cpu_ms(std::process::id()),
    );
    let per_create =
        |before: f64, after: f64| ((after - before) / args.creates.max(1) as f64 * 1000.0).round() / 1000.0;
    let (hwm_after_create, _) = rss_mib(pid);
    let matters = matter_count(pg, &url).await?;
    let (hwm, rss) = rss_mib(pid);
    let db_mib = db_size(pg, &url, &db).await?;
    let summary = serde_json::json!({
        "backend": if pg { "postgres" } else { "sqlite" },
        "server_ready_s": (ready_seconds * 10.0).round() / 10.0,
        "database_before_creates_mib": (db_size_before * 10.0).round() / 10.0,
        "server_peak_rss_after_queries_mib": (hwm_after_queries * 10.0).round() / 10.0,
        "matters_in_database": matters,
        "server_peak_rss_mib": (hwm * 10.0).round() / 10.0,
        "server_peak_rss_after_creates_mib": (hwm_after_create * 10.0).round() / 10.0,
        "server_rss_now_mib": (rss * 10.0).round() / 10.0,
        "database_mib": (db_mib * 10.0).round() / 10.0,
        "waited_for_vacuum_s": (waited_for_vacuum * 10.0).round() / 10.0,
        "results": results
            .iter()
            .map(|r| {
                let mut j = r.json();
                let during = vacuums.as_ref().map(|v| v.during(r.window)).unwrap_or_default();
                if !during.is_empty() {
                    j["vacuumed_during"] = serde_json::json!(during);
                }
                j
            })
            .collect::<Vec<_>>(),
        "create_cpu_ms_per_create": {
            "machine": per_create(cpu_before.0, cpu_after.0),
            "server": per_create(cpu_before.1, cpu_after.1),
            // This load generator's own share (HTTP client, JSON bodies): part of the
            // machine's figure that a real office's creates would not cost the servers.
            "client": per_create(cpu_before.2, cpu_after.2),
        },
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// How many matters the database holds (the API's totals stop counting at 1,000).
async fn matter_count(pg: bool, url: &str) -> anyhow::Result<i64> {
    let sql = "select count(*) from matters";
    let n = if pg {
        let pool = sqlx::PgPool::connect(url).await?;
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await?;
        pool.close().await;
        n
    } else {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await?;
        pool.close().await;
        n
    };
    Ok(n)
}

/// The database's size on disk in MiB: the SQLite file with its WAL, or the PostgreSQL
/// database (`pg_database_size`, tables, indexes and TOAST).
async fn db_size(pg: bool, url: &str, db: &std::path::Path) -> anyhow::Result<f64> {
    if pg {
        let pool = sqlx::PgPool::connect(url).await?;
        let bytes: i64 = sqlx::query_scalar("select pg_database_size(current_database())")
            .fetch_one(&pool)
            .await?;
        pool.close().await;
        return Ok(bytes as f64 / 1048576.0);
    }
    Ok(["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
        .map(|m| m.len() as f64 / 1048576.0)
        .sum::<f64>())
}
