-- Searches that find their newest matches window by window (issue 3; postgres/search.rs).
--
-- Every search vector gets the era of its matter's seq as a facet lexeme, 'sq_' || (seq >> 12)
-- (4,096 seqs to an era; postgres/search.rs ERA_BITS). A search then asks the GIN index for
-- "these words in these eras", newest eras first, instead of walking matter_search_seq_idx
-- (which reads every row above the matches it needs: 0.2-1 s for a word in one letter of five
-- hundred at a million matters) or building the bitmap of every match of a common word (18 ms
-- for the bitmap alone of a word in 15% of a million). A seq never changes, so unlike the
-- state facet (0007) the era is written once, by the insert trigger, on every path that
-- inserts (registration, bulk load); the parser of to_tsvector splits at '_', so no word of a
-- letter can be taken for it.
create or replace function matter_search_facet_insert() returns trigger language plpgsql as $$
declare
    st text;
    sq bigint;
begin
    select m.state, m.seq into st, sq from matters m
     where m.organisation_id = new.organisation_id and m.id = new.matter_id;
    if st is not null then
        new.search := new.search || array_to_tsvector(array['st_' || st, 'sq_' || (sq >> 12)]);
        new.seq := sq;
    end if;
    return new;
end $$;

-- The stored vectors get their era as 0007 gave them their state: a new table written in one
-- pass and its indexes built once (updating a million rows in place would rewrite each and its
-- GIN entries one by one).
create table matter_search_new (
    organisation_id uuid not null,
    matter_id uuid not null,
    seq bigint not null,
    search tsvector not null
);
insert into matter_search_new (organisation_id, matter_id, seq, search)
select organisation_id, matter_id, seq, search || array_to_tsvector(array['sq_' || (seq >> 12)])
  from matter_search;
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

analyze matter_search;

-- Vacuum matter_search after 0.5% new rows, as the other large tables of 0007: a vacuum merges
-- the GIN index's pending list (entries inserted since it was last merged, up to 4 MB, which
-- every search reads whole: ≈ 1.5 ms a GIN ask after 20,000 registrations at a million matters)
-- and sets the visibility map that lets the capped counts skip heap pages. A shorter list
-- (gin_pending_list_limit 512 kB) was measured too: 0.2 ms more of PostgreSQL's CPU per
-- registration (merging in smaller batches), so the default stays.
alter table matter_search set (autovacuum_vacuum_insert_scale_factor = 0.005);
