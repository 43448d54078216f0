/**
 * The service as a user runs it, for benchmarks: `recorder all` in a child process of its
 * own (so its whole process tree can be measured), driven over its REST API with a
 * service key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LivekitCredentials } from '../src/livekit/tokens';
import { processTree } from '../src/observability/process-tree';
import { sleep } from './bench-lib';

const SERVICE_KEY = crypto.randomBytes(24).toString('hex');
const HOST_ID = 'bench-host';

export interface ApiAnswer {
  status: number;
  body: any;
}

export class BenchService {
  private constructor(
    private readonly proc: ChildProcess,
    readonly base: string,
    private readonly stderrTail: () => string,
  ) {}

  /** Starts `recorder all` (PGlite and files in `dir`) and waits until it is ready. */
  static async start(dir: string, livekit: LivekitCredentials, port: number, extraEnv: Record<string, string> = {}): Promise<BenchService> {
    const main = path.join(__dirname, '..', 'src', 'main.js');
    if (!fs.existsSync(main)) throw new Error(`${main} is missing: run the build first`);
    // the operator's own RECORDER_* tuning applies, as it would to the service
    const tuning = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('RECORDER_') || k === 'CHROMIUM_PATH'));
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? dir,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: livekit.apiKey,
      LIVEKIT_API_SECRET: livekit.apiSecret,
      LIVEKIT_WEBHOOK_ENABLED: 'false',
      AUTH_SERVICE_API_KEY_HASHES: crypto.createHash('sha256').update(SERVICE_KEY).digest('hex'),
      PGLITE_DIR: path.join(dir, 'db'),
      RECORDING_OUTPUT_DIR: path.join(dir, 'out'),
      ...tuning,
      ...extraEnv,
    };
    let tail = '';
    const logFile = process.env.BENCH_LOG_FILE ? fs.createWriteStream(process.env.BENCH_LOG_FILE) : undefined;
    // its JSON log (stdout) only when asked for: BENCH_LOG_FILE, at BENCH_LOG_LEVEL
    const proc = spawn(process.execPath, [main, 'all'], { env, stdio: ['ignore', process.env.BENCH_LOG_FILE ? 'pipe' : 'ignore', 'pipe'] });
    proc.stdout?.on('data', (d: Buffer) => logFile?.write(d));
    proc.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-8000)));
    const svc = new BenchService(proc, `http://127.0.0.1:${port}`, () => tail);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`recorder all exited ${proc.exitCode}: ${tail}`);
      const ready = await fetch(`${svc.base}/readyz`)
        .then(async (r) => r.ok && ((await r.json()) as { ready: boolean }).ready)
        .catch(() => false);
      if (ready) return svc;
      if (Date.now() > deadline) throw new Error(`recorder all not ready within 60 s: ${tail}`);
      await sleep(250);
    }
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The service's process tree now: node, its Chromium processes, its FFmpeg processes. */
  tree(): number[] {
    return processTree(this.pid);
  }

  get log(): string {
    return this.stderrTail();
  }

  async api(method: string, urlPath: string, body?: unknown): Promise<ApiAnswer> {
    const res = await fetch(this.base + urlPath, {
      method,
      headers: { 'x-api-key': SERVICE_KEY, 'x-user-id': HOST_ID, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async createCall(id: string, roomName: string): Promise<void> {
    const res = await this.api('POST', '/api/video-calls', { id, roomName, hostId: HOST_ID, participantIds: [] });
    if (res.status !== 201) throw new Error(`create call ${id}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }

  async recording(callId: string, id: string): Promise<any> {
    return (await this.api('GET', `/api/video-calls/${callId}/recording/${id}`)).body?.data;
  }

  /** Polls until the recording's status is one of `statuses` (or FAILED); returns its view. */
  async waitStatus(callId: string, id: string, statuses: string[], timeoutMs: number): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await this.recording(callId, id);
      if (view && (statuses.includes(view.status) || view.status === 'FAILED')) return view;
      if (Date.now() > deadline) throw new Error(`recording ${id} not ${statuses.join('/')} within ${timeoutMs} ms (last ${view?.status})`);
      await sleep(50);
    }
  }

  async download(callId: string, id: string, dest: string): Promise<string> {
    const res = await fetch(`${this.base}/api/video-calls/${callId}/recording/${id}/download`, { headers: { 'x-api-key': SERVICE_KEY, 'x-user-id': HOST_ID } });
    if (!res.ok) throw new Error(`download ${id}: HTTP ${res.status}`);
    fs.writeFileSync(dest, Buffer.from(await res.arrayBuffer()));
    return dest;
  }

  /** SIGTERM and wait; SIGKILL of the whole tree if it does not exit within 30 s. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const tree = this.tree();
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 30_000)))]);
    clearTimeout(timer);
    if (timedOut) {
      for (const pid of tree) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
}
