//! Full-text search on PostgreSQL: the console's search box (words, optionally states), newest
//! first or ranked, at a million matters.
//!
//! Every matter has one row in `matter_search`: its jieba tokens as a tsvector ('simple'
//! configuration, GIN index), its seq, and two kinds of facet lexeme the triggers of
//! migrations 0007 and 0010 keep in the vector — `st_<state>` (the matter's state, rewritten
//! by a transition) and `sq_<era>` (its seq's era, `seq >> ERA_BITS`, fixed). The parser of
//! `to_tsvector` splits words at '_', so no word of a letter can be taken for a facet.
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
//! needs for a page), then asks the GIN index for the words *and* each group of eras below
//! them, newest first, until it has enough: the index intersects the words with the era
//! lexemes, so a search visits about the matches it returns, however its words are spread
//! over time. Each ask costs ≈ 0.4 ms besides its matches, plus a read of the index's pending
//! list (≈ 1.2–1.6 ms when half full at a million matters); the groups grow, so even a word
//! whose newest thousand matches lie across the whole table takes a dozen asks.
//!
//! The pending list holds the vectors written since it was last merged into the index
//! proper, which PostgreSQL does only when it reaches 4 MB or a vacuum comes by; the nodes'
//! background loop merges it every scan interval instead ([`tidy_index`]), so searches read
//! at most one interval's registrations there.

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
/// one `sq_<era>` lexeme, the unit in which a search asks for older matches ([`era_groups`]).
/// Must match migrations/postgres/0010_search_eras.sql.
pub(super) const ERA_BITS: u32 = 12;

/// The newest rows of an organisation's search table read one by one before the GIN index is
/// asked: a word in one letter of ten finds a page of 20 and more in them (0.5–1 ms).
const WALK: i64 = 2_048;

/// The groups of eras asked of the GIN index one after another below the walk, newest first,
/// from era `upper` down to 0: two of [`FIRST_GROUP_ERAS`] eras, two of twice as many, …, then
/// groups of [`MAX_GROUP_ERAS`].
///
/// A group costs an ask (0.4 ms at a million matters, plus a read of the index's pending list
/// of entries not yet merged: up to 4 MB, ≈ 1.5 ms), and its matches are all visited (4 µs
/// each) even when the search needs only the first of them. Small groups first keep a common
/// word's visits near what it needs; growing ones keep a word in one letter of two hundred,
/// whose thousand newest matches lie across two hundred thousand letters, to a handful of asks.
fn era_groups(upper: i64) -> impl Iterator<Item = (i64, i64)> {
    let mut next = upper;
    let mut asked = 0u32;
    std::iter::from_fn(move || {
        if next < 0 {
            return None;
        }
        let size = (FIRST_GROUP_ERAS << (asked / 2)).min(MAX_GROUP_ERAS);
        asked += 1;
        let group = ((next - size + 1).max(0), next);
        next = group.0 - 1;
        Some(group)
    })
}

const FIRST_GROUP_ERAS: i64 = 2;
const MAX_GROUP_ERAS: i64 = 32;

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

/// Pushes the tsquery of `expr` and, when `states` is not empty, of their facet lexemes
/// (`st_<state>`): the GIN index then intersects the words with the states, instead of each
/// match being probed against matters. The facets are cast, not parsed: the parser would
/// split them at '_'.
pub(super) fn push_tsquery(q: &mut QueryBuilder<Postgres>, expr: String, states: &[State]) {
    q.push("(to_tsquery('simple', ").push_bind(expr).push(")");
    if !states.is_empty() {
        let facets = states
            .iter()
            .map(|s| format!("'st_{}'", s.code()))
            .collect::<Vec<_>>()
            .join(" | ");
        q.push(" && ").push_bind(facets).push("::tsquery");
    }
    q.push(")");
}

/// The tsquery of the eras `from..=to` (`'sq_7' | 'sq_8' | …`).
fn eras_tsquery(from: i64, to: i64) -> String {
    (from..=to)
        .map(|e| format!("'sq_{e}'"))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A search whose only filter besides the words is the state, by a viewer who sees the whole
/// organisation (the console's search box): answered from matter_search alone, which reads
/// only the page's matters rows.
pub(super) fn plain_search(scope: &MatterScope, f: &MatterFilter) -> bool {
    scope.all && f.q.is_some() && f.words_and_states_only()
}

/// The searches (an organisation and its words, without a state) this node has seen match at
/// least [`COUNT_CAP`] matters.
///
/// For words alone the count can only stay "1,000+" once it is: a matter's title and content
/// never change and matters are never deleted, so a search's matches only grow. Knowing it,
/// a page newest first needs only its own matches, not the newest thousand. A state is not
/// remembered (matters leave states), nor are other filters. The set is bounded
/// ([`CommonSearches::MAX`]); a node that has learnt that many counts the others each time.
#[derive(Default)]
pub(super) struct CommonSearches(std::sync::RwLock<std::collections::HashSet<(OrganisationId, String)>>);

impl CommonSearches {
    const MAX: usize = 10_000;

    fn knows(&self, org: OrganisationId, expr: &str) -> bool {
        self.0
            .read()
            .is_ok_and(|set| set.contains(&(org, expr.to_string())))
    }

    fn learn(&self, org: OrganisationId, expr: &str) {
        if let Ok(mut set) = self.0.write()
            && set.len() < Self::MAX
        {
            set.insert((org, expr.to_string()));
        }
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
    async fn newest(&self, conn: &mut PgConnection, total: u64, need: usize) -> Result<Vec<Hit>> {
        if total < COUNT_CAP {
            self.all(conn).await
        } else {
            self.newest_of_many(conn, need).await
        }
    }

    /// The newest `need` matches, newest first; fewer when there are fewer (then all of
    /// them). See the module's doc for how they are found.
    ///
    /// The walk and the eras below it are two statements: a matter registered in between lies
    /// above the walk and is not seen (as if the search had run a moment earlier); each older
    /// matter lies in exactly one of their ranges, so none is found twice.
    async fn newest_of_many(&self, conn: &mut PgConnection, need: usize) -> Result<Vec<Hit>> {
        let org = self.org.as_uuid();
        // The walk, and in the same statement (one snapshot) the lowest seq it may read and
        // how many rows it may read (fewer than WALK: all of the organisation's), from an
        // index-only scan; the walk itself stops at its `need`-th match.
        let mut q = QueryBuilder::<Postgres>::new("(");
        self.select(&mut q);
        q.push(", 0::bigint as walked from (select matter_id, seq, search from matter_search where organisation_id = ")
            .push_bind(org)
            .push(" order by seq desc limit ")
            .push_bind(WALK)
            .push(") ms where true");
        self.matching(&mut q);
        q.push(" order by ms.seq desc limit ")
            .push_bind(need as i64)
            .push(") union all (select null, min(seq), null, count(*) from (select seq from matter_search where organisation_id = ")
            .push_bind(org)
            .push(" order by seq desc limit ")
            .push_bind(WALK)
            .push(") s)");
        let mut hits = Vec::with_capacity(need.min(COUNT_CAP as usize));
        let mut low = None;
        for r in &q.build().fetch_all(&mut *conn).await? {
            if r.try_get::<Option<Uuid>, _>("matter_id")?.is_some() {
                hits.push(Self::hit(r)?);
            } else if r.try_get::<i64, _>("walked")? == WALK {
                low = r.try_get::<Option<i64>, _>("seq")?;
            }
        }
        // `low`: every seq at or above it has been looked at.
        let Some(low) = low else {
            return Ok(hits);
        };
        if hits.len() >= need || low <= 0 {
            return Ok(hits);
        }
        // Below the walk, era by era newest first: one statement, a nested loop over the
        // groups of eras (each asked of the GIN index with the words, its matches sorted),
        // stopped by the limit as soon as it has the rest of `need` — so a search visits the
        // matches it returns and at most one group's more. The loop's order is the array's
        // and the groups are disjoint ranges of seqs, so the rows come newest first.
        //
        // A ranked search ranks only the rows the limit lets through, each read again by its
        // ctid (same statement, same snapshot, so the version found): ranked where they are
        // found, the group's matches beyond the limit (up to one group's more) were ranked
        // too, 2-4 µs each — a third of the statement for a common word (measured 10.5 → 6.5
        // ms). Carrying the vectors through the sort instead cost more than it saved.
        let groups: Vec<String> = era_groups((low - 1) >> ERA_BITS)
            .map(|(from, to)| eras_tsquery(from, to))
            .collect();
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
            .push("::text[]) as g (eras) cross join lateral (select ms.matter_id, ms.seq, ms.ctid as t")
            .push(" from matter_search ms where ms.organisation_id = ")
            .push_bind(org)
            .push(" and ms.seq < ")
            .push_bind(low)
            .push(" and ms.search @@ (");
        push_tsquery(&mut q, self.expr.to_string(), self.states);
        // `+ 0`: sorted from what the GIN index found, never by walking
        // matter_search_seq_idx.
        q.push(" && g.eras::tsquery) order by ms.seq + 0 desc) h limit ")
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
    let hits = words.newest(conn, total, end).await?;
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
    let mut hits = words.newest(conn, total, COUNT_CAP as usize).await?;
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

    #[test]
    fn groups_of_eras_cover_every_era_once_newest_first_and_grow() {
        let groups: Vec<(i64, i64)> = era_groups(100).collect();
        assert_eq!(&groups[..4], &[(99, 100), (97, 98), (93, 96), (89, 92)]);
        assert_eq!(groups.last().map(|g| g.0), Some(0));
        for pair in groups.windows(2) {
            assert_eq!(pair[1].1, pair[0].0 - 1, "adjacent, no gap, no overlap");
        }
        assert!(groups.iter().all(|(from, to)| to - from < MAX_GROUP_ERAS));
        assert_eq!(era_groups(0).collect::<Vec<_>>(), vec![(0, 0)]);
    }

    #[test]
    fn a_group_of_eras_is_one_tsquery_of_their_lexemes() {
        assert_eq!(eras_tsquery(7, 9), "'sq_7' | 'sq_8' | 'sq_9'");
    }
}
