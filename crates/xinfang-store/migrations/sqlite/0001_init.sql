-- xinfang schema for SQLite (the embedded default).
--
-- Every table carries organisation_id and every key starts with it, so one installation can
-- serve several organisations and the PostgreSQL schema can later be sharded by organisation.
-- Ids are UUIDv7 text. Times are RFC 3339 UTC text, which sorts chronologically.
-- Constraint names are stable: the store maps them to API errors.

create table organisations (
    id text primary key,
    name text not null,
    created_at text not null
);

create table units (
    organisation_id text not null references organisations (id),
    id text not null,
    parent_id text,
    name text not null,
    kind text not null,
    petition_office integer not null default 0,
    created_at text not null,
    constraint units_pkey primary key (organisation_id, id),
    constraint units_name_key unique (organisation_id, name),
    constraint units_parent_fkey foreign key (organisation_id, parent_id) references units (organisation_id, id)
);

create table users (
    organisation_id text not null references organisations (id),
    id text not null,
    username text not null,
    display_name text not null,
    password_hash text not null,
    active integer not null default 1,
    created_at text not null,
    constraint users_pkey primary key (organisation_id, id),
    constraint users_username_key unique (username)
);

create table user_roles (
    organisation_id text not null,
    user_id text not null,
    role text not null,
    unit_id text not null,
    constraint user_roles_pkey primary key (organisation_id, user_id, role, unit_id),
    constraint user_roles_user_fkey foreign key (organisation_id, user_id) references users (organisation_id, id),
    constraint user_roles_unit_fkey foreign key (organisation_id, unit_id) references units (organisation_id, id)
);

create table sessions (
    token_hash text primary key,
    organisation_id text not null,
    user_id text not null,
    csrf_token text not null,
    created_at text not null,
    expires_at text not null,
    constraint sessions_user_fkey foreign key (organisation_id, user_id) references users (organisation_id, id)
);

create table api_tokens (
    token_hash text primary key,
    organisation_id text not null,
    user_id text not null,
    name text not null,
    created_at text not null,
    constraint api_tokens_user_fkey foreign key (organisation_id, user_id) references users (organisation_id, id)
);

create table categories (
    organisation_id text not null,
    id text not null,
    parent_id text,
    name text not null,
    default_unit_id text,
    petition_type text,
    position integer not null default 0,
    active integer not null default 1,
    created_at text not null,
    constraint categories_pkey primary key (organisation_id, id),
    constraint categories_parent_fkey foreign key (organisation_id, parent_id) references categories (organisation_id, id),
    constraint categories_unit_fkey foreign key (organisation_id, default_unit_id) references units (organisation_id, id)
);
create unique index categories_name_key on categories (organisation_id, coalesce(parent_id, ''), name);

create table rule_sets (
    organisation_id text not null references organisations (id),
    id text not null,
    version integer not null,
    name text not null,
    body text not null,
    is_default integer not null default 0,
    created_at text not null,
    constraint rule_sets_pkey primary key (organisation_id, id, version)
);

create table calendar_days (
    organisation_id text not null references organisations (id),
    day text not null,
    kind text not null,
    name_zh text not null,
    constraint calendar_days_pkey primary key (organisation_id, day)
);

create table petitioners (
    organisation_id text not null references organisations (id),
    id text not null,
    name text,
    phone_enc blob,
    phone_mac blob,
    phone_masked text,
    id_kind text,
    id_enc blob,
    id_mac blob,
    id_masked text,
    address_enc blob,
    created_at text not null,
    constraint petitioners_pkey primary key (organisation_id, id)
);
create index petitioners_phone_mac_idx on petitioners (organisation_id, phone_mac);
create index petitioners_id_mac_idx on petitioners (organisation_id, id_mac);

-- seq is SQLite's rowid: the full-text index refers to it.
create table matters (
    seq integer primary key,
    organisation_id text not null references organisations (id),
    id text not null,
    tracking_code text not null,
    secret_mac blob not null,
    channel text not null,
    external_id text,
    title text not null,
    location text,
    petition_type text,
    category_id text,
    urgency text not null,
    people_count integer not null,
    lead_unit_id text,
    owning_leader_id text,
    state text not null,
    registered_at text not null,
    replied_at text,
    deadline_kind text,
    due_at text,
    due_soon_at text,
    paused integer not null default 0,
    body text not null,
    raw_payload text,
    updated_at text not null,
    constraint matters_id_key unique (organisation_id, id),
    constraint matters_tracking_code_key unique (tracking_code),
    constraint matters_channel_external_id_key unique (organisation_id, channel, external_id)
);
create index matters_registered_idx on matters (organisation_id, registered_at desc);
create index matters_state_idx on matters (organisation_id, state, registered_at desc);
create index matters_unit_idx on matters (organisation_id, lead_unit_id, registered_at desc);
create index matters_category_idx on matters (organisation_id, category_id, registered_at desc);
create index matters_channel_idx on matters (organisation_id, channel, registered_at desc);
create index matters_due_idx on matters (organisation_id, due_at) where due_at is not null;

create table matter_units (
    organisation_id text not null,
    matter_id text not null,
    unit_id text not null,
    role text not null,
    constraint matter_units_pkey primary key (organisation_id, matter_id, unit_id),
    constraint matter_units_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id),
    constraint matter_units_unit_fkey foreign key (organisation_id, unit_id) references units (organisation_id, id)
);
create index matter_units_unit_idx on matter_units (organisation_id, unit_id, matter_id);

create table matter_petitioners (
    organisation_id text not null,
    matter_id text not null,
    petitioner_id text not null,
    position integer not null,
    constraint matter_petitioners_pkey primary key (organisation_id, matter_id, petitioner_id),
    constraint matter_petitioners_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id),
    constraint matter_petitioners_petitioner_fkey foreign key (organisation_id, petitioner_id) references petitioners (organisation_id, id)
);
create index matter_petitioners_petitioner_idx on matter_petitioners (organisation_id, petitioner_id);

-- Append-only audit events, hash-chained per organisation (seq is the position in the chain).
create table events (
    organisation_id text not null references organisations (id),
    seq integer not null,
    id text not null,
    matter_id text,
    kind text not null,
    actor_kind text not null,
    actor_user_id text,
    actor_name text,
    occurred_at text not null,
    recorded_at text not null,
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

create trigger events_no_update before update on events
begin
    select raise(abort, 'events are append-only');
end;
create trigger events_no_delete before delete on events
begin
    select raise(abort, 'events are append-only');
end;

create table audit_heads (
    organisation_id text primary key references organisations (id),
    seq integer not null,
    hash text not null
);

-- Jieba tokens of title and content; contentless, keyed by matters.seq.
create virtual table matters_fts using fts5 (tokens, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
