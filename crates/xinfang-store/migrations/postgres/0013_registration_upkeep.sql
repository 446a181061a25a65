-- What a registration costs PostgreSQL beyond its rows (issue 3: creates per second).
--
-- 1. The insert trigger of matter_search (0012) looks up each new row's matter for its state
--    and seq, to add the facet lexemes. A registration batch now writes the seq and the
--    facets itself (postgres/vectors.rs): it has just inserted the matters and reads their
--    seqs back. The trigger stays for every other writer, and now runs only for a row
--    inserted without its seq. A row that comes with its seq must come with its facets.
drop trigger matter_search_facet on matter_search;
create trigger matter_search_facet before insert on matter_search
    for each row when (new.seq is null) execute function matter_search_facet_insert();

-- 2. A matter's body (JSON, mostly Chinese text) of more than 2 kB is compressed with pglz,
--    which compresses such text poorly and slowly: 1.65 % of the machine's CPU during a
--    burst of registrations, and two of three bodies stayed uncompressed anyway. lz4 is
--    several times faster; it is used where this PostgreSQL was built with it, and only for
--    values written from now on. The channel's raw payload is encrypted and cannot be
--    compressed at all, so PostgreSQL no longer tries.
do $$
begin
    if exists (select 1 from pg_settings
                where name = 'default_toast_compression' and 'lz4' = any (enumvals)) then
        alter table matters alter column body set compression lz4;
    end if;
end $$;
alter table matters alter column raw_payload set storage external;
