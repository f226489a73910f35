#!/usr/bin/env bash
# When run as root, the daemon starts its workers as an unprivileged user
# (README "Worker privileges"), so the checkout (example models, test models,
# the build's modelgate-worker) must be reachable by that user. A checkout under a
# private directory such as /root is not: give its ancestors the traverse bit
# (o+x: enter, not list), saying so. A no-op when not root or already reachable.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || exit 0
here=$(cd "$(dirname "$0")/.." && pwd)
user=nobody
id -u modelgate >/dev/null 2>&1 && user=modelgate
reachable() { runuser -u "$user" -- test -r "$here/README.md"; }
reachable && exit 0
dir=$here
while [ "$dir" != "/" ]; do
  if ! runuser -u "$user" -- test -x "$dir" 2>/dev/null; then
    echo "worker-access: chmod o+x $dir (workers run as '$user' and must reach the checkout)"
    chmod o+x "$dir"
  fi
  dir=$(dirname "$dir")
done
reachable || { echo "worker-access: '$user' still cannot read $here/README.md" >&2; exit 1; }
