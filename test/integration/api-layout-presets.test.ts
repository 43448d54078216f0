import { createService, type Service } from '../../src/app/http';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, SERVICE_KEY, signJwt, testConfig, userToken, waitFor } from './recordings-harness';

/**
 * /api/layout-presets on PostgreSQL, and `preset` in a start and a live change (with the
 * ffmpeg recorder double): who may read and write, every refusal a 4xx with a stable code
 * and the store unchanged, a preset's settings as the defaults of a request's.
 */
describe('layout presets', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let http: Awaited<ReturnType<typeof listen>>;
  let recorder: FfmpegTestRecorder;
  let host: string, admin: string, user: string;
  const service = { 'x-api-key': SERVICE_KEY };

  beforeAll(async () => {
    db = await createTestDatabase('layout-presets');
    recorder = new FfmpegTestRecorder();
    svc = await createService(testConfig({ DATABASE_URL: db.url, RECORDER_MAX_CONCURRENT: '4', RECORDER_ASSET_ORIGINS: 'https://assets.example' }), { recorder, presence: false });
    await svc.start();
    http = await listen(svc.app);
    const now = Math.floor(Date.now() / 1000);
    admin = signJwt({ sub: 'ops-1', role: 'admin', exp: now + 600 });
    [host, user] = await Promise.all([userToken('host-1'), userToken('user-1')]);
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
    await db?.drop();
  });

  const api = (method: string, path: string, opts: { token?: string; headers?: Record<string, string>; body?: unknown } = {}) => call(http.url, method, path, opts);
  const rows = () => svc.db.prisma.layoutPreset.findMany({ orderBy: { name: 'asc' } });

  test('a service key and an admin create, replace and delete; any caller reads', async () => {
    const created = await api('POST', '/api/layout-presets', { headers: service, body: { name: 'talk', layout: 'speaker-light', resolution: '720p-portrait', fps: 25 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ success: true, message: 'preset created' });
    expect(created.body.data).toEqual({
      name: 'talk', layout: 'speaker', theme: 'light', width: 720, height: 1280, fps: 25, createdBy: null,
      createdAt: expect.any(String), updatedAt: expect.any(String),
    });
    const byAdmin = await api('POST', '/api/layout-presets', { token: admin, body: { name: 'clock', overlays: { clock: { position: 'top-right' } }, theme: 'dark' } });
    expect([byAdmin.status, byAdmin.body.data.createdBy, byAdmin.body.data.overlays]).toEqual([201, 'ops-1', { clock: { position: 'top-right', timeZone: 'UTC' } }]);
    const logo = await api('PUT', '/api/layout-presets/logo', { headers: service, body: { overlays: { imageWatermark: { url: 'https://assets.example/logo.png' } } } });
    expect([logo.status, logo.body.data.overlays.imageWatermark.url]).toEqual([201, 'https://assets.example/logo.png']);
    expect((await api('DELETE', '/api/layout-presets/logo', { headers: service })).status).toBe(200);

    const list = await api('GET', '/api/layout-presets', { token: user });
    expect([list.status, list.body.data.map((p: { name: string }) => p.name)]).toEqual([200, ['clock', 'talk']]);
    expect((await api('GET', '/api/layout-presets/talk', { token: user })).body.data).toEqual(created.body.data);
    expect((await api('GET', '/api/layout-presets/talk', { headers: service })).status).toBe(200);

    // PUT replaces the whole set (no fps any more), keeps who created it; PUT of a new name creates
    const replaced = await api('PUT', '/api/layout-presets/talk', { token: admin, body: { layout: 'presentation', width: 1080, height: 1920 } });
    expect([replaced.status, replaced.body.message]).toEqual([200, 'preset replaced']);
    expect(replaced.body.data).toMatchObject({ name: 'talk', layout: 'presentation', width: 1080, height: 1920, createdBy: null, createdAt: created.body.data.createdAt });
    expect(replaced.body.data).not.toHaveProperty('fps');
    expect(replaced.body.data).not.toHaveProperty('theme');
    const put = await api('PUT', '/api/layout-presets/fresh', { headers: { ...service, 'x-user-id': 'ops-2' }, body: { layout: 'grid' } });
    expect([put.status, put.body.message, put.body.data.createdBy]).toEqual([201, 'preset created', 'ops-2']);

    const gone = await api('DELETE', '/api/layout-presets/fresh', { token: admin });
    expect([gone.status, gone.body.data.name]).toEqual([200, 'fresh']);
    expect((await api('GET', '/api/layout-presets/fresh', { token: user })).body.error.code).toBe('PRESET_NOT_FOUND');
    expect((await rows()).map((r) => r.name)).toEqual(['clock', 'talk']);
  });

  test('every refusal is a 4xx with a stable code, and the store is unchanged', async () => {
    await api('PUT', '/api/layout-presets/keep', { headers: service, body: { layout: 'grid', theme: 'light' } });
    const before = await rows();
    const cases: [string, string, { token?: string; headers?: Record<string, string>; body?: unknown }, number, string][] = [
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'keep', layout: 'speaker' } }, 409, 'PRESET_EXISTS'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'Bad Name', layout: 'grid' } }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'x'.repeat(65), layout: 'grid' } }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/layout-presets', { headers: service, body: { layout: 'grid' } }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', layout: 'grid', participants: { include: ['a'] } } }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', layout: 'mosaic' } }, 400, 'UNSUPPORTED_OPTION'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', layout: 'speaker-light', theme: 'dark' } }, 400, 'UNSUPPORTED_OPTION'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', width: 1921, height: 720 } }, 400, 'UNSUPPORTED_OPTION'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', width: 1920, height: 1920 } }, 400, 'UNSUPPORTED_OPTION'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', fps: 60 } }, 400, 'UNSUPPORTED_OPTION'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1' } }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', overlays: { sparkles: true } } }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', overlays: { imageWatermark: { url: 'https://evil.example/logo.png' } } } }, 400, 'ASSET_URL_NOT_ALLOWED'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', overlays: { background: { imageUrl: 'https://cdn.example/bg.png' } } } }, 400, 'ASSET_URL_NOT_ALLOWED'],
      ['POST', '/api/layout-presets', { token: user, body: { name: 'n1', layout: 'grid' } }, 403, 'FORBIDDEN'],
      ['POST', '/api/layout-presets', { body: { name: 'n1', layout: 'grid' } }, 401, 'UNAUTHORIZED'],
      ['PUT', '/api/layout-presets/keep', { token: user, body: { layout: 'speaker' } }, 403, 'FORBIDDEN'],
      ['PUT', '/api/layout-presets/keep', { headers: service, body: { name: 'keep', layout: 'speaker' } }, 400, 'VALIDATION_ERROR'],
      ['PUT', '/api/layout-presets/keep', { headers: service, body: { layout: 'speaker', fps: 29 } }, 400, 'UNSUPPORTED_OPTION'],
      ['PUT', '/api/layout-presets/keep', { headers: service, body: {} }, 400, 'VALIDATION_ERROR'],
      ['PUT', '/api/layout-presets/KEEP', { headers: service, body: { layout: 'speaker' } }, 400, 'VALIDATION_ERROR'],
      ['PUT', '/api/layout-presets/keep', { body: { layout: 'speaker' } }, 401, 'UNAUTHORIZED'],
      ['DELETE', '/api/layout-presets/keep', { token: user }, 403, 'FORBIDDEN'],
      ['DELETE', '/api/layout-presets/keep', {}, 401, 'UNAUTHORIZED'],
      ['DELETE', '/api/layout-presets/nothing-here', { headers: service }, 404, 'PRESET_NOT_FOUND'],
      ['DELETE', '/api/layout-presets/a.b', { headers: service }, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/layout-presets/nothing-here', { token: user }, 404, 'PRESET_NOT_FOUND'],
      ['GET', '/api/layout-presets', {}, 401, 'UNAUTHORIZED'],
      ['GET', '/api/layout-presets/keep', { token: signJwt({ sub: 'ops-1', role: 'admin', exp: Math.floor(Date.now() / 1000) + 60 }, { secret: 'another-secret-0123456789' }) }, 401, 'UNAUTHORIZED'],
    ];
    for (const [method, path, opts, status, code] of cases) {
      const res = await api(method, path, opts);
      expect({ method, path, body: opts.body, status: res.status, code: res.body.error?.code }).toEqual({ method, path, body: opts.body, status, code });
      expect(res.body.success).toBe(false);
    }
    expect(await rows()).toEqual(before);
  });

  async function callFor(callId: string) {
    const token = await userToken('host-1', { rooms: [`room-${callId}`] });
    expect((await api('POST', '/api/video-calls', { token, body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1', participantIds: ['user-1'] } })).status).toBe(201);
  }
  async function started(callId: string, body: Record<string, unknown>) {
    const start = await api('POST', `/api/video-calls/${callId}/recording/start`, { token: host, body });
    expect(start.status).toBe(201);
    const id = start.body.data.id as string;
    await waitFor(async () => (await api('GET', `/api/video-calls/${callId}/recording/${id}`, { token: host })).body.data.status === 'RECORDING', 15000, 'RECORDING');
    return id;
  }
  const stored = async (id: string) => (await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).options;

  test('a start takes the preset\'s settings as defaults; its own fields win; the row names the preset', async () => {
    await api('PUT', '/api/layout-presets/portrait', { headers: service, body: { layout: 'speaker-light', resolution: '720p-portrait', fps: 25 } });
    await callFor('pr-start');
    const id = await started('pr-start', { preset: 'portrait', layout: 'grid' });
    const want = { layout: 'grid', theme: 'light', width: 720, height: 1280, fps: 25, preset: 'portrait' };
    expect(await stored(id)).toMatchObject(want);
    expect(recorder.started.find((r) => r.id === id)!.options).toMatchObject(want);
    expect((await api('GET', `/api/video-calls/pr-start/recording/${id}`, { token: host })).body.data.options).toMatchObject(want);
    await api('POST', '/api/video-calls/pr-start/recording/stop', { token: host });

    // a preset changed or deleted later leaves the recording as it was started
    await api('DELETE', '/api/layout-presets/portrait', { headers: service });
    expect(await stored(id)).toMatchObject(want);
  });

  test('a start naming an unknown or malformed preset starts nothing', async () => {
    await callFor('pr-bad');
    const unknown = await api('POST', '/api/video-calls/pr-bad/recording/start', { token: host, body: { preset: 'no-such-preset' } });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'PRESET_NOT_FOUND']);
    const bad = await api('POST', '/api/video-calls/pr-bad/recording/start', { token: host, body: { preset: 'Not A Name' } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    // the preset's settings and the request's own are checked together, as one start
    await api('PUT', '/api/layout-presets/tall', { headers: service, body: { width: 1080, height: 1920 } });
    const clash = await api('POST', '/api/video-calls/pr-bad/recording/start', { token: host, body: { preset: 'tall', width: 1920 } });
    expect([clash.status, clash.body.error.code]).toEqual([400, 'UNSUPPORTED_OPTION']);
    expect(await svc.db.prisma.callRecording.count({ where: { callId: 'pr-bad' } })).toBe(0);
  });

  test('a live change takes the preset\'s layout and theme; one of another size is refused and changes nothing', async () => {
    await api('PUT', '/api/layout-presets/stage-light', { headers: service, body: { layout: 'presentation', theme: 'light', resolution: '720p', overlays: { nameLabels: true } } });
    await api('PUT', '/api/layout-presets/tall-speaker', { headers: service, body: { layout: 'speaker', width: 720, height: 1280 } });
    await callFor('pr-live');
    const id = await started('pr-live', { layout: 'grid' });
    const path = `/api/video-calls/pr-live/recording/${id}`;

    const changed = await api('PATCH', path, { token: host, body: { preset: 'stage-light' } });
    expect(changed.status).toBe(200);
    expect(changed.body.data.options).toMatchObject({ layout: 'presentation', theme: 'light', width: 1280, height: 720, overlays: { nameLabels: true }, preset: 'stage-light' });
    expect(recorder.updates.filter((u) => u.id === id).map((u) => [u.options.layout, u.options.theme])).toEqual([['presentation', 'light']]);
    const own = await api('PATCH', path, { token: host, body: { preset: 'stage-light', layout: 'speaker-dark', overlays: {} } });
    expect(own.body.data.options).toMatchObject({ layout: 'speaker', theme: 'dark', overlays: {}, preset: 'stage-light' });

    const before = await stored(id);
    const refusals: [unknown, number, string][] = [
      [{ preset: 'tall-speaker' }, 400, 'PRESET_CANVAS_MISMATCH'],
      [{ preset: 'no-such-preset' }, 404, 'PRESET_NOT_FOUND'],
      [{ preset: 'BAD' }, 400, 'VALIDATION_ERROR'],
      [{ preset: 'stage-light', width: 720 }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [body, status, code] of refusals) {
      const res = await api('PATCH', path, { token: host, body });
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status, code });
    }
    const guest = await api('PATCH', path, { token: user, body: { preset: 'stage-light' } });
    expect([guest.status, guest.body.error.code]).toEqual([403, 'FORBIDDEN']);
    expect(await stored(id)).toEqual(before);
    expect(recorder.updates.filter((u) => u.id === id)).toHaveLength(2);
    await api('POST', '/api/video-calls/pr-live/recording/stop', { token: host });
  });
});
