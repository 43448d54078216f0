import { randomUUID } from 'node:crypto';
import { createService, type Service } from '../../src/app/http';
import { DEFAULT_RECORDING_OPTIONS } from '../../src/recordings/options';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, JWT_SECRET, listen, SERVICE_KEY, signJwt, testConfig, userToken, waitFor } from './recordings-harness';

/**
 * Who may do what, and what bad input gets (PostgreSQL): every refusal is a 4xx with a code,
 * and nothing in the database changes. (PGlite cannot load inside Jest's module sandbox:
 * api-pglite.test.ts runs that path in a child process.)
 */
describe('API access and validation', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let http: Awaited<ReturnType<typeof listen>>;
  const base = () => http.url;
  let completedId: string;
  const actors: Record<string, { token?: string; headers?: Record<string, string> }> = {};

  beforeAll(async () => {
    db = await createTestDatabase('access');
    const config = testConfig({ DATABASE_URL: db.url, RECORDING_MAX_DURATION_SECONDS: '3600', RECORDER_CUSTOM_LAYOUT_ORIGINS: 'https://layouts.example.com' });
    svc = await createService(config, { recorder: new FfmpegTestRecorder(), presence: false });
    await svc.start();
    http = await listen(svc.app);
    const now = Math.floor(Date.now() / 1000);
    // the host's token names its room (and the one the bad-input table tries to take)
    const [host, guest, stranger] = await Promise.all([userToken('host-1', { rooms: ['room-m', 'room-new'] }), userToken('guest-1'), userToken('stranger-1')]);
    Object.assign(actors, {
      host: { token: host },
      participant: { token: guest },
      stranger: { token: stranger },
      serviceAsHost: { headers: { 'x-api-key': SERVICE_KEY, 'x-user-id': 'host-1' } },
      serviceBearerAsParticipant: { token: SERVICE_KEY, headers: { 'x-user-id': 'guest-1' } },
      serviceWithoutUser: { headers: { 'x-api-key': SERVICE_KEY } },
      unknownKey: { headers: { 'x-api-key': 'not-a-key', 'x-user-id': 'host-1' } },
      garbageToken: { token: 'garbage' },
      expired: { token: signJwt({ sub: 'host-1', exp: now - 60 }) },
      forged: { token: signJwt({ sub: 'host-1', exp: now + 600 }, { secret: 'some-other-secret-0123456789' }) },
      algNone: { token: signJwt({ sub: 'host-1', exp: now + 600 }, { alg: 'none' }) },
      noExp: { token: signJwt({ sub: 'host-1' }, { secret: JWT_SECRET }) },
      mismatchedUser: { token: host, headers: { 'x-user-id': 'guest-1' } },
      xUserIdOnly: { headers: { 'x-user-id': 'host-1' } },
      anonymous: {},
    });
    const created = await call(base(), 'POST', '/api/video-calls', { token: host, body: { id: 'm-call', roomName: 'room-m', hostId: 'host-1', participantIds: ['guest-1'] } });
    expect(created.status).toBe(201);
    completedId = randomUUID();
    await svc.db.prisma.callRecording.create({
      data: { id: completedId, callId: 'm-call', requestedBy: 'host-1', status: 'COMPLETED', options: DEFAULT_RECORDING_OPTIONS, outputFormat: 'mp4', completedAt: new Date() },
    });
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
    await db?.drop();
  });

  const REJECTED = { unknownKey: 401, garbageToken: 401, expired: 401, forged: 401, algNone: 401, noExp: 401, mismatchedUser: 403, xUserIdOnly: 401, anonymous: 401, serviceWithoutUser: 401 };
  const READ = { host: 200, participant: 200, stranger: 404, serviceAsHost: 200, serviceBearerAsParticipant: 200, ...REJECTED };
  const CONTROL = { host: 409, participant: 403, stranger: 404, serviceAsHost: 409, serviceBearerAsParticipant: 403, ...REJECTED };

  const cases: [string, string, () => string, Record<string, number>, unknown][] = [
    ['GET', 'call', () => '/api/video-calls/m-call', READ, undefined],
    ['GET', 'recording', () => `/api/video-calls/m-call/recording/${completedId}`, READ, undefined],
    ['GET', 'recording list', () => '/api/video-calls/m-call/recordings', READ, undefined],
    // the host passes the permission check and meets "nothing to stop": 409
    ['POST', 'stop', () => '/api/video-calls/m-call/recording/stop', CONTROL, undefined],
    // an unsupported option would be 400 for the host; others are refused before that
    ['POST', 'start', () => '/api/video-calls/m-call/recording/start', { ...CONTROL, host: 400, serviceAsHost: 400 }, { fps: 7 }],
    ['POST', 'add participants', () => '/api/video-calls/m-call/participants', { ...CONTROL, host: 200, serviceAsHost: 200 }, { userIds: ['extra-user'] }],
    ['DELETE', 'remove participant', () => '/api/video-calls/m-call/participants/nobody', { ...CONTROL, host: 404, serviceAsHost: 404 }, undefined],
  ];

  test.each(cases)('%s %s: the permission matrix', async (method, _name, url, expected, body) => {
    const got: Record<string, number> = {};
    for (const [actor, creds] of Object.entries(actors)) {
      const res = await call(base(), method, url(), { ...creds, ...(body !== undefined ? { body } : {}) });
      got[actor] = res.status;
      expect(res.body.success ?? false).toBe(res.status < 300);
      if (res.status >= 400) expect(res.body.error).toEqual({ code: expect.any(String), message: expect.any(String) });
    }
    expect(got).toEqual(expected);
  });

  test('DELETE recording: participant 403, stranger 404, host 200', async () => {
    const url = `/api/video-calls/m-call/recording/${completedId}`;
    expect((await call(base(), 'DELETE', url, actors.participant)).status).toBe(403);
    expect((await call(base(), 'DELETE', url, actors.stranger)).status).toBe(404);
    expect((await call(base(), 'DELETE', url, actors.forged)).status).toBe(401);
    const ok = await call(base(), 'DELETE', url, actors.host);
    expect(ok.status).toBe(200);
    expect(ok.body.data.status).toBe('DELETED');
  });

  test('a user may only create calls they host', async () => {
    const r = await call(base(), 'POST', '/api/video-calls', { ...actors.participant, body: { roomName: 'room-x', hostId: 'host-1' } });
    expect(r.status).toBe(403);
  });

  describe('bad input changes nothing', () => {
    async function snapshot() {
      const p = svc.db.prisma;
      return {
        calls: await p.videoCall.findMany({ orderBy: { id: 'asc' } }),
        participants: await p.callParticipant.findMany({ orderBy: [{ callId: 'asc' }, { userId: 'asc' }] }),
        recordings: await p.callRecording.findMany({ orderBy: { id: 'asc' } }),
      };
    }
    const huge = { roomName: 'room-huge', hostId: 'host-1', participantIds: Array.from({ length: 9000 }, (_, i) => `user-${i}`) };
    const bad: [string, string, string, { body?: unknown; raw?: string; headers?: Record<string, string> }, number, string][] = [
      ['create: wrong type', 'POST', '/api/video-calls', { body: { roomName: 5, hostId: 'host-1' } }, 400, 'VALIDATION_ERROR'],
      ['create: unknown field', 'POST', '/api/video-calls', { body: { roomName: 'room-u', hostId: 'host-1', isAdmin: true } }, 400, 'VALIDATION_ERROR'],
      ['create: missing field', 'POST', '/api/video-calls', { body: { roomName: 'room-u' } }, 400, 'VALIDATION_ERROR'],
      ['create: bad room name', 'POST', '/api/video-calls', { body: { roomName: 'room with spaces', hostId: 'host-1' } }, 400, 'INVALID_ROOM_NAME'],
      ['create: malformed id', 'POST', '/api/video-calls', { body: { id: '../etc', roomName: 'room-v', hostId: 'host-1' } }, 400, 'VALIDATION_ERROR'],
      ['create: room taken', 'POST', '/api/video-calls', { body: { roomName: 'room-m', hostId: 'host-1' } }, 409, 'CONFLICT'],
      ['create: id taken', 'POST', '/api/video-calls', { body: { id: 'm-call', roomName: 'room-new', hostId: 'host-1' } }, 409, 'CONFLICT'],
      ['create: body > 64 KiB', 'POST', '/api/video-calls', { body: huge }, 413, 'PAYLOAD_TOO_LARGE'],
      ['create: invalid JSON', 'POST', '/api/video-calls', { raw: '{"roomName":', headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_ERROR'],
      ['create: array body', 'POST', '/api/video-calls', { body: [1, 2] }, 400, 'VALIDATION_ERROR'],
      ['create: not JSON', 'POST', '/api/video-calls', { raw: 'roomName=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['start: unknown field', 'POST', '/api/video-calls/m-call/recording/start', { body: { format: 'mp4', codec: 'h265' } }, 400, 'VALIDATION_ERROR'],
      ['start: unsupported format', 'POST', '/api/video-calls/m-call/recording/start', { body: { format: 'avi' } }, 400, 'UNSUPPORTED_OPTION'],
      ['start: unsupported layout', 'POST', '/api/video-calls/m-call/recording/start', { body: { layout: 'mosaic' } }, 400, 'UNSUPPORTED_OPTION'],
      ['start: unsupported fps', 'POST', '/api/video-calls/m-call/recording/start', { body: { fps: 60 } }, 400, 'UNSUPPORTED_OPTION'],
      ['start: width without height', 'POST', '/api/video-calls/m-call/recording/start', { body: { width: 640 } }, 400, 'UNSUPPORTED_OPTION'],
      ['start: preset and size', 'POST', '/api/video-calls/m-call/recording/start', { body: { resolution: '720p', width: 640, height: 360 } }, 400, 'UNSUPPORTED_OPTION'],
      ['start: too long', 'POST', '/api/video-calls/m-call/recording/start', { body: { maxDurationSeconds: 999999 } }, 400, 'UNSUPPORTED_OPTION'],
      ['start: layout page from an origin not allowed', 'POST', '/api/video-calls/m-call/recording/start', { body: { customLayoutUrl: 'https://evil.example.com/layout.html' } }, 400, 'LAYOUT_URL_NOT_ALLOWED'],
      ['start: layout page not http(s)', 'POST', '/api/video-calls/m-call/recording/start', { body: { customLayoutUrl: 'javascript:alert(1)' } }, 400, 'UNSUPPORTED_OPTION'],
      ['start: width as string', 'POST', '/api/video-calls/m-call/recording/start', { body: { width: '640', height: 360 } }, 400, 'VALIDATION_ERROR'],
      ['start: body > 64 KiB', 'POST', '/api/video-calls/m-call/recording/start', { raw: JSON.stringify({ layout: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } }, 413, 'PAYLOAD_TOO_LARGE'],
      ['start: bad Idempotency-Key', 'POST', '/api/video-calls/m-call/recording/start', { body: {}, headers: { 'idempotency-key': 'k'.repeat(300) } }, 400, 'VALIDATION_ERROR'],
      ['start: unknown call', 'POST', '/api/video-calls/nope/recording/start', { body: {} }, 404, 'NOT_FOUND'],
      ['start: malformed call id', 'POST', '/api/video-calls/bad%20id/recording/start', { body: {} }, 400, 'VALIDATION_ERROR'],
      ['stop: malformed recording id', 'POST', '/api/video-calls/m-call/recording/stop', { body: { recordingId: 'abc' } }, 400, 'VALIDATION_ERROR'],
      ['stop: unknown recording', 'POST', '/api/video-calls/m-call/recording/stop', { body: { recordingId: randomUUID() } }, 404, 'NOT_FOUND'],
      ['get: malformed recording id', 'GET', '/api/video-calls/m-call/recording/1%27%20OR%201=1', {}, 400, 'VALIDATION_ERROR'],
      ['get: unknown recording', 'GET', `/api/video-calls/m-call/recording/${randomUUID()}`, {}, 404, 'NOT_FOUND'],
      ['delete: unknown recording', 'DELETE', `/api/video-calls/m-call/recording/${randomUUID()}`, {}, 404, 'NOT_FOUND'],
      ['list: unknown query field', 'GET', '/api/video-calls/m-call/recordings?sort=asc', {}, 400, 'VALIDATION_ERROR'],
      ['list: bad limit', 'GET', '/api/video-calls/m-call/recordings?limit=1000', {}, 400, 'VALIDATION_ERROR'],
      ['participants: empty list', 'POST', '/api/video-calls/m-call/participants', { body: { userIds: [] } }, 400, 'VALIDATION_ERROR'],
      ['no such endpoint', 'POST', '/api/video-calls/m-call/recording/rewind', { body: {} }, 404, 'NOT_FOUND'],
    ];
    test.each(bad)('%s', async (_name, method, url, opts, status, code) => {
      const before = await snapshot();
      const res = await call(base(), method, url, { ...actors.host, ...opts, headers: { ...opts.headers } });
      // a validation refusal also says what was wrong, issue by issue
      const details = res.body.error?.details !== undefined ? { details: expect.arrayContaining([expect.objectContaining({ message: expect.any(String) })]) } : {};
      expect({ status: res.status, body: res.body }).toEqual({ status, body: { success: false, error: { code, message: expect.any(String), ...details } } });
      expect(await snapshot()).toEqual(before);
    });
  });

  test('after all that, recording still works', async () => {
    const start = await call(base(), 'POST', '/api/video-calls/m-call/recording/start', {
      ...actors.host,
      body: { width: 640, height: 360, fps: 25, customLayoutUrl: 'https://layouts.example.com/call.html' },
    });
    expect(start.status).toBe(201);
    const id = start.body.data.id;
    // the allowed layout page reaches the recorder with the options
    const row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
    expect(row.options).toMatchObject({ width: 640, height: 360, customLayoutUrl: 'https://layouts.example.com/call.html' });
    const get = async () => (await call(base(), 'GET', `/api/video-calls/m-call/recording/${id}`, actors.participant)).body.data;
    await waitFor(async () => (await get()).status === 'RECORDING', 10000, 'RECORDING');
    const race = await call(base(), 'POST', '/api/video-calls/m-call/recording/start', actors.host);
    expect(race.body.error.code).toBe('RECORDING_ALREADY_ACTIVE');
    expect((await call(base(), 'POST', '/api/video-calls/m-call/recording/stop', actors.host)).status).toBe(200);
    const done = await waitFor(async () => {
      const r = await get();
      return r.status === 'COMPLETED' ? r : null;
    }, 10000, 'COMPLETED');
    expect(done.options).toMatchObject({ width: 640, height: 360, fps: 25 });
    expect(done.fileSize).toBeGreaterThan(0);
  });
});
