#!/usr/bin/env python3
"""Counts the pages a SQLite WAL holds, per commit and per table or index.

Usage: walstat.py WAL DB

WAL is a copy of `motcua.db-wal` taken while the server runs (its frames since the last
restart of the log); DB is the database file, whose `dbstat` table names the b-tree each page
belongs to (pages allocated after DB was read show as `?new`). Prints the frames, the commits,
and for each table or index its pages per commit. Used for decision 0051.
"""
import collections
import sqlite3
import struct
import sys


def main(wal, db):
    f = open(wal, "rb")
    _magic, _ver, psz, _seq, s1, s2, _c1, _c2 = struct.unpack(">8I", f.read(32))
    frames, commits = [], 0
    while True:
        fh = f.read(24)
        if len(fh) < 24:
            break
        pgno, size, fs1, fs2, _, _ = struct.unpack(">6I", fh)
        if (fs1, fs2) != (s1, s2):  # frames of an earlier generation of the log
            break
        f.seek(psz, 1)
        frames.append(pgno)
        if size:
            commits += 1
    commits = max(commits, 1)
    print(f"frames {len(frames)} commits {commits} frames/commit {len(frames) / commits:.1f}")
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    owner = dict((p, n) for n, p in c.execute("SELECT name, pageno FROM dbstat"))
    for name, k in collections.Counter(owner.get(p, "?new") for p in frames).most_common(40):
        print(f"{k / commits:8.2f} per commit {k / max(len(frames), 1) * 100:5.1f}%  {name}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
