# Palisade backend and dashboard (`palisade serve`), hardened:
# - two stages: the build stage compiles (TypeScript, the dashboard, better-sqlite3's native
#   module); the runtime stage holds only production dependencies and built output
# - base image pinned to an exact Node version (pin the digest too for reproducible builds:
#   docker buildx imagetools inspect node:20.20.2-bookworm-slim, then append @sha256:...)
# - runs as a fixed non-root uid, expects a read-only root filesystem, keeps its data in /data
# - no secrets in the image: JWT_SECRET and DATABASE_URL come from the environment at run time
# Build: docker build -t palisade .   Run: see compose.yaml and docs/deployment.md

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# compilers for better-sqlite3 and bcrypt when no prebuilt binary matches
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/core/package.json packages/core/
COPY packages/mcp/package.json packages/mcp/
COPY packages/agent/package.json packages/agent/
COPY packages/gateway/package.json packages/gateway/
COPY packages/cli/package.json packages/cli/
COPY packages/server/package.json packages/server/
COPY packages/web/package.json packages/web/
# dependencies first (cached layer); the root `prepare` build runs once sources are in
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 bcrypt esbuild
COPY packages ./packages
RUN npx tsc -b packages/core packages/mcp packages/agent packages/server packages/cli \
 && npm run build -w @palisade/web \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf packages/*/src packages/*/test packages/*/tsconfig*.json packages/web/node_modules/.vite

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PALISADE_DATA_DIR=/data
WORKDIR /app
# a fixed uid/gid so volume ownership is predictable across rebuilds
RUN groupadd --system --gid 10001 palisade \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin palisade \
 && mkdir -p /data \
 && chown 10001:10001 /data \
 && chmod 0700 /data
COPY --from=build --chown=root:root /src/package.json /src/package-lock.json ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/packages ./packages
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# the server listens on 8080 (serve's default); with `--port N` in the command, set PORT=N
# too so the healthcheck follows
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# 0.0.0.0 inside the container only: the container's network namespace is the boundary;
# publish the port on 127.0.0.1 or behind a TLS reverse proxy (docs/deployment.md)
# the tsc output directly: bin/palisade.js's single-file bundle is for a fast-starting CLI,
# and on Node 20.20 it cannot load the backend (checked 2026-11-22: "A dynamic import
# callback was not specified")
# --max-semi-space-size=4: V8's young generation stays at 2 x 4 MB instead of growing to
# 2 x 16 MB under ingest, which bounds serve's RSS (issue 12, 1M instances, 2026-12-05: after
# 150 changed reports 257 -> 184 MB on PostgreSQL, 257 -> 222 MB on SQLite; the same CPU per report)
ENTRYPOINT ["node", "--max-semi-space-size=4", "packages/cli/dist/main.js"]
CMD ["serve", "--host", "0.0.0.0", "--data", "/data"]
