#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster on 127.0.0.1 for the store tests and
# print its DSN on standard output (the only thing printed there):
#
#   export RAMPART_TEST_POSTGRES="$(scripts/ci/postgres.sh)"
#
# Installs Debian's postgresql package when no server binaries are found,
# initialises a cluster in a fresh temporary directory owned by the postgres
# user (the server refuses to run as root), starts it on a free loopback port
# with trust authentication for loopback only, and creates the rampart_test
# database. The cluster's directory and log are reported on stderr; stop it
# with: scripts/ci/postgres.sh stop DIR
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; fi
	done | sort -V | tail -n1
}

as_pg() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

if [[ "${1:-}" == "stop" ]]; then
	bindir=$(find_bindir)
	as_pg "$bindir/pg_ctl" -D "$2/data" -m fast stop >&2
	exit 0
fi

bindir=$(find_bindir)
if [[ -z "$bindir" ]]; then
	log "installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
	bindir=$(find_bindir)
fi
[[ -n "$bindir" ]] || { log "no PostgreSQL server binaries found"; exit 1; }

dir=$(mktemp -d /tmp/rampart-pg.XXXXXX)
chmod 0755 "$dir"
if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }

# A free loopback port: the kernel picks one for a listener we open and close.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
	echo $((20000 + RANDOM % 20000)))

as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
	-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=on -c max_connections=100" start >&2 ||
	{ cat "$dir/server.log" >&2; exit 1; }
as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres rampart_test >&2

log "cluster in $dir (log $dir/server.log); stop with: $0 stop $dir"
echo "postgres://postgres@127.0.0.1:$port/rampart_test?sslmode=disable"
