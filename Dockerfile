# Vantage agent image: docker build -t vantage:0.1.0 .
# Run: docker run --cap-drop ALL --cap-add NET_RAW -p 9477:9477 vantage:0.1.0
# (root inside, every capability but NET_RAW dropped: the raw ICMP socket needs it, nothing else does).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
# node-gyp compiles the ICMP addon (native/icmp_socket.c) during npm ci.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# Build against the headers of the Node.js in this image (they ship in /usr/local/include/node):
# the same ABI as the runtime stage, and no header download, so the build works offline.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY package.json package-lock.json binding.gyp tsconfig.json tsconfig.build.json ./
COPY native ./native
COPY src ./src
# npm ci builds the addon and, through `prepare`, the TypeScript; then the dev tools go.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/Release/vantage_icmp.node ./build/Release/vantage_icmp.node
COPY config ./config
EXPOSE 9477
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9477/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/bin/vantage.cjs"]
CMD ["run", "-c", "/app/config/vantage.yaml"]
