# syntax=docker/dockerfile:1
# Herald's two images, from one builder:
#   docker build --target controller -t ghcr.io/herald-lb/controller:TAG .
#   docker build --target speaker    -t ghcr.io/herald-lb/speaker:TAG .
# The builder runs `npm run package` (docs/packaging.md); each runtime stage copies its
# binary's packaged tree and nothing else, so the image holds exactly what the packaging
# integration test started. The chart passes flags as `args`, so ENTRYPOINT is the binary.
# The native addon is compiled for the platform the builder runs on: build each
# architecture natively (or under emulation), never cross-compile the builder stage.
#
# The base images are build arguments so that a machine with no registry can build on
# local stand-ins of the same images (e2e/images does, with buildah); the defaults are
# what a user pulls. Behind a TLS-intercepting proxy, pass its CA bundle as the optional
# secret `npm-ca` (`--secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt`): a
# secret never lands in a layer, and without it npm uses its built-in roots.
ARG BUILDER_BASE=node:20-bookworm
ARG CONTROLLER_BASE=gcr.io/distroless/nodejs20-debian12:nonroot
ARG SPEAKER_BASE=gcr.io/distroless/nodejs20-debian12

FROM ${BUILDER_BASE} AS builder
# A C toolchain and python3 for node-gyp (the speaker's N-API addon); the headers come
# with the image's Node (/usr/local/include/node), so node-gyp downloads nothing.
# node:20-bookworm already has them (buildpack-deps); apt runs only on a base without.
RUN if command -v make && command -v g++ && command -v python3; then :; else \
      apt-get update \
   && apt-get install -y --no-install-recommends build-essential python3 \
   && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export npm_config_cafile=/run/secrets/npm-ca; fi \
 && npm ci --no-audit --no-fund
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export npm_config_cafile=/run/secrets/npm-ca; fi \
 && npm run package

# Distroless: glibc (Debian 12, as the builder, for the addon) and Node, no shell, no npm.
FROM ${CONTROLLER_BASE} AS controller
WORKDIR /app
COPY --from=builder /src/dist-package/controller /app
# The chart's pod sets runAsNonRoot with this uid; a numeric USER lets the kubelet verify it.
USER 65532:65532
ENV NODE_ENV=production
EXPOSE 7472 7473
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]

FROM ${SPEAKER_BASE} AS speaker
WORKDIR /app
COPY --from=builder /src/dist-package/speaker /app
# Root on purpose: the speaker needs CAP_NET_RAW for its AF_PACKET sockets (ARP/NDP), and
# Kubernetes cannot grant a capability to a non-root process (no ambient capabilities).
# The pod spec drops every other capability and adds only NET_RAW (chart, ADR 0008).
USER 0:0
ENV NODE_ENV=production
EXPOSE 7474 7475 7946/udp
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]
