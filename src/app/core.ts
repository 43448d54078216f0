import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Config } from '../config';
import { openDatabase, type Database } from '../db';
import { PrismaLayoutPresetRepository } from '../db/preset-repository';
import { PrismaRecordingRepository } from '../db/recording-repository';
import { PrismaWebhookOutbox } from '../db/webhook-outbox';
import type { RedisPoolOptions } from '../dispatch/redis';
import { LivekitRoomPresence } from '../livekit/room-presence';
import type { HealthCheck } from '../observability/health';
import { createLogger, type Logger } from '../observability/logger';
import { DiskWatch } from '../observability/disk-watch';
import { EventLoopStalls } from '../observability/event-loop-stalls';
import { MachineLoad } from '../observability/machine-load';
import { Metrics } from '../observability/metrics';
import { checkFreeSpace } from '../postprocess/disk';
import { storesSpoolOn } from '../recorder/stored-spool';
import { headroom } from '../recordings/capacity';
import { RecordingEventBus } from '../recordings/events';
import { RecordingLifecycle } from '../recordings/lifecycle';
import { KeepLocalFile } from '../recordings/local-postprocess';
import { PostprocessQueue, type PostprocessQueueOptions } from '../recordings/postprocess-queue';
import { PresetAssetService } from '../recordings/preset-asset-service';
import type { PresetAssetStore } from '../recordings/preset-assets';
import { LayoutPresetService } from '../recordings/preset-service';
import type { DispatchPort, PostprocessPort, RecorderPort, RecordingStoragePort, RoomPresencePort } from '../recordings/ports';
import { RecordingRunner, type RunnerOptions } from '../recordings/runner';
import { StreamSecrets } from '../recordings/secrets';
import { RecordingsService, type RecoveryReport } from '../recordings/service';
import { WebhookSender, type WebhookOptions } from '../recordings/webhooks';
import { createStorage } from '../storage';
import { StoragePresetAssets } from '../storage/preset-assets';
import { buildDispatch } from './dispatch';
import { Maintenance } from './maintenance';
import { RecoverySchedule } from './recovery';

/**
 * The parts every process of the service has, without HTTP: database (migrated), event bus,
 * webhooks, metrics, the post-processing queue, dispatch (Redis or in-process), the worker
 * side when a recorder is given, retention and recovery. A worker runs this alone; the API
 * processes add the express app on top (http.ts).
 */
export interface CoreDeps {
  /** The live recorder (src/recorder). Given: this process is a worker. */
  recorder?: RecorderPort;
  /** Post-processing (src/postprocess); default: keep the file where it is. */
  postprocess?: PostprocessPort;
  storage?: RecordingStoragePort;
  /** The layout presets' uploaded assets; default: in the storage config.storage names (its own client). */
  presetAssets?: PresetAssetStore;
  /** Room emptiness for auto-stop; default LiveKit's RoomService; false disables. */
  presence?: RoomPresencePort | false;
  /** Readiness of the recorder (warm browser etc.), part of /readyz. */
  recorderReady?: HealthCheck;
  /** Standby recorder pages ready now; Redis dispatch prefers a worker that has one. */
  recorderWarmPages?: () => Promise<number>;
  logger?: Logger;
  /** An already open database (tests); default: opened from config.database. */
  database?: Database;
  workerId?: string;
  tuning?: {
    postprocess?: Partial<PostprocessQueueOptions>;
    webhooks?: Partial<WebhookOptions>;
    runner?: Partial<RunnerOptions>;
    pool?: Partial<RedisPoolOptions>;
    /** Retention and spool cleanup period; default config.recordings.retentionIntervalSeconds. */
    maintenanceIntervalMs?: number;
    /**
     * With Redis, recovery runs again at least this often (other workers may die), and sooner
     * when a recording it skipped may have lost its owner by then; 0 disables (default RECORDING_RECOVERY_INTERVAL_SECONDS).
     */
    recoveryIntervalMs?: number;
    unclaimedGraceMs?: number;
    /** With Redis: how long a cached call or recording view is served (default 30 s). */
    viewCacheTtlMs?: number;
  };
}

export interface Core {
  db: Database;
  bus: RecordingEventBus;
  recordings: RecordingsService;
  /** The layout presets (/api/layout-presets), which starts and live changes name. */
  presets: LayoutPresetService;
  /** Their uploaded assets (/api/layout-presets/:name/assets). */
  presetAssets: PresetAssetService;
  /** Where they are kept, for the studio's image route. */
  presetAssetStore: PresetAssetStore;
  lifecycle: RecordingLifecycle;
  postprocess: PostprocessQueue;
  /** Retention and stale spool files; runs periodically after start(). */
  maintenance: Maintenance;
  runner?: RecordingRunner;
  dispatcher: DispatchPort & { close(): Promise<void> };
  metrics: Metrics;
  logger: Logger;
  workerId: string;
  /** Checks of what this process depends on (database, Redis, recorder), for /readyz. */
  readiness: Record<string, HealthCheck>;
  /** Recovery of dead workers' recordings, then the pollers. Call once before taking work. */
  start(): Promise<RecoveryReport>;
  /** Stops live recordings ('shutdown'), pollers, webhooks, Redis and the database. */
  close(): Promise<void>;
}

export async function buildCore(config: Config, deps: CoreDeps = {}): Promise<Core> {
  const logger = deps.logger ?? createLogger(config.api.logLevel);
  const workerId = deps.workerId ?? `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const ownsDb = !deps.database;
  const db = deps.database ?? (await openDatabase(config.database));
  const closers: (() => Promise<void>)[] = [];
  try {
    const bus = new RecordingEventBus((err, name) => logger.error({ err, event: name }, 'event listener failed'));
    bus.onAny((name, p) => {
      if (name !== 'recordingProgress') logger.info({ event: name, recordingId: p.recordingId, callId: p.callId, status: p.status }, 'recording event');
    });
    const secrets = new StreamSecrets(config.secrets.key, config.secrets.oldKeys);
    if (!secrets.sealing && config.recorder.streamAllowed.length) logger.warn('RECORDER_STREAM_ALLOWED set without RECORDER_SECRETS_KEY: stream keys are stored unencrypted (database, Redis)');
    const repo = new PrismaRecordingRepository(db.prisma, secrets);
    const lifecycle = new RecordingLifecycle(repo, bus);
    const metrics = new Metrics();
    metrics.attach(bus);
    // a blocked loop delays ingest acks and heartbeats: in the log beside its cause (and in /metrics, prom-client's)
    const stalls = new EventLoopStalls({ onStall: (ms) => logger.warn({ stallMs: Math.round(ms) }, 'event loop stalled') }).start();
    closers.push(async () => stalls.stop());
    const webhooks = new WebhookSender(new PrismaWebhookOutbox(db.prisma), {
      urls: config.webhooks.urls,
      retry: config.webhooks.retry,
      ...(config.webhooks.secret ? { secret: config.webhooks.secret } : {}),
      onDeliveryFailed: (info) => logger.warn(info, 'webhook delivery failed'),
      onError: (err) => logger.error({ err }, 'webhook outbox failed'),
      ...deps.tuning?.webhooks,
    }).attach(bus);
    if (config.webhooks.urls.length && !config.webhooks.secret) logger.warn('WEBHOOK_URLS set without WEBHOOK_SECRET: webhooks go out unsigned');

    const postprocess = new PostprocessQueue(lifecycle, deps.postprocess ?? new KeepLocalFile(), {
      ...config.postprocess,
      onError: (err) => logger.error({ err }, 'post-processing poll failed'),
      ...deps.tuning?.postprocess,
    });
    closers.push(() => postprocess.close());
    // after everything that emits events, before the database
    closers.push(() => webhooks.close());

    const presence = deps.presence === false ? undefined : (deps.presence ?? new LivekitRoomPresence(config.livekit));
    // what the machine really has free, for admission (a worker only)
    const machineLoad = deps.recorder && config.recorder.measuredAdmission ? new MachineLoad().start() : undefined;
    if (machineLoad) closers.push(async () => machineLoad.stop());
    // the disk a worker records to (an API process without a recorder has none to check)
    const diskWatch = deps.recorder && config.recorder.minFreeDiskMb > 0 ? await new DiskWatch([config.recorder.outputDir, config.recorder.spoolDir], config.recorder.minFreeDiskMb).start() : undefined;
    if (diskWatch) closers.push(async () => diskWatch.stop());
    const runner = deps.recorder
      ? new RecordingRunner(lifecycle, deps.recorder, postprocess, presence, {
          workerId,
          idleTimeoutSeconds: config.recordings.idleTimeoutSeconds,
          capacity: { maxConcurrent: config.recorder.maxConcurrent, cpuBudget: config.recorder.cpuBudget, costs: config.recorder.costs, reserve: config.recorder.cpuReserve },
          ...(machineLoad ? { measureCpu: () => machineLoad.measure() } : {}),
          ...(diskWatch ? { diskShort: () => diskWatch.shortage() } : {}),
          onError: (err, id) => logger.error({ err, recordingId: id }, 'recording runner failed'),
          ...deps.tuning?.runner,
        })
      : undefined;

    const { dispatcher, views, redisReady } = await buildDispatch(config, {
      workerId,
      ...(runner ? { runner } : {}),
      ...(deps.recorderWarmPages ? { warmPages: deps.recorderWarmPages } : {}),
      bus,
      repo,
      secrets,
      logger,
      ...(deps.tuning?.pool ? { tuning: deps.tuning.pool } : {}),
      ...(deps.tuning?.viewCacheTtlMs !== undefined ? { viewCacheTtlMs: deps.tuning.viewCacheTtlMs } : {}),
    });
    // Close order: recordings first (they still write), then the dispatcher, then the rest.
    closers.unshift(() => dispatcher.close());
    if (runner) closers.unshift(() => runner.close());
    const readiness: Record<string, HealthCheck> = {
      database: () => db.ping(),
      ...(redisReady ? { redis: redisReady } : {}),
      ...(deps.recorderReady ? { recorder: deps.recorderReady } : {}),
    };

    const presetRepo = new PrismaLayoutPresetRepository(db.prisma);
    const assetStore = deps.presetAssets ?? ownAssetStore(config, closers);
    const presets = new LayoutPresetService(presetRepo, { assetOrigins: config.recorder.assetOrigins, assets: assetStore });
    const presetAssets = new PresetAssetService(presetRepo, assetStore);
    const recordings = new RecordingsService(
      {
        repo,
        presets: presetRepo,
        presetAssets: assetStore,
        lifecycle,
        dispatcher,
        postprocess,
        ...(deps.recorder ? { recorder: deps.recorder } : {}),
        ...(deps.storage ? { storage: deps.storage } : {}),
        ...(runner ? { onParticipantLeft: (room: string) => runner.nudge(room) } : {}),
        ...(views ? { views } : {}),
      },
      {
        outputDir: config.recorder.outputDir,
        maxDurationSeconds: config.recordings.maxDurationSeconds,
        layoutOrigins: config.recorder.customLayoutOrigins,
        assetOrigins: config.recorder.assetOrigins,
        // checked now, not as of the last look, when this process records: DISK_FULL at once
        ...(diskWatch ? { checkDisk: async () => void (await checkFreeSpace(config.recorder.outputDir, config.recorder.minFreeDiskMb)) } : {}),
        spoolStored: storesSpoolOn(config.storage.provider),
        streamHosts: config.recorder.streamAllowed,
        ...(deps.tuning?.unclaimedGraceMs !== undefined ? { unclaimedGraceMs: deps.tuning.unclaimedGraceMs } : {}),
      },
    );
    const maintenance = new Maintenance(
      recordings,
      repo,
      {
        retentionMs: config.recordings.retentionMs,
        spoolDir: config.recorder.spoolDir,
        intervalMs: deps.tuning?.maintenanceIntervalMs ?? config.recordings.retentionIntervalSeconds * 1000,
      },
      logger,
    );
    closers.unshift(() => maintenance.close());
    metrics.setSources({
      statusCounts: () => repo.statusCounts(),
      activeRecordings: () => runner?.activeCount() ?? 0,
      ...(runner
        ? {
            cpu: () => {
              const load = runner.load();
              return {
                budget: runner.limits.cpuBudget,
                committed: load.committed,
                // none left when it would not admit another (its readiness says so too)
                headroom: runner.hasRoomForAnother() ? headroom(load, runner.limits) : 0,
                ...(load.machine ? { others: load.machine.others } : {}),
              };
            },
          }
        : {}),
    });

    const recovery = new RecoverySchedule(recordings, { repeat: Boolean(config.redis.url), everyMs: deps.tuning?.recoveryIntervalMs ?? config.recordings.recoveryIntervalMs }, logger);
    let closing: Promise<void> | undefined;
    return {
      db,
      bus,
      recordings,
      presets,
      presetAssets,
      presetAssetStore: assetStore,
      lifecycle,
      postprocess,
      maintenance,
      ...(runner ? { runner } : {}),
      dispatcher,
      metrics,
      logger,
      workerId,
      readiness,
      async start() {
        const report = await recovery.runOnce();
        if (runner) postprocess.start();
        maintenance.start();
        recovery.scheduleAfter(report);
        return report;
      },
      close() {
        closing ??= (async () => {
          recovery.stop();
          for (const c of closers) await c().catch((err) => logger.error({ err }, 'close failed'));
          if (ownsDb) await db.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const c of closers) await c().catch(() => undefined);
    if (ownsDb) await db.close();
    throw err;
  }
}

/** A store of preset assets on a storage client of the core's own, closed with it. */
function ownAssetStore(config: Config, closers: (() => Promise<void>)[]): PresetAssetStore {
  const storage = createStorage(config.storage);
  closers.push(() => storage.close());
  return new StoragePresetAssets(storage, config.storage.prefix);
}
