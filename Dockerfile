# syntax=docker/dockerfile:1
#
# The rollback action's image: a fully static musl binary on an empty base with CA certificates.
#
# Builder: the official Rust image on Alpine (musl is its native libc; since December 2025 it ships
# gcc and musl-dev, enough for C code in dependencies such as ring). Each platform of a buildx
# multi-arch build is compiled natively for that platform (QEMU for arm64 on an amd64 host), with the
# musl target chosen from TARGETARCH. TLS is rustls only: no OpenSSL in the build or the image.
#
# Local equivalent (no Docker, gnu target): `cargo build --release --locked` (same profile and
# features; the release profile in Cargo.toml is the only one).
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-alpine AS builder
ARG TARGETARCH
WORKDIR /src
COPY . .
# crt-static is already the default for Rust's musl targets; stating it keeps the binary static
# even if a future base image changes that.
ENV RUSTFLAGS="-C target-feature=+crt-static" \
    CARGO_TERM_COLOR=never
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eu; \
    case "${TARGETARCH:-amd64}" in \
      amd64) target=x86_64-unknown-linux-musl ;; \
      arm64) target=aarch64-unknown-linux-musl ;; \
      *) echo "unsupported TARGETARCH: ${TARGETARCH}" >&2; exit 1 ;; \
    esac; \
    cargo build --release --locked --bin rollback --target "$target"; \
    cp "target/$target/release/rollback" /rollback; \
    /rollback --version

# Runtime: nothing but the binary and the CA bundle (for rustls with native roots).
# No USER and no WORKDIR: the Actions runner starts the container as root with
# --workdir /github/workspace and mounts the workspace, event and file-command paths.
FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="rollback" \
      org.opencontainers.image.description="Roll a microservice back and redeploy its dependents, in dependency order (GitHub Action)" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /rollback /rollback
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/rollback", "action"]
