-- xinfang schema for PostgreSQL (the scale-out engine), kept in step with
-- migrations/sqlite/0001_init.sql: the same tables, the same constraint names (the store maps
-- them to API errors), the same meaning.
--
-- Every table carries organisation_id and every key starts with it, so a sharded deployment
-- (Citus or alike, distributed by organisation_id) can route each query to one shard. Native
-- types where they help: uuid ids, timestamptz times, bytea ciphertexts and keyed hashes,
-- jsonb bodies, a tsvector for search. What the audit chain hashes is stored exactly as it was
-- hashed (events.data is text: jsonb would reorder its keys).
--
-- Text that is sorted for people is compared with COLLATE "C" in the queries, which is what
-- SQLite does, whatever locale the database was created with.

create table organisations (
    id uuid primary key,
    name text not null,
    created_at timestamptz not null,
    -- Bumped whenever the calendar or the default rule set changes, so every app node can
    -- tell that its cached copy is stale (see PgStore's caches).
    config_revision bigint not null default 0
);

create table units (
    organisation_id uuid not null references organisations (id),
    id uuid not null,
    parent_id uuid,
    name text not null,
    kind text not null,
    petition_office boolean not null default false,
    created_at timestamptz not null,
    constraint units_pkey primary key (organisation_id, id),
    constraint units_name_key unique (organisation_id, name),
    constraint units_parent_fkey foreign key (organisation_id, parent_id) references units (organisation_id, id)
);

create table users (
    organisation_id uuid not null references organisations (id),
    id uuid not null,
    username text not null,
    display_name text not null,
    password_hash text not null,
    active boolean not null default true,
    created_at timestamptz not null,
    constraint users_pkey primary key (organisation_id, id),
    -- Global: login knows a username, not an organisation.
    constraint users_username_key unique (username)
);

create table user_roles (
    organisation_id uuid not null,
    user_id uuid not null,
    role text not null,
    unit_id uuid not null,
    constraint user_roles_pkey primary key (organisation_id, user_id, role, unit_id),
    constraint user_roles_user_fkey foreign key (organisation_id, user_id) references users (organisation_id, id),
    constraint user_roles_unit_fkey foreign key (organisation_id, unit_id) references units (organisation_id, id)
);

-- Sessions live here, not in a node's memory, so any app node serves any session.
create table sessions (
    token_hash text primary key,
    organisation_id uuid not null,
    user_id uuid not null,
    csrf_token text not null,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    constraint sessions_user_fkey foreign key (organisation_id, user_id) references users (organisation_id, id)
);

create table api_tokens (
    token_hash text primary key,
    organisation_id uuid not null,
    user_id uuid not null,
    name text not null,
    created_at timestamptz not null,
    constraint api_tokens_user_fkey foreign key (organisation_id, user_id) references users (organisation_id, id)
);

create table categories (
    organisation_id uuid not null,
    id uuid not null,
    parent_id uuid,
    name text not null,
    default_unit_id uuid,
    petition_type text,
    position integer not null default 0,
    active boolean not null default true,
    created_at timestamptz not null,
    constraint categories_pkey primary key (organisation_id, id),
    constraint categories_parent_fkey foreign key (organisation_id, parent_id) references categories (organisation_id, id),
    constraint categories_unit_fkey foreign key (organisation_id, default_unit_id) references units (organisation_id, id)
);
-- One name per parent; top-level categories (no parent) share the nil parent.
create unique index categories_name_key on categories
    (organisation_id, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), name);

create table rule_sets (
    organisation_id uuid not null references organisations (id),
    id uuid not null,
    version integer not null,
    name text not null,
    body jsonb not null,
    is_default boolean not null default false,
    created_at timestamptz not null,
    constraint rule_sets_pkey primary key (organisation_id, id, version)
);

create table calendar_days (
    organisation_id uuid not null references organisations (id),
    day date not null,
    kind text not null,
    name_zh text not null,
    constraint calendar_days_pkey primary key (organisation_id, day)
);

create table petitioners (
    organisation_id uuid not null references organisations (id),
    id uuid not null,
    name text,
    phone_enc bytea,
    phone_mac bytea,
    phone_masked text,
    id_kind text,
    id_enc bytea,
    id_mac bytea,
    id_masked text,
    address_enc bytea,
    created_at timestamptz not null,
    constraint petitioners_pkey primary key (organisation_id, id)
);
create index petitioners_phone_mac_idx on petitioners (organisation_id, phone_mac);
create index petitioners_id_mac_idx on petitioners (organisation_id, id_mac);

-- seq orders matters registered in the same instant, as SQLite's rowid does.
create table matters (
    organisation_id uuid not null references organisations (id),
    id uuid not null,
    seq bigint generated always as identity,
    tracking_code text not null,
    secret_mac bytea not null,
    channel text not null,
    external_id text,
    title text not null,
    location text,
    petition_type text,
    category_id uuid,
    urgency text not null,
    people_count integer not null,
    lead_unit_id uuid,
    owning_leader_id uuid,
    state text not null,
    registered_at timestamptz not null,
    replied_at timestamptz,
    deadline_kind text,
    due_at timestamptz,
    due_soon_at timestamptz,
    paused boolean not null default false,
    body jsonb not null,
    -- The channel's payload, encrypted (it often carries the caller's numbers).
    raw_payload bytea,
    updated_at timestamptz not null,
    constraint matters_id_key primary key (organisation_id, id),
    -- Global: a petitioner tracks with the code alone, without naming an organisation.
    constraint matters_tracking_code_key unique (tracking_code),
    constraint matters_channel_external_id_key unique (organisation_id, channel, external_id)
);
create index matters_registered_idx on matters (organisation_id, registered_at desc, seq desc);
create index matters_state_idx on matters (organisation_id, state, registered_at desc);
create index matters_unit_idx on matters (organisation_id, lead_unit_id, registered_at desc);
create index matters_category_idx on matters (organisation_id, category_id, registered_at desc);
create index matters_channel_idx on matters (organisation_id, channel, registered_at desc);
create index matters_due_idx on matters (organisation_id, due_at) where due_at is not null;

-- Jieba tokens of title and content (xinfang_nlp::index_tokens) as a 'simple' tsvector. A table
-- of its own, written once at registration: every transition rewrites the matters row, and
-- with the vector there each rewrite would also re-insert it into the GIN index.
create table matter_search (
    organisation_id uuid not null,
    matter_id uuid not null,
    search tsvector not null,
    constraint matter_search_pkey primary key (organisation_id, matter_id),
    constraint matter_search_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id)
);
create index matter_search_gin on matter_search using gin (search);

create table matter_units (
    organisation_id uuid not null,
    matter_id uuid not null,
    unit_id uuid not null,
    role text not null,
    constraint matter_units_pkey primary key (organisation_id, matter_id, unit_id),
    constraint matter_units_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id),
    constraint matter_units_unit_fkey foreign key (organisation_id, unit_id) references units (organisation_id, id)
);
create index matter_units_unit_idx on matter_units (organisation_id, unit_id, matter_id);

create table matter_petitioners (
    organisation_id uuid not null,
    matter_id uuid not null,
    petitioner_id uuid not null,
    position integer not null,
    constraint matter_petitioners_pkey primary key (organisation_id, matter_id, petitioner_id),
    constraint matter_petitioners_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id),
    constraint matter_petitioners_petitioner_fkey foreign key (organisation_id, petitioner_id) references petitioners (organisation_id, id)
);
create index matter_petitioners_petitioner_idx on matter_petitioners (organisation_id, petitioner_id);

-- Append-only audit events, hash-chained per organisation (seq is the position in the chain).
-- Times are stored to the microsecond, which is the precision the hash covers.
create table events (
    organisation_id uuid not null references organisations (id),
    seq bigint not null,
    id uuid not null,
    matter_id uuid,
    kind text not null,
    actor_kind text not null,
    actor_user_id uuid,
    actor_name text,
    occurred_at timestamptz not null,
    recorded_at timestamptz not null,
    reason text,
    before_state text,
    after_state text,
    data text not null,
    prev_hash text not null,
    hash text not null,
    constraint events_pkey primary key (organisation_id, seq),
    constraint events_id_key unique (organisation_id, id)
);
create index events_matter_idx on events (organisation_id, matter_id, seq);

create function events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'events are append-only';
end
$$;
create trigger events_no_update before update on events
    for each row execute function events_append_only();
create trigger events_no_delete before delete on events
    for each row execute function events_append_only();
-- TRUNCATE fires no row triggers: refuse it too.
create trigger events_no_truncate before truncate on events
    for each statement execute function events_append_only();

-- Each organisation's chain head. Appending locks this row (SELECT … FOR UPDATE) for the rest
-- of the transaction, which serialises appends across every app node sharing the database.
create table audit_heads (
    organisation_id uuid primary key references organisations (id),
    seq bigint not null,
    hash text not null
);
