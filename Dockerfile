# The recorder: API and/or worker (`recorder all | serve | worker`), with Debian's Chromium
# and FFmpeg. livekit-server is not part of it: point LIVEKIT_URL at yours.
FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV PUPPETEER_SKIP_DOWNLOAD=1
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY recorder-page ./recorder-page
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends chromium ffmpeg fonts-dejavu-core ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    CHROMIUM_PATH=/usr/bin/chromium \
    HOST=0.0.0.0 \
    PORT=8080 \
    RECORDING_OUTPUT_DIR=/data/recordings
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/generated ./generated
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/recorder-page/dist ./recorder-page/dist
COPY --from=build /app/bin ./bin
RUN useradd --create-home --uid 10001 recorder && mkdir -p /data/recordings && chown -R recorder /data
USER 10001
VOLUME ["/data"]
EXPOSE 8080
# a worker serves no API: set WORKER_STATUS_PORT for it (docker-compose.yml does), the check asks that port
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WORKER_STATUS_PORT||process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/recorder"]
CMD ["all"]
