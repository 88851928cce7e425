-- Migration 25: indexes for reading the statistics counters (decision 0037). Writers add to
-- shards 1-16 of a key; the rows of past days are folded into shard 0, which only the fold and
-- the rebuild write. Reports read shard 0 through `counters_folded` alone (index-only scans: no
-- heap visit per row) and the few rows still spread over shards through `counters_live`, which
-- holds only those. `value` is in `counters_folded`, so updating a shard-0 row is never a HOT
-- update: that is why writers keep off shard 0; `counters_live` has no column writers change,
-- so their updates stay HOT.
CREATE INDEX counters_folded ON counters (agency, day, metric) INCLUDE (value) WHERE shard = 0;
CREATE INDEX counters_live ON counters (agency, day, metric) WHERE shard > 0;
