-- Search vectors kept in their row (issue 3; postgres/search.rs).
--
-- A letter of a few hundred characters makes a tsvector of about 2 KB (135 lexemes with their
-- positions, measured on real messages). PostgreSQL moves a row over 2 KB into TOAST: it first
-- tries to compress the vector (pglz, which gains too little on a tsvector, so the CPU is
-- spent for nothing on every registration) and then stores it out of line, two chunks in the
-- TOAST table behind their own index. Every search then fetches those chunks for each row it
-- tests or ranks (a ranked search visits a thousand rows; the walk of postgres/search.rs tests
-- 2,048): measured 2,250 more buffer reads and 2.5-6 µs more per row for a ranked search whose
-- matches were real messages. With toast_tuple_target at its largest a vector stays in its
-- row, uncompressed, up to the ~8 KB a page holds (only a longer letter is still toasted).
--
-- The vectors already stored move in with one rewrite, as 0010 did (a new table written in one
-- pass, indexes built once). `|| ''` makes each a fresh, uncompressed value (a value copied as
-- it is would keep its compression), so the new table gets every vector under the new rule. A
-- storage parameter an operator gave the GIN index (gin_pending_list_limit, README) is carried
-- over to the new one.
create temporary table matter_search_gin_options on commit drop as
    select reloptions from pg_class where oid = 'matter_search_gin'::regclass;
create table matter_search_new (
    organisation_id uuid not null,
    matter_id uuid not null,
    seq bigint not null,
    search tsvector not null
) with (toast_tuple_target = 8160, autovacuum_vacuum_insert_scale_factor = 0.005);
insert into matter_search_new (organisation_id, matter_id, seq, search)
select organisation_id, matter_id, seq, search || ''::tsvector from matter_search;
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
