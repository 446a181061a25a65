-- Intake intelligence (kept in step with postgres/0004_intake.sql): the near-duplicate index
-- every app node shares (xinfang_nlp::dedup), the links it found, the triage of each matter
-- (xinfang_nlp::triage), and each organisation's editable triage lexicon.

-- One MinHash signature per matter (Signature::to_bytes) and the version of the constants it
-- was computed with: a change of those bumps SIGNATURE_VERSION and older rows are recomputed.
create table matter_signatures (
    organisation_id text not null,
    matter_id text not null,
    version integer not null,
    signature blob not null,
    created_at text not null,
    constraint matter_signatures_pkey primary key (organisation_id, matter_id),
    constraint matter_signatures_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id)
);

-- The LSH band keys (40 per matter). A lookup is 40 probes of this primary key, which is also
-- the table itself (without rowid): no second copy of 40 rows per matter.
create table matter_bands (
    organisation_id text not null,
    band_key integer not null,
    matter_id text not null,
    constraint matter_bands_pkey primary key (organisation_id, band_key, matter_id)
) without rowid;

-- What intake found: the new matter (matter_id) is a duplicate, repeat, joint petition of, or
-- similar to, an earlier one (linked_matter_id). Only kind = 'repeat' enters the repeat rate.
create table matter_links (
    organisation_id text not null,
    matter_id text not null,
    linked_matter_id text not null,
    kind text not null check (kind in ('duplicate', 'repeat', 'joint', 'similar')),
    similarity real not null,
    created_at text not null,
    constraint matter_links_pkey primary key (organisation_id, matter_id, linked_matter_id),
    constraint matter_links_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id),
    constraint matter_links_linked_fkey foreign key (organisation_id, linked_matter_id) references matters (organisation_id, id)
);
-- The other direction: "later matters that repeat this one".
create index matter_links_linked_idx on matter_links (organisation_id, linked_matter_id);

-- The machine's triage of a matter: suggestions a person confirms at classification.
create table matter_triage (
    organisation_id text not null,
    matter_id text not null,
    petition_type text,
    type_confidence real,
    urgency text not null,
    emotional_intensity real not null,
    alerts text not null,
    evidence text not null,
    lexicon_revision integer not null,
    assessed_at text not null,
    constraint matter_triage_pkey primary key (organisation_id, matter_id),
    constraint matter_triage_matter_fkey foreign key (organisation_id, matter_id) references matters (organisation_id, id)
);

-- An organisation's triage lexicon (absent: the built-in one). revision grows with each save,
-- so every node can tell whether its compiled copy is current.
create table lexicons (
    organisation_id text primary key references organisations (id),
    body text not null,
    revision integer not null,
    updated_at text not null,
    updated_by text
);
