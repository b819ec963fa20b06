#!/usr/bin/env bash
# Time the whole process `rampart scan ssh://HOST:PORT` (rules loaded and
# judged, report written) and the SSH collector alone (`rampart facts
# --collectors ssh`) against ssh-audit on the same servers, interleaved,
# wall and CPU medians, the ratio rampart/ssh-audit (issue 14: at most
# 0.20), and check that both see the same key exchange, cipher, MAC and
# host-key algorithms.
#
#   scripts/bench/ssh.sh                      # the eval sshd targets (2222 weak, 2223 hardened)
#   RUNS=9 scripts/bench/ssh.sh 127.0.0.1:2222
#   RAMPART=path scripts/bench/ssh.sh     (time this binary instead of building one)
#
# Loopback targets only; start the eval ones with ../shared/eval/targets/up.sh sshweak sshstrong.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-ssh}"
RUNS="${RUNS:-7}"
mkdir -p "$OUT"
if [[ -n "${RAMPART:-}" ]]; then cp "$RAMPART" "$OUT/rampart"; else (cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart); fi
command -v ssh-audit >/dev/null || { echo "ssh-audit is not installed (../shared/eval/install-deps.sh)" >&2; exit 1; }
targets=("$@"); [[ ${#targets[@]} -eq 0 ]] && targets=(127.0.0.1:2222 127.0.0.1:2223)
for t in "${targets[@]}"; do
  case "$t" in 127.*|\[::1\]:*) ;; *) echo "refusing non-loopback target $t" >&2; exit 2 ;; esac
done
OUT="$OUT" RUNS="$RUNS" python3 - "${targets[@]}" <<'PY'
import json, os, statistics, subprocess, sys, time
out, runs = os.environ["OUT"], int(os.environ["RUNS"])
rampart = os.path.join(out, "rampart")

def timed(argv):
    """Wall and CPU (user+sys of the child) seconds."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return time.perf_counter() - t, ru.ru_utime + ru.ru_stime

load0 = os.getloadavg()[0]
rows = []
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    r_cmd = [rampart, "facts", "--collectors", "ssh", f"ssh://{target}"]
    s_cmd = [rampart, "scan", f"ssh://{target}", "-f", "json", "-o", os.path.join(out, "scan-%s.json" % port), "--fail-on", "none"]
    a_cmd = ["ssh-audit", "-j", "-p", port, host]
    cmds = {"scan": s_cmd, "facts": r_cmd, "ssh-audit": a_cmd}
    wall = {k: [] for k in cmds}
    cpu = {k: [] for k in cmds}
    for i in range(runs):
        for k in (list(cmds) if i % 2 == 0 else list(cmds)[::-1]):
            w, c = timed(cmds[k])
            wall[k].append(w)
            cpu[k].append(c)
    ssh = json.loads(subprocess.run(r_cmd, capture_output=True, text=True, check=True).stdout)["ssh"]
    audit = json.loads(subprocess.run(a_cmd, capture_output=True, text=True).stdout)
    pairs = {"kex": ("kex", "kex"), "ciphers": ("ciphers", "enc"), "macs": ("macs", "mac")}
    diffs = []
    for name, (rk, ak) in pairs.items():
        mine = set(ssh.get(rk) or [])
        theirs = {a["algorithm"] if isinstance(a, dict) else a for a in audit.get(ak, [])}
        if mine != theirs:
            diffs.append(f"{name}: rampart-only {sorted(mine - theirs)}, ssh-audit-only {sorted(theirs - mine)}")
    mine_keys = {k["algorithm"] for k in ssh.get("host_keys") or []}
    theirs_keys = {k["algorithm"] if isinstance(k, dict) else k for k in audit.get("key", [])}
    if not theirs_keys <= (mine_keys | set(ssh.get("host_key_algorithms") or [])):
        diffs.append(f"host keys: ssh-audit {sorted(theirs_keys)}, rampart {sorted(mine_keys)}")
    m = {k: statistics.median(v) for k, v in wall.items()}
    mc = {k: statistics.median(v) for k, v in cpu.items()}
    rows.append((target, m, mc, diffs))

print("load average %.1f at the start, %.1f at the end (2 cores); medians of %d" % (load0, os.getloadavg()[0], runs))
print("| target | scan ssh:// | facts --collectors ssh | ssh-audit | scan / ssh-audit | facts / ssh-audit | same algorithms |")
print("|---|---|---|---|---|---|---|")
for target, m, mc, diffs in rows:
    rs, rf = m["scan"] / m["ssh-audit"], m["facts"] / m["ssh-audit"]
    print(f"| {target} | {m['scan']*1000:.0f} ms (CPU {mc['scan']*1000:.0f}) | {m['facts']*1000:.0f} ms (CPU {mc['facts']*1000:.0f}) |"
          f" {m['ssh-audit']*1000:.0f} ms (CPU {mc['ssh-audit']*1000:.0f}) | {rs:.2f} {'met' if rs <= 0.2 else 'NOT met'} |"
          f" {rf:.2f} | {'yes' if not diffs else '; '.join(diffs)} |")
PY
