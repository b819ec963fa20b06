#!/usr/bin/env bash
# Benchmarks of rampart serve's history: store write time per run (SQLite,
# and PostgreSQL when RAMPART_TEST_POSTGRES is set), and the dashboard's
# heaviest pages over a fleet of 50 targets x 69 rules with 20 runs.
# The end-to-end scan-to-dashboard latency and the server's peak memory
# are logged by: go test -run TestServeDashboardE2E -v ./internal/server/e2e/
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${COUNT:-1}"
echo "== store: SaveRun (10 targets x 69 findings per run)"
go test -run '^$' -bench 'BenchmarkSaveRun' -benchmem -count "$count" ./internal/store/
echo "== dashboard and API (50 targets x 69 rules, 20 runs)"
go test -run '^$' -bench 'BenchmarkFleetPage' -benchtime 20x -benchmem -count "$count" ./internal/server/
