#!/usr/bin/env bash
# Time a full 65,535-port TCP connect scan by rampart and by `nmap -sT -p-`
# in one run, print the ratio, and check that both find exactly the same
# open ports.
#
# Everything runs inside a network namespace this script creates, with its
# own loopback and its own listeners (scripts/bench/benchserver): the
# machine's loopback carries services that are not ours and is never swept.
#
#   sudo scripts/bench/ports.sh
#
# Env: RUNS=5 (rampart and nmap interleaved; medians reported)
#      PORTS=1,22,80,...  the ports the listeners open (default: 24 spread over the range)
#      OUT=/tmp/rampart-bench-ports (binaries, inventory, raw outputs)
#      RAMPART=path (use this rampart binary instead of building one)
# Needs root (ip netns add), nmap, python3, go.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-ports}"
RUNS="${RUNS:-5}"
PORTS="${PORTS:-1,7,22,80,443,1099,3306,4000,5432,5672,8080,8243,8280,9443,9763,9999,11111,20000,33333,40000,50000,60000,65000,65535}"
NS="rampart-bench-ports-$$"
mkdir -p "$OUT"

[[ $(id -u) -eq 0 ]] || { echo "needs root for ip netns" >&2; exit 2; }
command -v nmap >/dev/null || { echo "needs nmap" >&2; exit 2; }

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

# The listeners accept and close: bare TCP services, so rampart's
# identification runs on each open port but leads to no further probes.
ip netns exec "$NS" "$OUT/benchserver" -addrs 127.0.0.1 -raw "$PORTS" >"$OUT/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do grep -q '^ready' "$OUT/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$OUT/server.out" || { cat "$OUT/server.out" >&2; exit 1; }

cat >"$OUT/inventory.yaml" <<EOF
targets:
  - name: bench
    address: 127.0.0.1
    ports: 1-65535
EOF

NS="$NS" OUT="$OUT" RUNS="$RUNS" PORTS="$PORTS" python3 - <<'PY'
import json, os, re, statistics, subprocess, sys, time

ns, out, runs = os.environ["NS"], os.environ["OUT"], int(os.environ["RUNS"])
want = sorted(int(p) for p in os.environ["PORTS"].split(","))
inside = ["ip", "netns", "exec", ns]

def timed(argv):
    t = time.perf_counter()
    p = subprocess.run(inside + argv, capture_output=True, text=True)
    return time.perf_counter() - t, p

def rampart():
    el, p = timed([os.path.join(out, "rampart"), "facts", "@" + os.path.join(out, "inventory.yaml"), "--format", "json"])
    if p.returncode not in (0, 3):
        sys.exit("rampart failed: %s" % p.stderr)
    facts = json.loads(p.stdout)
    facts = facts if isinstance(facts, list) else [facts]
    ports = next(f["ports"] for f in facts if f["target"]["kind"] == "node")
    return el, sorted(o["port"] for o in ports["open"]), ports

def nmap():
    el, p = timed(["nmap", "-n", "-Pn", "-sT", "-p-", "127.0.0.1", "-oG", "-"])
    if p.returncode != 0:
        sys.exit("nmap failed: %s" % p.stderr)
    m = re.search(r"Ports: (.*?)(\t|$)", p.stdout, re.M)
    opened = sorted(int(x.split("/")[0]) for x in (m.group(1).split(", ") if m else []) if "/open/" in x)
    return el, opened

rt, nt = [], []
for i in range(runs):
    el, r_open, facts = rampart()
    rt.append(el)
    el, n_open = nmap()
    nt.append(el)
    if r_open != n_open or r_open != want:
        sys.exit("run %d: open ports differ:\n  rampart %s\n  nmap    %s\n  want    %s" % (i + 1, r_open, n_open, want))
r, n = statistics.median(rt), statistics.median(nt)
print("65,535-port TCP connect scan of a namespace loopback with %d listeners, %d runs (medians)" % (len(want), runs))
print("  rampart facts (scan + service identification): %6.2f s   runs %s" % (r, " ".join("%.2f" % x for x in rt)))
print("  nmap -sT -p-                                 : %6.2f s   runs %s" % (n, " ".join("%.2f" % x for x in nt)))
print("  ratio nmap/rampart: %.2fx (%s)" % (n / r, "rampart faster" if r < n else "rampart SLOWER"))
print("  both found the same %d open ports: %s" % (len(want), ",".join(map(str, want))))
print("  rampart services: %s" % ", ".join("%d/%s" % (o["port"], o["service"]) for o in facts["open"][:8]) + ", ...")
PY
