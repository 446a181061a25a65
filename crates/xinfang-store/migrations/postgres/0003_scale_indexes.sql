-- Indexes for lists and searches at a million matters (see the bench figures in the scale note).
--
-- Searches show the newest recorded first (seq): without this index every search sorted all the
-- organisation's matters (4 s at a million); with it a common word walks from the newest and a
-- rare one is sorted from its few matches.
create index matters_seq_idx on matters (organisation_id, seq desc);
-- Deadline-status lists: an index-only scan picks a page's ids (every column the filter and the
-- order need is here) and only those rows are read.
create index matters_deadline_idx on matters (organisation_id, due_at)
    include (due_soon_at, paused, registered_at, seq, id) where due_at is not null;
-- The planner guesses how many matters a word matches from the most common lexemes it has seen;
-- with the default 1,000 or so, a word it has not seen was guessed at 5,000 matches, so a search
-- for a rare word walked every matter newest first (18 s at a million) instead of asking the
-- full-text index. A longer list makes the guess for unseen words small.
alter table matter_search alter column search set statistics 2000;
