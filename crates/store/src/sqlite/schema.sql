-- motcua schema for SQLite, migration 1. Times are integer microseconds since the Unix epoch (UTC).
CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent TEXT,
    admin_unit TEXT,
    data TEXT NOT NULL
);
CREATE TABLE admin_units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    province_code TEXT
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    agency TEXT
);
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE procedures (
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    name TEXT NOT NULL,
    folded TEXT NOT NULL,
    field TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (code, version)
);
CREATE INDEX procedures_status ON procedures(status, code);
CREATE TABLE procedure_agencies (
    procedure_code TEXT NOT NULL,
    agency TEXT NOT NULL,
    PRIMARY KEY (agency, procedure_code)
) WITHOUT ROWID;
CREATE TABLE dossiers (
    id TEXT PRIMARY KEY,
    code TEXT UNIQUE,
    procedure_code TEXT NOT NULL,
    procedure_name TEXT NOT NULL,
    owner TEXT,
    receiving_agency TEXT NOT NULL,
    competent_agency TEXT NOT NULL,
    current_agency TEXT NOT NULL,
    assignee TEXT,
    status TEXT NOT NULL,
    national_status INTEGER NOT NULL,
    applicant_name TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    received_at INTEGER,
    due_at INTEGER,
    finished_at INTEGER,
    version INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX dossiers_owner ON dossiers(owner, submitted_at);
CREATE INDEX dossiers_current ON dossiers(current_agency, submitted_at);
CREATE INDEX dossiers_receiving ON dossiers(receiving_agency, submitted_at);
CREATE INDEX dossiers_competent ON dossiers(competent_agency, submitted_at);
CREATE TABLE events (
    dossier_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    agency TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (dossier_id, seq)
) WITHOUT ROWID;
CREATE TABLE code_counters (
    agency TEXT NOT NULL,
    day TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (agency, day)
) WITHOUT ROWID;
CREATE TABLE idempotency (
    actor TEXT NOT NULL,
    key TEXT NOT NULL,
    dossier_id TEXT NOT NULL,
    PRIMARY KEY (actor, key)
) WITHOUT ROWID;
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox(status, id);
CREATE TABLE counters (
    agency TEXT NOT NULL,
    day TEXT NOT NULL,
    metric TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (agency, day, metric)
) WITHOUT ROWID;
