-- Migration 31: the catalogue's generation, one more with every write of procedures, so that a
-- node's periodic catalogue reload reads every published record (100,000 of them: ~10 s of a
-- core every two minutes) only when one may have changed.
CREATE TABLE catalogue_generation (
    id smallint PRIMARY KEY CHECK (id = 1),
    n bigint NOT NULL
);
INSERT INTO catalogue_generation (id, n) VALUES (1, 0);
