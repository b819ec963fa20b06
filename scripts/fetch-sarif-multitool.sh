#!/usr/bin/env bash
# Install the SARIF multitool (npm package @microsoft/sarif-multitool, MIT,
# Microsoft's SARIF SDK) for the SARIF validation test. It is installed from
# the npm registry into a cache, never committed. Prints the path of the
# native validator binary the package ships (the package's own bin.js passes
# its arguments through a shell, which splits the ';'-separated lists).
set -euo pipefail
version=5.7.0
dir="${RAMPART_SARIF_MULTITOOL_DIR:-$HOME/.cache/rampart/sarif-multitool-$version}"
bin="$dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
if [[ ! -x "$bin" ]]; then
  command -v npm >/dev/null || { echo "npm is needed to install the SARIF multitool" >&2; exit 1; }
  mkdir -p "$dir"
  ( cd "$dir" && npm install --silent --no-audit --no-fund --no-save "@microsoft/sarif-multitool@$version" >/dev/null )
  chmod u+x "$bin"
fi
DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$bin" --version >/dev/null 2>&1
echo "$bin"
