-- Migration 23: feedback and complaints (phản ánh, kiến nghị; issue #6, decision 0032). One row
-- per item: the item as the domain keeps it (`body`, JSON) and the columns lists filter and
-- order on; `version` counts its steps (optimistic concurrency). Every step of its history is a
-- row of feedback_steps, written in the same transaction as the item.
CREATE TABLE feedback (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL,
    agency text NOT NULL,
    state text NOT NULL,
    subject_kind text NOT NULL,
    subject text NOT NULL,
    received_at timestamptz NOT NULL,
    due_at timestamptz,
    published_at timestamptz,
    version bigint NOT NULL,
    body text NOT NULL
);
CREATE INDEX feedback_owner ON feedback(owner, received_at);
CREATE INDEX feedback_agency_due ON feedback(agency, due_at);
CREATE INDEX feedback_agency_received ON feedback(agency, received_at);
CREATE INDEX feedback_published ON feedback(published_at) WHERE published_at IS NOT NULL;
CREATE TABLE feedback_steps (
    feedback uuid NOT NULL REFERENCES feedback(id),
    seq bigint NOT NULL,
    at timestamptz NOT NULL,
    agency text NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (feedback, seq)
);
