-- Migration 24: the agency roll-up of the statistics counters (issue #6, decision 0036). Every
-- dimensioned row (`d|...` daily, `m|...` monthly) is summed again without its procedure and
-- field, keeping the channel for the received figures and the online level for those received
-- online (`StatKey::rolled_up`), into `ad|...` rows dated 1200 years back and `am|...` rows dated
-- 1600 years back (`row_date`; monthly rows already sit 1000 years back). The writers add both
-- from now on; `motcua verify stats` checks them like any counter.
DELETE FROM counters
WHERE (metric >= 'ad|' AND metric < 'ad}') OR (metric >= 'am|' AND metric < 'am}');
INSERT INTO counters (agency, day, metric, value)
WITH p1 AS (
    SELECT agency, day, value, substr(metric, 1, 1) AS g, substr(metric, 3) AS r1
    FROM counters
    WHERE (metric >= 'd|' AND metric < 'd}') OR (metric >= 'm|' AND metric < 'm}')
), p2 AS (
    SELECT agency, day, value, g,
           substr(r1, 1, instr(r1, '|') - 1) AS fig,
           substr(r1, instr(r1, '|') + 1) AS r2
    FROM p1
), p3 AS (
    SELECT agency, day, value, g, fig, substr(r2, instr(r2, '|') + 1) AS r3
    FROM p2
), p4 AS (
    SELECT agency, day, value, g, fig,
           substr(r3, 1, instr(r3, '|') - 1) AS chan,
           substr(r3, instr(r3, '|') + 1) AS r4
    FROM p3
), p5 AS (
    SELECT agency, value,
           printf('%04d', CAST(substr(day, 1, 4) AS INTEGER) - CASE g WHEN 'd' THEN 1200 ELSE 600 END)
               || substr(day, 5) AS rday,
           'a' || g || '|' || fig || '||'
               || CASE WHEN fig IN ('recv', 'recv_dig') THEN chan ELSE '' END || '|'
               || CASE WHEN fig = 'recv' AND chan = 'online' THEN substr(r4, 1, instr(r4, '|') - 1) ELSE '' END
               || '|' AS rmetric
    FROM p4
)
SELECT agency, rday, rmetric, sum(value) FROM p5
GROUP BY agency, rday, rmetric
HAVING sum(value) <> 0
