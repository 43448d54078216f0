import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createService, type Service } from '../../src/app/http';
import { createLogger } from '../../src/observability/logger';
import { SEALED_PREFIX } from '../../src/recordings/secrets';
import { redactStreamUrl } from '../../src/recordings/streams';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, testConfig, userToken, waitFor } from './recordings-harness';

/**
 * Stream URLs at rest with RECORDER_SECRETS_KEY (recordings/secrets.ts): an API process and a
 * worker sharing PostgreSQL and Redis; a start and a live change with rtmp outputs write no
 * stream key to a row or to Redis (every command Redis was sent, read with MONITOR), the
 * worker gets the real URLs, views show them redacted; a process with another key gets
 * SECRET_UNREADABLE for such a recording and goes on serving; a row written before the key
 * (plaintext) is still read; without a key, one warning at start.
 */
jest.setTimeout(60_000);

const KEY = randomBytes(32).toString('base64');
const FIRST = `rtmp://127.0.0.1:1935/live/first-KEY-${randomUUID().slice(0, 8)}`;
const SECOND = `rtmp://127.0.0.1:1935/live/second-KEY-${randomUUID().slice(0, 8)}`;
const SECRETS = [FIRST, SECOND].map((u) => u.split('/').at(-1)!);

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let monitor: Redis | undefined;
const sentToRedis: string[] = [];
const closers: (() => Promise<void>)[] = [];
const redisUrl = () => process.env.TEST_REDIS_URL!;

beforeAll(async () => {
  db = await createTestDatabase('secrets');
  // every command any client sends Redis from here on
  monitor = await new Redis(redisUrl()).monitor();
  monitor.on('monitor', (_time: string, args: string[]) => void sentToRedis.push(args.join(' ')));
});
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  monitor?.disconnect();
  await db?.drop();
});

async function node(env: Record<string, string>, recorder?: FfmpegTestRecorder, prefix?: string): Promise<{ svc: Service; url: string }> {
  const svc = await createService(testConfig({ RECORDER_STREAM_ALLOWED: '127.0.0.1', ...env }), {
    ...(recorder ? { recorder } : {}),
    presence: false,
    workerId: `${recorder ? 'worker' : 'api'}-${randomUUID().slice(0, 6)}`,
    tuning: { pool: { ...(prefix ? { prefix } : {}), claimTimeoutMs: 3000, pollMs: 50 }, recoveryIntervalMs: 0, unclaimedGraceMs: 0 },
  });
  closers.push(() => svc.close());
  await svc.start();
  const http = await listen(svc.app);
  closers.push(() => http.close());
  return { svc, url: http.url };
}

async function recordingWithStream(url: string, callId: string): Promise<string> {
  const token = await userToken('host-1', { rooms: [`room-${callId}`] });
  expect((await call(url, 'POST', '/api/video-calls', { token, body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1' } })).status).toBe(201);
  const start = await call(url, 'POST', `/api/video-calls/${callId}/recording/start`, { token: await userToken('host-1'), body: { outputs: [{ type: 'rtmp', url: FIRST }] } });
  expect(start.status).toBe(201);
  return start.body.data.id as string;
}

/** The whole row as PostgreSQL holds it, as text. */
const rawRow = async (svc: Service, id: string) =>
  (await svc.db.prisma.$queryRaw<{ row: string }[]>`SELECT row_to_json(r)::text AS row FROM "CallRecording" r WHERE r.id = ${id}`)[0].row;

test('API and worker through Redis: no stream key in the row or in Redis, the worker streams the real URLs, a wrong key is SECRET_UNREADABLE', async () => {
  const prefix = `sk-${randomUUID().slice(0, 6)}`;
  const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl(), RECORDER_SECRETS_KEY: KEY };
  const recorder = new FfmpegTestRecorder();
  await node(env, recorder, prefix);
  const api = await node(env, undefined, prefix);
  const host = await userToken('host-1');
  const callId = `sk-${Date.now().toString(36)}`;
  const id = await recordingWithStream(api.url, callId);
  const path = `/api/video-calls/${callId}/recording/${id}`;
  await waitFor(async () => (await call(api.url, 'GET', path, { token: host })).body.data?.status === 'RECORDING', 15_000, 'RECORDING');

  // a live change adds the second destination and removes the first by its redacted URL (the API opened the row to match it)
  const change = await call(api.url, 'PATCH', path, { token: host, body: { streams: { add: [{ type: 'rtmp', url: SECOND }], remove: [redactStreamUrl(FIRST)] } } });
  expect(change.status).toBe(200);
  expect(change.body.data.options.outputs).toEqual([{ type: 'rtmp', url: redactStreamUrl(SECOND) }]);

  // the worker was given the real URLs, to stream
  expect(recorder.started.find((r) => r.id === id)?.options.outputs).toEqual([{ type: 'rtmp', url: FIRST }]);
  expect(recorder.updates.filter((u) => u.id === id).map((u) => u.options.outputs)).toEqual([[{ type: 'rtmp', url: SECOND }]]);

  // at rest: the row has the sealed form and no key; nothing sent to Redis had a key, the job and the change went sealed
  const row = await rawRow(api.svc, id);
  expect(row).toContain(SEALED_PREFIX);
  for (const s of SECRETS) expect(row).not.toContain(s);
  const ours = sentToRedis.filter((c) => c.includes(prefix) || c.includes(id));
  expect(ours.some((c) => /^lpush /i.test(c) && c.includes(SEALED_PREFIX))).toBe(true);
  expect(ours.some((c) => /^publish \S+:control /i.test(c) && c.includes(SEALED_PREFIX))).toBe(true);
  for (const s of SECRETS) expect(sentToRedis.filter((c) => c.includes(s))).toEqual([]);

  expect((await call(api.url, 'POST', `/api/video-calls/${callId}/recording/stop`, { token: host })).status).toBe(200);
  await waitFor(async () => (await call(api.url, 'GET', path, { token: host })).body.data?.status === 'COMPLETED', 20_000, 'COMPLETED');

  // a process with another key: a clear code for this recording, and it goes on serving the rest
  const other = await node({ DATABASE_URL: db.url, RECORDER_SECRETS_KEY: randomBytes(32).toString('hex') });
  const refused = await call(other.url, 'GET', path, { token: host });
  expect(refused.status).toBe(500);
  expect(refused.body.error.code).toBe('SECRET_UNREADABLE');
  expect((await call(other.url, 'GET', `/api/video-calls/${callId}`, { token: host })).status).toBe(200);
});

test('a row written before the key (the URL as given) is read as it was', async () => {
  const one = await node({ DATABASE_URL: db.url, RECORDER_SECRETS_KEY: KEY }, new FfmpegTestRecorder());
  const host = await userToken('host-1');
  const id = await recordingWithStream(one.url, 'sk-before');
  const path = `/api/video-calls/sk-before/recording/${id}`;
  await waitFor(async () => (await call(one.url, 'GET', path, { token: host })).body.data?.status === 'RECORDING', 15_000, 'RECORDING');
  expect(await rawRow(one.svc, id)).not.toContain(SECRETS[0]);
  await one.svc.db.prisma.$executeRaw`UPDATE "CallRecording" SET options = jsonb_set(options, '{outputs,0,url}', to_jsonb(${FIRST}::text)) WHERE id = ${id}`;
  expect(await rawRow(one.svc, id)).toContain(SECRETS[0]);
  const view = await call(one.url, 'GET', path, { token: host });
  expect(view.status).toBe(200);
  expect(view.body.data.options.outputs).toEqual([{ type: 'rtmp', url: redactStreamUrl(FIRST) }]);
  expect((await call(one.url, 'POST', '/api/video-calls/sk-before/recording/stop', { token: host })).status).toBe(200);
  await waitFor(async () => (await call(one.url, 'GET', path, { token: host })).body.data?.status === 'COMPLETED', 20_000, 'COMPLETED');
  // not rewritten by the statuses and stream states that followed: only a live change writes options
  expect(await rawRow(one.svc, id)).toContain(SECRETS[0]);
});

test('without the key a process that takes streams says once, at start, that their keys are stored unencrypted', async () => {
  const warned = async (env: Record<string, string>) => {
    const lines: string[] = [];
    const svc = await createService(testConfig({ DATABASE_URL: db.url, RECORDER_STREAM_ALLOWED: '127.0.0.1', ...env }), { presence: false, logger: createLogger('warn', { write: (l: string) => void lines.push(l) }) });
    closers.push(() => svc.close());
    await svc.start();
    return lines.filter((l) => l.includes('stored unencrypted')).length;
  };
  expect(await warned({})).toBe(1);
  expect(await warned({ RECORDER_SECRETS_KEY: KEY })).toBe(0);
});
