#!/usr/bin/env bash
# The history benchmark of rampart serve (issue 12):
#  1. bytes per run: a target of 138 real findings (scans of the API-M
#     4.5.0 and 4.1.0 fixtures) stored RUNS_BYTES times unchanged, on SQLite
#     and on PostgreSQL;
#  2. a fleet of TARGETS targets x PER findings x RUNS runs (CHANGE of the
#     findings flip in each run) plus one target of BIG findings, written
#     straight into the store's tables as SaveRun leaves them (COPY on
#     PostgreSQL, one transaction of batched inserts on SQLite: a minute or
#     two; SEED=saverun goes through SaveRun, hours at full size), then a
#     real `rampart serve` on it: the median, p99 and maximum of every page
#     and API call (N requests each; deep pages reached by the cursors of
#     the next links), and the server's peak RSS. With BEFORE=path/to/an/
#     older/rampart, that binary is timed first on the same seeded store
#     (deep pages by offset), then this one (which migrates the store at
#     start).
#
#  3. with BEFORE_HISTORY=path/to/a/history/binary built with the older
#     store, SAVERUNS times (default 1) one more run of every fleet target
#     with a third of its findings flipped stored by the older SaveRun, then
#     one by this one (history -mode saverun), alternating, after the pages.
#
#   scripts/bench/history.sh                       # SQLite, and PostgreSQL when DSN is set
#   DSN="$(scripts/ci/postgres.sh)" scripts/bench/history.sh
#
# Env: STORES="sqlite postgres", TARGETS=10000, RUNS=100, PER=20, BIG=100000,
#      CHANGE=0.01, N=50, RUNS_BYTES=1000, DSN (default $RAMPART_TEST_POSTGRES),
#      OUT=/tmp/rampart-bench-history, RAMPART=path (a built binary),
#      BEFORE=path (an older binary to time first), N_BEFORE (its requests
#      per page; default N), SEED=fast|saverun, BEFORE_KEYSET=1 (the older
#      binary pages deep by cursor too), BEFORE_HISTORY, SAVERUNS, SHARE=0.33
# Only the server this script starts is contacted (loopback, its own port);
# PostgreSQL work goes to schemas it creates and drops.
# Targets (issue 12): every page and API call under 200 ms p99, the server
# under 300 MiB.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-history}"
TARGETS="${TARGETS:-10000}" RUNS="${RUNS:-100}" PER="${PER:-20}" BIG="${BIG:-100000}"
CHANGE="${CHANGE:-0.01}" N="${N:-50}" RUNS_BYTES="${RUNS_BYTES:-1000}" SEED="${SEED:-fast}" BEFORE="${BEFORE:-}"
N_BEFORE="${N_BEFORE:-$N}" BEFORE_KEYSET="${BEFORE_KEYSET:-}" BEFORE_HISTORY="${BEFORE_HISTORY:-}"
SAVERUNS="${SAVERUNS:-1}" SHARE="${SHARE:-0.33}"
DSN="${DSN:-${RAMPART_TEST_POSTGRES:-}}"
STORES="${STORES:-sqlite${DSN:+ postgres}}"
rm -rf "$OUT"; mkdir -p "$OUT"
if [[ -n "${RAMPART:-}" ]]; then cp "$RAMPART" "$OUT/rampart"; else (cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart); fi
(cd "$ROOT" && go build -o "$OUT/history" ./scripts/bench/history)
FIX="$ROOT/../shared/fixtures/wso2"
"$OUT/rampart" scan "$FIX/apim-4.5.0" -f json -o "$OUT/a.json" --fail-on none
"$OUT/rampart" scan "$FIX/apim-4.1.0" -f json -o "$OUT/b.json" --fail-on none
REPORTS="$OUT/a.json,$OUT/b.json"

PID=""
cleanup() {
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  # storage() runs in a command substitution (a subshell): the schemas it
  # makes are named here rather than remembered there.
  if [[ -n $DSN ]]; then
    for s in bytes fleet; do psql "$DSN" -qc "DROP SCHEMA IF EXISTS rampart_bench_${s}_$$ CASCADE" >/dev/null 2>&1 || true; done
  fi
}
trap cleanup EXIT
storage() { # storage KIND NAME: a fresh data directory or PostgreSQL schema
  if [[ $1 == sqlite ]]; then echo "$OUT/$2"; return; fi
  local s="rampart_bench_$2_$$"
  psql "$DSN" -qc "CREATE SCHEMA $s" >/dev/null
  if [[ $DSN == *\?* ]]; then echo "$DSN&search_path=$s"; else echo "$DSN?search_path=$s"; fi
}

for kind in $STORES; do
  echo "== $kind: bytes per unchanged run"
  "$OUT/history" -mode bytes -storage "$(storage "$kind" bytes)" -report "$REPORTS" -runs "$RUNS_BYTES"
done
for kind in $STORES; do
  echo "== $kind: fleet of $TARGETS targets x $PER findings x $RUNS runs, one target of $BIG findings"
  st="$(storage "$kind" fleet)"
  mode=seedfast; [[ $SEED == saverun ]] && mode=seed
  "$OUT/history" -mode $mode -storage "$st" -report "$REPORTS" -targets "$TARGETS" -runs "$RUNS" -per "$PER" -big "$BIG" -change "$CHANGE"
  for which in ${BEFORE:+before} after; do
    bin="$OUT/rampart"; keyset=-keyset; n=$N
    if [[ $which == before ]]; then bin="$BEFORE"; keyset=${BEFORE_KEYSET:+-keyset}; n=$N_BEFORE; fi
    dir="$OUT/serve-$kind-$which"; mkdir -p "$dir"
    if [[ $kind == sqlite ]]; then
      printf 'listen: 127.0.0.1:0\ndata_dir: %s\nadmin: {username: admin}\n' "$st" >"$dir/serve.yaml"
    else
      printf 'listen: 127.0.0.1:0\ndata_dir: %s/data\nstorage: "%s"\nadmin: {username: admin}\n' "$dir" "$st" >"$dir/serve.yaml"
    fi
    start=$(date +%s)
    RAMPART_ADMIN_PASSWORD='the bench admin password' "$bin" serve --config "$dir/serve.yaml" 2>"$dir/serve.log" &
    PID=$!
    for _ in $(seq 6000); do grep -q 'serving https://' "$dir/serve.log" && break; sleep 0.1; done
    echo "== $kind, $which: serving after $(( $(date +%s) - start )) s (migrations included)"
    base=$(grep -o 'https://[0-9.:]*' "$dir/serve.log" | head -1)
    ca=$(sed -n 's/.*signed by the generated CA \(.*\)$/\1/p' "$dir/serve.log" | head -1)
    "$OUT/history" -mode pages -base "$base" -ca "$ca" -password 'the bench admin password' -n "$n" -pid "$PID" $keyset
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  done
  if [[ -n $BEFORE_HISTORY ]]; then
    for i in $(seq "$SAVERUNS"); do
      echo "== $kind: SaveRun of one more fleet run, $SHARE of its findings changed ($i of $SAVERUNS)"
      echo "-- before:"; "$BEFORE_HISTORY" -mode saverun -storage "$st" -share "$SHARE"
      echo "-- after:"; "$OUT/history" -mode saverun -storage "$st" -share "$SHARE"
    done
  fi
done
