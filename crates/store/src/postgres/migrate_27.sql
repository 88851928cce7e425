-- Migration 27: the large JSON columns (a dossier's state, its events, outbox payloads; a
-- submission writes ~5 KB to each of the first two, over the 2 KB at which PostgreSQL
-- compresses) are compressed with LZ4 instead of pglz: measured on W1 (PostgreSQL,
-- 64 clients, 2 cores), pglz_compress was ~10 % of PostgreSQL's CPU and LZ4 gave 6-9 % more
-- submissions/s. Values written before keep their method; both are read transparently. A
-- server built without LZ4 keeps pglz (the notice says so) and the migration still applies.
DO $$
BEGIN
    ALTER TABLE events ALTER COLUMN body SET COMPRESSION lz4;
    ALTER TABLE dossiers ALTER COLUMN state SET COMPRESSION lz4;
    ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'this PostgreSQL has no LZ4: large values stay compressed with pglz';
END $$;
