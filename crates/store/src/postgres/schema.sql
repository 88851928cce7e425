-- motcua schema for PostgreSQL, migration 1. Mirrors ../sqlite/schema.sql: ids are uuid, times
-- timestamptz, JSON documents text (never queried inside; text avoids a parse on every write).
-- Columns that lists are ordered by use the "C" collation so that order is bytewise, as in SQLite.
CREATE TABLE agencies (
    code text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    parent text,
    admin_unit text,
    data text NOT NULL
);
CREATE TABLE admin_units (
    code text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    full_name text NOT NULL,
    province_code text
);
CREATE TABLE users (
    id uuid PRIMARY KEY,
    username text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    agency text
);
CREATE TABLE tokens (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE TABLE procedures (
    code text COLLATE "C" NOT NULL,
    version integer NOT NULL,
    status text NOT NULL,
    name text NOT NULL,
    folded text NOT NULL,
    field text NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (code, version)
);
CREATE INDEX procedures_status ON procedures(status, code);
CREATE TABLE procedure_agencies (
    procedure_code text NOT NULL,
    agency text NOT NULL,
    PRIMARY KEY (agency, procedure_code)
);
CREATE TABLE dossiers (
    id uuid PRIMARY KEY,
    code text UNIQUE,
    procedure_code text NOT NULL,
    procedure_name text NOT NULL,
    owner uuid,
    receiving_agency text NOT NULL,
    competent_agency text NOT NULL,
    current_agency text NOT NULL,
    assignee uuid,
    status text NOT NULL,
    national_status smallint NOT NULL,
    applicant_name text NOT NULL,
    submitted_at timestamptz NOT NULL,
    received_at timestamptz,
    due_at timestamptz,
    finished_at timestamptz,
    version bigint NOT NULL,
    last_hash text NOT NULL,
    state text NOT NULL
);
CREATE INDEX dossiers_owner ON dossiers(owner, submitted_at);
CREATE INDEX dossiers_current ON dossiers(current_agency, submitted_at);
CREATE INDEX dossiers_receiving ON dossiers(receiving_agency, submitted_at);
CREATE INDEX dossiers_competent ON dossiers(competent_agency, submitted_at);
CREATE TABLE events (
    dossier_id uuid NOT NULL,
    seq bigint NOT NULL,
    kind text NOT NULL,
    at timestamptz NOT NULL,
    actor uuid NOT NULL,
    agency text NOT NULL,
    body text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    PRIMARY KEY (dossier_id, seq)
);
CREATE TABLE code_counters (
    agency text NOT NULL,
    day date NOT NULL,
    last integer NOT NULL,
    PRIMARY KEY (agency, day)
);
CREATE TABLE idempotency (
    actor uuid NOT NULL,
    key text NOT NULL,
    dossier_id uuid NOT NULL,
    PRIMARY KEY (actor, key)
);
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic text NOT NULL,
    key text NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'pending',
    last_error text
);
CREATE INDEX outbox_pending ON outbox(status, id);
-- Statistics counters. Unlike SQLite (one writer, no row locks), every transaction here that
-- bumps the same (agency, day, metric) row would queue on that row's lock until the previous one
-- committed, so each figure is spread over a few `shard` rows (chosen from the dossier id) and
-- read back as their sum.
CREATE TABLE counters (
    agency text COLLATE "C" NOT NULL,
    day date NOT NULL,
    metric text COLLATE "C" NOT NULL,
    shard smallint NOT NULL,
    value bigint NOT NULL,
    PRIMARY KEY (agency, day, metric, shard)
);
