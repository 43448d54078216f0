import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { SignJWT } from 'jose';
import { createService, type Service, type ServiceDeps } from '../api/service';
import type { Config } from '../config';
import { openDatabase } from '../db';
import { AppError } from '../errors';
import { createLogger, type Logger } from '../observability/logger';
import { createPostprocessing, type Postprocessing } from '../postprocess/service-adapter';
import { Recorder } from '../recorder/recorder';
import { TERMINAL_STATUSES } from '../recordings/status';

/**
 * The long-running commands:
 *   all     API + recorder + post-processing in one process (the default deployment;
 *           without REDIS_URL dispatch is in-process, without DATABASE_URL the database
 *           is embedded PGlite)
 *   serve   API only; recordings go to workers through Redis
 *   worker  recorder + post-processing, no HTTP API; takes jobs from Redis
 * SIGTERM/SIGINT: stop taking work, finish live recordings (their media is kept and
 * handed to post-processing), close the HTTP server and the service, exit 0.
 */
export type ServeMode = 'all' | 'serve' | 'worker';

/** How long shutdown waits for this process's post-processing (uploads) to finish. */
const SHUTDOWN_POSTPROCESS_GRACE_MS = 60_000;

export interface RunningService {
  svc: Service;
  recorder?: Recorder;
  /** http://host:port of the API (all, serve). */
  url?: string;
  /** Idempotent graceful shutdown. */
  shutdown(reason?: string): Promise<void>;
}

export async function startService(mode: ServeMode, config: Config, logger: Logger = createLogger(config.api.logLevel)): Promise<RunningService> {
  if ((mode === 'serve' || mode === 'worker') && !config.redis.url) {
    throw new AppError(
      'CONFIG_INVALID',
      `invalid configuration: \`recorder ${mode}\` needs REDIS_URL (${mode === 'serve' ? 'the API hands recordings to workers through Redis' : 'workers take their jobs from Redis'}); for a single process use \`recorder all\``,
    );
  }
  if (mode !== 'worker') config = withDevAuth(config, logger);

  // the database first: a process that may not have it (its embedded directory is another
  // process's) is refused before it starts a browser
  const database = await openDatabase(config.database);
  // probe, thumbnails, upload to the configured storage (local | S3 | GCS), retention
  const pp: Postprocessing = createPostprocessing(config, logger);
  let recorder: Recorder | undefined;
  if (mode !== 'serve') {
    recorder = await Recorder.create(
      config.recorder,
      config.livekit,
      logger.child({ component: 'recorder' }),
    ).catch(async (err: unknown) => {
      await pp.close();
      await database.close();
      throw err;
    });
  }
  const rec = recorder;
  const deps: ServiceDeps = {
    logger,
    database,
    postprocess: pp.postprocess,
    storage: pp.recordingStorage,
    ...(pp.signedFiles ? { signedFiles: pp.signedFiles } : {}),
    ...(rec
      ? {
          recorder: rec,
          recorderReady: () => {
            if (config.recorder.warmBrowsers > 0 && rec.pool.pids().length === 0) throw new Error('no warm browser');
          },
          recorderWarmPages: () => rec.pool.warmPages(),
        }
      : {}),
  };

  let svc: Service;
  try {
    svc = await createService(config, deps);
  } catch (err) {
    await pp.close();
    await recorder?.close();
    await database.close();
    throw err;
  }
  // Recordings this process ran, until their post-processing ends: shutdown lets them
  // finish (bounded) so a stopped recording is COMPLETED, not left PROCESSING under a lease.
  const mine = new Set<string>();
  const drained: (() => void)[] = [];
  const settle = (id: string) => {
    if (mine.delete(id) && mine.size === 0) for (const r of drained.splice(0)) r();
  };
  if (recorder) {
    svc.bus.on('recordingStarted', (p) => {
      if (recorder!.get(p.recordingId)) mine.add(p.recordingId);
    });
    for (const ev of ['recordingCompleted', 'recordingFailed', 'recordingDeleted'] as const) svc.bus.on(ev, (p) => settle(p.recordingId));
  }
  // one that another process ended (its recovery, a retry elsewhere) sends no event here: its row says so
  const settleEnded = async () => {
    for (const id of [...mine]) {
      const rec = await svc.lifecycle.repo.getRecording(id).catch(() => undefined);
      if (rec === null || (rec && (TERMINAL_STATUSES as readonly string[]).includes(rec.status))) settle(id);
    }
  };
  const drainPostprocessing = async (ms: number) => {
    await settleEnded();
    if (mine.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => void settleEnded(), 2000);
    await Promise.race([
      new Promise<void>((r) => drained.push(r)),
      new Promise<void>((r) => (timer = setTimeout(r, ms))),
    ]);
    clearTimeout(timer);
    clearInterval(poll);
    if (mine.size) logger.warn({ recordings: [...mine] }, 'post-processing still running at shutdown: another worker resumes it when its lease ends');
  };

  let server: http.Server | undefined;
  try {
    const report = await svc.start();
    if (mode !== 'worker') {
      server = http.createServer(svc.app);
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.api.port, config.api.host, () => {
          server!.off('error', reject);
          resolve();
        });
      });
    }
    logger.info({ mode, workerId: svc.workerId, database: svc.db.kind, redis: Boolean(config.redis.url), recovery: report }, 'service started');
  } catch (err) {
    server?.close();
    await svc.close();
    await pp.close();
    await recorder?.close();
    await database.close();
    throw listenError(err, config);
  }

  const address = server?.address();
  const url = address && typeof address === 'object' ? `http://${hostForUrl(address.address)}:${address.port}` : undefined;
  let closing: Promise<void> | undefined;
  return {
    svc,
    ...(recorder ? { recorder } : {}),
    ...(url ? { url } : {}),
    shutdown(reason = 'shutdown') {
      closing ??= (async () => {
        logger.info({ reason, live: recorder?.activeCount ?? 0 }, 'shutting down: finishing live recordings');
        // no new HTTP requests; requests in flight may finish
        const serverClosed = server ? new Promise<void>((r) => server!.close(() => r())) : Promise.resolve();
        server?.closeIdleConnections();
        // live recordings are stopped ('shutdown'), their files handed to post-processing,
        // which gets a moment to finish; then the dispatcher, pollers, webhooks, Redis, database
        await svc.runner?.close();
        await drainPostprocessing(SHUTDOWN_POSTPROCESS_GRACE_MS);
        await svc.close();
        await pp.close();
        await recorder?.close();
        await database.close();
        server?.closeAllConnections();
        await serverClosed;
        logger.info('stopped');
      })();
      return closing;
    },
  };
}

/** Runs a mode until SIGTERM/SIGINT; a second signal exits at once. */
export async function serveCommand(mode: ServeMode, config: Config): Promise<void> {
  const logger = createLogger(config.api.logLevel);
  let running: RunningService | undefined;
  let stopRequested: ((sig: NodeJS.Signals) => void) | undefined;
  const requested = new Promise<NodeJS.Signals>((resolve) => (stopRequested = resolve));
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`${sig} again: exiting now; spool files hold what was recorded and are salvaged at the next start\n`);
      process.exit(1);
    }
    if (!running) process.stderr.write(`${sig}: stopping as soon as start-up is done\n`);
    stopRequested!(sig);
  };
  // installed before start-up, so a signal during the browser launch is still a clean stop
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    running = await startService(mode, config, logger);
    if (running.url) process.stderr.write(`recorder ${mode}: API on ${running.url} (GET /readyz, /api/openapi.json)\n`);
    else process.stderr.write(`recorder ${mode}: worker ${running.svc.workerId} taking recordings from Redis\n`);
    const sig = await requested;
    await running.shutdown(sig);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** A dev token: HS256 with AUTH_JWT_SECRET, subject `userId`, naming the `rooms` the user may create calls for. */
export async function makeToken(config: Config, userId: string, expiresInSeconds: number, rooms: string[] = []): Promise<string> {
  if (!config.auth.jwtSecret) {
    throw new AppError('CONFIG_INVALID', 'invalid configuration: `recorder token` signs with AUTH_JWT_SECRET (at least 16 characters); set it here and for the service');
  }
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(rooms.length ? { rooms } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + expiresInSeconds)
    .sign(new TextEncoder().encode(config.auth.jwtSecret));
}

/**
 * With no API credentials configured every call would be refused. On a loopback address
 * (the default) a throwaway secret is made for this run and a token for user "dev" is
 * printed, so `recorder all` works with no settings at all; elsewhere only a warning.
 */
function withDevAuth(config: Config, logger: Logger): Config {
  const { jwtSecret, jwtPublicKey, serviceApiKeyHashes } = config.auth;
  if (jwtSecret || jwtPublicKey || serviceApiKeyHashes.length) return config;
  if (!isLoopback(config.api.host)) {
    logger.warn('no AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_SERVICE_API_KEY_HASHES: every API call will be refused (401)');
    return config;
  }
  const secret = randomBytes(32).toString('base64url');
  const dev = { ...config, auth: { ...config.auth, jwtSecret: secret } };
  void makeToken(dev, 'dev', 24 * 3600, ['*']).then((token) =>
    process.stderr.write(
      `no API credentials configured: this run accepts tokens signed with a throwaway secret.\n` +
        `dev token for user "dev" (24 h, any room): ${token}\n` +
        `(set AUTH_JWT_SECRET and use \`recorder token --user ID\` for tokens that outlive this process)\n`,
    ),
  );
  return dev;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

function listenError(err: unknown, config: Config): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new AppError('CONFIG_INVALID', `port ${config.api.port} on ${config.api.host} is in use: set PORT (or HOST)`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES') return new AppError('CONFIG_INVALID', `cannot listen on ${config.api.host}:${config.api.port} (${code}): set HOST/PORT`, { cause: err });
  return err;
}
