#!/usr/bin/env bash
# Time a local host audit by rampart (`rampart scan local`) and by lynis
# (`lynis audit system --quick` with the eval profile) on this machine in one
# run, and print the ratio. Target: rampart at least 50x faster.
#
#   scripts/bench/host.sh
#
# Env: RUNS=9 (rampart runs; the median is reported)
#      LYNIS_RUNS=1 (lynis takes ~60 s a run; 0 skips it and uses LYNIS_S)
#      LYNIS_S=60 (lynis wall time in seconds to use when LYNIS_RUNS=0)
#      OUT=/tmp/rampart-bench-host (raw outputs)
# Needs python3, /usr/bin/time; lynis for the comparison. Reads only local
# files and /proc; lynis runs with ../shared/eval/peers/lynis-eval.prf, which
# keeps it off the network.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-host}"
RUNS="${RUNS:-9}"
LYNIS_RUNS="${LYNIS_RUNS:-1}"
PRF="${PRF:-$ROOT/../shared/eval/peers/lynis-eval.prf}"
mkdir -p "$OUT"
(cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart)

OUT="$OUT" RUNS="$RUNS" LYNIS_RUNS="$LYNIS_RUNS" LYNIS_S="${LYNIS_S:-60}" PRF="$PRF" python3 - <<'PY'
import os, re, shutil, statistics, subprocess, time

out, runs, lruns = os.environ["OUT"], int(os.environ["RUNS"]), int(os.environ["LYNIS_RUNS"])
rampart = os.path.join(out, "rampart")

def timed(argv, name):
    tf = os.path.join(out, name + ".time")
    t = time.perf_counter()
    with open(os.path.join(out, name + ".out"), "w") as f:
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf] + argv, stdout=f, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t
    rss = 0
    for line in open(tf):
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", line)
        if m:
            rss = int(m.group(1))
    return wall, rss, p.returncode

# warm the page cache once, then time
subprocess.run([rampart, "scan", "local"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
rw, rr = [], []
for i in range(runs):
    w, r, rc = timed([rampart, "scan", "local"], "rampart")
    rw.append(w); rr.append(r)
    if rc not in (0, 1):
        raise SystemExit(f"rampart scan local exited {rc}; see {out}/rampart.out")
p = subprocess.run([rampart, "scan", "local", "--format", "json"], capture_output=True, text=True)
checks = p.stdout.count('"rule_id"') or p.stdout.count('"rule"')

if lruns > 0 and shutil.which("lynis"):
    lw, lr = [], []
    for i in range(lruns):
        w, r, _ = timed(["lynis", "audit", "system", "--quick", "--no-colors", "--profile", os.environ["PRF"],
                         "--report-file", os.path.join(out, "lynis.report.dat"), "--log-file", os.path.join(out, "lynis.log")], "lynis")
        lw.append(w); lr.append(r)
    lynis_s, lynis_rss, src = statistics.median(lw), max(lr), f"{lruns} run(s) now"
else:
    lynis_s, lynis_rss, src = float(os.environ["LYNIS_S"]), 0, "LYNIS_S (not run)"

med = statistics.median(rw)
print(f"rampart scan local : median {med*1000:.0f} ms over {runs} runs (min {min(rw)*1000:.0f}, max {max(rw)*1000:.0f}), max RSS {max(rr)/1024:.1f} MB")
print(f"lynis --quick      : {lynis_s:.1f} s ({src})" + (f", max RSS {lynis_rss/1024:.1f} MB" if lynis_rss else ""))
ratio = lynis_s / med
print(f"ratio              : rampart is {ratio:.0f}x faster (target >= 50x): {'OK' if ratio >= 50 else 'BELOW TARGET'}")
PY
