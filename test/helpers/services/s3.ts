import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StartedService } from '../global-setup';
import { freePort } from '../ports';

/**
 * An S3 endpoint for the tests: moto's server mode (installed by
 * scripts/bootstrap.d/storage-emulators.sh into a venv), on a free 127.0.0.1 port.
 * The state is in memory: a restarted server has lost its objects, and `start` creates
 * the buckets again.
 */

export interface EmulatorOptions {
  /** Fixed port (for a restart on the same address); default: a free one. */
  port?: number;
  /** Buckets to create once the server answers. */
  buckets?: string[];
}

export interface StartedEmulator extends StartedService {
  port: number;
  endpoint: string;
  pid: number;
}

const SETPRIV = '/usr/bin/setpriv';

export const TEST_S3_BUCKET = 'test-recordings';
export const TEST_S3_CREDENTIALS = 'test:test';

export function toolCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'livekit-recorder');
}

export function motoBinary(): string {
  return process.env.MOTO_SERVER_BIN || path.join(toolCacheDir(), 'venv', 'bin', 'moto_server');
}

/** Polls a URL until it answers with any HTTP status (the server is listening). */
export async function waitForHttp(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${(last as Error)?.message}`);
}

/** Spawns a server and returns a stop() that kills exactly that pid (TERM, then KILL). */
export function spawnOwned(bin: string, args: string[], name: string, cwd?: string): { child: ChildProcess; stderr: () => string; stop: () => Promise<void> } {
  // setpriv (util-linux) execs the server with a parent-death signal: if the test process is
  // killed before stop() runs, the kernel kills the server too. Same pid either way.
  const child = fs.existsSync(SETPRIV)
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(bin, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.on('error', (err) => {
    stderr += `\ncannot run ${bin}: ${err.message} (run scripts/bootstrap)`;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    child,
    stderr: () => `${name}: ${stderr.trim()}`,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

export async function start(opts: EmulatorOptions = {}): Promise<StartedEmulator> {
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = spawnOwned(motoBinary(), ['-H', '127.0.0.1', '-p', String(port)], 'moto_server');
  try {
    await waitForHttp(`${endpoint}/moto-api/`, 20000, proc.child);
    for (const bucket of opts.buckets ?? [TEST_S3_BUCKET]) {
      const res = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
      if (!res.ok && res.status !== 409) throw new Error(`create bucket ${bucket}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer().catch(() => undefined);
    }
  } catch (err) {
    await proc.stop();
    throw new Error(`S3 emulator did not start: ${(err as Error).message}\n${proc.stderr()}`);
  }
  return {
    port,
    endpoint,
    pid: proc.child.pid!,
    env: {
      TEST_S3_ENDPOINT: endpoint,
      TEST_S3_BUCKET: (opts.buckets ?? [TEST_S3_BUCKET])[0],
      TEST_S3_REGION: 'us-east-1',
      TEST_S3_CREDENTIALS,
    },
    stop: proc.stop,
  };
}
