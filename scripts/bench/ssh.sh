#!/usr/bin/env bash
# Time rampart's SSH probe against ssh-audit on the same servers, and check
# that both see the same key exchange, cipher, MAC and host-key algorithms.
#
#   scripts/bench/ssh.sh                      # the eval sshd targets (2222 weak, 2223 hardened)
#   RUNS=9 scripts/bench/ssh.sh 127.0.0.1:2222
#
# Loopback targets only; start the eval ones with ../shared/eval/targets/up.sh sshweak sshstrong.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-ssh}"
RUNS="${RUNS:-7}"
mkdir -p "$OUT"
(cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart)
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
    t = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True)
    return time.perf_counter() - t, p

print("| target | rampart | ssh-audit | ratio | same algorithms |")
print("|---|---|---|---|---|")
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    r_cmd = [rampart, "facts", "--collectors", "ssh", f"ssh://{target}"]
    a_cmd = ["ssh-audit", "-j", "-p", port, host]
    rt, at = [], []
    for i in range(runs):
        for acc, argv in ([(rt, r_cmd), (at, a_cmd)] if i % 2 == 0 else [(at, a_cmd), (rt, r_cmd)]):
            acc.append(timed(argv)[0])
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
    r, a = statistics.median(rt), statistics.median(at)
    print(f"| {target} | {r*1000:.0f} ms | {a*1000:.0f} ms | {a/r:.1f}x | {'yes' if not diffs else '; '.join(diffs)} |")
PY
