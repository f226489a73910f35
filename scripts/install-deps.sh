#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/packages.txt that are missing.
# Idempotent: a no-op (one dpkg-query) when everything is present.
# Usage: scripts/install-deps.sh [group ...]
#   default groups: build runtime test deploy-check (what `make test` needs;
#   `make run` passes build runtime)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list="$here/packages.txt"

want=()
group=""
groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(build runtime test deploy-check)
while IFS= read -r line; do
  line=${line%%#*}; line=${line//[[:space:]]/}
  [ -z "$line" ] && continue
  if [[ $line == \[*\] ]]; then group=${line:1:-1}; continue; fi
  if [[ " ${groups[*]} " == *" $group "* ]]; then want+=("$line"); fi
done <"$list"

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
# The chart's schema check runs on Node.js; use the machine's own when present.
if [[ " ${groups[*]} " == *" deploy-check "* ]] && ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: not root; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
