# Audit Portal's image: built with the Rust toolchain, run as a non-root user on slim Debian
# with CA certificates and git (git reads the infrastructure repository, for Change Control).
#
#   docker build -t audit-portal .
#   docker build --build-arg VERSION=0.2.0 --build-arg REVISION=$(git rev-parse --short=12 HEAD) -t audit-portal .
#
# Both base images are build arguments, so the image can be built where no registry is
# reachable, from bases made locally (scripts/image does that with debootstrap). Neither stage
# needs the network when its base already has what the stage would install.

ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
ARG REVISION=
# A Cargo profile with its own folder under target/ (release, or image-check for a quick test).
ARG CARGO_PROFILE=release
WORKDIR /src
COPY . .
# No checkout travels into the build (.dockerignore), so the commit comes from REVISION.
# The build folder goes with the step: only the binary moves on to the runtime stage.
RUN AUDIT_GIT_COMMIT="${REVISION}" cargo build --profile "${CARGO_PROFILE}" --locked --bin audit-portal \
 && install -D -m 0755 "target/${CARGO_PROFILE}/audit-portal" /out/audit-portal \
 && rm -rf target

FROM ${RUNTIME_IMAGE}
ARG RUNTIME_IMAGE
ARG VERSION=0.1.0
ARG REVISION=
ARG CREATED=
ARG SOURCE=
LABEL org.opencontainers.image.title="Audit Portal" \
      org.opencontainers.image.description="The live service inventory, its audit, documentation coverage, production-readiness grades and phase sign-off, from evidence" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"
# Installs only what the base lacks, so a base made with both already in it builds offline.
RUN set -eu; \
    missing=""; \
    [ -s /etc/ssl/certs/ca-certificates.crt ] || missing="$missing ca-certificates"; \
    command -v git >/dev/null || missing="$missing git"; \
    if [ -n "$missing" ]; then \
      apt-get update; \
      apt-get install -y --no-install-recommends $missing; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --system --gid 10001 audit; \
    useradd --system --uid 10001 --gid audit --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin audit; \
    install -d -o audit -g audit -m 0750 /data
COPY --from=build /out/audit-portal /usr/local/bin/audit-portal
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
ENV AUDIT_LISTEN=0.0.0.0:3000 \
    AUDIT_DATA_DIR=/data
EXPOSE 3000
# The binary asks its own /readyz: no wget or curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/audit-portal", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/audit-portal"]
CMD ["serve", "--log-json"]
