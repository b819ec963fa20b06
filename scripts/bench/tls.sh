#!/usr/bin/env bash
# The whole process `rampart scan tls://HOST:PORT` and `rampart scan
# https://HOST:PORT/` against `sslscan HOST:PORT` on the same target, in one
# loop, interleaved (the order alternates every run), wall and CPU time of
# each process (getrusage of the child: what it cost this machine, which
# is shared and loaded), medians; the ratio rampart/sslscan (issue 14: at
# most 0.20). It also checks that rampart's protocols and suites are
# exactly what sslscan lists, and counts rampart's TLS handshakes per
# target (connections of the TLS probe, from its debug log).
#
#   scripts/bench/tls.sh                  # weak, strong, dhe and a JSSE server
#   scripts/bench/tls.sh weak 127.0.0.1:9999
#
# Targets: weak (127.0.0.1:8443), strong (:9443), dhe (:8444): the eval
# targets, already running; jsse: a JDK 17 server this script compiles and
# starts (internal/collect/tlsprobe/testdata/jsse/TLSServer.java, JSSE's
# defaults: TLS 1.2 and 1.3, server order, 2048-bit DHE) on a loopback port
# of its own, and stops at the end. Loopback only.
#
# Env: RUNS=9 (at least 7; medians reported)
#      TESTSSL_RUNS=0 (testssl takes ~50-100 s a target; N times it too)
#      OUT=/tmp/rampart-bench-tls (binaries, raw outputs)
#      RAMPART=path (time this binary instead of building one)
# Needs python3, sslscan; java, javac and keytool for jsse.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-tls}"
RUNS="${RUNS:-9}"
TESTSSL_RUNS="${TESTSSL_RUNS:-0}"
mkdir -p "$OUT"
(( RUNS >= 7 )) || { echo "RUNS must be at least 7" >&2; exit 2; }
command -v sslscan >/dev/null || { echo "needs sslscan" >&2; exit 2; }

if [[ -n "${RAMPART:-}" ]]; then cp "$RAMPART" "$OUT/rampart"; else (cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart); fi

targets=("$@"); [[ ${#targets[@]} -eq 0 ]] && targets=(weak strong dhe jsse)
JAVA_PID=""
cleanup() {
  if [[ -n "$JAVA_PID" ]]; then exec 9>&-; wait "$JAVA_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
for i in "${!targets[@]}"; do
  case "${targets[$i]}" in
    weak) targets[$i]=weak=127.0.0.1:8443 ;;
    strong) targets[$i]=strong=127.0.0.1:9443 ;;
    dhe) targets[$i]=dhe=127.0.0.1:8444 ;;
    jsse)
      for tool in java javac keytool; do command -v $tool >/dev/null || { echo "jsse needs $tool" >&2; exit 2; }; done
      J="$OUT/jsse"; rm -rf "$J"; mkdir -p "$J/classes"
      javac -d "$J/classes" "$ROOT/internal/collect/tlsprobe/testdata/jsse/TLSServer.java"
      keytool -genkeypair -alias server -keyalg RSA -keysize 2048 -dname "CN=localhost, OU=Bench, O=rampart" \
        -ext SAN=dns:localhost,ip:127.0.0.1 -validity 2 -storetype PKCS12 -keystore "$J/server.p12" \
        -storepass changeit >/dev/null 2>&1
      # The server exits when its standard input (fd 9's pipe) closes.
      exec 9> >(exec java -cp "$J/classes" TLSServer "$J/port" "$J/server.p12" changeit >"$J/out" 2>&1)
      JAVA_PID=$!
      for _ in $(seq 300); do [[ -s "$J/port" ]] && break; sleep 0.1; done
      [[ -s "$J/port" ]] || { echo "the JSSE server did not start:" >&2; cat "$J/out" >&2; exit 1; }
      targets[$i]=jsse=127.0.0.1:$(cat "$J/port")
      # A JVM's first handshakes run interpreted: warm it up as a
      # long-running server would be.
      for _ in 1 2 3; do "$OUT/rampart" facts --collectors tls "tls://127.0.0.1:$(cat "$J/port")" >/dev/null; done
      ;;
    *=*) ;;
    *) targets[$i]=${targets[$i]}=${targets[$i]} ;;
  esac
  case "${targets[$i]#*=}" in
    127.*|\[::1\]:*) ;;
    *) echo "refusing non-loopback target ${targets[$i]}" >&2; exit 2 ;;
  esac
done

OUT="$OUT" RUNS="$RUNS" TESTSSL_RUNS="$TESTSSL_RUNS" python3 - "${targets[@]}" <<'PY'
import json, os, re, shutil, statistics, subprocess, sys, time
import xml.etree.ElementTree as ET

out, runs, truns = os.environ["OUT"], int(os.environ["RUNS"]), int(os.environ["TESTSSL_RUNS"])
rampart = os.path.join(out, "rampart")

def timed(argv):
    """Wall and CPU (user+sys of the child) seconds, and the exit code."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, p.returncode

def rampart_tls(target):
    p = subprocess.run([rampart, "facts", "--collectors", "tls", "tls://" + target, "--log-level", "debug"],
                       capture_output=True, text=True, check=True)
    m = re.search(r'msg="tls probe done".* connections=(\d+)', p.stderr)
    return json.loads(p.stdout)["tls"], int(m.group(1)) if m else -1

def sslscan_facts(path):
    root = ET.parse(path).getroot()
    vers = {f"SSLv{p.get('version')}" if p.get("type") == "ssl" else f"TLSv{p.get('version')}"
            for p in root.iter("protocol") if p.get("enabled") == "1"}
    suites = {(c.get("sslversion"), c.get("id").upper().replace("0X", "0x")) for c in root.iter("cipher")}
    return vers, suites

def med(xs):
    return statistics.median(xs)

load0 = os.getloadavg()
rows = []
for spec in sys.argv[1:]:
    name, target = spec.split("=", 1)
    tls, handshakes = rampart_tls(target)
    xml = os.path.join(out, "sslscan-%s.xml" % name)
    cmds = {
        "tls": [rampart, "scan", "tls://" + target, "-f", "json", "-o", os.path.join(out, "scan-tls-%s.json" % name), "--fail-on", "none"],
        "https": [rampart, "scan", "https://" + target + "/", "-f", "json", "-o", os.path.join(out, "scan-https-%s.json" % name), "--fail-on", "none"],
        "sslscan": ["sslscan", "--no-colour", "--xml=" + xml, target],
    }
    wall = {k: [] for k in cmds}
    cpu = {k: [] for k in cmds}
    order = list(cmds)
    for i in range(runs):
        for k in (order if i % 2 == 0 else order[::-1]):
            w, c, code = timed(cmds[k])
            if k != "sslscan" and code not in (0, 1, 3):
                sys.exit("%s %s exited %d" % (name, k, code))
            wall[k].append(w)
            cpu[k].append(c)
    r_vers = set(tls["versions"])
    r_suites = {(s["version"], s["id"]) for s in tls["suites"]}
    s_vers, s_suites = sslscan_facts(xml)
    same = r_vers == s_vers and r_suites == s_suites
    tm = None
    if truns > 0 and shutil.which("testssl"):
        tt = [timed(["testssl", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none", target])[0] for _ in range(truns)]
        tm = med(tt)
    m = {k: med(v) for k, v in wall.items()}
    mc = {k: med(v) for k, v in cpu.items()}
    rows.append((name, target, handshakes, m, mc, same, tm))
    print(f"== {name} {target}: {handshakes} TLS handshakes; medians of {runs}, wall (CPU):"
          f" scan tls:// {m['tls']*1000:.0f} ms ({mc['tls']*1000:.0f}),"
          f" scan https:// {m['https']*1000:.0f} ms ({mc['https']*1000:.0f}),"
          f" sslscan {m['sslscan']*1000:.0f} ms ({mc['sslscan']*1000:.0f})" + (f", testssl {tm:.1f} s" if tm else ""))
    print("   runs tls://   " + " ".join("%.0f" % (x * 1000) for x in wall["tls"]))
    print("   runs https:// " + " ".join("%.0f" % (x * 1000) for x in wall["https"]))
    print("   runs sslscan  " + " ".join("%.0f" % (x * 1000) for x in wall["sslscan"]))
    print(f"   protocols rampart {sorted(r_vers)}  sslscan {'same' if r_vers == s_vers else sorted(s_vers)}")
    print(f"   suites    rampart {len(r_suites)}  sslscan {len(s_suites)} " + ("same" if r_suites == s_suites else
          "DIFFER: only rampart " + str(sorted(r_suites - s_suites)) + " only sslscan " + str(sorted(s_suites - r_suites))))

load1 = os.getloadavg()
print()
print("load average %.1f at the start, %.1f at the end (2 cores)" % (load0[0], load1[0]))
print("| target | handshakes | scan tls:// | scan https:// | sslscan | tls:// / sslscan | https:// / sslscan | same protocols and suites |")
print("|---|---|---|---|---|---|---|---|")
for name, target, hs, m, mc, same, tm in rows:
    rt, rh = m["tls"] / m["sslscan"], m["https"] / m["sslscan"]
    print(f"| {name} | {hs} | {m['tls']*1000:.0f} ms (CPU {mc['tls']*1000:.0f}) | {m['https']*1000:.0f} ms (CPU {mc['https']*1000:.0f}) |"
          f" {m['sslscan']*1000:.0f} ms (CPU {mc['sslscan']*1000:.0f}) | {rt:.2f} {'met' if rt <= 0.2 else 'NOT met'} |"
          f" {rh:.2f} {'met' if rh <= 0.2 else 'NOT met'} | {'yes' if same else 'NO'} |")
PY
