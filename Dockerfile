# One image for every housing-brain service; the command picks the service.
# The console is built in a first stage with the dev dependencies (Vite); only its output ships.
FROM node:20-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY core ./core
COPY api ./api
COPY console ./console
RUN node --import tsx console/build.ts --force

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Dev dependencies stay out; tsx (a runtime dependency) runs the TypeScript sources. The install's
# console build finds no Vite and says so; the console built above is copied in below.
COPY console/build.ts ./console/build.ts
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY core ./core
COPY broker ./broker
COPY ingest ./ingest
COPY rules ./rules
COPY api ./api
COPY simulators ./simulators
COPY cli ./cli
COPY console ./console
COPY --from=console /app/console/dist ./console/dist
COPY node-red ./node-red
COPY types ./types
COPY tsconfig.json ./
# Tokens and the embedded database (when used) live here; a volume keeps them.
ENV DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "bin/housing-brain.js"]
CMD ["up"]
