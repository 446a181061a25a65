-- The duplicate index moves to each app node's memory (xinfang_store::CandidateIndex), derived
-- from the signatures here; kept in step with sqlite/0009_signature_log.sql.
--
-- A lookup in matter_bands (40 rows per matter, 40 million at 1,000,000 matters) was 40 random
-- B-tree descents whose pages did not stay cached, 6-12 ms at p99, and every registration
-- wrote 40 index entries. Now each signature has a position in a log (`seq`, from a sequence,
-- renewed when the signature changes); a node reads the log once at start and then, before
-- each lookup, the rows after the last position it has read.

create sequence matter_signatures_seq;
-- A volatile default fills the existing rows in one rewrite of the table.
alter table matter_signatures add column seq bigint not null default nextval('matter_signatures_seq');
alter sequence matter_signatures_seq owned by matter_signatures.seq;
create unique index matter_signatures_seq_idx on matter_signatures (seq);

drop table matter_bands;
