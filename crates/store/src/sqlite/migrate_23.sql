-- Migration 23: feedback and complaints (phản ánh, kiến nghị; issue #6, decision 0032). One row
-- per item: the item as the domain keeps it (`body`, JSON) and the columns lists filter and
-- order on; `version` counts its steps (optimistic concurrency). Every step of its history is a
-- row of feedback_steps, written in the same transaction as the item.
CREATE TABLE feedback (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    agency TEXT NOT NULL,
    state TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    due_at INTEGER,
    published_at INTEGER,
    version INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX feedback_owner ON feedback(owner, received_at);
CREATE INDEX feedback_agency_due ON feedback(agency, due_at);
CREATE INDEX feedback_agency_received ON feedback(agency, received_at);
CREATE INDEX feedback_published ON feedback(published_at) WHERE published_at IS NOT NULL;
CREATE TABLE feedback_steps (
    feedback TEXT NOT NULL REFERENCES feedback(id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    agency TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (feedback, seq)
);
