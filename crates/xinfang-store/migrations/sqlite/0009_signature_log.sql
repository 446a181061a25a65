-- The duplicate index moves to each app node's memory (xinfang_store::CandidateIndex), derived
-- from the signatures here; kept in step with postgres/0009_signature_log.sql.
--
-- Each signature has a position in a log (`seq`), one more than the highest when it is written
-- or changed (one writer, so positions commit in order); a node reads the log once at start and
-- then, before each lookup, the rows after the last position it has read. The band table (40
-- rows per matter) goes: its lookups were 40 random B-tree probes, 6-12 ms at p99 at
-- 1,000,000 matters.

alter table matter_signatures add column seq integer;
update matter_signatures set seq = rowid;
create unique index matter_signatures_seq_idx on matter_signatures (seq);

drop table matter_bands;
