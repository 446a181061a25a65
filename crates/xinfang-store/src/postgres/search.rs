//! Full-text search on PostgreSQL: the console's search box (words, optionally states), newest
//! first or ranked, at a million matters.
//!
//! Every matter has one row in `matter_search`: its jieba tokens as a tsvector ('simple'
//! configuration, GIN index), its seq, and three kinds of facet lexeme the triggers of
//! migrations 0007, 0010 and 0012 keep in the vector — `st_<state>` (the matter's state,
//! rewritten by a transition), `sq_<era>` (its seq's era, `seq >> ERA_BITS`, fixed) and
//! `sb_<block>` (its seq's block of eight eras, `seq >> BLOCK_BITS`, fixed; a registration
//! batch writes the seq and these facets itself, [`facets`], and the insert trigger then
//! leaves its rows alone: migration 0013). The parser of `to_tsvector` splits words at '_',
//! and [`super::vectors`] takes only letters and digits, so no word of a letter can be taken
//! for a facet.
//!
//! A search is counted first, up to [`COUNT_CAP`] (the GIN index's bitmap of the matches,
//! each visited until the cap; a count of words alone that reaches the cap is remembered,
//! [`CommonSearches`]). Fewer matches than the cap are all taken from that bitmap and sorted.
//! More have to yield their *newest* ones (a page newest first, the thousand a ranking ranks),
//! and neither plan PostgreSQL has for that on its own holds up at a million matters:
//!
//! * walking `matter_search_seq_idx` newest first and testing each row's vector reads every
//!   row above the matches it needs — cheap for a word in one letter of ten, 0.2–1 s for a
//!   word in one of five hundred, or for any word once the newest thousands of letters happen
//!   not to use it (measured: 140–170 ms at p99 after 30,000 registrations in another
//!   vocabulary, 896 ms for a ranked search);
//! * the GIN index's bitmap of every match, sorted, builds and visits every match — 18 ms
//!   for the bitmap alone of a word in 15 % of a million matters, and 4 µs per match visited.
//!
//! So [`Words::newest_of_many`] reads the newest [`WALK`] rows one by one (all a common word
//! needs for a page), then asks the GIN index for the words *and* each group of eras or
//! blocks below them, newest first, until it has enough ([`Groups`]): the index intersects
//! the words with the facet lexemes, so a search visits about the matches it returns,
//! however its words are spread over time. Each ask costs ≈ 0.4 ms besides its matches and
//! the entries the index walks (a common word's eras; a rarer word's own entries, which is
//! why rarer words ask by blocks), plus a read of the index's pending list (≈ 1.2–1.6 ms when
//! half full at a million matters); the groups grow, so even a word whose newest thousand
//! matches lie across the whole table takes a handful of asks.
//!
//! The pending list holds the vectors written since it was last merged into the index
//! proper, which PostgreSQL does only when it reaches 4 MB or a vacuum comes by; every node
//! merges it every second instead ([`tidy_index`], the server's index upkeep), so searches
//! read at most a second's registrations there.

use super::matters::{SUMMARY_COLUMNS, count_filtered, push_filters, push_scope, summary};
use crate::Result;
use crate::model::*;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use uuid::Uuid;
use xinfang_core::ids::OrganisationId;
use xinfang_core::matter::State;
use xinfang_core::org::MatterScope;

/// A seq's era is `seq >> ERA_BITS`: 4,096 consecutive seqs (of every organisation) share
/// one `sq_<era>` lexeme, the unit in which a search asks for older matches of common words
/// ([`Groups`]). Must match migrations/postgres/0010_search_eras.sql.
pub(super) const ERA_BITS: u32 = 12;

/// A seq's block is `seq >> BLOCK_BITS`: 8 eras, 32,768 seqs, one `sb_<block>` lexeme, the
/// unit in which a search asks for older matches of rarer words. Must match
/// migrations/postgres/0012_search_blocks.sql.
pub(super) const BLOCK_BITS: u32 = 15;

/// The facet lexemes' kinds: an era's is `sq_<era>`, a block's `sb_<block>`. Registrations
/// write them ([`facets`]) and searches ask for them ([`Groups`]); the triggers of
/// migrations 0010 and 0012 write the same.
const ERA_FACET: &str = "sq";
const BLOCK_FACET: &str = "sb";

/// A block's number is its eras' numbers shifted right by this much.
const BLOCK_OF_ERA: u32 = BLOCK_BITS - ERA_BITS;

/// Eras in a block.
const ERAS_PER_BLOCK: i64 = 1 << BLOCK_OF_ERA;

/// The newest rows of an organisation's search table read one by one before the GIN index is
/// asked: a word in one letter of ten finds a page of 20 and more in them (0.5–1 ms).
const WALK: i64 = 2_048;

/// The most lexemes of one kind (eras or blocks) in one ask. The GIN index evaluates the
/// tsquery on every entry it walks, so an ask's cost grows with its lexemes times the matters
/// they hold: 2 eras 0.95 ms, 16 eras 8.3 ms, 64 eras 136 ms for one word at a million
/// matters (migration 0012).
const MAX_GROUP: i64 = 4;

/// How many more matches than a search needs a block must be expected to hold, by the
/// statistics, before the search goes by eras to the end of the table ([`Groups`]): a match
/// visited and dropped costs ~3 µs (7,193 visited for 999 kept took 15–30 ms), and an ask of
/// four eras that holds none ~1 ms, so a word rare in the history and common only in one
/// season of it, asked era by era on its way there, must be saving more than that.
const ERAS_TO_THE_END: i64 = 1_024;

/// The asks of the GIN index below the walk, newest first: each a tsquery of eras or blocks
/// (`'sq_7' | 'sq_6'`, `'sb_3'`) that the statement of [`Words::newest_of_many`] ANDs with the
/// words, until it has the matches it needs.
///
/// Which unit depends on how common the words are. The walk measured it near the top: it
/// found `found` matches in [`WALK`] rows spread over `span` seqs, so a block below holds
/// about `found × 32,768 / span` of them (`found × 16` in a database of one organisation).
/// PostgreSQL's statistics of the table say it of the whole table ([`LexemeShares`]: at most
/// that share). The greater of the two counts.
///
/// * When a block would hold no more than the search still needs, it asks by **blocks**
///   (1, 1, 2, 2, 4, 4, … of them): a block holds more matters than such words have in the
///   whole table, so the GIN index walks the words' entries, not the block's (1.3 ms for a
///   word in one letter of 120 over two blocks, where 16 eras cost 8.3 ms), and a search of a
///   word spread thin over a million matters takes a handful of asks.
/// * Otherwise by **eras** (2, 2, 4, 4, … of them), down to a block's boundary at least 8
///   eras below: a common word finds what it needs in one or two small asks, and visits
///   about the matches it returns (a block would hold thousands of its matches, each visited
///   at 4 µs to keep twenty). Below those eras, blocks: a word common among the newest
///   letters but rare in older ones (the vocabulary of one season) would otherwise take an
///   ask per 16,384 matters. When the statistics say a block holds [`ERAS_TO_THE_END`] more
///   than the search needs over the whole table (a search of words alone), eras to the end
///   instead: a word rare among the newest letters but common in older ones (measured: 行李
///   in 15 % of a generated history below 60,000 real letters that seldom name it) found its
///   thousand matches in the last of three block asks, which held 7,193 of them, 4,576 heap
///   pages visited for 15–30 ms, where an era holds ~600; at worst, a word common only long
///   ago takes an ask per four eras on its way there.
///
/// Eras and blocks never overlap: the era phase ends on a block's boundary, and the block
/// holding `upper`, when asked, is filtered by the statement's `seq < low` like every ask.
struct Groups;

impl Groups {
    /// The asks below era `upper` (the era of the row just below the walk), for a search that
    /// needs `need` matches and found `found` of them in the walk, whose rows spread over
    /// `span` seqs (more than it read when other organisations share the database). `share` is
    /// what the statistics say of the search's lexemes ([`LexemeShares`]: at most that share
    /// of the rows holds them), if they say anything; `history` whether that share holds for
    /// the older rows too (a search of words alone), or only stands in for a walk that found
    /// nothing (a search with states: matters in progress are mostly the newest, so a share
    /// of the whole table overstates the history's).
    fn plan(
        upper: i64,
        found: usize,
        span: i64,
        share: Option<f64>,
        history: bool,
        need: usize,
    ) -> Vec<String> {
        let walked = (found as i64).saturating_mul(1 << BLOCK_BITS) / span.max(1);
        let listed = share.map_or(0, |share| (share * f64::from(1u32 << BLOCK_BITS)) as i64);
        let per_block = match (history, found) {
            (true, _) => walked.max(listed),
            (false, 0) => listed,
            (false, _) => walked,
        };
        let still = need.saturating_sub(found) as i64;
        let mut asks = Vec::new();
        let mut next_block = upper >> BLOCK_OF_ERA;
        if per_block > still {
            // Common over the whole table: eras to the end, whatever the walk found near the
            // top. Otherwise eras only below the walk, where its count holds.
            let floor = if history && listed > still + ERAS_TO_THE_END {
                0
            } else {
                ((upper - ERAS_PER_BLOCK + 1).max(0) >> BLOCK_OF_ERA) << BLOCK_OF_ERA
            };
            let mut next = upper;
            for size in Self::sizes().skip(2) {
                if next < floor {
                    break;
                }
                let from = (next - size + 1).max(floor);
                asks.push(Self::query(ERA_FACET, from, next));
                next = from - 1;
            }
            next_block = (floor >> BLOCK_OF_ERA) - 1;
        }
        let mut next = next_block;
        for size in Self::sizes() {
            if next < 0 {
                break;
            }
            let from = (next - size + 1).max(0);
            asks.push(Self::query(BLOCK_FACET, from, next));
            next = from - 1;
        }
        asks
    }

    /// 1, 1, 2, 2, 4, 4, … up to [`MAX_GROUP`], then [`MAX_GROUP`] for ever (eras skip the
    /// first two: 2, 2, 4, 4, …).
    fn sizes() -> impl Iterator<Item = i64> {
        (0u32..).map(|i| (1i64 << (i / 2).min(62)).min(MAX_GROUP))
    }

    /// The tsquery of the lexemes `<kind>_<from>` … `<kind>_<to>`, newest first.
    fn query(kind: &str, from: i64, to: i64) -> String {
        (from..=to)
            .rev()
            .map(|e| format!("'{kind}_{e}'"))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// Merges the GIN index's pending list into the index proper (`gin_clean_pending_list`, which
/// needs the index's owner: the role that ran the migrations) and returns the pages merged.
/// A merge already under way elsewhere is waited for; an empty list costs a metapage read.
pub(super) async fn tidy_index(s: &super::PgStore) -> Result<u64> {
    let pages: i64 = sqlx::query_scalar("select gin_clean_pending_list('matter_search_gin'::regclass)")
        .fetch_one(&s.pool)
        .await?;
    Ok(u64::try_from(pages).unwrap_or(0))
}

/// The tsquery text of a search (every token must match), or None when it has no token.
pub(super) fn search_expr(text: &str) -> Option<String> {
    let tokens = xinfang_nlp::query_tokens(text);
    if tokens.is_empty() {
        return None;
    }
    // query_tokens leaves only alphanumerics, so quoting each as a tsquery lexeme cannot break
    // out of it.
    Some(
        tokens
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(" & "),
    )
}

/// The lexeme every search vector holds for its matter's state (`st_<state>`, written by the
/// trigger of migration 0007).
fn state_facet(state: &State) -> String {
    format!("st_{}", state.code())
}

/// The facet lexemes of a new matter's search vector: its state, era and block (what the
/// insert trigger of migrations 0007, 0010 and 0012 adds to a vector inserted without its
/// seq; a registration that writes the seq writes these with it, [`super::vectors`]).
pub(super) fn facets(state: &State, seq: i64) -> Vec<String> {
    vec![
        state_facet(state),
        format!("{ERA_FACET}_{}", seq >> ERA_BITS),
        format!("{BLOCK_FACET}_{}", seq >> BLOCK_BITS),
    ]
}

/// Pushes the tsquery of `expr` and, when `states` is not empty, of their facet lexemes
/// (`st_<state>`): the GIN index then intersects the words with the states, instead of each
/// match being probed against matters. The facets are cast, not parsed: the parser would
/// split them at '_'.
pub(super) fn push_tsquery(q: &mut QueryBuilder<Postgres>, expr: String, states: &[State]) {
    q.push("(to_tsquery('simple', ").push_bind(expr).push(")");
    if !states.is_empty() {
        let facets = states
            .iter()
            .map(|s| format!("'{}'", state_facet(s)))
            .collect::<Vec<_>>()
            .join(" | ");
        q.push(" && ").push_bind(facets).push("::tsquery");
    }
    q.push(")");
}

/// A search whose only filter besides the words is the state, by a viewer who sees the whole
/// organisation (the console's search box): answered from matter_search alone, which reads
/// only the page's matters rows.
pub(super) fn plain_search(scope: &MatterScope, f: &MatterFilter) -> bool {
    scope.all && f.q.is_some() && f.words_and_states_only()
}

/// What this node has learnt of how common searches and words are.
///
/// `known`: the searches (an organisation and its words, without a state) seen to match at
/// least [`COUNT_CAP`] matters. For words alone the count can only stay "1,000+" once it is:
/// a matter's title and content never change and matters are never deleted, so a search's
/// matches only grow. Knowing it, a page newest first needs only its own matches, not the
/// newest thousand. A state is not remembered (matters leave states), nor are other filters.
/// The set is bounded ([`CommonSearches::MAX`]); a node that has learnt that many counts the
/// others each time.
///
/// `shares`: the share of the search table's rows that hold each of its most common lexemes,
/// from PostgreSQL's statistics ([`LexemeShares`]).
#[derive(Default)]
pub(super) struct CommonSearches {
    known: std::sync::RwLock<std::collections::HashSet<(OrganisationId, String)>>,
    shares: LexemeShares,
}

impl CommonSearches {
    const MAX: usize = 10_000;

    fn knows(&self, org: OrganisationId, expr: &str) -> bool {
        self.known
            .read()
            .is_ok_and(|set| set.contains(&(org, expr.to_string())))
    }

    fn learn(&self, org: OrganisationId, expr: &str) {
        if let Ok(mut set) = self.known.write()
            && set.len() < Self::MAX
        {
            set.insert((org, expr.to_string()));
        }
    }
}

/// The share of `matter_search` rows holding each of its most common lexemes, as ANALYZE
/// last sampled them (`pg_stats.most_common_elems` of the search column: up to 20,000 at its
/// statistics target of 2000), read by a node at most every [`LexemeShares::TTL`].
///
/// It tells a search how common its words (and states) are in the whole table, which the
/// walk of the newest letters cannot ([`Groups`]): a word the newest letters seldom use may
/// fill the older ones (the vocabulary of a past season), and asked by blocks it would visit
/// thousands of matches to keep a thousand. A search's states count like its words, but
/// speak only for a walk that found nothing: matters in progress are few and most of them
/// new, so a common word in progress is rare in the history, and asking the history for it
/// era by era would cost an ask per four eras that hold almost none.
#[derive(Default)]
struct LexemeShares(std::sync::RwLock<Option<Shares>>);

/// One reading of the statistics; without any (a table never analyzed), no lexeme and a
/// floor of 0.
struct Shares {
    read: std::time::Instant,
    of: std::collections::HashMap<String, f32>,
    /// The smallest share listed: a lexeme not listed is rarer.
    floor: f32,
}

impl LexemeShares {
    const TTL: std::time::Duration = std::time::Duration::from_secs(600);

    /// At most the share of rows holding every one of `words` and, when `states` is not
    /// empty, one of those states (the least of the rarest word's share and the states'
    /// together; 0 while the table has no statistics).
    async fn of_all(&self, conn: &mut PgConnection, words: &[&str], states: &[State]) -> Result<Option<f64>> {
        let fresh = |s: &Shares| s.read.elapsed() < Self::TTL;
        if !self.0.read().is_ok_and(|s| s.as_ref().is_some_and(fresh)) {
            let read = Self::read(conn).await?;
            if let Ok(mut slot) = self.0.write() {
                *slot = Some(read);
            }
        }
        Ok(self.0.read().ok().and_then(|s| {
            let s = s.as_ref()?;
            let share = |lexeme: &str| f64::from(s.of.get(lexeme).copied().unwrap_or(s.floor));
            let words = words.iter().map(|w| share(w)).reduce(f64::min)?;
            if states.is_empty() {
                return Some(words);
            }
            // A state's facet is a lexeme like the words.
            let states: f64 = states.iter().map(|st| share(&state_facet(st))).sum();
            Some(words.min(states))
        }))
    }

    async fn read(conn: &mut PgConnection) -> Result<Shares> {
        let row = sqlx::query(
            "select most_common_elems::text::text[] as elems, most_common_elem_freqs as freqs from pg_stats
              where schemaname = current_schema() and tablename = 'matter_search' and attname = 'search'",
        )
        .fetch_optional(&mut *conn)
        .await?;
        let mut shares = Shares {
            read: std::time::Instant::now(),
            of: Default::default(),
            floor: 0.0,
        };
        let Some(row) = row else {
            return Ok(shares);
        };
        let (Some(elems), Some(freqs)) = (
            row.try_get::<Option<Vec<String>>, _>("elems")?,
            row.try_get::<Option<Vec<f32>>, _>("freqs")?,
        ) else {
            return Ok(shares);
        };
        // The shares of the elements, then the least and the greatest of them and the share of
        // null vectors.
        shares.floor = freqs.get(elems.len()).copied().unwrap_or(0.0);
        shares.of = elems.into_iter().zip(freqs).collect();
        Ok(shares)
    }
}

/// One search of the console's search box, as the statements below ask it.
struct Words<'a> {
    org: OrganisationId,
    /// The tsquery text ([`search_expr`]).
    expr: &'a str,
    states: &'a [State],
    /// Whether each match is ranked as it is found ([`ranked`]): the statement visits its
    /// match's row anyway, so ranking there spares reading the vectors again.
    ranked: bool,
}

/// One match: the matter, its seq, and its `ts_rank` when ranked (0 otherwise).
struct Hit {
    id: Uuid,
    seq: i64,
    rank: f32,
}

impl Words<'_> {
    /// `select matter_id, seq, r` of the matches of a query over `matter_search` (or a
    /// subquery of its columns) named `ms`.
    fn select(&self, q: &mut QueryBuilder<Postgres>) {
        q.push("select ms.matter_id, ms.seq, ");
        if self.ranked {
            q.push("ts_rank(ms.search, to_tsquery('simple', ")
                .push_bind(self.expr.to_string())
                .push("), 1)");
        } else {
            q.push("0::real");
        }
        q.push(" as r");
    }

    /// ` and ms.search @@ <the words and states>`.
    fn matching(&self, q: &mut QueryBuilder<Postgres>) {
        q.push(" and ms.search @@ ");
        push_tsquery(q, self.expr.to_string(), self.states);
    }

    /// How many matters match, up to [`COUNT_CAP`], from matter_search alone (or from what
    /// this node has learnt, see [`CommonSearches`]).
    async fn count(&self, common: &CommonSearches, conn: &mut PgConnection) -> Result<u64> {
        let plain = self.states.is_empty();
        if plain && common.knows(self.org, self.expr) {
            return Ok(COUNT_CAP);
        }
        let mut c = QueryBuilder::<Postgres>::new(
            "select count(*) from (select 1 from matter_search ms where ms.organisation_id = ",
        );
        c.push_bind(self.org.as_uuid());
        self.matching(&mut c);
        c.push(" limit ").push_bind(COUNT_CAP as i64).push(") capped");
        let total = c.build_query_scalar::<i64>().fetch_one(&mut *conn).await? as u64;
        if plain && total >= COUNT_CAP {
            common.learn(self.org, self.expr);
        }
        Ok(total)
    }

    fn hit(r: &PgRow) -> Result<Hit> {
        Ok(Hit {
            id: r.try_get("matter_id")?,
            seq: r.try_get("seq")?,
            rank: r.try_get("r")?,
        })
    }

    /// Every match, newest first: for a search counted below [`COUNT_CAP`], sorted from what
    /// the GIN index finds (walking matter_search_seq_idx for them would read every row
    /// above the oldest match, all of a million for a word that is nowhere).
    async fn all(&self, conn: &mut PgConnection) -> Result<Vec<Hit>> {
        let mut q = QueryBuilder::<Postgres>::new("");
        self.select(&mut q);
        q.push(" from matter_search ms where ms.organisation_id = ")
            .push_bind(self.org.as_uuid());
        self.matching(&mut q);
        q.push(" order by ms.seq + 0 desc");
        q.build()
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(Self::hit)
            .collect()
    }

    /// The newest `need` matches of a search with `total` matches counted (up to the cap).
    async fn newest(
        &self,
        common: &CommonSearches,
        conn: &mut PgConnection,
        total: u64,
        need: usize,
    ) -> Result<Vec<Hit>> {
        if total < COUNT_CAP {
            self.all(conn).await
        } else {
            self.newest_of_many(common, conn, need).await
        }
    }

    /// The newest `need` matches, newest first; fewer when there are fewer (then all of
    /// them). See the module's doc for how they are found.
    ///
    /// The walk and the eras below it are two statements: a matter registered in between lies
    /// above the walk and is not seen (as if the search had run a moment earlier); each older
    /// matter lies in exactly one of their ranges, so none is found twice.
    async fn newest_of_many(
        &self,
        common: &CommonSearches,
        conn: &mut PgConnection,
        need: usize,
    ) -> Result<Vec<Hit>> {
        let org = self.org.as_uuid();
        // The walk, and in the same statement (one snapshot) the lowest and highest seq it may
        // read and how many rows it may read (fewer than WALK: all of the organisation's),
        // from an index-only scan; the walk itself stops at its `need`-th match.
        let mut q = QueryBuilder::<Postgres>::new("(");
        self.select(&mut q);
        q.push(", 0::bigint as walked, 0::bigint as top from (select matter_id, seq, search from matter_search where organisation_id = ")
            .push_bind(org)
            .push(" order by seq desc limit ")
            .push_bind(WALK)
            .push(") ms where true");
        self.matching(&mut q);
        q.push(" order by ms.seq desc limit ")
            .push_bind(need as i64)
            .push(") union all (select null, min(seq), null, count(*), max(seq) from (select seq from matter_search where organisation_id = ")
            .push_bind(org)
            .push(" order by seq desc limit ")
            .push_bind(WALK)
            .push(") s)");
        let mut hits = Vec::with_capacity(need.min(COUNT_CAP as usize));
        let mut walked = None;
        for r in &q.build().fetch_all(&mut *conn).await? {
            if r.try_get::<Option<Uuid>, _>("matter_id")?.is_some() {
                hits.push(Self::hit(r)?);
            } else if r.try_get::<i64, _>("walked")? == WALK {
                walked = r
                    .try_get::<Option<i64>, _>("seq")?
                    .zip(r.try_get::<Option<i64>, _>("top")?);
            }
        }
        // `low`: every seq at or above it has been looked at, `top` the newest of them.
        let Some((low, top)) = walked else {
            return Ok(hits);
        };
        if hits.len() >= need || low <= 0 {
            return Ok(hits);
        }
        // Below the walk, newest first: one statement, a nested loop over the asks of
        // [`Groups`] (each of the GIN index, the words and a group of eras or blocks, its
        // matches sorted), stopped by the limit as soon as it has the rest of `need` — so a
        // search visits the matches it returns and at most one group's more. The loop's order
        // is the array's and the groups are disjoint ranges of seqs, so the rows come newest
        // first.
        //
        // A ranked search ranks only the rows the limit lets through, each read again by its
        // ctid (same statement, same snapshot, so the version found): ranked where they are
        // found, the group's matches beyond the limit (up to one group's more) were ranked
        // too, 2-4 µs each — a third of the statement for a common word (measured 10.5 → 6.5
        // ms). Carrying the vectors through the sort instead cost more than it saved.
        let words: Vec<&str> = self.expr.split(" & ").map(|w| w.trim_matches('\'')).collect();
        let share = common.shares.of_all(conn, &words, self.states).await?;
        let history = self.states.is_empty();
        let groups = Groups::plan(
            (low - 1) >> ERA_BITS,
            hits.len(),
            top - low + 1,
            share,
            history,
            need,
        );
        let mut q = QueryBuilder::<Postgres>::new("select h.matter_id, h.seq, ");
        if self.ranked {
            q.push("(select ts_rank(x.search, to_tsquery('simple', ")
                .push_bind(self.expr.to_string())
                .push("), 1) from matter_search x where x.ctid = h.t)");
        } else {
            q.push("0::real");
        }
        q.push(" as r from unnest(")
            .push_bind(groups)
            .push("::text[]) as g (facets) cross join lateral (select ms.matter_id, ms.seq, ms.ctid as t")
            .push(" from matter_search ms where ms.organisation_id = ")
            .push_bind(org)
            .push(" and ms.seq < ")
            .push_bind(low)
            .push(" and ms.search @@ (");
        push_tsquery(&mut q, self.expr.to_string(), self.states);
        // `+ 0`: sorted from what the GIN index found, never by walking
        // matter_search_seq_idx.
        q.push(" && g.facets::tsquery) order by ms.seq + 0 desc) h limit ")
            .push_bind((need - hits.len()) as i64);
        for r in &q.build().fetch_all(&mut *conn).await? {
            hits.push(Self::hit(r)?);
        }
        Ok(hits)
    }
}

/// The summaries of the page's `hits` (an organisation's matters), in the order given.
async fn read_page(
    conn: &mut PgConnection,
    org: OrganisationId,
    hits: &[Hit],
    now: DateTime<Utc>,
) -> Result<Vec<MatterSummary>> {
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = hits.iter().map(|h| h.id).collect();
    let mut q = QueryBuilder::<Postgres>::new(format!("select {SUMMARY_COLUMNS}, hit.n from unnest("));
    q.push_bind(ids)
        .push("::uuid[]) with ordinality as hit (id, n) join matters m on m.organisation_id = ")
        .push_bind(org.as_uuid())
        .push(" and m.id = hit.id order by hit.n");
    let rows = q.build().fetch_all(&mut *conn).await?;
    rows.iter().map(|r| summary(r, now)).collect()
}

/// Page `page` of `hits` (in the order they are to be shown).
fn page_of(hits: &[Hit], page: u32, per_page: u32) -> &[Hit] {
    let start = (page as usize - 1).saturating_mul(per_page as usize);
    let end = start.saturating_add(per_page as usize).min(hits.len());
    hits.get(start..end).unwrap_or_default()
}

/// The console's search box newest first: counted up to [`COUNT_CAP`] (or known to reach it),
/// then the matches up to the page's ([`Words::newest`]) and the page's rows.
pub(super) async fn newest_first(
    common: &CommonSearches,
    conn: &mut PgConnection,
    org: OrganisationId,
    f: &MatterFilter,
    now: DateTime<Utc>,
    page: u32,
    per_page: u32,
) -> Result<Page<MatterSummary>> {
    let Some(expr) = f.q.as_deref().and_then(search_expr) else {
        return Ok(Page::counted(Vec::new(), 0, page, per_page));
    };
    let words = Words {
        org,
        expr: &expr,
        states: &f.states,
        ranked: false,
    };
    let total = words.count(common, conn).await?;
    let end = page as usize * per_page as usize;
    if total == 0 || (total < COUNT_CAP && end - per_page as usize >= total as usize) {
        return Ok(Page::counted(Vec::new(), total, page, per_page));
    }
    let hits = words.newest(common, conn, total, end).await?;
    let items = read_page(conn, org, page_of(&hits, page, per_page), now).await?;
    Ok(Page::counted(items, total, page, per_page))
}

/// A search ordered by relevance ([`ListOrder::Relevance`]): the newest [`COUNT_CAP`] matches
/// (from [`Words::newest`] for the console's search box, from the filtered matters
/// otherwise), each ranked by `ts_rank` of its vector against the words (normalisation 1:
/// divided by 1 + the log of the document's length, so a long letter does not win by length
/// alone), ties newest first, and the page's rows read.
pub(super) async fn ranked(
    common: &CommonSearches,
    conn: &mut PgConnection,
    scope: &MatterScope,
    f: &MatterFilter,
    now: DateTime<Utc>,
    page: u32,
    per_page: u32,
) -> Result<Page<MatterSummary>> {
    let Some(expr) = f.q.as_deref().and_then(search_expr) else {
        return Ok(Page::counted(Vec::new(), 0, page, per_page));
    };
    if !plain_search(scope, f) {
        return ranked_filtered(conn, scope, f, expr, now, page, per_page).await;
    }
    let org = scope.organisation_id;
    let words = Words {
        org,
        expr: &expr,
        states: &f.states,
        ranked: true,
    };
    let total = words.count(common, conn).await?;
    if total == 0 {
        return Ok(Page::counted(Vec::new(), total, page, per_page));
    }
    let mut hits = words.newest(common, conn, total, COUNT_CAP as usize).await?;
    hits.sort_by(|a, b| b.rank.total_cmp(&a.rank).then(b.seq.cmp(&a.seq)));
    let items = read_page(conn, org, page_of(&hits, page, per_page), now).await?;
    Ok(Page::counted(items, total, page, per_page))
}

/// [`ranked`] with filters besides the words and states, or for a viewer who sees part of the
/// organisation: the newest matches from the filtered matters, ranked in the statement.
async fn ranked_filtered(
    conn: &mut PgConnection,
    scope: &MatterScope,
    f: &MatterFilter,
    expr: String,
    now: DateTime<Utc>,
    page: u32,
    per_page: u32,
) -> Result<Page<MatterSummary>> {
    let org = scope.organisation_id;
    let offset = (i64::from(page) - 1) * i64::from(per_page);
    // Counted first, as the other lists are, because the count says how to find them: fewer
    // than the cap are all at hand and are taken as the indexes give them, unordered (walking
    // the newest first for them reads every row above the oldest match); a full cap is taken
    // newest first.
    let total = count_filtered(conn, scope, f, now).await?;
    if total == 0 || offset >= total as i64 {
        return Ok(Page::counted(Vec::new(), total, page, per_page));
    }
    let mut q = QueryBuilder::<Postgres>::new(
        "with hit as materialized (select m.id, m.seq, (select ts_rank(ms.search, to_tsquery('simple', ",
    );
    q.push_bind(expr)
        .push("), 1) from matter_search ms where ms.organisation_id = m.organisation_id and ms.matter_id = m.id) as r from matters m where");
    push_scope(&mut q, scope);
    push_filters(&mut q, org, f, now);
    if total >= COUNT_CAP {
        q.push(" order by m.registered_at desc, m.seq desc limit ")
            .push_bind(COUNT_CAP as i64);
    }
    q.push(format!(
        ") select {SUMMARY_COLUMNS} from (select * from hit order by r desc, seq desc limit "
    ))
    .push_bind(per_page as i64)
    .push(" offset ")
    .push_bind(offset)
    .push(") h join matters m on m.organisation_id = ")
    .push_bind(org.as_uuid())
    .push(" and m.id = h.id order by h.r desc, h.seq desc");
    let rows = q.build().fetch_all(&mut *conn).await?;
    Ok(Page::counted(
        rows.iter().map(|r| summary(r, now)).collect::<Result<Vec<_>>>()?,
        total,
        page,
        per_page,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eras an ask covers: its own, or its blocks' eight each.
    fn eras_of(ask: &str) -> Vec<i64> {
        ask.split(" | ")
            .flat_map(|lexeme| {
                let lexeme = lexeme.trim_matches('\'');
                let (kind, n) = lexeme.split_once('_').expect("kind_n");
                let n: i64 = n.parse().expect("number");
                let eras = match kind {
                    "sq" => n..=n,
                    "sb" => n * ERAS_PER_BLOCK..=n * ERAS_PER_BLOCK + ERAS_PER_BLOCK - 1,
                    other => panic!("unknown lexeme kind {other}"),
                };
                eras.rev()
            })
            .collect()
    }

    /// Every era from `upper` down to 0 is asked exactly once, newest first, and no ask holds
    /// more than MAX_GROUP lexemes.
    fn assert_covers(asks: &[String], upper: i64) {
        let mut seen: Vec<i64> = asks.iter().flat_map(|a| eras_of(a)).collect();
        assert!(
            asks.iter().all(|a| a.split(" | ").count() as i64 <= MAX_GROUP),
            "{asks:?}"
        );
        let newest_first = seen.windows(2).all(|w| w[0] > w[1]);
        assert!(newest_first, "asks overlap or go back up: {asks:?}");
        seen.retain(|&e| e <= upper);
        assert_eq!(seen, (0..=upper).rev().collect::<Vec<_>>(), "{asks:?}");
    }

    #[test]
    fn a_common_word_asks_by_small_groups_of_eras_then_by_blocks() {
        // 500 matches in the walk's 2,048 seqs: a block would hold 8,000 of them.
        let asks = Groups::plan(100, 500, 2_048, None, true, 1_000);
        assert_eq!(
            &asks[..5],
            &[
                "'sq_100' | 'sq_99'",
                "'sq_98' | 'sq_97'",
                "'sq_96' | 'sq_95' | 'sq_94' | 'sq_93'",
                "'sq_92' | 'sq_91' | 'sq_90' | 'sq_89'",
                "'sq_88'",
            ]
        );
        assert_eq!(&asks[5..8], &["'sb_10'", "'sb_9'", "'sb_8' | 'sb_7'"]);
        assert_covers(&asks, 100);
    }

    #[test]
    fn a_rare_word_asks_by_growing_groups_of_blocks() {
        // 3 matches in the walk: a block holds about 48, the search needs 997 more.
        let asks = Groups::plan(100, 3, 2_048, None, true, 1_000);
        assert_eq!(
            &asks[..4],
            &["'sb_12'", "'sb_11'", "'sb_10' | 'sb_9'", "'sb_8' | 'sb_7'"]
        );
        assert_covers(&asks, 100);
        assert_eq!(Groups::plan(100, 0, 2_048, None, true, 20)[0], "'sb_12'");
        // A page of 20 with 19 matches in the walk needs one more, fewer than a block holds.
        assert_eq!(
            Groups::plan(100, 19, 2_048, None, true, 20)[0],
            "'sq_100' | 'sq_99'"
        );
    }

    #[test]
    fn the_walks_matches_are_weighed_by_the_seqs_it_spans() {
        // 100 matches in 2,048 rows of one organisation among others, over a million seqs:
        // about 3 in a block.
        assert_eq!(Groups::plan(300, 100, 1 << 20, None, true, 1_000)[0], "'sb_37'");
        assert_eq!(
            Groups::plan(300, 100, 2_048, None, true, 1_000)[0],
            "'sq_300' | 'sq_299'"
        );
    }

    #[test]
    fn when_the_walk_found_none_the_statistics_weigh_the_words() {
        // 5.6 % of the rows: about 1,835 in a block, more than the thousand a ranking needs.
        assert_eq!(
            Groups::plan(100, 0, 2_048, Some(0.056), true, 1_000)[0],
            "'sq_100' | 'sq_99'"
        );
        // A word rarer than every listed one.
        assert_eq!(
            Groups::plan(100, 0, 2_048, Some(0.0005), true, 1_000)[0],
            "'sb_12'"
        );
        assert_covers(&Groups::plan(100, 0, 2_048, Some(0.056), true, 1_000), 100);
    }

    #[test]
    fn words_common_in_the_whole_table_are_asked_by_eras_to_the_end() {
        // 5 matches in the walk (about 80 in a block), but 15 % of the table: about 600 in
        // an era, 4,900 in a block.
        let asks = Groups::plan(100, 5, 2_048, Some(0.15), true, 1_000);
        assert!(asks.iter().all(|a| a.starts_with("'sq_")), "{asks:?}");
        assert_eq!(&asks[..2], &["'sq_100' | 'sq_99'", "'sq_98' | 'sq_97'"]);
        assert_covers(&asks, 100);
        // 0.5 % of the table: about 160 in a block, more than the page of 20 still needed
        // but not enough to be worth an ask per four eras down the whole history.
        let asks = Groups::plan(100, 5, 2_048, Some(0.005), true, 20);
        assert!(asks.iter().any(|a| a.starts_with("'sb_")), "{asks:?}");
        assert_covers(&asks, 100);
        // Rare in the walk and in the statistics: blocks.
        assert_eq!(
            Groups::plan(100, 5, 2_048, Some(0.0005), true, 1_000)[0],
            "'sb_12'"
        );
        // Common in the walk only (the vocabulary of one season): eras, then blocks.
        assert_eq!(
            Groups::plan(100, 500, 2_048, Some(0.0005), true, 1_000),
            Groups::plan(100, 500, 2_048, None, true, 1_000)
        );
        for upper in 0..40 {
            assert_covers(&Groups::plan(upper, 5, 2_048, Some(0.15), true, 1_000), upper);
        }
    }

    #[test]
    fn with_states_the_statistics_stand_in_only_for_a_walk_that_found_nothing() {
        // The walk's count decides when it found any.
        assert_eq!(
            Groups::plan(100, 5, 2_048, Some(0.15), false, 1_000)[0],
            "'sb_12'"
        );
        // When it found none: eras below the walk, then blocks, as for a word of one season.
        let asks = Groups::plan(100, 0, 2_048, Some(0.15), false, 1_000);
        assert_eq!(asks[0], "'sq_100' | 'sq_99'");
        assert!(asks.iter().any(|a| a.starts_with("'sb_")), "{asks:?}");
        assert_covers(&asks, 100);
    }

    #[test]
    fn the_first_eras_end_where_the_table_does() {
        assert_eq!(
            Groups::plan(3, 500, 2_048, None, true, 1_000),
            vec!["'sq_3' | 'sq_2'", "'sq_1' | 'sq_0'"]
        );
        assert_eq!(Groups::plan(0, 500, 2_048, None, true, 1_000), vec!["'sq_0'"]);
        assert_eq!(Groups::plan(0, 0, 2_048, None, true, 1_000), vec!["'sb_0'"]);
        for upper in 0..40 {
            for found in [0, 5, 500] {
                assert_covers(&Groups::plan(upper, found, 2_048, None, true, 1_000), upper);
            }
        }
    }
}
