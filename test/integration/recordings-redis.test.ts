import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createService, type Service } from '../../src/app/http';
import { AppError } from '../../src/errors';
import type { RedisDispatcher } from '../../src/dispatch/redis';
import type { Actor } from '../../src/recordings/permissions';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, testConfig, userToken, waitFor } from './recordings-harness';

/** Dispatch through Redis: an API-only process and a worker process sharing PostgreSQL and Redis. */
// the call app's token for the host names its rooms (any room here)
const host: Actor = { kind: 'user', userId: 'host-1', rooms: ['*'] };

describe('Redis worker pool', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: Redis;
  const open: Service[] = [];
  const redisUrl = () => process.env.TEST_REDIS_URL!;

  beforeAll(async () => {
    db = await createTestDatabase('pool');
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    for (const s of open.reverse()) await s.close();
    redis.disconnect();
    await db?.drop();
  });

  async function node(prefix: string, recorder?: FfmpegTestRecorder, extra: Record<string, unknown> = {}, env: Record<string, string> = { RECORDER_MAX_CONCURRENT: '1' }) {
    const svc = await createService(testConfig({ DATABASE_URL: db.url, REDIS_URL: redisUrl(), ...env }), {
      ...(recorder ? { recorder } : {}),
      presence: false,
      workerId: `${recorder ? 'worker' : 'api'}-${randomUUID().slice(0, 6)}`,
      tuning: { pool: { prefix, claimTimeoutMs: 1500, ownerTtlMs: 1500, pollMs: 50 }, recoveryIntervalMs: 0, unclaimedGraceMs: 0, ...extra },
    });
    open.push(svc);
    await svc.start();
    return svc;
  }
  const status = async (svc: Service, id: string) => (await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).status;

  test('the API process dispatches, a worker claims, stop travels over pub/sub', async () => {
    const prefix = `t1-${randomUUID().slice(0, 6)}`;
    const recorder = new FfmpegTestRecorder();
    const worker = await node(prefix, recorder);
    const api = await node(prefix);
    expect(api.runner).toBeUndefined();
    const http = await listen(api.app);
    // status changes written by the worker are published on Redis, for whoever listens
    const heard: string[] = [];
    const statusSub = redis.duplicate();
    await statusSub.subscribe(`${prefix}:status`);
    statusSub.on('message', (_channel: string, message: string) => heard.push(JSON.parse(message).status));
    try {
      const token = await userToken('host-1', { rooms: ['room-rd1', 'room-rd2'] });
      await call(http.url, 'POST', '/api/video-calls', { token, body: { id: 'rd1', roomName: 'room-rd1', hostId: 'host-1' } });
      const start = await call(http.url, 'POST', '/api/video-calls/rd1/recording/start', { token });
      expect(start.status).toBe(201);
      const id = start.body.data.id;
      expect(await redis.get(`${prefix}:owner:${id}`)).toBe(worker.workerId);
      await waitFor(async () => (await status(api, id)) === 'RECORDING', 10000, 'RECORDING');
      expect((await api.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).workerId).toBe(worker.workerId);
      expect(worker.runner!.has(id)).toBe(true);

      // the worker is full (capacity 1): another call is refused at once
      await call(http.url, 'POST', '/api/video-calls', { token, body: { id: 'rd2', roomName: 'room-rd2', hostId: 'host-1' } });
      const full = await call(http.url, 'POST', '/api/video-calls/rd2/recording/start', { token });
      expect(full.status).toBe(503);
      expect(full.body.error.code).toBe('NO_CAPACITY');

      // a live change crosses the control channel to the worker that owns it
      const patch = await call(http.url, 'PATCH', `/api/video-calls/rd1/recording/${id}`, { token, body: { layout: 'speaker-light', participants: { exclude: ['bob'] } } });
      expect(patch.status).toBe(200);
      expect(patch.body.data.options).toMatchObject({ layout: 'speaker', theme: 'light', participants: { exclude: ['bob'] } });
      // the answer waits for the worker: it applied the change before the API answered
      expect(recorder.updates).toEqual([{ id, options: expect.objectContaining({ layout: 'speaker', theme: 'light', participants: { exclude: ['bob'] } }) }]);
      // a change the worker refuses comes back as its error, and the row keeps what is recorded
      recorder.opts.refuseUpdate = new AppError('OVERLAY_IMAGE_FAILED', 'cannot use the overlay image http://127.0.0.1:9/x.png: the server answered 404');
      const refused = await call(http.url, 'PATCH', `/api/video-calls/rd1/recording/${id}`, { token, body: { layout: 'grid' } });
      expect([refused.status, refused.body.error.code, refused.body.error.message]).toEqual([502, 'OVERLAY_IMAGE_FAILED', expect.stringContaining('404')]);
      expect((await api.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).options).toMatchObject({ layout: 'speaker', theme: 'light' });
      delete recorder.opts.refuseUpdate;

      // so do a pause and a resume: the worker that owns it pauses its encoder
      const pause = await call(http.url, 'POST', '/api/video-calls/rd1/recording/pause', { token });
      expect([pause.status, pause.body.data.status]).toEqual([200, 'PAUSED']);
      await waitFor(() => recorder.pauses.length > 0, 3000, 'the pause on the worker');
      const resume = await call(http.url, 'POST', '/api/video-calls/rd1/recording/resume', { token });
      expect([resume.status, resume.body.data.status]).toEqual([200, 'RECORDING']);
      await waitFor(() => recorder.pauses.length > 1, 3000, 'the resume on the worker');
      expect(recorder.pauses).toEqual([{ id, paused: true }, { id, paused: false }]);

      const stop = await call(http.url, 'POST', '/api/video-calls/rd1/recording/stop', { token });
      expect(stop.status).toBe(200);
      await waitFor(async () => (await status(api, id)) === 'COMPLETED', 10000, 'COMPLETED');
      await waitFor(async () => (await redis.exists(`${prefix}:owner:${id}`)) === 0, 3000, 'ownership released');
      expect(recorder.allExited()).toBe(true);
      await waitFor(() => heard.includes('COMPLETED'), 3000, 'COMPLETED over pub/sub');
      expect(heard).toEqual(expect.arrayContaining(['RECORDING', 'PAUSED', 'STOPPING', 'PROCESSING', 'COMPLETED']));
    } finally {
      await statusSub.quit();
      await http.close();
    }
  });

  test("dispatch follows the workers' CPU budgets: a recording goes where it fits, and is refused when it fits nowhere", async () => {
    const prefix = `tb-${randomUUID().slice(0, 6)}`;
    const budget = { RECORDER_MAX_CONCURRENT: '8', RECORDER_CPU_BUDGET: '1', RECORDER_COST_CANVAS: '0.4' };
    const [recA, recB] = [new FfmpegTestRecorder(), new FfmpegTestRecorder()];
    const workers = [await node(prefix, recA, {}, budget), await node(prefix, recB, {}, budget)];
    const api = await node(prefix);
    const ids: string[] = [];
    const calls: string[] = [];
    // four at once: two per worker (0.8 of 1 core each); what a worker cannot fit it leaves for the other
    await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const callId = `rb${i}-${prefix}`;
        calls.push(callId);
        await api.recordings.createCall(host, { id: callId, roomName: `room-${callId}`, hostId: 'host-1' });
      }),
    );
    for (const callId of calls) ids.push((await api.recordings.startRecording(host, callId, {})).recording.id);
    expect(workers.map((w) => w.runner!.activeCount())).toEqual([2, 2]);
    // a fifth fits on neither
    await api.recordings.createCall(host, { id: `rb4-${prefix}`, roomName: `room-rb4-${prefix}`, hostId: 'host-1' });
    await expect(api.recordings.startRecording(host, `rb4-${prefix}`, {})).rejects.toMatchObject({ code: 'NO_CAPACITY' });
    // the load each worker publishes
    const published = Object.values(await redis.hgetall(`${prefix}:workers`)).map((v) => JSON.parse(v));
    expect(published).toEqual([0, 1].map(() => expect.objectContaining({ active: 2, committed: expect.closeTo(0.8, 5), cpuBudget: 1, maxConcurrent: 8 })));
    for (const [i, callId] of calls.entries()) {
      await api.recordings.stopRecording(host, callId);
      await waitFor(async () => (await status(api, ids[i]!)) === 'COMPLETED', 10000, 'COMPLETED');
    }
  });

  test('no live worker: NO_CAPACITY and the row is FAILED', async () => {
    const prefix = `t2-${randomUUID().slice(0, 6)}`;
    const api = await node(prefix);
    await api.recordings.createCall(host, { id: 'rd3', roomName: 'room-rd3', hostId: 'host-1' });
    await expect(api.recordings.startRecording(host, 'rd3', {})).rejects.toMatchObject({ code: 'NO_CAPACITY' });
    expect(await api.db.prisma.callRecording.findFirstOrThrow({ where: { callId: 'rd3' } })).toMatchObject({ status: 'FAILED', errorCode: 'NO_CAPACITY' });
    expect(await redis.llen(`${prefix}:jobs`)).toBe(0);
  });

  test('a worker that dies loses its ownership key; recovery elsewhere gives the row a true status', async () => {
    const prefix = `t3-${randomUUID().slice(0, 6)}`;
    const worker = await node(prefix, new FfmpegTestRecorder());
    const api = await node(prefix);
    await api.recordings.createCall(host, { id: 'rd4', roomName: 'room-rd4', hostId: 'host-1' });
    const { recording } = await api.recordings.startRecording(host, 'rd4', {});
    await waitFor(async () => (await status(api, recording.id)) === 'RECORDING', 10000, 'RECORDING');
    // alive: recovery leaves it alone
    expect((await api.recordings.recover()).skipped).toContain(recording.id);
    // "kill" the worker: its heartbeat stops and the key expires (the live ffmpeg is stopped by close)
    const dispatcher = worker.dispatcher as RedisDispatcher;
    await dispatcher.close();
    // (one owner TTL after the prefix was first written: before that a missing key proves nothing, see dispatch/redis.ts)
    await waitFor(async () => (await redis.exists(`${prefix}:epoch:settling`)) === 0, 5000, 'settled');
    await redis.del(`${prefix}:owner:${recording.id}`);
    const report = await api.recordings.recover();
    expect([...report.salvaged, ...report.failed]).toContain(recording.id);
    await worker.runner!.close();
    const final = await waitFor(async () => {
      const s = await status(api, recording.id);
      return s === 'COMPLETED' || s === 'FAILED' ? s : null;
    }, 10000, 'terminal');
    expect(['COMPLETED', 'FAILED']).toContain(final);
  });
});
