-- Migration 24: the agency roll-up of the statistics counters (issue #6, decision 0036). Every
-- dimensioned row (`d|...` daily, `m|...` monthly) is summed again without its procedure and
-- field, keeping the channel for the received figures and the online level for those received
-- online (`StatKey::rolled_up`), into `ad|...` rows dated 1200 years back and `am|...` rows dated
-- 1600 years back (`row_date`; monthly rows already sit 1000 years back), shard by shard. The
-- writers add both from now on; `motcua verify stats` checks them like any counter.
DELETE FROM counters
WHERE (metric >= 'ad|' AND metric < 'ad}') OR (metric >= 'am|' AND metric < 'am}');
INSERT INTO counters (agency, day, metric, shard, value)
SELECT agency, rday, rmetric, shard, sum(value)
FROM (
    SELECT agency, shard, value,
           (day - CASE split_part(metric, '|', 1) WHEN 'd' THEN interval '1200 years'
                                                  ELSE interval '600 years' END)::date AS rday,
           'a' || split_part(metric, '|', 1) || '|' || split_part(metric, '|', 2) || '||'
               || CASE WHEN split_part(metric, '|', 2) IN ('recv', 'recv_dig')
                       THEN split_part(metric, '|', 4) ELSE '' END || '|'
               || CASE WHEN split_part(metric, '|', 2) = 'recv' AND split_part(metric, '|', 4) = 'online'
                       THEN split_part(metric, '|', 5) ELSE '' END
               || '|' AS rmetric
    FROM counters
    WHERE (metric >= 'd|' AND metric < 'd}') OR (metric >= 'm|' AND metric < 'm}')
) AS fine
GROUP BY agency, rday, rmetric, shard
HAVING sum(value) <> 0;
