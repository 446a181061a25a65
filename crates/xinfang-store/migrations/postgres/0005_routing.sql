-- The routing model in the server (kept in step with sqlite/0005_routing.sql): stored model
-- versions (one active), labelled examples imported by admins, routing rules and threshold,
-- and per matter the suggestion the model made.

create table models (
    organisation_id uuid not null references organisations (id),
    version integer not null,
    created_at timestamptz not null,
    -- The admin who asked for it; NULL for the background job.
    trained_by uuid,
    training_size integer not null,
    -- ModelInfo without the weights (labels, counts, cross-validated figures), as JSON.
    info jsonb not null,
    body bytea not null,
    active boolean not null default false,
    constraint models_pkey primary key (organisation_id, version)
);
create unique index models_active_idx on models (organisation_id) where active;

create table training_examples (
    organisation_id uuid not null references organisations (id),
    id uuid not null,
    text text not null,
    category_id uuid not null,
    source text not null,
    created_at timestamptz not null,
    constraint training_examples_pkey primary key (organisation_id, id),
    constraint training_examples_category_fkey foreign key (organisation_id, category_id) references categories (organisation_id, id)
);

create table routing_settings (
    organisation_id uuid primary key references organisations (id),
    threshold real not null,
    updated_at timestamptz not null
);

create table routing_rules (
    organisation_id uuid not null references organisations (id),
    position integer not null,
    category_id uuid not null,
    unit_id uuid not null,
    location_contains text,
    channel text,
    priority integer not null,
    constraint routing_rules_pkey primary key (organisation_id, position),
    constraint routing_rules_category_fkey foreign key (organisation_id, category_id) references categories (organisation_id, id),
    constraint routing_rules_unit_fkey foreign key (organisation_id, unit_id) references units (organisation_id, id)
);

create table matter_suggestions (
    organisation_id uuid not null,
    matter_id uuid not null,
    model_version integer not null,
    -- The top 3 with probabilities and the words behind the first, as JSON.
    prediction jsonb not null,
    top_category_id uuid,
    top_probability real not null,
    unit_id uuid,
    route text not null,
    created_at timestamptz not null,
    constraint matter_suggestions_pkey primary key (organisation_id, matter_id),
    constraint matter_suggestions_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id)
);
create index matter_suggestions_route_idx on matter_suggestions (organisation_id, route, created_at desc);

-- The organisation's user dictionary for segmentation (unit names, places such as T3航站楼),
-- as the admin edited it: one word a line, `word [frequency] [tag]`.
create table user_dictionaries (
    organisation_id uuid primary key references organisations (id),
    body text not null,
    updated_at timestamptz not null,
    updated_by uuid
);
