-- Migration 29: the agencies of a procedure by its code. Writing a procedure replaces its
-- receiving agencies (`DELETE ... WHERE procedure_code = ?`), and the primary key leads with
-- the agency, so each write scanned the whole table: ~5 ms at 100,000 rows (800 commune-level
-- procedures at 124 communes), once per procedure an import adds or changes.
CREATE INDEX procedure_agencies_code ON procedure_agencies(procedure_code);
