# syntax=docker/dockerfile:1
# berth container image: a static-Swift-stdlib release build on Debian bookworm, run on bookworm-slim with only
# libevent, OpenSSL 3 and the CA certificates added. See docs/deployment.md.
#
#   docker build -t berth:0.1.0 .
#   docker run --rm -p 3128:3128 -e BERTH_ALLOW=10.0.0.0/8,api.internal berth:0.1.0
#
# The default command is `--profile same-region --listen 0.0.0.0:3128`: a container must listen beyond loopback to
# be reachable, and berth then refuses to start until BERTH_ALLOW (or --allow / allow:) lists the destinations
# callers may reach. Any arguments replace the whole default command, e.g. `--config /etc/berth/berth.yaml`.

# Package.swift declares swift-tools-version 6.0; berth is built and tested with Swift 6.3.
ARG SWIFT_VERSION=6.3

# ---- build ---------------------------------------------------------------------------------------------------
FROM swift:${SWIFT_VERSION}-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Versions are not pinned: bookworm's security updates replace them, and an exact pin would then stop the build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libevent-dev libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Dependencies first, in their own layer, so editing Sources does not fetch them again.
# Package.resolved is optional (it is gitignored); when present its pins are used exactly.
COPY Package.* ./
RUN if [ -f Package.resolved ]; then pinned=--force-resolved-versions; else pinned=; fi \
    && swift package --scratch-path /src/.build $pinned resolve

# The manifest names the test targets too, so SwiftPM wants their folders even for a product build.
COPY Sources ./Sources
COPY Tests ./Tests
COPY scripts/build-release ./scripts/build-release
# The same recipe CI runs: release mode, --static-swift-stdlib, and an ldd check that no Swift library is linked.
RUN scripts/build-release --scratch-path /src/.build --output /out/berth --strip-debug \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /out/swift-backtrace

# ---- runtime -------------------------------------------------------------------------------------------------
FROM debian:bookworm-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# libevent-2.1-7 holds libevent-2.1.so.7 and libssl3 OpenSSL 3 (libssl.so.3, libcrypto.so.3), the only libraries
# berth needs beyond glibc, libstdc++ and libgcc_s (which the base image has). ca-certificates is the system store
# that TLS to upstreams verifies against by default. The user has a fixed numeric id so Kubernetes' runAsNonRoot
# can check it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libevent-2.1-7 libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 65532 berth \
    && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin berth

COPY --from=build /out/berth /usr/local/bin/berth
COPY --from=build /out/swift-backtrace /usr/local/libexec/berth/swift-backtrace
COPY deploy/docker/berth-healthcheck /usr/local/bin/berth-healthcheck

# Fail the image build, not the first start, if a shared library is missing.
RUN if ldd /usr/local/bin/berth | grep 'not found'; then exit 1; fi \
    && berth --version

# A crash prints a symbolicated backtrace of every thread to stderr and exits.
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/libexec/berth/swift-backtrace

USER 65532:65532
# 3128: the proxy. 9901: the admin API, on 127.0.0.1 unless BERTH_ADMIN and BERTH_ADMIN_TOKEN_FILE move it.
EXPOSE 3128 9901
# SIGTERM makes berth stop accepting, finish in-flight requests (--drain-timeout, 10s) and exit 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/berth-healthcheck", "/healthz"]
ENTRYPOINT ["/usr/local/bin/berth"]
CMD ["--profile", "same-region", "--listen", "0.0.0.0:3128"]
