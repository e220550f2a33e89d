# One image for every housing-brain service; the command picks the service (`up` by default).
# The build stage installs every dependency, builds the console (Vite) and compiles the TypeScript
# into dist/; the runtime stage gets the compiled code, the production dependencies and the files
# that are not code (the built console, Node-RED's shipped flows), and runs them with plain node.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The whole source tree (.dockerignore keeps out node_modules, dist, data and local files), so a
# new top-level folder needs no line here.
COPY . .
# The install runs the allowed install scripts and this package's `prepare`: the console build.
RUN npm ci --no-audit --no-fund
RUN npm run build \
  && test -f console/dist/index.html \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# package.json: "type": "module" makes dist/'s .js files ES modules, and marks the package root
# the code reads console/dist and node-red/ from.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist
COPY --from=build /app/node-red ./node-red
# Tokens and the embedded database (when used) live here; a volume keeps them.
ENV DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["up"]
