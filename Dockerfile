# syntax=docker/dockerfile:1
# Build on Node 24 LTS, ship only the compiled code and production dependencies, run as non-root.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY connectors ./connectors
COPY detectors ./detectors
# The web console (/ui/), bundled into dist/ui by the same build.
COPY ui ./ui
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# Inside a container, 127.0.0.1 would be unreachable from the published port.
ENV NODE_ENV=production RECURD_CONFIG=/etc/recurd/recurd.yaml RECURD_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY config/recurd.example.yaml /etc/recurd/recurd.yaml
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.RECURD_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["start"]
