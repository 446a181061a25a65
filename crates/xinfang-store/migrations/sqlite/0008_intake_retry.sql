-- Intake that failed for a matter (kept in step with postgres/0008_intake_retry.sql): how often,
-- the last error, and when the backfill may try again. Without it a batch of matters that
-- fail every time (a text the signature cannot be computed for, a corrupt row) would stay at
-- the head of the backfill's oldest-first work list and starve every matter behind them.
-- The row goes when intake succeeds.
create table intake_failures (
    organisation_id text not null,
    matter_id text not null,
    attempts integer not null,
    last_error text not null,
    failed_at text not null,
    retry_at text not null,
    constraint intake_failures_pkey primary key (organisation_id, matter_id),
    constraint intake_failures_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id)
);
