# Vantage agent image: docker build -t vantage:0.1.0 .
# Run: docker run --cap-drop ALL --security-opt no-new-privileges -p 9477:9477 vantage:0.1.0
# (uid 65534, no capability: ping and traceroute use Linux ping sockets, allowed by the container's
# net.ipv4.ping_group_range, which Docker >= 20.10 opens by default; say --sysctl
# net.ipv4.ping_group_range="0 2147483647" to be sure. Raw sockets instead: --user 0 --cap-add NET_RAW.)
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
# node-gyp compiles the addons (native/: C, and C++ for the one that calls V8).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# Build against the headers of the Node.js in this image (they ship in /usr/local/include/node):
# the same ABI as the runtime stage, and no header download, so the build works offline.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
# Dependencies and the addon first: they change less often than the TypeScript, so an edit under
# src/ reuses this layer. No dependency needs an install script; the addon is built explicitly.
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run build:native
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# With the Node flag of the entrypoint, the process settings of `npm start` (package.json; README:
# Memory at scale).
ENV NODE_ENV=production MALLOC_ARENA_MAX=1
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The addons (native/): ICMP sockets, TCP_INFO for the connect phase, V8's heap trim.
COPY --from=build /src/build/Release/*.node ./build/Release/
COPY config ./config
# Nobody: nothing here needs root (see the top of this file for ICMP).
USER 65534:65534
EXPOSE 9477
# The shipped config listens on $VANTAGE_LISTEN (default 0.0.0.0:9477); a config of your own
# with another listen: needs its own health check.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "const port = (process.env.VANTAGE_LISTEN || '0.0.0.0:9477').split(':').pop(); fetch('http://127.0.0.1:' + port + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/dist/bin/vantage.cjs"]
CMD ["run", "-c", "/app/config/vantage.yaml"]
