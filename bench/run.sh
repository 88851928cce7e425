#!/usr/bin/env bash
# Runs motcua's benchmarks on this machine (127.0.0.1 only) and prints every summary line.
#
#   bench/run.sh                                   # SQLite: submit, lifecycle, fill + lookup
#   MOTCUA_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres bench/run.sh   # + PostgreSQL
#   MODES=drain bench/run.sh                       # request latency during an outbox drain
#
# Knobs (environment): DURATION (20s), CLIENTS (64), WARMUP (2s), FILL (1000000 dossiers),
# PORT (18080), OUT (results file, default bench/results/<time>.jsonl), MODES (which parts to
# run: "submit lifecycle lookup pg", and "drain", not run by default), BENCH_THREADS (worker
# threads of the load generator), DRAIN_FILL (1000000: the backlog of `drain`), DRAIN_RATE
# (1000 requests/s during `drain`), DRAIN_WINDOW (30s: its baseline).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

DURATION=${DURATION:-20s}
CLIENTS=${CLIENTS:-64}
WARMUP=${WARMUP:-2s}
FILL=${FILL:-1000000}
PORT=${PORT:-18080}
MODES=${MODES:-submit lifecycle lookup pg}
mkdir -p bench/results
OUT=${OUT:-$root/bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl}
URL="http://127.0.0.1:$PORT"
threads=()
[[ -n "${BENCH_THREADS:-}" ]] && threads=(--threads "$BENCH_THREADS")

has() { [[ " $MODES " == *" $1 "* ]]; }

# The server reads MOTCUA_* variables as settings and refuses unknown ones (MOTCUA_BENCH_PG
# included), and ./motcua.toml: it runs in an empty directory with none of them, its flags
# saying everything.
BENCH_PG=${MOTCUA_BENCH_PG:-}
server_env=()
while IFS='=' read -r name _; do
  [[ "$name" == MOTCUA_* ]] && server_env+=(-u "$name")
done < <(env)

echo "== building (release)"
cargo build --release -p motcua -p motcua-bench
target_dir=${CARGO_TARGET_DIR:-$root/target}
MOTCUA="$target_dir/release/motcua"
BENCH="$target_dir/release/motcua-bench"

work=$(mktemp -d -t motcua-bench.XXXXXX)
if has lookup; then
  # The fill needs room: about 11 KB per dossier with the current schema (measured at 20k).
  need_kb=$((FILL * 12))
  free_kb=$(df -Pk "$work" | awk 'NR==2 {print $4}')
  if [[ -n "$free_kb" && "$free_kb" -lt "$need_kb" ]]; then
    echo "warning: the fill of $FILL dossiers may need ~$((need_kb / 1024)) MiB in $work; $((free_kb / 1024)) MiB free" >&2
  fi
fi
server_pid=""
pg_db=""
pg_admin=""
summary="$work/summary.txt"
: >"$summary"

stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

cleanup() {
  stop_server
  if [[ -n "$pg_db" ]]; then
    echo "== dropping PostgreSQL database $pg_db"
    psql "$pg_admin" -q -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server LOG ARGS...: starts `motcua serve` in the background and waits for /healthz.
start_server() {
  local log=$1
  shift
  (cd "$work" && exec env "${server_env[@]}" "$MOTCUA" serve --listen "127.0.0.1:$PORT" "$@") >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    if curl -fsS "$URL/healthz" >/dev/null 2>&1; then
      echo "   server $server_pid up on $URL"
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "server exited; its log:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "server did not answer /healthz in 60 s; its log:" >&2
  tail -n 50 "$log" >&2
  exit 1
}

# bench MODE ARGS...: runs one mode and keeps its summary lines.
bench() {
  local log="$work/bench-$1-$RANDOM.log"
  "$BENCH" "${threads[@]}" "$@" --out "$OUT" 2>&1 | tee "$log"
  grep -E '^[a-z][a-z._-]* ops=' "$log" >>"$summary" || true
}

http_modes() {
  local label=$1
  echo "# $label" >>"$summary"
  if has submit; then
    echo "== submit ($label)"
    bench submit --url "$URL" --clients "$CLIENTS" --duration "$DURATION" --warmup "$WARMUP" \
      --server-pid "$server_pid" --label "$label"
  fi
  if has lifecycle; then
    echo "== lifecycle ($label)"
    bench lifecycle --url "$URL" --clients "$CLIENTS" --duration "$DURATION" --warmup "$WARMUP" \
      --server-pid "$server_pid" --label "$label"
  fi
}

# --- SQLite: intake and lifecycle on a freshly seeded database.
if has submit || has lifecycle; then
  echo "== SQLite server on a fresh data directory"
  start_server "$work/server-sqlite.log" --data-dir "$work/sqlite"
  http_modes sqlite
  stop_server
fi

# --- SQLite: fill, then status lookups on the filled database.
if has lookup; then
  echo "== fill $FILL dossiers (SQLite)"
  echo "# sqlite, $FILL dossiers filled" >>"$summary"
  bench fill --database-url "sqlite://$work/fill/motcua.db" --count "$FILL" \
    --codes "$work/codes.txt" --label sqlite
  db="$work/fill/motcua.db"
  size=$(stat -c %s "$db")
  echo "   du -sh: $(du -sh "$work/fill" | cut -f1) (directory), $(du -sh "$db" | cut -f1) ($db)"
  echo "   $((size / FILL)) bytes per dossier on disk (whole file, catalogue included)"
  echo "storage dossiers=$FILL file_bytes=$size bytes_per_dossier=$((size / FILL))" >>"$summary"
  echo "== lookup on the filled database"
  start_server "$work/server-fill.log" --data-dir "$work/fill" --no-seed
  bench lookup --url "$URL" --codes "$work/codes.txt" --clients "$CLIENTS" --duration "$DURATION" \
    --warmup "$WARMUP" --server-pid "$server_pid" --label sqlite
  stop_server
fi

# --- PostgreSQL: the same intake and lifecycle on a fresh database.
if has pg && [[ -n "$BENCH_PG" ]]; then
  command -v psql >/dev/null || { echo "MOTCUA_BENCH_PG is set but psql is not installed" >&2; exit 1; }
  base=${BENCH_PG%%\?*}
  query=""
  [[ "$BENCH_PG" == *\?* ]] && query="?${BENCH_PG#*\?}"
  rest=${base#*://}
  if [[ "$rest" == */* ]]; then prefix=${base%/*}; else prefix=$base; fi
  case "${rest#*@}" in
    127.0.0.1*|localhost*|\[::1\]*|/*) ;;
    *) echo "MOTCUA_BENCH_PG must point at this machine (127.0.0.1)" >&2; exit 1 ;;
  esac
  pg_admin=$BENCH_PG
  pg_db="motcua_bench_$(date +%s)_$RANDOM"
  echo "== PostgreSQL: creating database $pg_db"
  psql "$pg_admin" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null
  pg_url="$prefix/$pg_db$query"
  echo "   synchronous_commit=$(psql "$pg_url" -At -c 'SHOW synchronous_commit'), fsync=$(psql "$pg_url" -At -c 'SHOW fsync')"
  start_server "$work/server-pg.log" --data-dir "$work/pg" --database-url "$pg_url"
  http_modes postgres
  stop_server
elif has pg; then
  echo "== PostgreSQL skipped (set MOTCUA_BENCH_PG=postgres://user@127.0.0.1:5432/postgres to run it)"
fi

# --- SQLite: request latency without, then during, the drain of an outbox backlog (issue 7).
# `drain` starts the sandbox portal and `motcua serve` itself (twice: dispatcher off, then on).
if has drain; then
  DRAIN_FILL=${DRAIN_FILL:-1000000}
  echo "== fill $DRAIN_FILL dossiers for the drain (SQLite): one dvcqg.sync message each"
  echo "# sqlite, drain of $DRAIN_FILL messages" >>"$summary"
  bench fill --database-url "sqlite://$work/drain/motcua.db" --count "$DRAIN_FILL" \
    --codes "$work/drain-codes.txt" --label sqlite
  echo "== drain"
  bench drain --motcua "$MOTCUA" --data-dir "$work/drain" --codes "$work/drain-codes.txt" \
    --rate "${DRAIN_RATE:-1000}" --window "${DRAIN_WINDOW:-30s}" --port "$PORT" --label sqlite
fi

echo
echo "== results (JSON lines appended to $OUT)"
cat "$summary"
