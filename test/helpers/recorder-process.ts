import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { processTree } from '../../src/observability/process-tree';
import { apiRequest, type ApiReply } from './api-request';

export { defaultBrowserStateDir as browserStateDir } from '../../src/recorder/browser-ownership';

/**
 * A real `bin/recorder <mode>` process driven over HTTP, for the crash tests and the fault
 * suite (scripts/faults.ts): started in a session of its own (like setsid), so only the
 * signals we mean reach it; its browsers are found by their user-data-dir under TMPDIR.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const BIN = fs.existsSync(path.join(ROOT, 'bin', 'recorder')) ? path.join(ROOT, 'bin', 'recorder') : path.join(ROOT, '..', 'bin', 'recorder');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An HS256 user token for `sub`, 15 minutes. */
export function userToken(secret: string, sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  // the call app's token for its host: it may create calls for any room
  const data = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ sub, iat: now, exp: now + 900, rooms: ['*'] })}`;
  return `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`;
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch((err: Error) => {
      if (/FAILED|exited/.test(err.message)) throw err;
      return null;
    });
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(200);
  }
}

export class RecorderProcess {
  private err = '';
  /** Its JSON logs (the logger writes to stdout), the last 40 kB. */
  private out = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly proc: ChildProcess,
    readonly base: string,
    private readonly token: string,
  ) {
    proc.stderr!.on('data', (d: Buffer) => (this.err = (this.err + d.toString()).slice(-20000)));
    proc.stdout!.on('data', (d: Buffer) => (this.out = (this.out + d.toString()).slice(-40000)));
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts `recorder <mode>` with exactly `env` (plus PATH) and waits until /readyz says ready. */
  static async launch(mode: 'all' | 'worker' | 'serve', env: Record<string, string>, opts: { secret: string; host?: string; readyMs?: number }): Promise<RecorderProcess> {
    // e.g. TEST_RECORDER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the processes a test starts
    const nodeArgs = (process.env.TEST_RECORDER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const proc = spawn(process.execPath, [...nodeArgs, BIN, mode], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const p = new RecorderProcess(proc, `http://127.0.0.1:${env.PORT ?? '8080'}`, userToken(opts.secret, opts.host ?? 'host-1'));
    try {
      await waitFor(
        async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`recorder ${mode} exited ${proc.exitCode ?? proc.signalCode}: ${p.stderr()}`);
          if (mode === 'worker') return /taking recordings from Redis/.test(p.err);
          const res = await fetch(`${p.base}/readyz`);
          return res.ok && ((await res.json()) as { ready: boolean }).ready;
        },
        opts.readyMs ?? 45000,
        () => `recorder ${mode} ready\n${p.stderr()}`,
      );
    } catch (err) {
      p.killTree();
      throw err;
    }
    return p;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  stderr(): string {
    return this.err;
  }

  /** What it logged (JSON lines on stdout). */
  logs(): string {
    return this.out;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  api(method: string, urlPath: string, body?: unknown): Promise<ApiReply> {
    return apiRequest(this.base, this.token, method, urlPath, body, { timeoutMs: 10000 });
  }

  async recording(callId: string, id: string): Promise<any> {
    const r = await this.api('GET', `/api/video-calls/${callId}/recording/${id}`);
    if (r.status !== 200) throw new Error(`GET recording: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.data;
  }

  /** Waits for `status`; a FAILED recording ends the wait at once unless FAILED is awaited. */
  async waitStatus(callId: string, id: string, status: string | string[], timeoutMs = 30000): Promise<any> {
    const want = Array.isArray(status) ? status : [status];
    let last = '';
    return waitFor(
      async () => {
        const r = await this.recording(callId, id);
        last = `${r.status}${r.error ? ` ${JSON.stringify(r.error)}` : ''}`;
        if (r.status === 'FAILED' && !want.includes('FAILED')) throw new Error(`recording FAILED: ${last}`);
        return want.includes(r.status) ? r : null;
      },
      timeoutMs,
      () => `${want.join('|')} (last: ${last})`,
    );
  }

  /** GET .../download into `dest`: the file itself (local storage), or the signed URL it names (S3, GCS). */
  async download(callId: string, id: string, dest: string): Promise<string> {
    let res = await fetch(`${this.base}/api/video-calls/${callId}/recording/${id}/download`, { headers: { authorization: `Bearer ${this.token}` } });
    if (res.ok && res.headers.get('content-type')?.startsWith('application/json')) {
      const url = ((await res.json()) as { data?: { url?: string } }).data?.url;
      if (!url) throw new Error('download: no URL in the answer');
      res = await fetch(url);
    }
    if (!res.ok) throw new Error(`download: HTTP ${res.status} ${await res.text()}`);
    fs.writeFileSync(dest, Buffer.from(await res.arrayBuffer()));
    return dest;
  }

  /** SIGTERM, then the exit code (or 'timeout'). */
  async terminate(timeoutMs = 30000): Promise<number | null | 'timeout'> {
    if (!this.running) return this.proc.exitCode;
    this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const out = await Promise.race([this.exited.then((e) => e.code), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
    clearTimeout(timer);
    return out;
  }

  /** Cleanup after a failed run: SIGKILL the process and everything below it. */
  killTree(): void {
    if (!this.running) return;
    const tree = processTree(this.pid);
    for (const pid of tree) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/**
 * Pids of every process started with a user-data-dir under `stateDir` (a worker's browsers
 * and their helpers), or with exactly that user-data-dir (`exact`: one browser). Chromium's
 * helpers set their title: their cmdline is one space-separated string, not NUL-separated.
 */
export function browserProcesses(stateDir: string, opts: { exact?: boolean } = {}): number[] {
  const flag = ` --user-data-dir=${stateDir}${opts.exact ? ' ' : path.sep}`;
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (` ${fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ')} `.includes(flag)) out.push(Number(e));
    } catch {
      /* exited */
    }
  }
  return out;
}

/** SIGKILLs every process of browserProcesses(stateDir) (cleanup of a failed run). */
export function killBrowsers(stateDir: string): void {
  for (const pid of browserProcesses(stateDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

