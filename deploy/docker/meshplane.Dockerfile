# meshplane control plane image.
#
# With a container engine that can pull public images, build from the
# repository root (meshplane is compiled inside the build):
#   docker build -f deploy/docker/meshplane.Dockerfile -t meshplane:dev .
#
# Without a registry, scripts/images.sh builds the `prebuilt` target instead:
# a locally made Debian base (BASE_IMAGE) and the binary built on the host,
# placed in the build context as prebuilt/meshplane.
ARG RUST_IMAGE=rust:1-bookworm
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

FROM ${BASE_IMAGE} AS runtime
# curl: the health check. The local base image already carries both packages.
RUN if ! command -v curl >/dev/null || [ ! -f /etc/ssl/certs/ca-certificates.crt ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends ca-certificates curl \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 10001 meshplane \
    && useradd --system --uid 10001 --gid meshplane --no-create-home --shell /usr/sbin/nologin meshplane \
    && mkdir -p /etc/meshplane/specs /var/lib/meshplane \
    && chown meshplane:meshplane /var/lib/meshplane
# The App Mesh API's embedded database (`serve --data-dir`, default
# ./meshplane-data): mount a volume here to keep it across containers.
WORKDIR /var/lib/meshplane
VOLUME ["/var/lib/meshplane"]
USER 10001:10001
# 15010: xDS (gRPC ADS) for the proxies; 9902: admin (/healthz, /readyz,
# /metrics); 9080: the App Mesh API.
EXPOSE 15010 9902 9080
# The admin port listens on loopback unless --admin-listen says otherwise;
# orchestrators should probe /healthz and /readyz themselves (see deploy/kubernetes).
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:9902/healthz"]
ENTRYPOINT ["meshplane"]
CMD ["serve", "--config", "/etc/meshplane/specs"]

# The binary built on the host (scripts/images.sh).
FROM runtime AS prebuilt
COPY prebuilt/meshplane /usr/local/bin/meshplane

# The default target: the binary compiled in the build stage.
FROM runtime AS compiled
COPY --from=build /usr/local/bin/meshplane /usr/local/bin/meshplane
