import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ports';
import { RecorderProcess, waitFor } from '../helpers/recorder-process';
import { createTestDatabase } from '../helpers/services/postgres';

/**
 * A real `recorder worker` with its status listener (WORKER_STATUS_PORT), as Kubernetes
 * probes it: /readyz answers 200 while the worker would admit one more recording and 503
 * once it would not (here: other programs take the machine's cores, which its admission
 * measures), /healthz stays 200 throughout, /metrics has recorder_load_ratio, and the
 * listener is closed when the worker exits.
 */

/** A busy loop that is not our descendant (its parent exits): another program on the machine. */
function foreignBusyLoop(): number {
  const out = execFileSync('sh', ['-c', `(exec sh -c 'while :; do :; done') >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' });
  return Number(out.trim());
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

function loadRatio(metrics: string): number {
  const m = /^recorder_load_ratio (\S+)$/m.exec(metrics);
  if (!m) throw new Error('no recorder_load_ratio in /metrics');
  return Number(m[1]);
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('a worker\'s status listener', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let worker: RecorderProcess | undefined;
  const loops: number[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-status-'));
    db = await createTestDatabase('workerstatus');
  });
  afterAll(async () => {
    for (const pid of loops.splice(0)) kill(pid);
    worker?.killTree();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is ready while the worker can admit a recording, not ready while it cannot, alive throughout', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    worker = await RecorderProcess.launch(
      'worker',
      {
        HOME: dir,
        TMPDIR: dir,
        DATABASE_URL: db.url,
        REDIS_URL: process.env.TEST_REDIS_URL!,
        RECORDING_OUTPUT_DIR: path.join(dir, 'out'),
        WORKER_STATUS_PORT: String(port),
        RECORDER_STANDBY_PAGES: '1',
        // other programs using more than about 0.4 of the 2 cores leave no room for one more
        // (2 - others - 1.3 kept free < 0.27): busy loops do so even beside work in another
        // cgroup, which can hold its share of the cores at any nice value
        RECORDER_CPU_RESERVE: String(os.availableParallelism() - 0.7),
        LOG_LEVEL: 'warn',
      },
      { secret: 'unused-by-a-worker-0123' },
    );
    expect(worker.stderr()).toContain(`GET ${base}/readyz`);

    // idle, on a machine the tests leave quiet: it would admit one
    const ready = await waitFor(async () => {
      const r = await get(`${base}/readyz`);
      return r.status === 200 ? r : null;
    }, 20000, () => `/readyz 200\n${worker!.stderr()}`);
    expect(JSON.parse(ready.text)).toMatchObject({ ready: true, checks: { database: { ok: true }, redis: { ok: true }, recorder: { ok: true }, capacity: { ok: true } } });
    const idleMetrics = (await get(`${base}/metrics`)).text;
    expect(loadRatio(idleMetrics)).toBeLessThan(1);
    expect(idleMetrics).toMatch(/^nodejs_eventloop_lag_max_seconds \d/m);

    // other programs take every core: admission refuses, so the worker is not ready
    for (let i = 0; i <= os.availableParallelism(); i++) loops.push(foreignBusyLoop());
    let last = '';
    const full = await waitFor(async () => {
      const r = await get(`${base}/readyz`);
      last = `${r.status} ${r.text}; ${(await get(`${base}/metrics`)).text.split('\n').filter((l) => /^recorder_(cpu|machine|load)/.test(l)).join(', ')}`;
      return r.status === 503 ? r : null;
    }, 20000, () => `/readyz 503 on a busy machine (last: ${last})`);
    expect(JSON.parse(full.text)).toMatchObject({ ready: false, checks: { database: { ok: true }, capacity: { ok: false, error: expect.stringMatching(/full/) } } });
    expect((await get(`${base}/healthz`)).status).toBe(200);
    expect(loadRatio((await get(`${base}/metrics`)).text)).toBe(1);

    // the machine free again: ready again, once the 10 s median forgets the load
    for (const pid of loops.splice(0)) kill(pid);
    await waitFor(async () => (await get(`${base}/readyz`)).status === 200, 25000, '/readyz 200 again');
    expect((await get(`${base}/nowhere`)).status).toBe(404);

    expect(await worker.terminate()).toBe(0);
    expect(await listening(port)).toBe(false);
  }, 120000);
});
