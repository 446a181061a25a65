-- Indexes for lists at a million matters (see the bench figures in the scale note).
--
-- Deadline-status lists: every column the filter (due_at, due_soon_at, paused) and the order
-- (registered_at, and the rowid) need, so a page is picked from the index alone and only its
-- rows are read.
create index matters_deadline_idx on matters (organisation_id, due_at, due_soon_at, paused, registered_at);
