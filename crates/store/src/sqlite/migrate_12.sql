-- Migration 12: queue numbers at one-stop centres (issue 5). Groups and counters are set-up
-- data (JSON in `data`); tickets are rows that move waiting -> called -> serving -> done or
-- no_show. `queue_seq` holds the last number given per centre, day and group.
CREATE TABLE queue_groups (
    centre TEXT NOT NULL,
    code TEXT NOT NULL,
    prefix TEXT NOT NULL,
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (centre, code),
    UNIQUE (centre, prefix)
);
CREATE TABLE queue_counters (
    centre TEXT NOT NULL,
    number INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (centre, number)
);
CREATE TABLE queue_seq (
    centre TEXT NOT NULL,
    day TEXT NOT NULL,
    grp TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (centre, day, grp)
);
CREATE TABLE queue_tickets (
    id TEXT PRIMARY KEY,
    centre TEXT NOT NULL,
    day TEXT NOT NULL,
    grp TEXT NOT NULL,
    prefix TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    taken_at INTEGER NOT NULL,
    called_at INTEGER,
    last_called_at INTEGER,
    started_at INTEGER,
    done_at INTEGER,
    counter INTEGER,
    officer TEXT,
    calls INTEGER NOT NULL DEFAULT 0,
    UNIQUE (centre, day, grp, seq)
);
CREATE INDEX queue_tickets_waiting ON queue_tickets(centre, day, state, taken_at);
CREATE INDEX queue_tickets_counter ON queue_tickets(centre, counter, state);
CREATE INDEX queue_tickets_calls ON queue_tickets(centre, day, last_called_at);
