import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors';
import type { RetryPolicy } from './recordings/failure-policy';
import { STREAM_HOST_PATTERN } from './recordings/streams';

/**
 * Every setting of the service, with its default and its validation, in one place.
 * `loadConfig()` is the only reader of process.env; everything else receives a Config.
 */

const csv = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean));

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
// bounded so that now minus the retention is always a valid date
const MAX_RETENTION_DAYS = 36_500;

/** "36h" -> milliseconds (input already checked against /^[1-9][0-9]*[smhd]$/). */
function durationMs(text: string): number {
  return Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS];
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z.object({
  // API
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** When set, /metrics wants `Authorization: Bearer <token>` (Prometheus' `authorization` setting). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Authentication of API callers
  AUTH_JWT_SECRET: z.string().min(16).optional(),
  AUTH_JWT_PUBLIC_KEY: z.string().optional(),
  AUTH_SERVICE_API_KEY_HASHES: csv.default([]),

  // LiveKit
  LIVEKIT_URL: z.string().regex(/^wss?:\/\//, 'must start with ws:// or wss://').default('ws://127.0.0.1:7880'),
  LIVEKIT_API_KEY: z.string().min(1).default('devkey'),
  LIVEKIT_API_SECRET: z.string().min(1).default('secret'),
  LIVEKIT_WEBHOOK_ENABLED: bool.default(true),

  // Browser and media tools
  CHROMIUM_PATH: z.string().default('/usr/bin/chromium'),
  CHROMIUM_EXTRA_ARGS: csv.default([]),
  FFMPEG_PATH: z.string().default('ffmpeg'),
  FFPROBE_PATH: z.string().default('ffprobe'),
  RECORDER_WARM_BROWSERS: z.coerce.number().int().min(0).max(16).default(1),
  // Recorder pages kept loaded and waiting (about 60 MB each), so a burst of starts each find one.
  RECORDER_STANDBY_PAGES: z.coerce.number().int().min(0).max(32).default(4),
  // A hard cap on recordings at once; what a worker really takes is decided by measured load.
  RECORDER_MAX_CONCURRENT: z.coerce.number().int().min(1).max(64).default(32),
  /** Cores this worker commits to recordings (default: all of them); see recordings/capacity.ts. */
  RECORDER_CPU_BUDGET: z.coerce.number().positive().max(1024).default(os.availableParallelism()),
  /** Cores one 1280x720 30 fps recording takes: built-in layout / custom layout page (npm run bench). */
  RECORDER_COST_CANVAS: z.coerce.number().positive().max(64).default(0.27),
  RECORDER_COST_CUSTOM_LAYOUT: z.coerce.number().positive().max(64).default(0.8),
  /** Cores each rtmp/srt stream output adds (its FFmpeg 0.026, the page's shorter chunks; node dist/scripts/bench-rtmp.js). */
  RECORDER_COST_STREAM: z.coerce.number().min(0).max(64).default(0.03),
  /**
   * Cores `tracks: "audio"` adds, and what `"audio+video"`'s cameras add on top of it, with 3
   * participants (node dist/scripts/bench-tracks.js; three passes' medians added -0.012 to 0.063
   * for audio and 0.042 to 0.073 for audio+video: about the middle, rounded up, as a wrong low guess
   * starves admitted recordings until the measurement holds the new one).
   */
  RECORDER_COST_TRACKS_AUDIO: z.coerce.number().min(0).max(64).default(0.04),
  RECORDER_COST_TRACKS_VIDEO: z.coerce.number().min(0).max(64).default(0.02),
  /**
   * Idle cores the machine must keep after a new recording's cost, measured. Default 15% of
   * its cores (npm run bench, density: 4 recordings beside their publishers held 30 fps in
   * every second with the machine about 90% busy, once standby pages stopped loading meanwhile).
   */
  RECORDER_CPU_RESERVE: z.coerce.number().min(0).max(64).default(Math.round(os.availableParallelism() * 0.15 * 100) / 100),
  /** Admission against the machine's measured idle CPU as well as the estimated costs. */
  RECORDER_ADMISSION_MEASURED: bool.default(true),
  /** Origins whose pages may be custom layouts (customLayoutUrl); none by default. */
  RECORDER_CUSTOM_LAYOUT_ORIGINS: csv
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'must be http(s) origins' })))
    .transform((list) => list.map((o) => new URL(o).origin))
    .default([]),
  /** Origins overlay images (watermark, background) may come from; none by default. */
  RECORDER_ASSET_ORIGINS: csv
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'must be http(s) origins' })))
    .transform((list) => list.map((o) => new URL(o).origin))
    .default([]),
  /** Hosts stream outputs (rtmp, srt) may go to: `live.example.com`, `*.example.com`, `*`, each with an optional `:port`; none by default. */
  RECORDER_STREAM_ALLOWED: csv.pipe(z.array(z.string().regex(STREAM_HOST_PATTERN, 'must be host patterns: host, *.domain or *, with an optional :port'))).default([]),
  // The worker's own HTTP server (recorder page + ingest WebSocket); 0 = any free port.
  RECORDER_INGEST_HOST: z.string().default('127.0.0.1'),
  RECORDER_INGEST_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  // A worker's status listener (/healthz, /readyz: it could take one more recording, /metrics)
  // for probes and scrapes; unset: a worker opens no listener.
  WORKER_STATUS_HOST: z.string().default('127.0.0.1'),
  WORKER_STATUS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // How late the browser's audio lands after its video (ms), measured with browser publishers
  // (BENCH_PUBLISHER=chromium node dist/scripts/bench-avsync.js): the remux moves audio this
  // much earlier. 80 with the receive buffers held alike (recorder-page/src/room.ts).
  RECORDER_AV_OFFSET_MS: z.coerce.number().int().min(-1000).max(1000).default(80),
  // Seconds without a chunk after which a live recording is declared stalled.
  RECORDER_INGEST_STALL_SECONDS: z.coerce.number().positive().default(10),
  // How long the page waits, after joining, for everyone present to be on the canvas before
  // the encoder starts (the file's time 0); whoever is later shows as a name tile first.
  RECORDER_PRESENCE_WAIT_MS: z.coerce.number().int().min(0).max(10000).default(2500),

  // Persistence and coordination
  DATABASE_URL: z.string().optional(),
  /** The embedded database's directory when DATABASE_URL is unset (default `<RECORDING_OUTPUT_DIR>/.db`); `memory` keeps it in memory. */
  PGLITE_DIR: z.string().optional(),
  REDIS_URL: z.string().optional(),
  /** How long a worker's claim on its recordings outlives its last heartbeat: a lost worker's recordings are salvaged after this. Same on every process. */
  REDIS_OWNER_TTL_SECONDS: z.coerce.number().positive().max(600).default(15),

  // Recording defaults
  RECORDING_OUTPUT_DIR: z.string().default(path.join(os.homedir(), '.livekit-recorder', 'recordings')),
  RECORDING_SPOOL_DIR: z.string().optional(),
  RECORDING_MAX_DURATION_SECONDS: z.coerce.number().int().positive().default(4 * 3600),
  RECORDING_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(60),
  // A pause longer than this ends the recording (it holds a browser and a worker's slot, and
  // neither the maximum duration nor the empty-room stop count paused time).
  RECORDING_MAX_PAUSE_SECONDS: z.coerce.number().int().positive().default(3600),
  RECORDING_MIN_FREE_DISK_MB: z.coerce.number().int().min(0).default(512),
  // How long a finished recording is kept: RECORDING_RETENTION as a duration (90m, 36h, 7d),
  // or the older RECORDING_RETENTION_DAYS in whole days; both set must agree. Default 30 days.
  RECORDING_RETENTION: z
    .string()
    .regex(/^[1-9][0-9]*[smhd]$/, 'must be a whole number and a unit s, m, h or d, e.g. 90m, 36h, 7d')
    .transform(durationMs)
    .refine((ms) => ms <= MAX_RETENTION_DAYS * UNIT_MS.d, `must be at most ${MAX_RETENTION_DAYS}d`)
    .optional(),
  RECORDING_RETENTION_DAYS: z.coerce.number().int().positive().max(MAX_RETENTION_DAYS).optional(),
  // How often retention and spool cleanup run (seconds); 0 disables them.
  RECORDING_RETENTION_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3600),
  /** With Redis: how often a process looks for recordings of a worker that died (it also looks when a claim it saw runs out); 0 only at start. */
  RECORDING_RECOVERY_INTERVAL_SECONDS: z.coerce.number().min(0).default(60),

  // Storage
  RECORDING_STORAGE_PROVIDER: z.enum(['local', 'aws', 'gcp']).default('local'),
  RECORDING_STORAGE_BUCKET: z.string().optional(),
  RECORDING_STORAGE_REGION: z.string().default('us-east-1'),
  RECORDING_STORAGE_CREDENTIALS: z.string().optional(),
  RECORDING_STORAGE_ENDPOINT: z.string().url().optional(),
  RECORDING_STORAGE_PREFIX: z.string().default(''),
  RECORDING_SIGNED_URL_SECONDS: z.coerce.number().int().positive().default(900),
  // Signs local storage's download URLs; set the same value on every process of a
  // scaled-out deployment (default: a random secret per process).
  RECORDING_URL_SIGNING_SECRET: z.string().min(16).optional(),

  // Retries (recordings/failure-policy.ts decides what is retried): after failed attempt n the
  // wait is base * 2^(n-1), at most the cap, less up to a fifth at random.
  // Post-processing (probe, remux, thumbnails, upload) attempts before the recording is FAILED.
  POSTPROCESS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  // The wait after the first failed post-processing attempt (seconds).
  POSTPROCESS_RETRY_BASE_SECONDS: z.coerce.number().positive().max(3600).default(30),
  // The longest wait between post-processing attempts (seconds).
  POSTPROCESS_RETRY_MAX_SECONDS: z.coerce.number().positive().max(86_400).default(300),
  // While an upload waits on a storage that failed, the storage's health is checked this often;
  // a check that passes after one that failed retries the upload at once (0: the backoff only).
  POSTPROCESS_STORAGE_PROBE_SECONDS: z.coerce.number().min(0).max(3600).default(5),
  // At shutdown (SIGTERM), after its live recordings are stopped, how long a process waits for
  // their post-processing (uploads) before it exits; another worker resumes what is left.
  POSTPROCESS_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(86_400).default(60),

  // Outgoing webhooks
  WEBHOOK_URLS: csv.default([]),
  WEBHOOK_SECRET: z.string().optional(),
  // Attempts per webhook delivery, the first included, before it is given up (kept as failed).
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(6),
  // The wait after the first failed delivery (seconds).
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().positive().max(3600).default(1),
  // The longest wait between deliveries (seconds).
  WEBHOOK_RETRY_MAX_SECONDS: z.coerce.number().positive().max(86_400).default(60),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  api: { host: string; port: number; logLevel: Env['LOG_LEVEL']; metricsToken?: string };
  /** A worker's status listener; statusPort undefined: none. */
  worker: { statusHost: string; statusPort?: number };
  auth: { jwtSecret?: string; jwtPublicKey?: string; serviceApiKeyHashes: string[] };
  livekit: { url: string; apiKey: string; apiSecret: string; webhookEnabled: boolean };
  recorder: {
    chromiumPath: string;
    chromiumExtraArgs: string[];
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
    worker: { statusHost: e.WORKER_STATUS_HOST, ...(e.WORKER_STATUS_PORT !== undefined ? { statusPort: e.WORKER_STATUS_PORT } : {}) },
    auth: { jwtSecret: e.AUTH_JWT_SECRET, jwtPublicKey: e.AUTH_JWT_PUBLIC_KEY, serviceApiKeyHashes: e.AUTH_SERVICE_API_KEY_HASHES },
    livekit: { url: e.LIVEKIT_URL, apiKey: e.LIVEKIT_API_KEY, apiSecret: e.LIVEKIT_API_SECRET, webhookEnabled: e.LIVEKIT_WEBHOOK_ENABLED },
    recorder: {
      chromiumPath: e.CHROMIUM_PATH,
      chromiumExtraArgs: e.CHROMIUM_EXTRA_ARGS,
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
