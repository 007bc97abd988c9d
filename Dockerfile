# syntax=docker/dockerfile:1
# Multi-stage: type-check with the dev dependencies, then ship production dependencies only, as non-root.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Everything .dockerignore lets through (sources, tests, benchmarks) so the type-check sees it all.
COPY . .
RUN npm run typecheck && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node src ./src
COPY --chown=node:node workers ./workers
COPY --chown=node:node migrations ./migrations
COPY --chown=node:node public ./public
COPY --chown=node:node bin ./bin
USER node
EXPOSE 3000
# Overridden per service in docker-compose.yml (api, worker, migrate).
CMD ["node", "--import", "tsx", "src/api.ts"]
