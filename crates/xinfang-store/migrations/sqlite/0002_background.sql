-- Background work that every app node shares (kept in step with postgres/0002_background.sql):
-- deadline crossings recorded once, reminders, scheduled jobs claimed by one node, scheduled
-- reports, and the login/public rate-limit counters.

-- The deadline (its due_at) whose due-soon and overdue crossings are already recorded. A new
-- deadline (next phase, extension, resume after a pause) has another due_at, so it is armed
-- again without any transition having to remember to reset a flag.
alter table matters add column alerted_due_soon_for text;
alter table matters add column alerted_overdue_for text;
-- The scanner's work list: deadlines whose overdue crossing is not yet recorded, by the instant
-- the next crossing can happen. Small: closed matters and open pauses have no due_at. (A matter
-- paused after its deadline was already reached keeps its due_at: a pause never hides a missed
-- deadline, so its overdue crossing is still announced.)
create index matters_alert_idx on matters (organisation_id, coalesce(due_soon_at, due_at))
    where due_at is not null and alerted_overdue_for is not due_at;

-- One reminder per deadline crossing (or, later, per safety alert), addressed to the unit that
-- must act; supervisors see all of them.
create table reminders (
    organisation_id text not null references organisations (id),
    id text not null,
    matter_id text not null,
    kind text not null,
    unit_id text,
    deadline_kind text,
    due_at text,
    event_seq integer not null,
    created_at text not null,
    acknowledged_at text,
    acknowledged_by text,
    constraint reminders_pkey primary key (organisation_id, id),
    constraint reminders_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id),
    -- At most one reminder per crossing, whatever the scanner does.
    constraint reminders_crossing_key unique (organisation_id, matter_id, kind, due_at)
);
create index reminders_unit_idx on reminders (organisation_id, unit_id, created_at desc);
create index reminders_recent_idx on reminders (organisation_id, created_at desc);

-- Scheduled jobs per organisation. A node runs a job only after moving next_run_at forward in
-- one conditional update, so exactly one node wins each run.
create table jobs (
    organisation_id text not null references organisations (id),
    name text not null,
    next_run_at text not null,
    runs integer not null default 0,
    last_node text,
    last_started_at text,
    last_finished_at text,
    last_result text,
    constraint jobs_pkey primary key (organisation_id, name)
);

-- Scheduled reports: one per kind and period, whichever node made it.
create table reports (
    organisation_id text not null references organisations (id),
    id text not null,
    kind text not null,
    period_start text not null,
    period_end text not null,
    created_at text not null,
    node text not null,
    body text not null,
    constraint reports_pkey primary key (organisation_id, id),
    constraint reports_period_key unique (organisation_id, kind, period_start)
);

-- Rate-limit counters (failed logins per user and per address, public requests per address),
-- here rather than in one node's memory so two nodes do not double the allowance.
create table rate_limits (
    key text primary key,
    window_start text not null,
    hits integer not null
);
