#!/usr/bin/env bash
# Audit a fleet of 1,000 TLS and HTTP endpoints from one inventory and
# report the wall time and the peak memory (max RSS) of the whole scan.
#
# The endpoints are listeners of one test server (scripts/bench/benchserver)
# on 250 loopback addresses x 4 ports (HTTPS 9443 and 8243, HTTP 9763 and
# 8280), inside a network namespace this script creates: nothing outside it
# is scanned, and no port of the machine's own loopback is touched.
#
#   sudo scripts/bench/fleet.sh
#
# Env: ADDRS=250 (loopback addresses 127.0.10.1 ...; 4 endpoints each)
#      MODE=endpoints (the inventory lists the 1,000 URLs) or nodes (it lists
#        the 250 addresses as nodes: rampart port-scans them, identifies the
#        services and audits the 1,000 endpoints it finds)
#      CONCURRENCY=8 (rampart --concurrency: targets at once; its default)
#      RUNS=1
#      OUT=/tmp/rampart-bench-fleet
#      RAMPART=path (use this binary instead of building one)
# Targets: under 60 s and under 200 MiB on a 2-core machine.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-fleet}"
ADDRS="${ADDRS:-250}"
CONCURRENCY="${CONCURRENCY:-8}"
MODE="${MODE:-endpoints}"
RUNS="${RUNS:-1}"
NS="rampart-bench-fleet-$$"
mkdir -p "$OUT"

[[ $(id -u) -eq 0 ]] || { echo "needs root for ip netns" >&2; exit 2; }
(( ADDRS >= 1 && ADDRS <= 250 )) || { echo "ADDRS must be 1-250" >&2; exit 2; }

if [[ -n "${RAMPART:-}" ]]; then cp "$RAMPART" "$OUT/rampart"; else (cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart); fi
(cd "$ROOT" && go build -o "$OUT/benchserver" ./scripts/bench/benchserver)

SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up

LAST="127.0.10.$ADDRS"
ip netns exec "$NS" "$OUT/benchserver" -addrs "127.0.10.1-$LAST" -https 9443,8243 -http 9763,8280 >"$OUT/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do grep -q '^ready' "$OUT/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$OUT/server.out" || { cat "$OUT/server.out" >&2; exit 1; }

{
  echo "defaults:"
  echo "  role: internal"
  echo "targets:"
  for i in $(seq "$ADDRS"); do
    if [[ "$MODE" == nodes ]]; then
      echo "  - {name: node$i, address: 127.0.10.$i, ports: \"22,4000,8243,8280,9443,9763,9999\"}"
      continue
    fi
    for ep in "https://127.0.10.$i:9443/" "https://127.0.10.$i:8243/" "http://127.0.10.$i:9763/" "http://127.0.10.$i:8280/"; do
      echo "  - address: $ep"
    done
  done
} >"$OUT/fleet.yaml"
N=$((ADDRS * 4))
[[ "$MODE" == nodes ]] && N=$((ADDRS * 5))

for run in $(seq "$RUNS"); do
  set +e
  ip netns exec "$NS" /usr/bin/time -v -o "$OUT/time.$run" "$OUT/rampart" scan "@$OUT/fleet.yaml" \
    --concurrency "$CONCURRENCY" -f json -o "$OUT/report.$run.json" 2>"$OUT/stderr.$run"
  code=$?
  set -e
  if (( code > 3 )); then echo "rampart failed ($code):" >&2; tail -5 "$OUT/stderr.$run" >&2; exit 1; fi
  OUT="$OUT" RUN="$run" N="$N" CONCURRENCY="$CONCURRENCY" python3 - <<'PY'
import json, os, re
out, run, n = os.environ["OUT"], os.environ["RUN"], int(os.environ["N"])
t = open(os.path.join(out, "time." + run)).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
parts = [float(x) for x in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
cpu = float(re.search(r"Percent of CPU this job got: (\d+)", t).group(1))
r = json.load(open(os.path.join(out, "report.%s.json" % run)))
targets = r["targets"]
errs = [x for x in targets if x.get("errors")]
by = r["summary"]["byStatus"]
kinds = {}
for x in targets:
    kinds[x["kind"]] = kinds.get(x["kind"], 0) + 1
print("fleet: %s, --concurrency %s, run %s" % (", ".join("%d %s" % (v, k) for k, v in sorted(kinds.items())), os.environ["CONCURRENCY"], run))
print("  wall %.1f s (target < 60 s)   max RSS %.0f MiB (target < 200 MiB)   CPU %d%%" % (secs, rss / 1024, cpu))
print("  report: %d targets, %d findings (%s); %d targets with collector errors%s" % (
    len(targets), r["summary"]["total"], ", ".join("%s %d" % kv for kv in sorted(by.items()) if kv[1]), len(errs),
    (": " + errs[0]["name"] + ": " + errs[0]["errors"][0]) if errs else ""))
if len(targets) != n:
    raise SystemExit("report has %d targets, want %d" % (len(targets), n))
PY
done
