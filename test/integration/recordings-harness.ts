/**
 * Shared pieces of the recordings/api integration tests (not a test file itself).
 * FfmpegTestRecorder is a test double of the EXTERNAL recorder (src/recorder: Chromium +
 * MediaRecorder): it writes a real media file with ffmpeg's lavfi test sources.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { AppError } from '../../src/errors';
import type { LiveRecording, RecordingEndReason, RecordingProgress, RecordingRequest, RecordingResult, RecordingStart } from '../../src/recordings/contract';
import type { RecorderPort } from '../../src/recordings/ports';

export const JWT_SECRET = 'integration-test-secret-0123456789';
export const SERVICE_KEY = 'svc-test-key-abcdefghijklmnop';

export function tmpDir(prefix = 'rec-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    LOG_LEVEL: 'silent',
    AUTH_JWT_SECRET: JWT_SECRET,
    AUTH_SERVICE_API_KEY_HASHES: createHash('sha256').update(SERVICE_KEY).digest('hex'),
    LIVEKIT_URL: process.env.TEST_LIVEKIT_URL ?? 'ws://127.0.0.1:7890',
    LIVEKIT_API_KEY: process.env.TEST_LIVEKIT_API_KEY ?? 'devkey',
    LIVEKIT_API_SECRET: process.env.TEST_LIVEKIT_API_SECRET ?? 'secret',
    RECORDING_OUTPUT_DIR: tmpDir(),
    RECORDING_RETENTION_INTERVAL_SECONDS: '0',
    // the ffmpeg double costs next to nothing; tests of the budget set their own, and
    // admission against the machine's measured idle CPU is for real recorders
    RECORDER_CPU_BUDGET: '64',
    RECORDER_ADMISSION_MEASURED: 'false',
    ...env,
  });
}

/** A compact JWS, signed here with node:crypto (test-side issuer of user tokens). */
export function signJwt(
  claims: Record<string, unknown>,
  opts: { alg?: 'HS256' | 'RS256' | 'ES256' | 'none'; secret?: string; privateKey?: KeyObject; header?: Record<string, unknown> } = {},
): string {
  const alg = opts.alg ?? 'HS256';
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const data = `${enc({ alg, typ: 'JWT', ...opts.header })}.${enc(claims)}`;
  let sig = '';
  if (alg === 'HS256') sig = createHmac('sha256', opts.secret ?? JWT_SECRET).update(data).digest('base64url');
  else if (alg === 'RS256') sig = cryptoSign('sha256', Buffer.from(data), opts.privateKey!).toString('base64url');
  else if (alg === 'ES256') sig = cryptoSign('sha256', Buffer.from(data), { key: opts.privateKey!, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `${data}.${sig}`;
}

/** A user's token; `rooms` is its claim of the rooms the user may create calls for. */
export async function userToken(sub: string, opts: { expiresInSeconds?: number; secret?: string; rooms?: string[] } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub, iat: now, exp: now + (opts.expiresInSeconds ?? 600), ...(opts.rooms ? { rooms: opts.rooms } : {}) }, opts.secret ? { secret: opts.secret } : {});
}

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An HTTP server on 127.0.0.1 with a small JSON client. */
export async function listen(app: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Res {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(base: string, method: string, urlPath: string, opts: { token?: string; headers?: Record<string, string>; body?: unknown; raw?: string } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + urlPath, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

// ---- the recorder test double -------------------------------------------------------------

export interface FfmpegTestRecorderOptions {
  /** start() rejects with this error. */
  failStart?: AppError;
  /** ffmpeg is killed this long after start: done rejects (nothing usable). */
  crashAfterMs?: number;
  /** Delay before start() resolves. */
  startDelayMs?: number;
  /** A live change is refused with this (as a worker that cannot fetch an overlay image refuses it). */
  refuseUpdate?: Error;
}

export class FfmpegTestRecorder implements RecorderPort {
  readonly started: RecordingRequest[] = [];
  /** Every live change a recording of this double was given: its id and the new options. */
  readonly updates: { id: string; options: RecordingRequest['options'] }[] = [];
  /** Each pause (true) and resume (false) a live recording was asked for. */
  readonly pauses: { id: string; paused: boolean }[] = [];
  readonly processes = new Set<ChildProcess>();
  constructor(public opts: FfmpegTestRecorderOptions = {}) {}

  /** Every ffmpeg this double started has exited. */
  allExited(): boolean {
    return [...this.processes].every((p) => p.exitCode !== null || p.signalCode !== null);
  }

  async open(req: RecordingRequest): Promise<LiveRecording> {
    this.started.push(req);
    if (this.opts.startDelayMs) await new Promise((r) => setTimeout(r, this.opts.startDelayMs));
    if (this.opts.failStart) throw this.opts.failStart;
    fs.mkdirSync(path.dirname(req.outputPath), { recursive: true });
    const { width, height, fps, format } = req.options;
    const codec = format === 'webm' ? ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-c:a', 'libopus'] : ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'];
    const small = `${Math.min(width, 320)}x${Math.min(height, 240)}`;
    const args = [
      '-hide_banner', '-loglevel', 'error', '-y', '-re',
      '-f', 'lavfi', '-i', `testsrc2=size=${small}:rate=${fps}`,
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      ...(req.maxDurationSeconds ? ['-t', String(req.maxDurationSeconds + 5)] : []),
      ...codec,
      // fragmented mp4: bytes reach the disk at once, and a killed ffmpeg leaves a playable prefix
      ...(format === 'mp4' ? ['-movflags', 'frag_keyframe+empty_moov', '-g', String(fps)] : []),
      req.outputPath,
    ];
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.processes.add(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const startedAt = new Date();
    let endReason: RecordingEndReason = 'stopped';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let chunks = 0;
    const listeners = new Set<(p: RecordingProgress) => void>();
    const progress = (): RecordingProgress => {
      const bytes = fs.existsSync(req.outputPath) ? fs.statSync(req.outputPath).size : 0;
      return { elapsedMs: Date.now() - startedAt.getTime(), bytes, chunks, participants: 1, fps, videoInputs: [] };
    };
    const ticker = setInterval(() => {
      chunks++;
      const p = progress();
      listeners.forEach((l) => l(p));
    }, 100);
    const firstChunk: Promise<RecordingStart> = waitFor(() => fs.existsSync(req.outputPath) && fs.statSync(req.outputPath).size > 0, 15_000, 'first bytes').then(() => ({
      recordingAt: startedAt,
      expected: [],
      late: [],
      waitedMs: 0,
    }));
    firstChunk.catch(() => undefined);
    const crash = this.opts.crashAfterMs ? setTimeout(() => child.kill('SIGKILL'), this.opts.crashAfterMs) : undefined;
    // the contract: a recorder keeps maxDurationSeconds itself, counted from the file's time 0
    let maxTimer: NodeJS.Timeout | undefined;
    if (req.maxDurationSeconds) {
      const maxMs = req.maxDurationSeconds * 1000;
      firstChunk.then(
        (start) => (maxTimer = setTimeout(() => void live.stop('max_duration').catch(() => undefined), Math.max(0, maxMs - (Date.now() - start.recordingAt.getTime())))),
        () => undefined,
      );
    }
    const done = exited.then((code): RecordingResult => {
      clearInterval(ticker);
      if (crash) clearTimeout(crash);
      if (maxTimer) clearTimeout(maxTimer);
      if (code !== 0) throw new AppError('FFMPEG_FAILED', `ffmpeg exited with ${code}: ${stderr.trim()}`);
      const size = fs.statSync(req.outputPath).size;
      const endedAt = new Date();
      return { id: req.id, path: req.outputPath, format, size, durationMs: endedAt.getTime() - startedAt.getTime(), spoolPath: req.outputPath, startedAt, endedAt, endReason };
    });
    done.catch(() => undefined);
    let stopping: Promise<RecordingResult> | undefined;
    const live: LiveRecording = {
      id: req.id,
      firstChunk,
      done,
      progress,
      ffmpegPid: () => (child.exitCode === null && child.signalCode === null ? child.pid : undefined),
      update: async (options) => {
        if (this.opts.refuseUpdate) throw this.opts.refuseUpdate;
        this.updates.push({ id: req.id, options });
      },
      setPaused: async (paused) => void this.pauses.push({ id: req.id, paused }),
      onProgress(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      stop(reason = 'stopped') {
        stopping ??= (async () => {
          endReason = reason;
          await firstChunk.catch(() => undefined);
          if (child.exitCode === null && child.signalCode === null) child.stdin!.end('q');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          try {
            return await done;
          } finally {
            clearTimeout(t);
          }
        })();
        return stopping;
      },
    };
    return live;
  }
}

/** A LiveKit webhook request as livekit-server sends it: JSON body, JWT over its sha256. */
export async function livekitWebhook(event: string, roomName: string, secret = process.env.TEST_LIVEKIT_API_SECRET ?? 'secret', key = process.env.TEST_LIVEKIT_API_KEY ?? 'devkey') {
  const { AccessToken } = await import('livekit-server-sdk');
  const body = JSON.stringify({ event, id: `EV_${Math.random().toString(36).slice(2)}`, room: { sid: 'RM_test', name: roomName }, createdAt: String(Math.floor(Date.now() / 1000)) });
  const at = new AccessToken(key, secret, { ttl: 60 });
  at.sha256 = createHash('sha256').update(body).digest('base64');
  return { body, authorization: await at.toJwt() };
}
