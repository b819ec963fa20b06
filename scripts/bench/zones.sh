#!/usr/bin/env bash
# Scale of zones and agents: 10,000 targets (cheap HTTP listeners inside a
# target network namespace) judged from 2 zones by 4 agents, each agent in
# a namespace of its own, rampart serve in a core namespace, every process
# real (the rampart binary, and Debian's nats-server for the external run).
# It reports the throughput (jobs and targets per second), each job's
# latency (its scan; from the end of its scan until it is stored: the
# coordinator's share; from run-now until it is stored) and the peak RSS of
# serve, the agents and nats-server. Two rounds: the first finds every
# target new (the store writes every finding), the second is the steady
# state of a continuous audit.
#
#   sudo scripts/bench/zones.sh                # embedded NATS, then Debian's nats-server
#
# Env: TARGETS=10000  CONCURRENCY=8 (jobs per agent at once)  ROUNDS=2
#      MODES="embedded external"  OUT=/tmp/rampart-bench-zones
#      SERVE_CPUPROFILE=/tmp/serve.prof (serve's CPU profile, -tags pprof)
#      PIN=1: serve (with its embedded NATS) on CPU 0, the agents, the target
#      listeners on CPU 1 (with MODES=embedded; an external nats-server would
#      sit with the agents): a coordinator with a core of its own, so that
#      whether it keeps up with the agents is not hidden by the two sharing
#      every core
# Needs: root (ip netns), nats-server (apt-get install nats-server), Go.
# Everything runs inside namespaces the test creates; nothing outside them
# is scanned.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-zones}"
MODES="${MODES:-embedded external}"
mkdir -p "$OUT"
: >"$OUT/results.txt"
[[ $(id -u) -eq 0 ]] || { echo "needs root for ip netns" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || true  # 10,000 listeners and their clients
cd "$ROOT"
pin=()
if [[ "${PIN:-0}" == 1 ]]; then
  export E2E_CPUS_SERVE=0 E2E_CPUS_AGENTS=1
  pin=(taskset -c 1)
fi
for mode in $MODES; do
  ext=0; [[ "$mode" == external ]] && ext=1
  "${pin[@]}" env RAMPART_BENCH_ZONES=1 EXTERNAL=$ext BENCH_OUT="$OUT/results.txt" SERVE_LOG="$OUT/serve-$mode.log" \
    E2E_TAGS="${SERVE_CPUPROFILE:+pprof}" TARGETS="${TARGETS:-10000}" CONCURRENCY="${CONCURRENCY:-8}" ROUNDS="${ROUNDS:-2}" \
    go test -count=1 -run '^TestZonesScale$' -timeout 3h ./internal/coord/e2e >"$OUT/test-$mode.log" 2>&1 || {
      echo "zones benchmark ($mode) failed; see $OUT/test-$mode.log" >&2; tail -20 "$OUT/test-$mode.log" >&2; exit 1; }
done
cat "$OUT/results.txt"
