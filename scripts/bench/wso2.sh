#!/usr/bin/env bash
# Time rampart's product-file audit (`rampart scan DIR`) on every WSO2
# fixture, then on one inventory naming every fixture N times (one
# collector for all homes, as a fleet of nodes shipping the same files).
# Reports median wall time and max RSS per run. Target: under 100 ms and
# 50 MiB per product home. No peer tool reads these files, so there is no
# ratio.
#
#   scripts/bench/wso2.sh
#
# Env: RUNS=7 (runs per fixture; the median is reported)
#      COPIES=10 (how many times the inventory names each fixture)
#      OUT=/tmp/rampart-bench-wso2 (binary, inventory, raw outputs)
# Needs python3 and /usr/bin/time. Reads only ../shared/fixtures/wso2.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-wso2}"
FIX="${FIX:-$ROOT/../shared/fixtures/wso2}"
mkdir -p "$OUT"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$OUT/rampart" ./cmd/rampart)

OUT="$OUT" FIX="$FIX" RUNS="${RUNS:-7}" COPIES="${COPIES:-10}" python3 - <<'PY'
import os, re, statistics, subprocess, time

out, fix = os.environ["OUT"], os.environ["FIX"]
runs, copies = int(os.environ["RUNS"]), int(os.environ["COPIES"])
rampart = os.path.join(out, "rampart")

def timed(argv):
    tf = os.path.join(out, "time.txt")
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", "-o", tf] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    rss = 0
    for line in open(tf):
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", line)
        if m:
            rss = int(m.group(1))
    if p.returncode not in (0, 1, 3):
        raise SystemExit(f"{argv} exited {p.returncode}: {p.stderr}")
    return wall, rss

names = sorted(d for d in os.listdir(fix) if os.path.isdir(os.path.join(fix, d)))
print(f"{'fixture':28} {'median ms':>10} {'max RSS MiB':>12}")
for n in names:
    argv = [rampart, "scan", os.path.join(fix, n), "--format", "json", "--fail-on", "none"]
    timed(argv)  # warm the page cache
    ws, rs = zip(*(timed(argv) for _ in range(runs)))
    print(f"{n:28} {statistics.median(ws)*1000:10.1f} {max(rs)/1024:12.1f}")

inv = os.path.join(out, "inventory.yaml")
with open(inv, "w") as f:
    f.write("targets:\n")
    for i in range(copies):
        for n in names:
            f.write(f"  - name: {n}-{i}\n    directory: {os.path.join(fix, n)}\n")
argv = [rampart, "scan", "@" + inv, "--format", "json", "--fail-on", "none"]
timed(argv)
ws, rs = zip(*(timed(argv) for _ in range(max(1, runs // 2))))
homes = copies * len(names)
print(f"inventory of {homes} homes: median {statistics.median(ws)*1000:.0f} ms "
      f"({statistics.median(ws)*1000/homes:.1f} ms a home), max RSS {max(rs)/1024:.1f} MiB")
PY
