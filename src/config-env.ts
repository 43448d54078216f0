import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseSecretsKey, SECRETS_KEY_RULE } from './recordings/secrets';
import { STREAM_HOST_PATTERN } from './recordings/streams';

/**
 * The service's environment variables: each with its default and its validation. Only
 * config.ts reads them (loadConfig), into the typed Config everything else receives.
 */
const csv = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean));

export const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
// bounded so that now minus the retention is always a valid date
const MAX_RETENTION_DAYS = 36_500;

/** "36h" -> milliseconds (input already checked against /^[1-9][0-9]*[smhd]$/). */
function durationMs(text: string): number {
  return Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS];
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const envSchema = z.object({
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
  /** Encrypts stream URLs (their keys) where they are stored: database, Redis (recordings/secrets.ts); the same on every process. Unset: stored as given. */
  RECORDER_SECRETS_KEY: z
    .string()
    .transform((text, ctx) => parseSecretsKey(text) ?? (ctx.addIssue({ code: 'custom', message: SECRETS_KEY_RULE }), z.NEVER))
    .optional(),
  /** Keys stream URLs were encrypted with before RECORDER_SECRETS_KEY (a rotation): still read, never written with. */
  RECORDER_SECRETS_OLD_KEYS: csv
    .transform((list, ctx) => list.map((text, i) => parseSecretsKey(text) ?? (ctx.addIssue({ code: 'custom', message: `key ${i + 1} ${SECRETS_KEY_RULE}` }), z.NEVER)))
    .default([]),
  // The worker's own HTTP server (recorder page + ingest WebSocket); 0 = any free port.
  RECORDER_INGEST_HOST: z.string().default('127.0.0.1'),
  RECORDER_INGEST_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  // A worker's status listener (/healthz, /readyz: it could take one more recording, /metrics)
  // for probes and scrapes; unset: a worker opens no listener.
  WORKER_STATUS_HOST: z.string().default('127.0.0.1'),
  WORKER_STATUS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WORKER_SESSION_NICE: z.coerce.number().int().min(-20).max(19).default(-8),
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
