#!/usr/bin/env bash
# Time a full TLS audit of one endpoint by rampart, sslscan and testssl.sh
# on the same target in one run, print the ratios, and check that rampart's
# protocols, suites (by id) and groups equal what sslscan and testssl find.
#
#   scripts/bench/tls.sh                  # the eval targets weak, strong, dhe
#   scripts/bench/tls.sh dhe 127.0.0.1:9999
#
# Env: RUNS=7 (rampart and sslscan, interleaved; medians reported)
#      TESTSSL_RUNS=1 (testssl takes ~50-100 s a target; 0 skips it)
#      OUT=/tmp/rampart-bench-tls (raw outputs)
# Targets must be on loopback; start the eval ones with
# ../shared/eval/targets/up.sh. Needs python3, sslscan, testssl (optional).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-tls}"
RUNS="${RUNS:-7}"
TESTSSL_RUNS="${TESTSSL_RUNS:-1}"
mkdir -p "$OUT"

# rampart: the CLI when the tls collector is wired into it, else the
# collector's own driver (same code path, no rule evaluation).
(cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart && go build -o "$OUT/tlsprobe" ./internal/collect/tlsprobe/cmd/tlsprobe)

targets=("$@"); [[ ${#targets[@]} -eq 0 ]] && targets=(weak strong dhe)
for i in "${!targets[@]}"; do
  case "${targets[$i]}" in
    weak) targets[$i]=127.0.0.1:8443 ;; strong) targets[$i]=127.0.0.1:9443 ;; dhe) targets[$i]=127.0.0.1:8444 ;;
  esac
  case "${targets[$i]}" in
    127.*|\[::1\]:*) ;;
    *) echo "refusing non-loopback target ${targets[$i]}" >&2; exit 2 ;;
  esac
done

export NXCONNECT=127.0.0.1:0   # testssl: probe openssl options against loopback, not DNS
OUT="$OUT" RUNS="$RUNS" TESTSSL_RUNS="$TESTSSL_RUNS" python3 - "${targets[@]}" <<'PY'
import json, os, re, shutil, statistics, subprocess, sys, time
import xml.etree.ElementTree as ET

out, runs, truns = os.environ["OUT"], int(os.environ["RUNS"]), int(os.environ["TESTSSL_RUNS"])
rampart, driver = os.path.join(out, "rampart"), os.path.join(out, "tlsprobe")

def timed(argv, stdout=subprocess.DEVNULL):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=stdout, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, p

def rampart_facts(target):
    p = subprocess.run([rampart, "facts", target, "--format", "json"], capture_output=True, text=True)
    try:
        d = json.loads(p.stdout)
        d = d[0] if isinstance(d, list) else d
        if d.get("tls"):
            return d["tls"], True
    except (ValueError, IndexError, KeyError):
        pass
    p = subprocess.run([driver, target], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)["tls"], False

def sslscan_facts(path):
    root = ET.parse(path).getroot()
    vers = {f"SSLv{p.get('version')}" if p.get("type") == "ssl" else f"TLSv{p.get('version')}"
            for p in root.iter("protocol") if p.get("enabled") == "1"}
    suites = {(c.get("sslversion"), c.get("id").upper().replace("0X", "0x")) for c in root.iter("cipher")}
    groups = {int(g.get("id"), 16) for g in root.iter("group")}
    return vers, suites, groups

def testssl_facts(path):
    try:
        d = json.load(open(path))
    except (OSError, ValueError):
        return None
    # testssl's default run lists each accepted suite once ("cipher_xc02f"),
    # without the protocol: compare by id.
    suites = set()
    for e in d:
        m = re.match(r"cipher[-_](?:[a-z0-9_]+_)?x([0-9a-f]+)$", e.get("id", ""))
        if m:
            suites.add("0x%04X" % int(m.group(1), 16))
    return suites

group_ids = {"X25519": 29, "X448": 30, "secp256r1": 23, "secp384r1": 24, "secp521r1": 25}
rows = []
for target in sys.argv[1:]:
    tls, via_cli = rampart_facts(target)
    ramp_cmd = [rampart, "scan", target, "-f", "json", "--fail-on", "none"] if via_cli else [driver, target]
    xml = os.path.join(out, "sslscan.xml")
    rt, st = [], []
    for i in range(runs):
        order = [("r", ramp_cmd), ("s", ["sslscan", "--no-colour", f"--xml={xml}", target])]
        if i % 2:
            order.reverse()
        for who, argv in order:
            (rt if who == "r" else st).append(timed(argv)[0])
    tt = []
    tjson = os.path.join(out, "testssl.json")
    if truns > 0 and shutil.which("testssl"):
        for _ in range(truns):
            if os.path.exists(tjson):
                os.remove(tjson)
            tt.append(timed(["testssl", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
                             "--jsonfile", tjson, target])[0])
    r_vers = set(tls["versions"])
    r_suites = {(s["version"], s["id"]) for s in tls["suites"]}
    r_ids = {i for _, i in r_suites}
    r_groups = {group_ids.get(g, -1) for g in tls["groups"]}
    s_vers, s_suites, s_groups = sslscan_facts(xml)
    t_suites = testssl_facts(tjson) if tt else None
    rm, sm = statistics.median(rt), statistics.median(st)
    tm = statistics.median(tt) if tt else None
    rows.append((target, "rampart scan" if via_cli else "tlsprobe driver", rm, sm, tm))
    print(f"== {target}: rampart {'scan' if via_cli else '(collector driver)'} {rm*1000:.0f} ms, sslscan {sm*1000:.0f} ms"
          + (f", testssl {tm:.1f} s" if tm else "") + f"  (medians of {runs}" + (f"/{len(tt)}" if tt else "") + " runs)")
    print(f"   protocols  rampart {sorted(r_vers)}  sslscan {'same' if r_vers == s_vers else sorted(s_vers)}")
    print(f"   suites     rampart {len(r_suites)}  sslscan {len(s_suites)} {'same' if r_suites == s_suites else 'DIFFER: only rampart ' + str(sorted(r_suites - s_suites)) + ' only sslscan ' + str(sorted(s_suites - r_suites))}"
          + ("" if t_suites is None else f"  testssl {len(t_suites)} ids {'same' if t_suites == r_ids else 'DIFFER: only rampart ' + str(sorted(r_ids - t_suites)) + ' only testssl ' + str(sorted(t_suites - r_ids))}"))
    print(f"   groups     rampart {sorted(tls['groups'])}  sslscan {'same' if r_groups == s_groups else sorted(s_groups)}")
    print(f"   dh_bits {tls['dh_bits']}  secure_renegotiation {tls['secure_renegotiation']}  client_renegotiation {tls['client_renegotiation']}  (sslscan does not test client renegotiation)")

print()
print("| target | rampart | sslscan | testssl | sslscan/rampart | testssl/rampart |")
print("|---|---|---|---|---|---|")
for target, how, rm, sm, tm in rows:
    print(f"| {target} | {rm*1000:.0f} ms ({how}) | {sm*1000:.0f} ms | " + (f"{tm:.1f} s" if tm else "-") +
          f" | {sm/rm:.1f}x | " + (f"{tm/rm:.0f}x" if tm else "-") + " |")
PY
