#!/usr/bin/env bash
# Audit a fleet of TLS and HTTP endpoints from one inventory and report
# the wall time, CPU and peak memory (max RSS) of the whole scan.
#
# The endpoints are listeners of one test server (scripts/bench/benchserver)
# on ADDRS loopback addresses x 4 ports (HTTPS 9443 and 8243, HTTP 9763 and
# 8280), inside a network namespace this script creates: nothing outside it
# is scanned, and no port of the machine's own loopback is touched.
#
#   sudo scripts/bench/fleet.sh                       # 1,000 endpoints
#   sudo ADDRS=2500 scripts/bench/fleet.sh            # 10,000 endpoints
#   sudo SIZES="250 1250 2500" scripts/bench/fleet.sh # growth: 1,000, 5,000, 10,000
#
# Env: ADDRS=250 (loopback addresses 127.0.10.1 ... 127.0.10.250, then
#        127.0.11.1 ...: 250 per /24, at most 2500; 4 endpoints each)
#      SIZES="250 2500" (several fleet sizes in turn, one server each; then
#        a table of how time and memory grow)
#      MODE=endpoints (the inventory lists the 1,000 URLs) or nodes (it lists
#        the 250 addresses as nodes: rampart port-scans them, identifies the
#        services and audits the 1,000 endpoints it finds)
#      CONCURRENCY=8 (rampart --concurrency: targets at once; its default)
#      RUNS=1
#      OUT=/tmp/rampart-bench-fleet
#      RAMPART=path (use this binary instead of building one)
# Targets (issue 14): 10,000 endpoints in under 60 s and under 300 MiB on
# this 2-core machine, growing linearly or better from 1,000.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-fleet}"
ADDRS="${ADDRS:-250}"
SIZES="${SIZES:-$ADDRS}"
CONCURRENCY="${CONCURRENCY:-8}"
MODE="${MODE:-endpoints}"
RUNS="${RUNS:-1}"
NS="rampart-bench-fleet-$$"
mkdir -p "$OUT"

[[ $(id -u) -eq 0 ]] || { echo "needs root for ip netns" >&2; exit 2; }
for a in $SIZES; do (( a >= 1 && a <= 2500 )) || { echo "ADDRS must be 1-2500" >&2; exit 2; }; done
# One descriptor per listener (4 per address), and the connections.
ulimit -n "$(ulimit -Hn)"
for a in $SIZES; do
  (( $(ulimit -n) > a * 4 + 1000 )) || { echo "needs more than $((a * 4 + 1000)) open files (ulimit -Hn $(ulimit -Hn))" >&2; exit 2; }
done

if [[ -n "${RAMPART:-}" ]]; then cp "$RAMPART" "$OUT/rampart"; else (cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart); fi
(cd "$ROOT" && go build -o "$OUT/benchserver" ./scripts/bench/benchserver)

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; fi
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT

# addr I: the I-th address (1-based), 250 per /24 from 127.0.10.1.
addr() { echo "127.0.$(( 10 + ($1 - 1) / 250 )).$(( ($1 - 1) % 250 + 1 ))"; }

: >"$OUT/growth"
for ADDRS in $SIZES; do
cleanup
SERVER_PID=""
ip netns add "$NS"
ip -n "$NS" link set lo up

ranges=""
for (( i = 1; i <= ADDRS; i += 250 )); do
  last=$(( i + 249 < ADDRS ? i + 249 : ADDRS ))
  ranges="${ranges:+$ranges,}$(addr "$i")-$(addr "$last")"
done
ip netns exec "$NS" "$OUT/benchserver" -addrs "$ranges" -https 9443,8243 -http 9763,8280 >"$OUT/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do grep -q '^ready' "$OUT/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$OUT/server.out" || { cat "$OUT/server.out" >&2; exit 1; }

{
  echo "defaults:"
  echo "  role: internal"
  echo "targets:"
  for i in $(seq "$ADDRS"); do
    a=$(addr "$i")
    if [[ "$MODE" == nodes ]]; then
      echo "  - {name: node$i, address: $a, ports: \"22,4000,8243,8280,9443,9763,9999\"}"
      continue
    fi
    for ep in "https://$a:9443/" "https://$a:8243/" "http://$a:9763/" "http://$a:8280/"; do
      echo "  - address: $ep"
    done
  done
} >"$OUT/fleet.yaml"
N=$((ADDRS * 4))
[[ "$MODE" == nodes ]] && N=$((ADDRS * 5))

# CPU seconds the benchserver has used so far (it shares the 2 cores).
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$SERVER_PID/stat"; }

for run in $(seq "$RUNS"); do
  scpu0=$(server_cpu)
  set +e
  ip netns exec "$NS" /usr/bin/time -v -o "$OUT/time.$run" "$OUT/rampart" scan "@$OUT/fleet.yaml" \
    --concurrency "$CONCURRENCY" -f json -o "$OUT/report.$run.json" 2>"$OUT/stderr.$run"
  code=$?
  set -e
  scpu1=$(server_cpu)
  if (( code > 3 )); then echo "rampart failed ($code):" >&2; tail -5 "$OUT/stderr.$run" >&2; exit 1; fi
  # The connections the server accepted so far (it prints them on SIGUSR1).
  before=$(grep -c '^connections' "$OUT/server.out" || true)
  kill -USR1 "$SERVER_PID"
  for _ in $(seq 50); do (( $(grep -c '^connections' "$OUT/server.out" || true) > before )) && break; sleep 0.1; done
  conns=$(grep '^connections' "$OUT/server.out" | tail -1 | cut -d' ' -f2)
  prev=$(grep '^connections' "$OUT/server.out" | tail -2 | head -1 | cut -d' ' -f2)
  (( before > 0 )) || prev=0
  CONNS=$(( ${conns:-0} - ${prev:-0} ))
  OUT="$OUT" RUN="$run" N="$N" CONCURRENCY="$CONCURRENCY" CONNS="$CONNS" SERVER_CPU="$(awk -v a="$scpu0" -v b="$scpu1" 'BEGIN { printf "%.2f", b - a }')" python3 - <<'PY'
import json, os, re
out, run, n = os.environ["OUT"], os.environ["RUN"], int(os.environ["N"])
t = open(os.path.join(out, "time." + run)).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
parts = [float(x) for x in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
cpu = float(re.search(r"User time \(seconds\): (\S+)", t).group(1)) + float(re.search(r"System time \(seconds\): (\S+)", t).group(1))
r = json.load(open(os.path.join(out, "report.%s.json" % run)))
targets = r["targets"]
errs = [x for x in targets if x.get("errors")]
by = r["summary"]["byStatus"]
kinds = {}
for x in targets:
    kinds[x["kind"]] = kinds.get(x["kind"], 0) + 1
load = os.getloadavg()[0]
print("fleet: %s, --concurrency %s, run %s (load %.1f, 2 cores)" % (", ".join("%d %s" % (v, k) for k, v in sorted(kinds.items())), os.environ["CONCURRENCY"], run, load))
conns = int(os.environ["CONNS"])
print("  wall %.1f s (target < 60 s for 10,000)   CPU %.1f s   max RSS %.0f MiB (target < 300 MiB)" % (secs, cpu, rss / 1024))
print("  per endpoint: CPU %.2f ms, %.1f connections (%d accepted by the server)" % (cpu / n * 1000, conns / n, conns))
print("  the test server's CPU meanwhile: %.1f s (%.2f ms per endpoint)" % (float(os.environ["SERVER_CPU"]), float(os.environ["SERVER_CPU"]) / n * 1000))
print("  report: %d targets, %d findings (%s); %d targets with collector errors%s" % (
    len(targets), r["summary"]["total"], ", ".join("%s %d" % kv for kv in sorted(by.items()) if kv[1]), len(errs),
    (": " + errs[0]["name"] + ": " + errs[0]["errors"][0]) if errs else ""))
if len(targets) != n:
    raise SystemExit("report has %d targets, want %d" % (len(targets), n))
with open(os.path.join(out, "growth"), "a") as g:
    g.write("%d %.2f %.2f %d %d %d\n" % (n, secs, cpu, rss, len(errs), conns))
PY
done
done

python3 - "$OUT/growth" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
if len(rows) < 2:
    sys.exit(0)
print()
print("| endpoints | wall | CPU | max RSS | per 1,000 endpoints: wall, CPU | connections per endpoint | with collector errors |")
print("|---|---|---|---|---|---|---|")
for n, w, c, rss, errs, conns in rows:
    n, w, c, rss, conns = int(n), float(w), float(c), int(rss), int(conns)
    print("| %d | %.1f s | %.1f s | %.0f MiB | %.2f s, %.2f s | %.1f | %s |" % (n, w, c, rss / 1024, w / n * 1000, c / n * 1000, conns / n, errs))
PY
