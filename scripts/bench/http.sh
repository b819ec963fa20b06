#!/usr/bin/env bash
# Time rampart's HTTP exposure checks against nmap's HTTP scripts on the
# same loopback targets, print medians and ratios, and check that both see
# the same Server header and HSTS policy.
#
#   scripts/bench/http.sh                     # the eval targets weak, strong and dhe
#                                             # (dhe: DHE-only, probed through tlswire's client)
#   scripts/bench/http.sh 127.0.0.1:9999      # another loopback HTTPS endpoint
#
# Three ways of running rampart are timed:
#   probe  the HTTP collector alone (rampart facts --collectors http):
#          base URL, not-found probe and 33 known WSO2 paths
#   scan   `rampart scan https://target/` (every collector: TLS, HTTP, ...; rules; report)
# and nmap as in ../shared/eval/baseline/TIMINGS.md (nmap-http):
#   nmap -n -sV --script http-headers,http-security-headers,http-server-header -p PORT HOST
#
# Env: RUNS=5 (interleaved; medians), NMAP_RUNS=3, OUT=/tmp/rampart-bench-http,
#      SKIP_BUILD=1 (use the binaries already in $OUT)
# Start the eval targets with ../shared/eval/targets/up.sh. Needs python3, nmap.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-http}"
RUNS="${RUNS:-5}"
NMAP_RUNS="${NMAP_RUNS:-3}"
mkdir -p "$OUT"
if [[ -z "${SKIP_BUILD:-}" ]]; then
  (cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart)
fi

targets=("$@"); [[ ${#targets[@]} -eq 0 ]] && targets=(weak strong dhe)
for i in "${!targets[@]}"; do
  case "${targets[$i]}" in
    weak) targets[$i]=127.0.0.1:8443 ;; strong) targets[$i]=127.0.0.1:9443 ;; dhe) targets[$i]=127.0.0.1:8444 ;;
  esac
  case "${targets[$i]}" in
    127.*) ;;
    *) echo "refusing non-loopback target ${targets[$i]}" >&2; exit 2 ;;
  esac
done

OUT="$OUT" RUNS="$RUNS" NMAP_RUNS="$NMAP_RUNS" python3 - "${targets[@]}" <<'PY'
import json, os, re, shutil, statistics, subprocess, sys, time

out, runs, nruns = os.environ["OUT"], int(os.environ["RUNS"]), int(os.environ["NMAP_RUNS"])
rampart = os.path.join(out, "rampart")

def timed(argv):
    t = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True)
    return time.perf_counter() - t, p

rows = []
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    url = f"https://{target}/"
    probe_cmd = [rampart, "facts", "--collectors", "http", url]
    scan_cmd = [rampart, "scan", url, "-f", "json", "--fail-on", "none"]
    nmap_cmd = ["nmap", "-n", "-sV", "--script", "http-headers,http-security-headers,http-server-header", "-p", port, host]
    pt, st, nt = [], [], []
    for i in range(runs):
        order = [(pt, probe_cmd), (st, scan_cmd)]
        if i % 2:
            order.reverse()
        for acc, argv in order:
            acc.append(timed(argv)[0])
    nmap_out = ""
    if nruns > 0 and shutil.which("nmap"):
        for _ in range(nruns):
            d, p = timed(nmap_cmd)
            nt.append(d)
            nmap_out = p.stdout
    facts = json.loads(subprocess.run(probe_cmd, capture_output=True, text=True, check=True).stdout)["http"]
    report = json.loads(subprocess.run(scan_cmd, capture_output=True, text=True).stdout)
    statuses = {f["rule"]: f["status"] for f in report.get("findings", [])
                if f["rule"].startswith("HTTP-") or f["rule"] in ("IAM-005", "SEC-002", "MON-001")}
    pm, sm = statistics.median(pt), statistics.median(st)
    nm = statistics.median(nt) if nt else None
    rows.append((target, pm, sm, nm))
    print(f"== {target}: probe {pm*1000:.0f} ms, rampart scan {sm*1000:.0f} ms"
          + (f", nmap-http {nm:.2f} s" if nm else "") + f"  (medians of {runs}" + (f"/{len(nt)}" if nt else "") + " runs)")
    print(f"   paths probed {len(facts['paths'])}, reachable {sum(p['reachable'] for p in facts['paths'])}, "
          f"catch-all {sum(p['catch_all'] for p in facts['paths'])}, not-found status {facts['not_found_status']}")
    print(f"   rampart  Server {facts['server_headers']}  HSTS {facts['hsts'].get('raw') or 'absent'}  disclosures {[d['value'] for d in facts['disclosures']]}  TLS client {facts.get('tls_client') or '-'}")
    if nmap_out:
        srv = re.findall(r"^\|\s+Server: (.*)$", nmap_out, re.M)
        sts = re.findall(r"^\|\s+Strict-Transport-Security: (.*)$", nmap_out, re.M)
        print(f"   nmap     Server {sorted(set(srv))}  HSTS {sts[0] if sts else 'absent'}")
        same_srv = sorted(set(srv)) == sorted(facts["server_headers"])
        same_hsts = (sts[0].strip() if sts else "") == (facts["hsts"].get("raw") or "")
        print(f"   agree    Server {'yes' if same_srv else 'NO'}  HSTS {'yes' if same_hsts else 'NO'}")
    print("   rules    " + "  ".join(f"{k} {v}" for k, v in sorted(statuses.items())))

print()
print("| target | rampart http probe | rampart scan (all collectors) | nmap-http | nmap/probe | nmap/scan |")
print("|---|---|---|---|---|---|")
for target, pm, sm, nm in rows:
    print(f"| {target} | {pm*1000:.0f} ms | {sm*1000:.0f} ms | " + (f"{nm:.2f} s | {nm/pm:.0f}x | {nm/sm:.0f}x" if nm else "- | - | -") + " |")
PY
