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

# rampart is timed two ways: the TLS audit itself (`rampart facts
# --collectors tls`: every TLS fact the TLS-0xx/KEY-0xx rules judge), and the
# full CLI, `rampart scan https://TARGET/ --only <those rules>`, which loads
# and judges the rules as well.
(cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart)

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
rampart = os.path.join(out, "rampart")

def timed(argv, stdout=subprocess.DEVNULL):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=stdout, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, p

RULES = "TLS-001,TLS-002,TLS-003,TLS-004,TLS-005,TLS-006,TLS-007,TLS-008,TLS-009,TLS-010,KEY-001,KEY-002,KEY-003,KEY-005,KEY-006"

def rampart_facts(target):
    p = subprocess.run([rampart, "facts", "--collectors", "tls", "https://" + target + "/"], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)["tls"]

def cli_works(target):
    p = subprocess.run([rampart, "facts", "https://" + target + "/", "--format", "json"], capture_output=True, text=True)
    return '"tls"' in p.stdout

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
    tls = rampart_facts(target)
    via_cli = cli_works(target)
    xml = os.path.join(out, "sslscan.xml")
    rt, ct, st = [], [], []
    for i in range(runs):
        order = [("r", [rampart, "facts", "--collectors", "tls", "https://" + target + "/"]), ("s", ["sslscan", "--no-colour", f"--xml={xml}", target])]
        if via_cli:
            order.append(("c", [rampart, "scan", "https://" + target + "/", "--only", RULES, "-f", "json", "--fail-on", "none"]))
        if i % 2:
            order.reverse()
        for who, argv in order:
            {"r": rt, "s": st, "c": ct}[who].append(timed(argv)[0])
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
    cm = statistics.median(ct) if ct else None
    tm = statistics.median(tt) if tt else None
    rows.append((target, rm, cm, sm, tm))
    print(f"== {target}: rampart TLS audit {rm*1000:.0f} ms" + (f", rampart scan --only TLS/KEY {cm*1000:.0f} ms" if cm else "") + f", sslscan {sm*1000:.0f} ms"
          + (f", testssl {tm:.1f} s" if tm else "") + f"  (medians of {runs}" + (f"/{len(tt)}" if tt else "") + " runs)")
    print(f"   protocols  rampart {sorted(r_vers)}  sslscan {'same' if r_vers == s_vers else sorted(s_vers)}")
    print(f"   suites     rampart {len(r_suites)}  sslscan {len(s_suites)} {'same' if r_suites == s_suites else 'DIFFER: only rampart ' + str(sorted(r_suites - s_suites)) + ' only sslscan ' + str(sorted(s_suites - r_suites))}"
          + ("" if t_suites is None else f"  testssl {len(t_suites)} ids {'same' if t_suites == r_ids else 'DIFFER: only rampart ' + str(sorted(r_ids - t_suites)) + ' only testssl ' + str(sorted(t_suites - r_ids))}"))
    print(f"   groups     rampart {sorted(tls['groups'])}  sslscan {'same' if r_groups == s_groups else sorted(s_groups)}")
    print(f"   dh_bits {tls['dh_bits']}  secure_renegotiation {tls['secure_renegotiation']}  client_renegotiation {tls['client_renegotiation']}  (sslscan does not test client renegotiation)")

print()
print("| target | rampart TLS audit | rampart scan (CLI) | sslscan | testssl | sslscan / rampart | testssl / rampart |")
print("|---|---|---|---|---|---|---|")
for target, rm, cm, sm, tm in rows:
    cli = f"{cm*1000:.0f} ms" if cm else "-"
    print(f"| {target} | {rm*1000:.0f} ms | {cli} | {sm*1000:.0f} ms | " + (f"{tm:.1f} s" if tm else "-") +
          f" | {sm/rm:.1f}x" + (f" (CLI {sm/cm:.1f}x)" if cm else "") + " | " + (f"{tm/rm:.0f}x" + (f" (CLI {tm/cm:.0f}x)" if cm else "") if tm else "-") + " |")
PY
