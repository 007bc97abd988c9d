# syntax=docker/dockerfile:1
# Multi-stage: type-check and compile with the dev dependencies, then ship the compiled JavaScript
# and production dependencies only, as non-root.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Everything .dockerignore lets through (sources, tests, benchmarks) so the type-check sees it all.
COPY . .
RUN npm run typecheck && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node public ./public
USER node
EXPOSE 3000
# Overridden per service in docker-compose.yml (api, worker, migrate).
CMD ["node", "dist/src/api.js"]
