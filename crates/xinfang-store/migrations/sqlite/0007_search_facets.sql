-- Lists, and a search with a state filter, at a million matters (issue 3; figures in the scale
-- note). Kept in step with postgres/0007_search_facets.sql where the engines allow.
--
-- No state facet in the full-text index here, unlike PostgreSQL: matters_fts is contentless,
-- so a document cannot be rewritten without its tokens, which are not stored. A search with a
-- state filter tests each match against the set of the states' seqs instead (sqlite/matters.rs).

-- 1. Several states at once (in_progress,assigned): each state's matters newest first, merged.
-- The index of 0001 lacked seq, the order's tie-break; this one replaces it.
create index matters_state_seq_idx on matters (organisation_id, state, registered_at desc, seq desc);
drop index matters_state_idx;

-- 2. A unit's matters newest first: matter_units carries its matter's registered_at and seq
-- (both fixed at registration), filled in by a trigger whichever path inserts, so a unit's
-- page is read from its own rows instead of from all matters newest first, each tested for
-- the unit (which reads every fresh registration, none assigned yet, on top).
alter table matter_units add column registered_at text;
alter table matter_units add column seq integer;
update matter_units set (registered_at, seq) = (
    select m.registered_at, m.seq from matters m
     where m.organisation_id = matter_units.organisation_id and m.id = matter_units.matter_id);
create trigger matter_units_fill after insert on matter_units begin
    update matter_units set (registered_at, seq) = (
        select m.registered_at, m.seq from matters m
         where m.organisation_id = new.organisation_id and m.id = new.matter_id)
     where organisation_id = new.organisation_id and matter_id = new.matter_id and unit_id = new.unit_id;
end;
create index matter_units_recent_idx on matter_units (organisation_id, unit_id, registered_at desc, seq desc, matter_id);

-- 3. Due soon (due_soon_at <= now < due_at, not paused): of the two ranges the one on
-- due_soon_at holds the overdue and the due-soon matters only, not every fresh registration
-- whose deadline lies ahead, as the due_at range of matters_deadline_idx (0003) does. Like that
-- index it holds every column the filter and the order need.
create index matters_due_soon_idx on matters (organisation_id, due_soon_at, due_at, paused, registered_at)
    where due_at is not null;
