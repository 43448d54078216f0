import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createService, type Service } from '../../src/app/http';
import { RedisViewCache } from '../../src/dispatch/view-cache';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, testConfig, userToken, waitFor } from './recordings-harness';

/**
 * The read path through Redis: GET of a call and of a recording are served from a shared
 * cache of views, checked against the caller like the database path, and every write of any
 * process (status change, participant change) drops what it touched.
 */
jest.setTimeout(60_000);

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let redis: Redis;
const closers: (() => Promise<void>)[] = [];
const redisUrl = () => process.env.TEST_REDIS_URL!;

beforeAll(async () => {
  db = await createTestDatabase('viewcache');
  redis = new Redis(redisUrl());
});
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  redis.disconnect();
  await db?.drop();
});

async function node(prefix: string, recorder?: FfmpegTestRecorder): Promise<{ svc: Service; url: string }> {
  const svc = await createService(testConfig({ DATABASE_URL: db.url, REDIS_URL: redisUrl(), RECORDER_MAX_CONCURRENT: '1' }), {
    ...(recorder ? { recorder } : {}),
    presence: false,
    workerId: `${recorder ? 'worker' : 'api'}-${randomUUID().slice(0, 6)}`,
    tuning: { pool: { prefix, claimTimeoutMs: 3000, pollMs: 50 }, recoveryIntervalMs: 0, unclaimedGraceMs: 0 },
  });
  closers.push(() => svc.close());
  await svc.start();
  const http = await listen(svc.app);
  closers.push(() => http.close());
  return { svc, url: http.url };
}

test('reads go through the cache: no database read for an unchanged recording, fresh after another process writes, strangers get 404', async () => {
  const prefix = `vc-${randomUUID().slice(0, 6)}`;
  const worker = await node(prefix, new FfmpegTestRecorder());
  const api = await node(prefix);
  const [host, guest, stranger, late] = await Promise.all(['host-1', 'guest-1', 'stranger-1', 'late-1'].map((u) => userToken(u)));
  const callId = `vc-${Date.now().toString(36)}`;
  expect((await call(api.url, 'POST', '/api/video-calls', { token: await userToken('host-1', { rooms: [`room-${callId}`] }), body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1', participantIds: ['guest-1'] } })).status).toBe(201);
  const start = await call(api.url, 'POST', `/api/video-calls/${callId}/recording/start`, { token: host });
  expect(start.status).toBe(201);
  const id = start.body.data.id as string;
  const row = async () => (await api.svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).status;
  await waitFor(async () => (await row()) === 'RECORDING', 15_000, 'RECORDING');

  const recPath = `/api/video-calls/${callId}/recording/${id}`;
  const get = (url: string, token: string, p = recPath) => call(url, 'GET', p, { token });
  // first read fills the cache (the status change to RECORDING, made by the worker, was invalidated)
  expect((await get(api.url, host)).body.data.status).toBe('RECORDING');
  expect((await get(api.url, host, `/api/video-calls/${callId}`)).body.data.recordingStatus).toBe('RECORDING');
  expect(await redis.exists(`${prefix}:view:recording:${id}`, `${prefix}:view:call:${callId}`)).toBe(2);

  // second reads of the unchanged recording and call: no database query
  const repo = api.svc.lifecycle.repo;
  const getRecording = jest.spyOn(repo, 'getRecording');
  const getCall = jest.spyOn(repo, 'getCall');
  try {
    const again = await get(api.url, host);
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ id, callId, status: 'RECORDING' });
    expect((await get(api.url, guest)).status).toBe(200);
    expect((await get(api.url, host, `/api/video-calls/${callId}`)).status).toBe(200);
    // a stranger is refused on the cached call, and learns nothing
    const refused = await get(api.url, stranger);
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('NOT_FOUND');
    expect((await get(api.url, stranger, `/api/video-calls/${callId}`)).status).toBe(404);
    // the recording id under another call the stranger hosts: still 404
    expect((await call(api.url, 'POST', '/api/video-calls', { token: await userToken('stranger-1', { rooms: [`room-${callId}-s`] }), body: { id: `${callId}-s`, roomName: `room-${callId}-s`, hostId: 'stranger-1' } })).status).toBe(201);
    expect((await get(api.url, stranger, `/api/video-calls/${callId}-s/recording/${id}`)).status).toBe(404);
    expect(getRecording).not.toHaveBeenCalled();
    expect(getCall.mock.calls.map((c) => c[0])).toEqual([`${callId}-s`]);
  } finally {
    getRecording.mockRestore();
    getCall.mockRestore();
  }

  // the other process stops it: the very next read here sees the new status
  expect((await call(worker.url, 'POST', `/api/video-calls/${callId}/recording/stop`, { token: host })).status).toBe(200);
  expect((await get(api.url, host)).body.data.status).not.toBe('RECORDING');
  expect((await get(api.url, guest, `/api/video-calls/${callId}`)).body.data.recordingStatus).not.toBe('RECORDING');
  await waitFor(async () => (await row()) === 'COMPLETED', 20_000, 'COMPLETED');
  const done = await get(api.url, guest);
  expect(done.body.data.status).toBe('COMPLETED');
  expect(done.body.data.completedAt).not.toBeNull();
  expect((await get(api.url, host, `/api/video-calls/${callId}`)).body.data).toMatchObject({ recordingStatus: 'COMPLETED', isRecorded: true });

  // participant changes made by the other process reach the permission check here at once
  expect((await get(api.url, late)).status).toBe(404);
  expect((await call(worker.url, 'POST', `/api/video-calls/${callId}/participants`, { token: host, body: { userIds: ['late-1'] } })).status).toBe(200);
  expect((await get(api.url, late)).status).toBe(200);
  expect((await call(worker.url, 'DELETE', `/api/video-calls/${callId}/participants/guest-1`, { token: host })).status).toBe(200);
  expect((await get(api.url, guest)).status).toBe(404);
  expect((await get(api.url, guest, `/api/video-calls/${callId}`)).status).toBe(404);
});

test('a read that raced an invalidation does not store its stale view', async () => {
  const cache = new RedisViewCache(redis, { prefix: `race-${randomUUID().slice(0, 6)}`, ttlMs: 30_000 });
  let truth = 'old';
  const seen = await cache.read('recording:x', async () => {
    const value = truth; // read from "the database"...
    truth = 'new'; // ...then another process writes and invalidates before this read stores
    await cache.invalidate(['recording:x']);
    return { status: value };
  });
  expect(seen).toEqual({ status: 'old' });
  let loads = 0;
  expect(await cache.read('recording:x', async () => (loads++, { status: truth }))).toEqual({ status: 'new' });
  expect(await cache.read('recording:x', async () => (loads++, { status: 'never' }))).toEqual({ status: 'new' });
  expect(loads).toBe(1);
  // nothing found: not cached
  expect(await cache.read('call:none', async () => null)).toBeNull();
  expect(await cache.read('call:none', async () => ({ id: 'none' }))).toEqual({ id: 'none' });
});
