import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createService, type Service } from '../../src/app/http';
import type { RedisDispatcher } from '../../src/dispatch/redis';
import type { Actor } from '../../src/recordings/permissions';
import type { RecoveryReport } from '../../src/recordings/service';
import { freePort } from '../helpers/ports';
import { createTestDatabase } from '../helpers/services/postgres';
import { FfmpegTestRecorder, testConfig, waitFor } from './recordings-harness';

/**
 * Redis and worker faults with real PostgreSQL and a redis-server of this file's own (it is
 * restarted and flushed here): a Redis that lost its keys must not cost a live recording, and a
 * dead worker's recording gets a true status within one owner TTL of its death.
 */
const host: Actor = { kind: 'user', userId: 'host-1', rooms: ['*'] };
const TTL = 1500;

/** A redis-server without persistence on a fixed port, so a restart loses every key, as in production. */
class OwnRedis {
  private child?: ChildProcess;
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async up(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    this.child = child;
    const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await waitFor(() => probe.connect().then(() => probe.ping(), () => null), 10_000, 'redis-server');
    } finally {
      probe.disconnect();
    }
  }
  async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

describe('Redis and worker faults', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let own: OwnRedis;
  let redis: Redis;
  const open: Service[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('redisfaults');
    own = new OwnRedis(await freePort());
    await own.up();
    redis = new Redis(own.url);
    redis.on('error', () => undefined);
  });
  afterAll(async () => {
    for (const s of open.reverse()) await s.close().catch(() => undefined);
    redis?.disconnect();
    await own?.down();
    await db?.drop();
  });

  async function node(prefix: string, recorder?: FfmpegTestRecorder, tuning: Record<string, unknown> = { recoveryIntervalMs: 0 }): Promise<{ svc: Service; report: RecoveryReport }> {
    const svc = await createService(testConfig({ DATABASE_URL: db.url, REDIS_URL: own.url, RECORDER_MAX_CONCURRENT: '2' }), {
      ...(recorder ? { recorder } : {}),
      presence: false,
      workerId: `${recorder ? 'worker' : 'api'}-${randomUUID().slice(0, 6)}`,
      tuning: { pool: { prefix, claimTimeoutMs: 1500, ownerTtlMs: TTL, pollMs: 50 }, unclaimedGraceMs: 0, ...tuning },
    });
    open.push(svc);
    return { svc, report: await svc.start() };
  }
  const row = (svc: Service, id: string) => svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
  const live = async (svc: Service, callId: string) => {
    await svc.recordings.createCall(host, { id: callId, roomName: `room-${callId}`, hostId: 'host-1' });
    const { recording } = await svc.recordings.startRecording(host, callId, {});
    await waitFor(async () => (await row(svc, recording.id)).status === 'RECORDING', 10_000, 'RECORDING');
    return recording.id;
  };
  const reachable = (svc: Service) => waitFor(() => (svc.dispatcher as RedisDispatcher).ping().then(() => true, () => false), 10_000, 'Redis again');

  test('Redis restarted (keys lost) or flushed: the heartbeat brings the claim and the worker back, recovery leaves the live recording alone, stop still travels', async () => {
    const prefix = `rf1-${randomUUID().slice(0, 6)}`;
    const { svc: worker } = await node(prefix, new FfmpegTestRecorder());
    const { svc: api } = await node(prefix);
    const callId = `rf1-${prefix}`;
    const id = await live(api, callId);
    const owner = `${prefix}:owner:${id}`;
    expect(await redis.get(owner)).toBe(worker.workerId);

    for (const fault of ['restart', 'flushall'] as const) {
      if (fault === 'restart') {
        await own.down();
        await own.up();
      } else {
        await redis.flushall();
      }
      await reachable(api);
      // before any heartbeat: a claim missing right after Redis lost its keys proves nothing
      expect((await api.recordings.recover()).skipped).toContain(id);
      // within one heartbeat (a third of the TTL), plus the reconnect
      await waitFor(async () => (await redis.get(owner)) === worker.workerId, TTL, `the claim back after ${fault}`);
      expect(await redis.pttl(owner)).toBeGreaterThan(0);
      expect(Object.keys(await redis.hgetall(`${prefix}:workers`))).toContain(worker.workerId);
      // and once absence would mean death again, the owner is alive
      await new Promise((r) => setTimeout(r, TTL + 200));
      expect((await api.recordings.recover()).skipped).toContain(id);
      expect((await row(api, id)).status).toBe('RECORDING');
    }

    // the worker's control subscription came back with the connection: a stop from the API process reaches it
    await api.recordings.stopRecording(host, callId);
    const done = await waitFor(async () => {
      const r = await row(api, id);
      return r.status === 'COMPLETED' || r.status === 'FAILED' ? r : null;
    }, 10_000, 'final status');
    expect(done).toMatchObject({ status: 'COMPLETED', errorCode: null, stopReason: 'stopped' });
  });

  test("a worker killed mid-recording: the next worker's recovery gives its recording a true status within one owner TTL, not at the next period", async () => {
    const prefix = `rf2-${randomUUID().slice(0, 6)}`;
    const { svc: dead } = await node(prefix, new FfmpegTestRecorder());
    const callId = `rf2-${prefix}`;
    const id = await live(dead, callId);
    // the kill: its heartbeat stops and its claim is left to run out (its ffmpeg goes on, as a SIGKILLed node's would)
    await (dead.dispatcher as RedisDispatcher).close();
    const killedAt = Date.now();
    // restarted at once, with the default recovery period: its start-up recovery still sees the claim
    const { svc: next, report } = await node(prefix, new FfmpegTestRecorder(), {});
    expect(report.skipped).toContain(id);
    const moved = await waitFor(async () => {
      const r = await row(next, id);
      return r.status !== 'RECORDING' ? r : null;
    }, TTL + 2000, 'a status other than RECORDING');
    expect(Date.now() - killedAt).toBeLessThan(TTL + 2000);
    expect(['STOPPING', 'PROCESSING', 'UPLOADING', 'COMPLETED']).toContain(moved.status);
    const done = await waitFor(async () => {
      const r = await row(next, id);
      return r.status === 'COMPLETED' || r.status === 'FAILED' ? r : null;
    }, 10_000, 'final status');
    expect(done).toMatchObject({ status: 'COMPLETED', errorCode: 'WORKER_LOST', stopReason: 'worker_lost' });
  });
});
