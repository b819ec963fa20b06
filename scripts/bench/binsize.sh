#!/usr/bin/env bash
# What makes up the rampart binary: file size as built (with DWARF) and
# stripped (-ldflags='-s -w'), ELF sections, and the symbols of `go tool nm
# -size -sort size` (code, read-only data, data; not bss, which takes no
# file space) summed by module and by package. Also checks that no
# test-only module is linked (the archtest TestBinaryLeavesOutTestCode
# asserts it).
#
#   scripts/bench/binsize.sh            # TOP=25 rows per table
# Env: OUT=/tmp/rampart-bench-binsize
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-binsize}"
TOP="${TOP:-25}"
mkdir -p "$OUT"
(cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart && go build -ldflags='-s -w' -o "$OUT/rampart-stripped" ./cmd/rampart)
echo "file: $(stat -c %s "$OUT/rampart") bytes as built, $(stat -c %s "$OUT/rampart-stripped") stripped (-ldflags='-s -w')"
echo
echo "sections (bytes in the file; .noptrbss/.bss are memory only):"
size -A "$OUT/rampart" | awk 'NR>2 && $2>100000 {printf "  %-18s %10d\n", $1, $2}' | sort -k2 -n -r
echo
(cd "$ROOT" && go version -m "$OUT/rampart" | awk '$1=="dep"{print $2}') > "$OUT/modules"
echo "test-only modules linked: $(grep -cE '^github.com/(chromedp|zitadel|santhosh-tekuri)/' "$OUT/modules" || true) ($(wc -l <"$OUT/modules") modules in all)"
go tool nm -size -sort size "$OUT/rampart" > "$OUT/nm.txt"
size -A "$OUT/rampart" > "$OUT/sections"
TOP="$TOP" OUT="$OUT" python3 - <<'PY'
import collections, os, re
out, top = os.environ["OUT"], int(os.environ["TOP"])
mods = sorted((l.strip() for l in open(os.path.join(out, "modules")) if l.strip()), key=len, reverse=True)
by_pkg = collections.Counter(); by_kind = collections.Counter()
bss = []  # address ranges that take no file space
for l in open(os.path.join(out, "sections")):
    f = l.split()
    if len(f) == 3 and f[0] in (".bss", ".noptrbss"):
        bss.append((int(f[2]), int(f[2]) + int(f[1])))
def package(name):
    n = re.sub(r"^(type:\*?|go:(itab\.\*?|string\.|func\.\*?)?|gclocals·|\*)", "", name)
    n = n.lstrip("*(")
    if n.startswith(("runtime.", "type:", "go:")) or "/" not in n and "." not in n:
        return n.split(".")[0] if "." in n and not n.startswith(("type:", "go:")) else "(runtime tables: go:func.*, type descriptors)"
    slash = n.rfind("/", 0, n.find(".", n.rfind("/") + 1) if "." in n[n.rfind("/") + 1:] else len(n))
    dot = n.find(".", slash + 1)
    return n[:dot] if dot > 0 else n
total = 0
for line in open(os.path.join(out, "nm.txt")):
    f = line.split(None, 3)
    if len(f) < 4 or f[2] in "Bb" or f[2] == "U":
        continue
    addr, size = int(f[0], 16), int(f[1])
    if any(lo <= addr < hi for lo, hi in bss):
        continue
    total += size
    by_pkg[package(f[3].strip()).replace("%2e", ".")] += size
    by_kind[{"T": "code", "t": "code", "R": "read-only data", "r": "read-only data", "D": "data", "d": "data"}.get(f[2], f[2])] += size
def module(p):
    if p.startswith("github.com/rampart-sec/rampart/"):
        return "rampart (this module)"
    for m in mods:
        if p == m or p.startswith(m + "/"):
            return m
    return "standard library" if "." not in p.split("/")[0] else p
by_mod = collections.Counter()
for p, s in by_pkg.items():
    by_mod[module(p)] += s
print(f"\nsymbols: {total/1e6:.1f} MB (" + ", ".join(f"{k} {v/1e6:.1f} MB" for k, v in by_kind.most_common() if v >= 50000) + "); the rest of the file is the pcln table, DWARF and headers")
print(f"\nby module (top {top}):")
for m, s in by_mod.most_common(top):
    print(f"  {s/1e6:7.2f} MB {100*s/total:5.1f}%  {m}")
print(f"\nby package (top {top}):")
for p, s in by_pkg.most_common(top):
    print(f"  {s/1e6:7.2f} MB {100*s/total:5.1f}%  {p}")
PY
