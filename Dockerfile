# One image for every housing-brain service; the command picks the service.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Dev dependencies stay out; tsx (a runtime dependency) runs the TypeScript sources.
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
COPY node-red ./node-red
COPY types ./types
COPY tsconfig.json ./
# Tokens and the embedded database (when used) live here; a volume keeps them.
ENV DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "bin/housing-brain.js"]
CMD ["up"]
