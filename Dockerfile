# reuseport-lab server image. Works with the legacy builder (no BuildKit).
# Build: docker build -t reuseport-lab:local .   (or let `npm run poc` do it)
ARG NODE_VERSION=24

# --- build: compile the native addon and the server's TypeScript ----------
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
# node-gyp builds against the headers in the image instead of downloading them.
ENV npm_config_nodedir=/usr/local
# package-lock.jso[n]: a clone has the lock file; an installed package (npm
# never packs it) builds from package.json's ranges instead.
# extra-ca.pe[m]: an optional CA bundle for a TLS-intercepting proxy between
# npm and its registry. The harness adds the host's NODE_EXTRA_CA_CERTS as
# extra-ca.pem; without it the glob matches nothing and the build goes on.
COPY package.json package-lock.jso[n] extra-ca.pe[m] binding.gyp ./
COPY native/ native/
COPY scripts/install-addon.mjs scripts/
RUN if [ -f extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/src/extra-ca.pem; fi \
 && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
    else npm install --no-audit --no-fund --loglevel=error; fi
COPY tsconfig.json tsconfig.server.json ./
COPY server/ server/
RUN npx tsc -p tsconfig.server.json

# --- runtime: production files only, non-root -------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    STATE_DIR=/tmp/reuseport-lab
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/build/Release/reuseport.node build/Release/
COPY --from=build /src/dist/ dist/
# The server's runtime dependencies, neither with any of its own: ws (GET
# /ws) and node-gyp-build (loads the addon).
COPY --from=build /src/node_modules/ws/ node_modules/ws/
COPY --from=build /src/node_modules/node-gyp-build/ node_modules/node-gyp-build/
COPY scripts/ scripts/
USER node
EXPOSE 8080
# Healthy while some server answers on the shared port. During a restart the
# draining one may answer 503 once; retries cover that. Bash's /dev/tcp, not
# node: a check that started node and fetch cost 0.27 s of CPU (measured with
# /usr/bin/time), once a second per container, 1.6 of this machine's 2 cores
# for a fleet of 6 replicas; this one costs under 10 ms.
HEALTHCHECK --interval=1s --timeout=2s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/app/scripts/entrypoint.sh"]

# --- systemd: the same server under systemd as PID 1 ------------------------
# For the systemd restart designs (systemd/*, scripts/systemd/): blue/green
# units, socket activation, and blue/green on one shared socket. Nothing is
# enabled at boot: each design's first restart starts its own units (they
# would compete for port 8080). Runs without --privileged, but needs a
# writable cgroup mount and tmpfs on /run (see docs/security.md):
#   docker run --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
#     --tmpfs /run --tmpfs /run/lock IMAGE
# Build it with --target systemd; the default target stays the runtime above.
FROM runtime AS systemd
USER root
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd systemd-sysv >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /etc/reuseport-lab /var/lib/reuseport-lab
COPY systemd/ /etc/systemd/system/
ENV container=docker
# The runtime target's check would start a socket-activated server by itself.
HEALTHCHECK NONE
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/sbin/init"]
