#!/usr/bin/env bash
# Time a full 65,535-port TCP connect scan by rampart (discovery and
# identification of every open port, one pipeline) and by `nmap -sT -p-`
# in one run, print the ratio, check that both find exactly the same open
# ports, and that rampart names each service as it is: ssh, http, https,
# tls, and unknown for the listeners that never speak (tarpits, idle
# brokers) and those that close at once.
#
# Everything runs inside a network namespace this script creates, with its
# own loopback and its own listeners (scripts/bench/benchserver): the
# machine's loopback carries services that are not ours and is never swept.
#
#   sudo scripts/bench/ports.sh
#
# Env: RUNS=5 (rampart and nmap interleaved; medians reported)
#      PORTS=1,7,...  listeners that accept and close (default: 16 spread over the range)
#      SSH=22,2022 HTTP=80,18080 HTTPS=443,18443 TLS=7443,27443  talking listeners
#      SILENT=5672,9999,40000,61616,65535  listeners that accept and never speak
#      OUT=/tmp/rampart-bench-ports (binaries, raw outputs)
#      RAMPART=path (use this rampart binary instead of building one)
#      RAMPART_ARGS="--per-host 16" (more arguments for rampart facts)
# rampart runs as `rampart facts 127.0.0.1 --collectors ports --ports 1-65535`.
# Needs root (ip netns add), nmap, python3, go.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-ports}"
RUNS="${RUNS:-5}"
PORTS="${PORTS:-1,7,1099,3306,4000,5432,8080,8243,8280,9443,9763,11111,20000,33333,50000,60000}"
SSH="${SSH:-22,2022}"
HTTP="${HTTP:-80,18080}"
HTTPS="${HTTPS:-443,18443}"
TLS="${TLS:-7443,27443}"
SILENT="${SILENT:-5672,9999,40000,61616,65535}"
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

ip netns exec "$NS" "$OUT/benchserver" -addrs 127.0.0.1 -raw "$PORTS" -ssh "$SSH" -http "$HTTP" -https "$HTTPS" \
  -tls "$TLS" -silent "$SILENT" >"$OUT/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do grep -q '^ready' "$OUT/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$OUT/server.out" || { cat "$OUT/server.out" >&2; exit 1; }

NS="$NS" OUT="$OUT" RUNS="$RUNS" RAMPART_ARGS="${RAMPART_ARGS:-}" PORTS="$PORTS" SSH="$SSH" HTTP="$HTTP" HTTPS="$HTTPS" TLS="$TLS" SILENT="$SILENT" python3 - <<'PY'
import json, os, re, resource, statistics, subprocess, sys, time

ns, out, runs = os.environ["NS"], os.environ["OUT"], int(os.environ["RUNS"])
extra = os.environ.get("RAMPART_ARGS", "").split()
service = {}
for var, svc in (("PORTS", "unknown"), ("SSH", "ssh"), ("HTTP", "http"), ("HTTPS", "https"), ("TLS", "tls"), ("SILENT", "unknown")):
    for p in filter(None, os.environ[var].split(",")):
        service[int(p)] = svc
want = sorted(service)
inside = ["ip", "netns", "exec", ns]

def timed(argv):
    """Wall seconds and the process (ip netns exec and its child)."""
    t = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(inside + argv, capture_output=True, text=True)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p.cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    return time.perf_counter() - t, p

def rampart():
    el, p = timed([os.path.join(out, "rampart"), "facts", "127.0.0.1", "--collectors", "ports", "--ports", "1-65535", "--format", "json", "--log-level", "debug"] + extra)
    if p.returncode not in (0, 3):
        sys.exit("rampart failed: %s" % p.stderr)
    facts = json.loads(p.stdout)
    facts = facts if isinstance(facts, list) else [facts]
    ports = next(f["ports"] for f in facts if f["target"]["kind"] == "node")
    # Where the time went: the connect scan (discovery), and how long
    # identification went on after it (the pipeline's tail).
    def elapsed(msg):
        m = re.search(r'msg="%s".* elapsed=(\S+)' % msg, p.stderr)
        return go_duration(m.group(1)) if m else float("nan")
    split.append((elapsed("port scan done"), elapsed("port identification done")))
    return el, p.cpu, sorted(o["port"] for o in ports["open"]), ports

def go_duration(s):
    """Seconds in a Go duration string (1.5s, 850ms, 2m3.1s)."""
    total = 0.0
    for n, unit in re.findall(r"([0-9.]+)(h|ms|us|µs|ns|m|s)", s):
        total += float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}[unit]
    return total

split = []

def nmap():
    el, p = timed(["nmap", "-n", "-Pn", "-sT", "-p-", "127.0.0.1", "-oG", "-"])
    if p.returncode != 0:
        sys.exit("nmap failed: %s" % p.stderr)
    m = re.search(r"Ports: (.*?)(\t|$)", p.stdout, re.M)
    opened = sorted(int(x.split("/")[0]) for x in (m.group(1).split(", ") if m else []) if "/open/" in x)
    return el, p.cpu, opened

load0 = os.getloadavg()[0]
rt, rc, nt, nc = [], [], [], []
for i in range(runs):
    # interleaved: the order alternates every run
    for who in (("rampart", "nmap") if i % 2 == 0 else ("nmap", "rampart")):
        if who == "rampart":
            el, cpu, r_open, facts = rampart()
            rt.append(el); rc.append(cpu)
        else:
            el, cpu, n_open = nmap()
            nt.append(el); nc.append(cpu)
    if r_open != n_open or r_open != want:
        sys.exit("run %d: open ports differ:\n  rampart %s\n  nmap    %s\n  want    %s" % (i + 1, r_open, n_open, want))
    wrong = ["%d: %s, want %s" % (o["port"], o["service"], service[o["port"]]) for o in facts["open"] if o["service"] != service[o["port"]]]
    if wrong:
        sys.exit("run %d: services misidentified: %s" % (i + 1, "; ".join(wrong)))
r, n = statistics.median(rt), statistics.median(nt)
kinds = {}
for p, svc in service.items():
    kinds[svc] = kinds.get(svc, 0) + 1
print("rampart facts 127.0.0.1 --collectors ports --ports 1-65535 %s" % " ".join(extra))
print("65,535-port TCP connect scan of a namespace loopback with %d listeners (%s; %d silent), %d runs (medians), load %.1f -> %.1f (2 cores)" % (
    len(want), ", ".join("%d %s" % (v, k) for k, v in sorted(kinds.items())), len(os.environ["SILENT"].split(",")), runs, load0, os.getloadavg()[0]))
print("  rampart facts (scan + identification): %6.2f s (CPU %.2f s)   runs %s" % (r, statistics.median(rc), " ".join("%.2f" % x for x in rt)))
print("  nmap -sT -p-                         : %6.2f s (CPU %.2f s)   runs %s" % (n, statistics.median(nc), " ".join("%.2f" % x for x in nt)))
print("  rampart's own split: connect scan %.2f s, identification done %.2f s after the start (%.2f s after the scan)" % (
    statistics.median(s for s, _ in split), statistics.median(i for _, i in split), statistics.median(i - s for s, i in split)))
print("  ratio rampart/nmap: %.2f (%s); per run (interleaved pairs): %s" % (r / n, "met: no slower" if r <= n else "NOT met: rampart slower",
    " ".join("%.2f" % (a / b) for a, b in zip(rt, nt))))
print("  both found the same %d open ports; rampart named every service as it is: %s" % (
    len(want), ", ".join("%d/%s" % (o["port"], o["service"]) for o in facts["open"])))
PY
