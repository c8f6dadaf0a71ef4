# meshplane control plane image.
# Build from the repository root:
#   docker build -f deploy/docker/meshplane.Dockerfile -t meshplane:dev .

FROM rust:1-bookworm AS build
WORKDIR /src
# RE2 (linked statically): meshplane checks regexes the way Envoy compiles them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libre2-dev \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked -p meshplane \
    && install -m 0755 target/release/meshplane /usr/local/bin/meshplane

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 meshplane \
    && useradd --system --uid 10001 --gid meshplane --no-create-home --shell /usr/sbin/nologin meshplane \
    && mkdir -p /etc/meshplane/specs
COPY --from=build /usr/local/bin/meshplane /usr/local/bin/meshplane
USER 10001:10001
# 15010: xDS (gRPC ADS) for the proxies; 9902: admin (/healthz, /readyz, /metrics).
EXPOSE 15010 9902
# The admin port listens on loopback unless --admin-listen says otherwise;
# orchestrators should probe /healthz and /readyz themselves (see deploy/kubernetes).
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:9902/healthz"]
ENTRYPOINT ["meshplane"]
CMD ["serve", "--config", "/etc/meshplane/specs"]
