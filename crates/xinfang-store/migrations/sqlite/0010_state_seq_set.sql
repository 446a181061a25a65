-- A search with a state filter at a million matters (issue 3; sqlite/matters.rs `search`).
--
-- Such a search tests each full-text match against the set of the states' seqs, which SQLite
-- builds for every query as an ephemeral index. Read from matters_state_seq_idx the seqs come
-- in registration-time order and each is inserted at a random place: 7.3 ms for the 23,000
-- matters in progress of the benchmark's million, most of the query. Read from this index they
-- come in seq order and are appended: 2.3 ms (measured, same query). The index builds in 4.5 s
-- at a million matters (the first start after the upgrade took 11 s longer).
create index matters_state_by_seq_idx on matters (organisation_id, state, seq);
