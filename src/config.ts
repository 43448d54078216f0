import path from 'node:path';
import { AppError } from './errors';
import { envSchema, UNIT_MS, type Env } from './config-env';
import type { RetryPolicy } from './recordings/failure-policy';

/**
 * Every setting of the service in one typed object (the variables, their defaults and their
 * validation are in config-env.ts). `loadConfig()` is the only reader of process.env;
 * everything else receives a Config.
 */

export type { Env } from './config-env';

export interface Config {
  api: { host: string; port: number; logLevel: Env['LOG_LEVEL']; metricsToken?: string };
  /** A worker's status listener (statusPort undefined: none), and its session's scheduling weight (recorder/session-weight.ts). */
  worker: { statusHost: string; statusPort?: number; sessionNice: number };
  auth: { jwtSecret?: string; jwtPublicKey?: string; serviceApiKeyHashes: string[] };
  livekit: { url: string; apiKey: string; apiSecret: string; webhookEnabled: boolean };
  recorder: {
    chromiumPath: string;
    chromiumExtraArgs: string[];
    /** Each browser's session weight (WORKER_SESSION_NICE, as the worker's own: recorder/session-weight.ts). */
    browserSessionNice: number;
    ffmpegPath: string;
    ffprobePath: string;
    warmBrowsers: number;
    standbyPages: number;
    maxConcurrent: number;
    cpuBudget: number;
    costs: { canvas: number; customLayout: number; stream: number; tracksAudio: number; tracksVideo: number };
    cpuReserve: number;
    measuredAdmission: boolean;
    customLayoutOrigins: string[];
    assetOrigins: string[];
    streamAllowed: string[];
    ingestHost: string;
    ingestPort: number;
    ingestStallSeconds: number;
    maxPauseSeconds: number;
    presenceWaitMs: number;
    avOffsetMs: number;
    outputDir: string;
    spoolDir: string;
    minFreeDiskMb: number;
  };
  /** The key stream URLs are encrypted with at rest (undefined: stored as given), and the keys it replaced, only read (RECORDER_SECRETS_OLD_KEYS). */
  secrets: { key?: Buffer; oldKeys: Buffer[] };
  /** pgliteDir undefined: PGlite in memory (PGLITE_DIR=memory), lost when the process ends. */
  database: { url?: string; pgliteDir?: string };
  redis: { url?: string; ownerTtlMs: number };
  recordings: { maxDurationSeconds: number; idleTimeoutSeconds: number; retentionMs: number; retentionIntervalSeconds: number; recoveryIntervalMs: number };
  storage: {
    provider: Env['RECORDING_STORAGE_PROVIDER'];
    bucket?: string;
    region: string;
    credentials?: string;
    endpoint?: string;
    prefix: string;
    signedUrlSeconds: number;
    urlSigningSecret?: string;
    localDir: string;
  };
  webhooks: { urls: string[]; secret?: string; retry: RetryPolicy };
  postprocess: { retry: RetryPolicy; storageProbeMs: number };
  /** How long shutdown waits for the post-processing of the recordings it stopped. */
  shutdown: { postprocessGraceMs: number };
}

function retryPolicy(maxAttempts: number, baseSeconds: number, maxSeconds: number): RetryPolicy {
  return { maxAttempts, baseMs: baseSeconds * 1000, maxMs: maxSeconds * 1000 };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset" so `FOO= recorder ...` falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('CONFIG_INVALID', `invalid configuration: ${detail}`);
  }
  const e = parsed.data;
  if ((e.RECORDING_STORAGE_PROVIDER === 'aws' || e.RECORDING_STORAGE_PROVIDER === 'gcp') && !e.RECORDING_STORAGE_BUCKET) {
    throw new AppError('CONFIG_INVALID', `invalid configuration: RECORDING_STORAGE_BUCKET is required for provider ${e.RECORDING_STORAGE_PROVIDER}`);
  }
  const retentionDaysMs = e.RECORDING_RETENTION_DAYS === undefined ? undefined : e.RECORDING_RETENTION_DAYS * UNIT_MS.d;
  if (e.RECORDING_RETENTION !== undefined && retentionDaysMs !== undefined && e.RECORDING_RETENTION !== retentionDaysMs) {
    throw new AppError(
      'CONFIG_INVALID',
      `invalid configuration: RECORDING_RETENTION=${env.RECORDING_RETENTION} and RECORDING_RETENTION_DAYS=${e.RECORDING_RETENTION_DAYS} disagree; set only RECORDING_RETENTION`,
    );
  }
  return {
    api: { host: e.HOST, port: e.PORT, logLevel: e.LOG_LEVEL, ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}) },
    worker: { statusHost: e.WORKER_STATUS_HOST, ...(e.WORKER_STATUS_PORT !== undefined ? { statusPort: e.WORKER_STATUS_PORT } : {}), sessionNice: e.WORKER_SESSION_NICE },
    auth: { jwtSecret: e.AUTH_JWT_SECRET, jwtPublicKey: e.AUTH_JWT_PUBLIC_KEY, serviceApiKeyHashes: e.AUTH_SERVICE_API_KEY_HASHES },
    livekit: { url: e.LIVEKIT_URL, apiKey: e.LIVEKIT_API_KEY, apiSecret: e.LIVEKIT_API_SECRET, webhookEnabled: e.LIVEKIT_WEBHOOK_ENABLED },
    recorder: {
      chromiumPath: e.CHROMIUM_PATH,
      chromiumExtraArgs: e.CHROMIUM_EXTRA_ARGS,
      browserSessionNice: e.WORKER_SESSION_NICE,
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
      warmBrowsers: e.RECORDER_WARM_BROWSERS,
      standbyPages: e.RECORDER_STANDBY_PAGES,
      maxConcurrent: e.RECORDER_MAX_CONCURRENT,
      cpuBudget: e.RECORDER_CPU_BUDGET,
      costs: { canvas: e.RECORDER_COST_CANVAS, customLayout: e.RECORDER_COST_CUSTOM_LAYOUT, stream: e.RECORDER_COST_STREAM, tracksAudio: e.RECORDER_COST_TRACKS_AUDIO, tracksVideo: e.RECORDER_COST_TRACKS_VIDEO },
      cpuReserve: e.RECORDER_CPU_RESERVE,
      measuredAdmission: e.RECORDER_ADMISSION_MEASURED,
      customLayoutOrigins: e.RECORDER_CUSTOM_LAYOUT_ORIGINS,
      assetOrigins: e.RECORDER_ASSET_ORIGINS,
      streamAllowed: e.RECORDER_STREAM_ALLOWED,
      ingestHost: e.RECORDER_INGEST_HOST,
      ingestPort: e.RECORDER_INGEST_PORT,
      ingestStallSeconds: e.RECORDER_INGEST_STALL_SECONDS,
      maxPauseSeconds: e.RECORDING_MAX_PAUSE_SECONDS,
      presenceWaitMs: e.RECORDER_PRESENCE_WAIT_MS,
      avOffsetMs: e.RECORDER_AV_OFFSET_MS,
      outputDir: e.RECORDING_OUTPUT_DIR,
      spoolDir: e.RECORDING_SPOOL_DIR ?? path.join(e.RECORDING_OUTPUT_DIR, '.spool'),
      minFreeDiskMb: e.RECORDING_MIN_FREE_DISK_MB,
    },
    secrets: { ...(e.RECORDER_SECRETS_KEY ? { key: e.RECORDER_SECRETS_KEY } : {}), oldKeys: e.RECORDER_SECRETS_OLD_KEYS },
    // on disk beside the recordings by default, so a crash loses neither calls nor recordings
    database: { url: e.DATABASE_URL, pgliteDir: e.PGLITE_DIR === 'memory' ? undefined : (e.PGLITE_DIR ?? path.join(e.RECORDING_OUTPUT_DIR, '.db')) },
    redis: { url: e.REDIS_URL, ownerTtlMs: e.REDIS_OWNER_TTL_SECONDS * 1000 },
    recordings: {
      maxDurationSeconds: e.RECORDING_MAX_DURATION_SECONDS,
      idleTimeoutSeconds: e.RECORDING_IDLE_TIMEOUT_SECONDS,
      retentionMs: e.RECORDING_RETENTION ?? retentionDaysMs ?? 30 * UNIT_MS.d,
      retentionIntervalSeconds: e.RECORDING_RETENTION_INTERVAL_SECONDS,
      recoveryIntervalMs: e.RECORDING_RECOVERY_INTERVAL_SECONDS * 1000,
    },
    storage: {
      provider: e.RECORDING_STORAGE_PROVIDER,
      bucket: e.RECORDING_STORAGE_BUCKET,
      region: e.RECORDING_STORAGE_REGION,
      credentials: e.RECORDING_STORAGE_CREDENTIALS,
      endpoint: e.RECORDING_STORAGE_ENDPOINT,
      prefix: e.RECORDING_STORAGE_PREFIX,
      signedUrlSeconds: e.RECORDING_SIGNED_URL_SECONDS,
      urlSigningSecret: e.RECORDING_URL_SIGNING_SECRET,
      localDir: e.RECORDING_OUTPUT_DIR,
    },
    webhooks: {
      urls: e.WEBHOOK_URLS,
      secret: e.WEBHOOK_SECRET,
      retry: retryPolicy(e.WEBHOOK_MAX_ATTEMPTS, e.WEBHOOK_RETRY_BASE_SECONDS, e.WEBHOOK_RETRY_MAX_SECONDS),
    },
    postprocess: {
      retry: retryPolicy(e.POSTPROCESS_MAX_ATTEMPTS, e.POSTPROCESS_RETRY_BASE_SECONDS, e.POSTPROCESS_RETRY_MAX_SECONDS),
      storageProbeMs: e.POSTPROCESS_STORAGE_PROBE_SECONDS * 1000,
    },
    shutdown: { postprocessGraceMs: e.POSTPROCESS_SHUTDOWN_GRACE_SECONDS * 1000 },
  };
}
