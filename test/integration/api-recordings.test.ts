import fs from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger';
import { createService, type Service } from '../../src/app/http';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, livekitWebhook, SERVICE_KEY, testConfig, userToken, waitFor } from './recordings-harness';

/** The REST API end to end on PostgreSQL, with the ffmpeg recorder double. */
describe('recording API on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let http: Awaited<ReturnType<typeof listen>>;
  let recorder: FfmpegTestRecorder;
  let host: string, guest: string;
  const base = () => http.url;
  const logLines: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('api');
    recorder = new FfmpegTestRecorder();
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    svc = await createService(testConfig({ DATABASE_URL: db.url, RECORDER_MAX_CONCURRENT: '8' }), { recorder, presence: false, logger: createLogger('info', sink) });
    await svc.start();
    http = await listen(svc.app);
    [host, guest] = await Promise.all([userToken('host-1'), userToken('guest-1')]);
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
    await db?.drop();
    expect(recorder.allExited()).toBe(true);
  });

  async function newCall(id: string) {
    const res = await call(base(), 'POST', '/api/video-calls', { token: await userToken('host-1', { rooms: [`room-${id}`] }), body: { id, roomName: `room-${id}`, hostId: 'host-1', participantIds: ['guest-1'] } });
    expect(res.status).toBe(201);
    return res.body.data;
  }
  const getRec = async (callId: string, id: string) => (await call(base(), 'GET', `/api/video-calls/${callId}/recording/${id}`, { token: host })).body.data;
  const waitStatus = (callId: string, id: string, status: string) =>
    waitFor(async () => {
      const r = await getRec(callId, id);
      return r.status === status ? r : null;
    }, 15000, status);

  test('start, record, stop, complete; the call mirrors it', async () => {
    const created = await newCall('c-flow');
    expect(created).toMatchObject({ id: 'c-flow', hostId: 'host-1', participantIds: ['guest-1'], isRecorded: false, recordingStatus: null });
    const start = await call(base(), 'POST', '/api/video-calls/c-flow/recording/start', { token: host, body: { format: 'mp4', resolution: '720p', fps: 30 } });
    expect(start.status).toBe(201);
    expect(start.body).toEqual({ success: true, data: { id: expect.any(String), callId: 'c-flow', status: 'STARTING', startedAt: expect.any(String) }, message: expect.any(String) });
    const id = start.body.data.id as string;
    await waitStatus('c-flow', id, 'RECORDING');
    expect((await call(base(), 'GET', '/api/video-calls/c-flow', { token: guest })).body.data.recordingStatus).toBe('RECORDING');
    const stop = await call(base(), 'POST', '/api/video-calls/c-flow/recording/stop', { token: host });
    expect(stop.status).toBe(200);
    expect(stop.body.data).toMatchObject({ id, status: 'STOPPING', stopReason: 'stopped' });
    const done = await waitStatus('c-flow', id, 'COMPLETED');
    expect(done.fileSize).toBeGreaterThan(0);
    for (const k of ['recordingAt', 'stoppingAt', 'processingAt', 'completedAt']) expect(done[k]).toEqual(expect.any(String));
    expect(done.failedAt).toBeNull();
    expect(done.options).toMatchObject({ width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid' });
    const row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
    expect(fs.statSync(row.filePath!).size).toBeGreaterThan(0);
    const c = await call(base(), 'GET', '/api/video-calls/c-flow', { token: guest });
    expect(c.body.data).toMatchObject({ isRecorded: true, recordingStatus: 'COMPLETED' });
    const list = await call(base(), 'GET', '/api/video-calls/c-flow/recordings?limit=10', { token: guest });
    expect(list.status).toBe(200);
    expect(list.body.data.map((r: { id: string }) => r.id)).toEqual([id]);

    // delete: file removed, status DELETED, hidden from the list
    const del = await call(base(), 'DELETE', `/api/video-calls/c-flow/recording/${id}`, { token: host });
    expect(del.status).toBe(200);
    expect(del.body.data).toMatchObject({ status: 'DELETED', url: null });
    expect(fs.existsSync(row.filePath!)).toBe(false);
    expect((await call(base(), 'GET', '/api/video-calls/c-flow/recordings', { token: host })).body.data).toEqual([]);
    expect((await call(base(), 'GET', '/api/video-calls/c-flow/recordings?includeDeleted=true', { token: host })).body.data).toHaveLength(1);
    expect((await call(base(), 'DELETE', `/api/video-calls/c-flow/recording/${id}`, { token: host })).status).toBe(404);
    expect((await call(base(), 'GET', '/api/video-calls/c-flow', { token: host })).body.data).toMatchObject({ isRecorded: false, recordingStatus: null });
  });

  test('concurrent starts: one 201, the others 409 RECORDING_ALREADY_ACTIVE', async () => {
    await newCall('c-race');
    const results = await Promise.all(
      Array.from({ length: 6 }, () => call(base(), 'POST', '/api/video-calls/c-race/recording/start', { token: host, body: {} })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body).toEqual({ success: false, error: { code: 'RECORDING_ALREADY_ACTIVE', message: expect.any(String) } });
    expect(await svc.db.prisma.callRecording.count({ where: { callId: 'c-race' } })).toBe(1);
    const id = results.find((r) => r.status === 201)!.body.data.id;
    await waitStatus('c-race', id, 'RECORDING');
    // deleting an active recording is refused
    expect((await call(base(), 'DELETE', `/api/video-calls/c-race/recording/${id}`, { token: host })).body.error.code).toBe('RECORDING_ALREADY_ACTIVE');
    expect((await call(base(), 'POST', '/api/video-calls/c-race/recording/stop', { token: host, body: { recordingId: id } })).status).toBe(200);
    // a second stop: the recording is already stopping or done
    const again = await call(base(), 'POST', '/api/video-calls/c-race/recording/stop', { token: host });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RECORDING_NOT_ACTIVE');
    await waitStatus('c-race', id, 'COMPLETED');
    // after completion a new recording may start
    const next = await call(base(), 'POST', '/api/video-calls/c-race/recording/start', { token: host });
    expect(next.status).toBe(201);
    await call(base(), 'POST', '/api/video-calls/c-race/recording/stop', { token: host });
    await waitStatus('c-race', next.body.data.id, 'COMPLETED');
  });

  test('stop when nothing is recording: 409 RECORDING_NOT_ACTIVE', async () => {
    await newCall('c-idle');
    const r = await call(base(), 'POST', '/api/video-calls/c-idle/recording/stop', { token: host });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('RECORDING_NOT_ACTIVE');
  });

  test('Idempotency-Key: a replay returns the same recording; another body with the key is 409', async () => {
    await newCall('c-idem');
    const opts = { token: host, headers: { 'idempotency-key': 'start-abc' }, body: { format: 'mkv', fps: 25 } };
    const a = await call(base(), 'POST', '/api/video-calls/c-idem/recording/start', opts);
    const b = await call(base(), 'POST', '/api/video-calls/c-idem/recording/start', opts);
    expect(a.status).toBe(201);
    expect(b.status).toBe(200);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body.data.id).toBe(a.body.data.id);
    const c = await call(base(), 'POST', '/api/video-calls/c-idem/recording/start', { ...opts, body: { format: 'mkv', fps: 30 } });
    expect(c.status).toBe(409);
    expect(c.body.error.code).toBe('CONFLICT');
    expect(await svc.db.prisma.callRecording.count({ where: { callId: 'c-idem' } })).toBe(1);
    await waitStatus('c-idem', a.body.data.id, 'RECORDING');
    await call(base(), 'POST', '/api/video-calls/c-idem/recording/stop', { token: host });
    const done = await waitStatus('c-idem', a.body.data.id, 'COMPLETED');
    expect(done.format).toBe('mkv');
  });

  test('participants: the host adds and removes; the new participant can read', async () => {
    await newCall('c-people');
    const newbie = await userToken('newbie');
    expect((await call(base(), 'GET', '/api/video-calls/c-people', { token: newbie })).status).toBe(404);
    const add = await call(base(), 'POST', '/api/video-calls/c-people/participants', { token: host, body: { userIds: ['newbie', 'guest-1'] } });
    expect(add.status).toBe(200);
    expect(add.body.data.participantIds.sort()).toEqual(['guest-1', 'newbie']);
    expect((await call(base(), 'GET', '/api/video-calls/c-people', { token: newbie })).status).toBe(200);
    const rm = await call(base(), 'DELETE', '/api/video-calls/c-people/participants/newbie', { token: host });
    expect(rm.body.data.participantIds).toEqual(['guest-1']);
    expect((await call(base(), 'GET', '/api/video-calls/c-people', { token: newbie })).status).toBe(404);
    expect((await call(base(), 'DELETE', '/api/video-calls/c-people/participants/newbie', { token: host })).status).toBe(404);
    expect((await call(base(), 'POST', '/api/video-calls/c-people/participants', { token: guest, body: { userIds: ['x'] } })).status).toBe(403);
  });

  test('a service key acts for X-User-Id', async () => {
    const created = await call(base(), 'POST', '/api/video-calls', { headers: { 'x-api-key': SERVICE_KEY }, body: { id: 'c-svc', roomName: 'room-svc', hostId: 'host-9' } });
    expect(created.status).toBe(201);
    const start = await call(base(), 'POST', '/api/video-calls/c-svc/recording/start', { token: SERVICE_KEY, headers: { 'x-user-id': 'host-9' } });
    expect(start.status).toBe(201);
    await waitStatus2('c-svc', start.body.data.id, 'RECORDING');
    const stop = await call(base(), 'POST', '/api/video-calls/c-svc/recording/stop', { headers: { 'x-api-key': SERVICE_KEY, 'x-user-id': 'host-9' } });
    expect(stop.status).toBe(200);
    async function waitStatus2(callId: string, id: string, status: string) {
      await waitFor(async () => (await call(base(), 'GET', `/api/video-calls/${callId}/recording/${id}`, { token: SERVICE_KEY, headers: { 'x-user-id': 'host-9' } })).body.data?.status === status, 10000, status);
    }
    await waitStatus2('c-svc', start.body.data.id, 'COMPLETED');
  });

  test('LiveKit webhook: a forged one is 401; room_finished stops the recording', async () => {
    await newCall('c-lk');
    const start = await call(base(), 'POST', '/api/video-calls/c-lk/recording/start', { token: host });
    const id = start.body.data.id;
    await waitStatus('c-lk', id, 'RECORDING');
    const forged = await livekitWebhook('room_finished', 'room-c-lk', 'not-the-secret');
    const bad = await call(base(), 'POST', '/api/livekit/webhook', { raw: forged.body, headers: { 'content-type': 'application/webhook+json', authorization: forged.authorization } });
    expect(bad.status).toBe(401);
    const unsigned = await call(base(), 'POST', '/api/livekit/webhook', { raw: forged.body, headers: { 'content-type': 'application/webhook+json' } });
    expect(unsigned.status).toBe(401);
    const good = await livekitWebhook('room_finished', 'room-c-lk');
    // a body that is not the signed one
    const tampered = await call(base(), 'POST', '/api/livekit/webhook', { raw: good.body.replace('room-c-lk', 'room-c-lx'), headers: { 'content-type': 'application/webhook+json', authorization: good.authorization } });
    expect(tampered.status).toBe(401);
    expect((await getRec('c-lk', id)).status).toBe('RECORDING');
    const ok = await call(base(), 'POST', '/api/livekit/webhook', { raw: good.body, headers: { 'content-type': 'application/webhook+json', authorization: good.authorization } });
    expect(ok.status).toBe(200);
    const done = await waitStatus('c-lk', id, 'COMPLETED');
    expect(done.stopReason).toBe('room_ended');
  });

  test('health, readiness, metrics, OpenAPI', async () => {
    expect((await call(base(), 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await call(base(), 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database.ok).toBe(true);
    const metrics = await call(base(), 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/recorder_recordings\{status="COMPLETED"\} [1-9]/);
    expect(metrics.body).toMatch(/recorder_active_recordings/);
    expect(metrics.body).toMatch(/^recorder_cpu_budget_cores 64$/m); // the test config's RECORDER_CPU_BUDGET
    expect(metrics.body).toMatch(/^recorder_cpu_committed_cores 0$/m);
    expect(metrics.body).toMatch(/recorder_http_request_duration_seconds_bucket/);
    const doc = await call(base(), 'GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/video-calls/{callId}/recording/start', '/api/video-calls/{callId}/recording/{recordingId}', '/api/video-calls/{callId}/recordings']));
    // JSON logs with request ids; no credential ever reaches them
    const requests = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.every((l) => typeof l.reqId === 'string' && typeof l.status === 'number')).toBe(true);
    const all = logLines.join('\n');
    for (const secret of [host, guest, SERVICE_KEY, 'Bearer ']) expect(all).not.toContain(secret);
    const resp = await call(base(), 'GET', '/healthz');
    expect(resp.headers.get('x-request-id')).toBeTruthy();
    expect(resp.headers.get('x-content-type-options')).toBe('nosniff');
  });

  test('METRICS_TOKEN: /metrics wants the bearer token, and nothing else changes', async () => {
    const token = 'metrics-token-0123456789';
    const guarded = await createService(testConfig({ DATABASE_URL: db.url, METRICS_TOKEN: token }), { recorder, presence: false });
    const server = await listen(guarded.app);
    try {
      for (const auth of [undefined, 'Bearer wrong-token-0123456789', token, `Basic ${token}`]) {
        const res = await call(server.url, 'GET', '/metrics', auth ? { headers: { authorization: auth } } : {});
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('UNAUTHORIZED');
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
      const ok = await call(server.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatch(/recorder_active_recordings/);
      expect((await call(server.url, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await server.close();
      await guarded.close();
    }
  });
});
