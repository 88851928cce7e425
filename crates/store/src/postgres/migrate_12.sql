-- Migration 12: queue numbers at one-stop centres (issue 5). Groups and counters are set-up
-- data (JSON in `data`); tickets are rows that move waiting -> called -> serving -> done or
-- no_show. `queue_seq` holds the last number given per centre, day and group.
CREATE TABLE queue_groups (
    centre text NOT NULL,
    code text NOT NULL,
    prefix text NOT NULL,
    position integer NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (centre, code),
    UNIQUE (centre, prefix)
);
CREATE TABLE queue_counters (
    centre text NOT NULL,
    number integer NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (centre, number)
);
CREATE TABLE queue_seq (
    centre text NOT NULL,
    day date NOT NULL,
    grp text NOT NULL,
    last integer NOT NULL,
    PRIMARY KEY (centre, day, grp)
);
CREATE TABLE queue_tickets (
    id uuid PRIMARY KEY,
    centre text NOT NULL,
    day date NOT NULL,
    grp text NOT NULL,
    prefix text NOT NULL,
    seq integer NOT NULL,
    state text NOT NULL,
    taken_at timestamptz NOT NULL,
    called_at timestamptz,
    last_called_at timestamptz,
    started_at timestamptz,
    done_at timestamptz,
    counter integer,
    officer uuid,
    calls integer NOT NULL DEFAULT 0,
    UNIQUE (centre, day, grp, seq)
);
CREATE INDEX queue_tickets_waiting ON queue_tickets(centre, day, state, taken_at);
CREATE INDEX queue_tickets_counter ON queue_tickets(centre, counter, state);
CREATE INDEX queue_tickets_calls ON queue_tickets(centre, day, last_called_at);
