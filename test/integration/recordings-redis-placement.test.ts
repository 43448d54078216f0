import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createService, type Service } from '../../src/app/http';
import { workerRecord } from '../../src/dispatch/placement';
import type { RedisPoolOptions } from '../../src/dispatch/redis';
import type { Actor } from '../../src/recordings/permissions';
import { createTestDatabase } from '../helpers/services/postgres';
import { FfmpegTestRecorder, testConfig, waitFor } from './recordings-harness';

/**
 * Which worker a recording goes to through Redis: workers and an API-only process in one
 * jest process, sharing PostgreSQL and Redis. The worker with a standby page ready and the
 * most headroom gets it; a full one is skipped; a chosen worker that died after its last
 * heartbeat does not strand the job.
 */
jest.setTimeout(90_000);

// the call app's token for the host names its rooms (any room here)
const host: Actor = { kind: 'user', userId: 'host-1', rooms: ['*'] };
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let redis: Redis;
const open: Service[] = [];
const redisUrl = () => process.env.TEST_REDIS_URL!;

beforeAll(async () => {
  db = await createTestDatabase('placement');
  redis = new Redis(redisUrl());
});
afterAll(async () => {
  for (const s of open.reverse()) await s.close();
  redis.disconnect();
  await db?.drop();
});

interface NodeOptions {
  worker?: { budget: number; maxConcurrent?: number; warmPages?: number };
  handoffMs?: number;
  /** The pool's other settings (this file's defaults otherwise). */
  pool?: Partial<RedisPoolOptions>;
  env?: Record<string, string>;
}

async function node(prefix: string, name: string, opts: NodeOptions = {}): Promise<Service> {
  const w = opts.worker;
  const svc = await createService(
    testConfig({
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl(),
      ...(w ? { RECORDER_CPU_BUDGET: String(w.budget), RECORDER_MAX_CONCURRENT: String(w.maxConcurrent ?? 8), RECORDER_COST_CANVAS: '0.35' } : {}),
      ...opts.env,
    }),
    {
      ...(w ? { recorder: new FfmpegTestRecorder() } : {}),
      presence: false,
      workerId: `${name}-${prefix}`,
      tuning: {
        pool: {
          prefix,
          claimTimeoutMs: 3000,
          ownerTtlMs: 1500,
          pollMs: 50,
          ...(opts.handoffMs ? { handoffMs: opts.handoffMs } : {}),
          ...(w?.warmPages !== undefined ? { warmPages: async () => w.warmPages! } : {}),
          ...opts.pool,
        },
        recoveryIntervalMs: 0,
        unclaimedGraceMs: 0,
      },
    },
  );
  open.push(svc);
  await svc.start();
  return svc;
}

let n = 0;
/** Starts a recording through the API process; resolves with its id and the worker that took it. */
async function start(api: Service): Promise<{ callId: string; id: string; workerId: string }> {
  const callId = `pl-${++n}-${randomUUID().slice(0, 6)}`;
  await api.recordings.createCall(host, { id: callId, roomName: `room-${callId}`, hostId: 'host-1' });
  const { id } = (await api.recordings.startRecording(host, callId, {})).recording;
  const view = await waitFor(async () => {
    const v = await api.recordings.getRecording(host, callId, id);
    return v.status === 'RECORDING' ? v : null;
  }, 10_000, 'RECORDING');
  return { callId, id, workerId: view.workerId! };
}

async function stopAll(api: Service, recs: { callId: string; id: string }[], prefix: string): Promise<void> {
  for (const r of recs) await api.recordings.stopRecording(host, r.callId);
  for (const r of recs) await waitFor(async () => (await api.db.prisma.callRecording.findUniqueOrThrow({ where: { id: r.id } })).status === 'COMPLETED', 15_000, 'COMPLETED');
  // the workers' records show them idle again before the next round is placed
  await waitFor(async () => Object.values(await redis.hgetall(`${prefix}:workers`)).every((v) => JSON.parse(v).active === 0), 5000, 'idle workers');
}

test('two recordings land on two different workers, ten times in a row, and the view says which', async () => {
  const prefix = `pl1-${randomUUID().slice(0, 6)}`;
  const workers = [await node(prefix, 'w1', { worker: { budget: 2 } }), await node(prefix, 'w2', { worker: { budget: 2 } })];
  const api = await node(prefix, 'api');
  const ids = new Set(workers.map((w) => w.workerId));
  for (let round = 0; round < 10; round++) {
    const a = await start(api);
    const b = await start(api);
    expect({ round, a: a.workerId, b: b.workerId, distinct: a.workerId !== b.workerId }).toMatchObject({ round, distinct: true });
    expect(ids.has(a.workerId) && ids.has(b.workerId)).toBe(true);
    for (const r of [a, b]) expect(workers.find((w) => w.workerId === r.workerId)!.runner!.has(r.id)).toBe(true);
    await stopAll(api, [a, b], prefix);
  }
});

test('the most headroom first; a full worker is skipped; NO_CAPACITY at once when none admits it', async () => {
  const prefix = `pl2-${randomUUID().slice(0, 6)}`;
  const big = await node(prefix, 'big', { worker: { budget: 2 } });
  const small = await node(prefix, 'small', { worker: { budget: 1 } });
  const api = await node(prefix, 'api');
  // headroom big 2 / small 1, then 1.65 / 1, 1.3 / 1, 0.95 / 1: three on big, then small
  const placed = [];
  for (let i = 0; i < 4; i++) placed.push(await start(api));
  expect(placed.map((r) => r.workerId)).toEqual([big.workerId, big.workerId, big.workerId, small.workerId]);
  await stopAll(api, placed, prefix);

  const prefix2 = `pl3-${randomUUID().slice(0, 6)}`;
  const roomy = await node(prefix2, 'roomy', { worker: { budget: 8, maxConcurrent: 1 } });
  const tight = await node(prefix2, 'tight', { worker: { budget: 1 } });
  const api2 = await node(prefix2, 'api');
  const second = [await start(api2), await start(api2), await start(api2)];
  // roomy has the most headroom until its one slot is taken; tight fits two of 0.35 in 1 core
  expect(second.map((r) => r.workerId)).toEqual([roomy.workerId, tight.workerId, tight.workerId]);
  const callId = `pl-full-${randomUUID().slice(0, 6)}`;
  await api2.recordings.createCall(host, { id: callId, roomName: `room-${callId}`, hostId: 'host-1' });
  const t0 = Date.now();
  await expect(api2.recordings.startRecording(host, callId, {})).rejects.toMatchObject({ code: 'NO_CAPACITY' });
  expect(Date.now() - t0).toBeLessThan(1000);
  await stopAll(api2, second, prefix2);
});

test("a worker short of disk takes nothing, whatever its headroom; the API process's own disk does not matter", async () => {
  const prefix = `pl5-${randomUUID().slice(0, 6)}`;
  const noDisk = { RECORDING_MIN_FREE_DISK_MB: String(1024 * 1024 * 1024) };
  const full = await node(prefix, 'diskfull', { worker: { budget: 8 }, env: noDisk });
  const roomy = await node(prefix, 'disk-ok', { worker: { budget: 1 } });
  const api = await node(prefix, 'api', { env: noDisk });
  const placed = [await start(api), await start(api)];
  expect(placed.map((r) => r.workerId)).toEqual([roomy.workerId, roomy.workerId]);
  expect(JSON.parse((await redis.hget(`${prefix}:workers`, full.workerId))!).diskShort).toMatch(/not enough disk space/);
  await stopAll(api, placed, prefix);
  await roomy.close();
  const callId = `pl-disk-${randomUUID().slice(0, 6)}`;
  await api.recordings.createCall(host, { id: callId, roomName: `room-${callId}`, hostId: 'host-1' });
  await expect(api.recordings.startRecording(host, callId, {})).rejects.toMatchObject({ code: 'NO_CAPACITY' });
});

test('a worker with a standby page ready is preferred to one with more headroom and none', async () => {
  const prefix = `pl4-${randomUUID().slice(0, 6)}`;
  await node(prefix, 'cold', { worker: { budget: 4, warmPages: 0 } });
  const warm = await node(prefix, 'warm', { worker: { budget: 1, warmPages: 1 } });
  const api = await node(prefix, 'api');
  const r = await start(api);
  expect(r.workerId).toBe(warm.workerId);
  await stopAll(api, [r], prefix);
});

test('a chosen worker that died after its last heartbeat does not strand the job: the next one takes it', async () => {
  const prefix = `pl5-${randomUUID().slice(0, 6)}`;
  const alive = await node(prefix, 'alive', { worker: { budget: 1 } });
  const api = await node(prefix, 'api', { handoffMs: 300 });
  // the record a worker wrote just before it crashed: the best candidate, and nobody pops its list
  const ghost = workerRecord({ cpuBudget: 8, maxConcurrent: 8, costs: { canvas: 0.35, customLayout: 0.8 }, reserve: 0.1 }, { active: 0, committed: 0 }, 1);
  await redis.hset(`${prefix}:workers`, 'ghost', JSON.stringify(ghost));
  const t0 = Date.now();
  const r = await start(api);
  expect(r.workerId).toBe(alive.workerId);
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(await redis.llen(`${prefix}:jobs:ghost`)).toBe(0);
  expect(await redis.llen(`${prefix}:jobs`)).toBe(0);
  await stopAll(api, [r], prefix);
});

test('a live worker slow to pop its job keeps it when no other worker has room: no NO_CAPACITY for a busy machine', async () => {
  const prefix = `pl6-${randomUUID().slice(0, 6)}`;
  // From `busyUntil` on, this worker answers late, as a worker's event loop does on a busy
  // machine (the many-workers e2e: no pop for 1 to 2.5 s after the wake while its recordings
  // started): its standby count comes only then, and its poll waits for it before it pops.
  let busyUntil = 0;
  const warmPages = () => new Promise<number>((r) => setTimeout(() => r(1), Math.max(0, busyUntil - Date.now())));
  const slow = await node(prefix, 'slow', { worker: { budget: 2 }, pool: { warmPages } });
  const full = await node(prefix, 'full', { worker: { budget: 2, maxConcurrent: 1, warmPages: 1 } });
  const api = await node(prefix, 'api', { pool: { claimTimeoutMs: 5000 } });
  const first = await start(api);
  expect(first.workerId).toBe(full.workerId); // as much headroom, and first by id
  busyUntil = Date.now() + 2100;
  await new Promise((r) => setTimeout(r, 100)); // a poll that had its count already is done
  const t0 = Date.now();
  const second = await start(api);
  // popped 2 s after it was handed over, twice the handoff: still the slow worker's
  expect({ worker: second.workerId, late: Date.now() - t0 > 1500 }).toEqual({ worker: slow.workerId, late: true });
  expect(await redis.llen(`${prefix}:jobs:${slow.workerId}`)).toBe(0);
  expect(await redis.llen(`${prefix}:jobs`)).toBe(0);
  await stopAll(api, [first, second], prefix);
});
