#!/usr/bin/env bash
# Fetch the SARIF 2.1.0 JSON schema for the SARIF validation test. It ships
# in the npm package @microsoft/jest-sarif (MIT); it is downloaded from the
# npm registry into a cache, never committed. Prints the schema's path.
set -euo pipefail
dest="${RAMPART_SARIF_SCHEMA:-$HOME/.cache/rampart/sarif-schema-2.1.0.json}"
if [[ -s "$dest" ]]; then echo "$dest"; exit 0; fi
command -v npm >/dev/null || { echo "npm is needed to fetch the SARIF schema" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null 2>&1 )
tar -xzf "$tmp"/microsoft-jest-sarif-*.tgz -C "$tmp" package/lib/schemas/sarif-2.1.0-rtm.5.json
mkdir -p "$(dirname "$dest")"
cp "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$dest"
echo "$dest"
