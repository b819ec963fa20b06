#!/usr/bin/env bash
# Time rampart's start-up against a hello-world Go binary, side by side.
#
#   scripts/bench/startup.sh
#
# Runs, interleaved, RUNS times each (medians reported, wall and CPU):
#   hello      fmt.Println("hello, world"), built by the same toolchain
#   floor      hello-world that links every non-rampart package rampart
#              links (blank imports): what the dependencies' initialisation
#              alone costs, which rampart cannot go below in one binary
#   floor without the embedded NATS server, without CEL (and protobuf),
#              without either: the part of the floor each costs
#   version    rampart version
#   rules      rampart rules list
# then GODEBUG=inittrace=1 rampart version RUNS times: every package whose
# median initialisation takes over 1 ms or allocates over 100 KB, and the
# ten that allocate most. With valgrind installed, instruction counts
# (callgrind, one run each: steady where wall time on a loaded machine is
# not).
#
# Env: RUNS=11, OUT=/tmp/rampart-bench-startup
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-startup}"
RUNS="${RUNS:-11}"
mkdir -p "$OUT/hello" "$OUT/floor"

(cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart)
cat >"$OUT/hello/main.go" <<'GO'
package main

import "fmt"

func main() { fmt.Println("hello, world") }
GO
(cd "$OUT/hello" && [[ -f go.mod ]] || go mod init hello >/dev/null 2>&1; cd "$OUT/hello" && go build -o "$OUT/hello-bin" .)

# The floor: the same module requirements, a main that imports every
# importable non-rampart package cmd/rampart links.
cp "$ROOT/go.mod" "$ROOT/go.sum" "$OUT/floor/"
sed -i 's|^module .*|module floor|' "$OUT/floor/go.mod"
{
  echo 'package main'; echo; echo 'import ('; echo '	"fmt"'
  (cd "$ROOT" && go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./cmd/rampart) |
    grep -v '^github.com/rampart-sec/rampart' | grep -v '/internal/\|/internal$\|^vendor/' | sed 's|.*|	_ "&"|'
  (cd "$ROOT" && go list -deps -f '{{if .Standard}}{{.ImportPath}}{{end}}' ./cmd/rampart) |
    grep -v 'internal\|^vendor/\|^runtime/cgo$\|^unsafe$' | grep -vx 'fmt' | sed 's|.*|	_ "&"|'
  echo ')'; echo; echo 'func main() { fmt.Println("hello, world") }'
} >"$OUT/floor/main.go"
(cd "$OUT/floor" && go build -o "$OUT/floor-bin" .)

# The floor's parts: the same floor without the embedded NATS server (and
# the compression/hash packages only it brings), without CEL (and the
# protobuf runtime only it brings), and without either: how much of the
# floor each dependency that an issue or the standards require costs.
nats='nats-io\|klauspost\|minio/highwayhash'
cel='cel.dev\|google.golang.org/protobuf\|google.golang.org/genproto\|antlr'
for v in "no-nats:$nats" "no-cel:$cel" "neither:$nats\|$cel"; do
  name="${v%%:*}" pat="${v#*:}"
  mkdir -p "$OUT/floor-$name"; cp "$OUT/floor/go.mod" "$OUT/floor/go.sum" "$OUT/floor-$name/"
  grep -v "$pat" "$OUT/floor/main.go" >"$OUT/floor-$name/main.go"
  (cd "$OUT/floor-$name" && go build -o "$OUT/floor-$name-bin" .)
done

OUT="$OUT" RUNS="$RUNS" python3 - <<'PY'
import collections, os, resource, shutil, statistics, subprocess, time
out, runs = os.environ["OUT"], int(os.environ["RUNS"])
rampart = os.path.join(out, "rampart")
cmds = {
    "hello": [os.path.join(out, "hello-bin")],
    "floor": [os.path.join(out, "floor-bin")],
    "  no NATS": [os.path.join(out, "floor-no-nats-bin")],
    "  no CEL": [os.path.join(out, "floor-no-cel-bin")],
    "  neither": [os.path.join(out, "floor-neither-bin")],
    "version": [rampart, "version"],
    "rules list": [rampart, "rules", "list"],
}
wall = collections.defaultdict(list); cpu = collections.defaultdict(list)
names = list(cmds)
for i in range(runs):
    order = names if i % 2 == 0 else names[::-1]
    for n in order:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmds[n], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall[n].append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[n].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
ir = {}
if shutil.which("valgrind"):
    for n in names:
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmds[n],
                           env={**os.environ, "GODEBUG": "asyncpreemptoff=1"}, capture_output=True, text=True)
        for l in p.stderr.splitlines():
            if "refs:" in l:
                ir[n] = int(l.split()[-1].replace(",", ""))
hw, hc = statistics.median(wall["hello"]), statistics.median(cpu["hello"])
print(f"start-up, medians of {runs} interleaved runs (ratio to hello-world)")
print(f"{'':12} {'wall ms':>8} {'ratio':>6} {'cpu ms':>8} {'ratio':>6} {'instructions':>14} {'ratio':>6}")
for n in names:
    w, c = statistics.median(wall[n]), statistics.median(cpu[n])
    line = f"{n:12} {w*1000:8.2f} {w/hw:6.2f} {c*1000:8.2f} {c/hc if hc else 0:6.2f}"
    if n in ir:
        line += f" {ir[n]:14,} {ir[n]/ir['hello']:6.1f}"
    print(line)

clock = collections.defaultdict(list); mem = collections.defaultdict(list)
for _ in range(runs):
    p = subprocess.run([rampart, "version"], env={**os.environ, "GODEBUG": "inittrace=1"}, capture_output=True, text=True)
    for l in p.stderr.splitlines():
        f = l.split()
        if len(f) >= 10 and f[0] == "init":
            clock[f[1]].append(float(f[4])); mem[f[1]].append(int(f[7]))
med = {k: (statistics.median(clock[k]), statistics.median(mem[k])) for k in clock}
print(f"\ninittrace of `rampart version`: {len(med)} packages, {sum(c for c, _ in med.values()):.2f} ms and {sum(b for _, b in med.values())/1024:.0f} KiB in all (medians of {runs})")
heavy = [k for k, (c, b) in med.items() if c > 1.0 or b > 100 * 1024]
print("over 1 ms or 100 KB: " + (", ".join(f"{k} {med[k][0]:.2f} ms {med[k][1]/1024:.0f} KiB" for k in heavy) or "none"))
print("most bytes:")
for k in sorted(med, key=lambda k: -med[k][1])[:10]:
    print(f"  {med[k][1]/1024:7.1f} KiB {med[k][0]:6.3f} ms  {k}")
PY
