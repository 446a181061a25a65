-- Blocks of eras, so a search asks the GIN index for a word spread thin over the table in a
-- few cheap asks (issue 3; postgres/search.rs).
--
-- 0010 gave every search vector its era, 'sq_' || (seq >> 12), and a search asks for the
-- newest matches of its words group by group of eras ("these words in sq_40 | sq_39 | …").
-- Each era holds 4,096 matters, fewer than any word worth the asking, so the GIN index walks
-- the eras' entries and tests the words on each: an ask costs in proportion to the matters of
-- its eras, times their number (the tsquery is evaluated on each), whatever the matches —
-- measured at a million matters: a word in one letter of 120 asked with 2 eras 0.95 ms, with
-- 16 eras 8.3 ms, with 64 eras 136 ms. A ranked search of such a word took 7 asks and 24 ms.
--
-- A block is 8 eras, 'sb_' || (seq >> 15): 32,768 matters, more than a word in one letter
-- of 30 has in the whole table. Asked with blocks, the GIN index walks the word's entries and
-- looks each up in the block's (measured: 1.3 ms for 65,536 matters of that word, 517
-- matches). Searches whose words are common keep asking by eras (a block would make them
-- visit thousands of matches to keep 20); rarer ones ask by blocks.
--
-- The stored vectors get their block as 0010 gave them their era: one pass into a new table,
-- its indexes built once, the GIN index's storage parameters carried over (0011).
create or replace function matter_search_facet_insert() returns trigger language plpgsql as $$
declare
    st text;
    sq bigint;
begin
    select m.state, m.seq into st, sq from matters m
     where m.organisation_id = new.organisation_id and m.id = new.matter_id;
    if st is not null then
        new.search := new.search
            || array_to_tsvector(array['st_' || st, 'sq_' || (sq >> 12), 'sb_' || (sq >> 15)]);
        new.seq := sq;
    end if;
    return new;
end $$;

create temporary table matter_search_gin_options on commit drop as
    select reloptions from pg_class where oid = 'matter_search_gin'::regclass;
create table matter_search_new (
    organisation_id uuid not null,
    matter_id uuid not null,
    seq bigint not null,
    search tsvector not null
) with (toast_tuple_target = 8160, autovacuum_vacuum_insert_scale_factor = 0.005);
insert into matter_search_new (organisation_id, matter_id, seq, search)
select organisation_id, matter_id, seq, search || array_to_tsvector(array['sb_' || (seq >> 15)])
  from matter_search;
drop table matter_search;
alter table matter_search_new rename to matter_search;
alter table matter_search add constraint matter_search_pkey primary key (organisation_id, matter_id);
alter table matter_search add constraint matter_search_matter_fkey
    foreign key (organisation_id, matter_id) references matters (organisation_id, id);
create index matter_search_gin on matter_search using gin (search);
do $$
declare
    options text[];
begin
    select reloptions into options from matter_search_gin_options;
    if options is not null then
        execute format('alter index matter_search_gin set (%s)', array_to_string(options, ', '));
    end if;
end $$;
create index matter_search_seq_idx on matter_search (organisation_id, seq desc);
alter table matter_search alter column search set statistics 2000;
create trigger matter_search_facet before insert on matter_search
    for each row execute function matter_search_facet_insert();

analyze matter_search;
