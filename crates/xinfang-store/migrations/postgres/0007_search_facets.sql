-- A search with a state filter, and lists, at a million matters (issue 3; figures in the scale
-- note). Kept in step with sqlite/0007_search_facets.sql where the engines allow.

-- 1. The search table carries the matter's seq (immutable, copied at insert), so a search
-- orders and pages within it and reads only its page's matters: a common word walks
-- matter_search_seq_idx newest first, a rare one is sorted from its few matches, and neither
-- reads a matters row per match.
--
-- 2. The matter's state as a facet lexeme of its search vector ('st_' || state, e.g.
-- 'st_in_progress'), so that the full-text index itself intersects "these words" with "in this
-- state": before, every match of the words was probed against matters, and a common word in a
-- rare state read hundreds of thousands of rows (0.7 s at p50). A document's own lexemes come
-- from to_tsvector('simple', …), whose parser splits on '_', so no word can be mistaken for a
-- facet. Triggers keep the facet true whichever path writes (registration, bulk load,
-- transition): the vector gets it when inserted, and a change of state rewrites it in the same
-- transaction. A transition thus also rewrites the row in the GIN index (the cost the separate
-- table was made to avoid for every other column); a matter changes state a handful of times.
create function matter_search_facet_insert() returns trigger language plpgsql as $$
declare
    st text;
    sq bigint;
begin
    select m.state, m.seq into st, sq from matters m
     where m.organisation_id = new.organisation_id and m.id = new.matter_id;
    if st is not null then
        new.search := new.search || array_to_tsvector(array['st_' || st]);
        new.seq := sq;
    end if;
    return new;
end $$;

create function matter_search_facet_update() returns trigger language plpgsql as $$
begin
    update matter_search
       set search = ts_delete(search, 'st_' || old.state) || array_to_tsvector(array['st_' || new.state])
     where organisation_id = new.organisation_id and matter_id = new.id;
    return null;
end $$;

-- The stored vectors get their facet: a new table written in one pass and its index built once
-- (updating a million rows in place would rewrite each and its GIN entries one by one).
create table matter_search_new (
    organisation_id uuid not null,
    matter_id uuid not null,
    seq bigint not null,
    search tsvector not null
);
insert into matter_search_new (organisation_id, matter_id, seq, search)
select ms.organisation_id, ms.matter_id, m.seq, ms.search || array_to_tsvector(array['st_' || m.state])
  from matter_search ms
  join matters m on m.organisation_id = ms.organisation_id and m.id = ms.matter_id;
drop table matter_search;
alter table matter_search_new rename to matter_search;
alter table matter_search add constraint matter_search_pkey primary key (organisation_id, matter_id);
alter table matter_search add constraint matter_search_matter_fkey
    foreign key (organisation_id, matter_id) references matters (organisation_id, id);
create index matter_search_gin on matter_search using gin (search);
create index matter_search_seq_idx on matter_search (organisation_id, seq desc);
alter table matter_search alter column search set statistics 2000;

create trigger matter_search_facet before insert on matter_search
    for each row execute function matter_search_facet_insert();
create trigger matters_state_facet after update of state on matters
    for each row when (old.state is distinct from new.state) execute function matter_search_facet_update();

analyze matter_search;

-- 3. Several states at once (in_progress,assigned): each state's matters newest first, merged.
-- The index of 0001 lacked seq, the order's tie-break; this one replaces it.
create index matters_state_seq_idx on matters (organisation_id, state, registered_at desc, seq desc);
drop index matters_state_idx;

-- 4. A unit's matters newest first: matter_units carries its matter's registered_at and seq
-- (both fixed at registration), filled in by a trigger whichever path inserts, so a unit's
-- page is read from its own rows instead of from all matters newest first, each tested for
-- the unit (70 ms at p50 once fresh registrations without a unit sat on top).
alter table matter_units add column registered_at timestamptz, add column seq bigint;
update matter_units mu set registered_at = m.registered_at, seq = m.seq
  from matters m where m.organisation_id = mu.organisation_id and m.id = mu.matter_id;
alter table matter_units alter column registered_at set not null, alter column seq set not null;
create function matter_units_fill() returns trigger language plpgsql as $$
begin
    select m.registered_at, m.seq into new.registered_at, new.seq from matters m
     where m.organisation_id = new.organisation_id and m.id = new.matter_id;
    return new;
end $$;
create trigger matter_units_fill before insert on matter_units
    for each row execute function matter_units_fill();
create index matter_units_recent_idx on matter_units (organisation_id, unit_id, registered_at desc, seq desc)
    include (matter_id);
analyze matter_units;

-- 5. Due soon (due_soon_at <= now < due_at, not paused): of the two ranges the one on
-- due_soon_at holds the overdue and the due-soon matters only, not every fresh registration
-- whose deadline lies ahead, as the due_at range of matters_deadline_idx (0003) does. Like that
-- index it holds every column the filter and the order need, so the matches are picked by an
-- index-only scan (PostgreSQL tests a plain index scan's filter on the row, not on the index).
create index matters_due_soon_idx on matters (organisation_id, due_soon_at)
    include (due_at, paused, registered_at, seq, id) where due_at is not null;

-- 6. Index-only scans need the visibility map, which only VACUUM sets. The duplicate lookup
-- reads every band row of its 40 keys from matter_bands_pkey, and the deadline lists and
-- counts read matters' indexes; on rows written since the last vacuum each entry costs a heap
-- visit too. By default an insert-only table is vacuumed after inserts of 20% of its size (8
-- million band rows at a million matters): until then a lookup read ~1,000 heap pages
-- (105 ms instead of 5 ms measured at 1.1 million matters, and the lookup was most of the
-- database's work per registration). Vacuum these tables after 0.5% instead; each run skips
-- the pages already all-visible.
alter table matter_bands set (autovacuum_vacuum_insert_scale_factor = 0.005);
alter table matter_signatures set (autovacuum_vacuum_insert_scale_factor = 0.005);
alter table matters set (autovacuum_vacuum_insert_scale_factor = 0.005, autovacuum_vacuum_scale_factor = 0.02);
