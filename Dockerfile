# syntax=docker/dockerfile:1.7
# Multi-stage: build with dev dependencies, run compiled JavaScript with production dependencies
# only, as a non-root user that owns nothing it could change.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node's install script would download CUDA libraries from NuGet on linux/x64;
# the CPU binaries ship in the package (npm 11 skips the script through package.json
# allowScripts, npm 10 in this image needs the variable).
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY ledger ./ledger
COPY projections ./projections
COPY ml ./ml
COPY scripts ./scripts
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
RUN groupadd --system --gid 1001 nodejs && useradd --system --uid 1001 --gid nodejs --no-create-home app
COPY package.json package-lock.json ./
# Root-owned and read-only for the app user: no chown -R (it would store node_modules twice).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY ml/model ./ml/model
COPY docker/start.sh ./docker/start.sh
USER app
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The heap is sized from the container's memory limit (docker/start.sh).
CMD ["./docker/start.sh"]
