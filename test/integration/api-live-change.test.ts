import { createService, type Service } from '../../src/app/http';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, testConfig, userToken, waitFor } from './recordings-harness';

/** PATCH .../recording/:recordingId on PostgreSQL, with the ffmpeg recorder double: what is refused changes nothing. */
describe('live changes of a recording', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let http: Awaited<ReturnType<typeof listen>>;
  let recorder: FfmpegTestRecorder;
  let host: string, guest: string;

  beforeAll(async () => {
    db = await createTestDatabase('live-change');
    recorder = new FfmpegTestRecorder();
    svc = await createService(testConfig({ DATABASE_URL: db.url, RECORDER_MAX_CONCURRENT: '4' }), { recorder, presence: false });
    await svc.start();
    http = await listen(svc.app);
    [host, guest] = await Promise.all([userToken('host-1'), userToken('guest-1')]);
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
    await db?.drop();
  });

  const row = async (id: string) => (await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).options;

  async function recording(callId: string, body: Record<string, unknown> = {}) {
    const token = await userToken('host-1', { rooms: [`room-${callId}`] });
    expect((await call(http.url, 'POST', '/api/video-calls', { token, body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1', participantIds: ['guest-1'] } })).status).toBe(201);
    const start = await call(http.url, 'POST', `/api/video-calls/${callId}/recording/start`, { token: host, body });
    expect(start.status).toBe(201);
    const id = start.body.data.id as string;
    await waitFor(async () => (await call(http.url, 'GET', `/api/video-calls/${callId}/recording/${id}`, { token: host })).body.data.status === 'RECORDING', 15000, 'RECORDING');
    return id;
  }

  test('the host changes layout, theme and participants; the view, the row and the recorder have them', async () => {
    const id = await recording('lc-ok');
    const path = `/api/video-calls/lc-ok/recording/${id}`;
    const res = await call(http.url, 'PATCH', path, { token: host, body: { layout: 'speaker' } });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id, status: 'RECORDING', options: { layout: 'speaker', theme: 'dark' } });
    const light = await call(http.url, 'PATCH', path, { token: host, body: { theme: 'light', participants: { exclude: ['alice'] } } });
    expect(light.body.data.options).toMatchObject({ layout: 'speaker', theme: 'light', participants: { exclude: ['alice'] } });
    expect(await row(id)).toMatchObject({ layout: 'speaker', theme: 'light', participants: { exclude: ['alice'] } });
    expect(recorder.updates.filter((u) => u.id === id).map((u) => u.options.layout)).toEqual(['speaker', 'speaker']);
    expect((await call(http.url, 'GET', path, { token: guest })).body.data.options.participants).toEqual({ exclude: ['alice'] });
    await call(http.url, 'POST', '/api/video-calls/lc-ok/recording/stop', { token: host });
  });

  test('bad input is a 4xx with a stable code, and the row is unchanged', async () => {
    const id = await recording('lc-bad', { layout: 'grid', participants: { include: ['alice', 'bob'] } });
    const path = `/api/video-calls/lc-bad/recording/${id}`;
    const before = await row(id);
    expect(before).toMatchObject({ layout: 'grid', participants: { include: ['alice', 'bob'] } });
    const cases: [unknown, number, string][] = [
      [{}, 400, 'CHANGE_EMPTY'],
      [{ layout: 'speaker', width: 640 }, 400, 'VALIDATION_ERROR'],
      [{ participants: { include: ['a'], exclude: ['b'] } }, 400, 'PARTICIPANTS_FILTER_INVALID'],
      [{ participants: {} }, 400, 'PARTICIPANTS_FILTER_INVALID'],
      [{ participants: { include: ['not an identity!'] } }, 400, 'VALIDATION_ERROR'],
      [{ layout: 'mosaic' }, 400, 'UNSUPPORTED_OPTION'],
      [{ layout: 'speaker-light', theme: 'dark' }, 400, 'UNSUPPORTED_OPTION'],
      // a streams change that adds and removes nothing is refused, not a silent no-op
      [{ streams: {} }, 400, 'VALIDATION_ERROR'],
      [{ streams: { add: [], remove: [] } }, 400, 'VALIDATION_ERROR'],
      [{ layout: 'speaker', streams: {} }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [body, status, code] of cases) {
      const res = await call(http.url, 'PATCH', path, { token: host, body });
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status, code });
    }
    const notHost = await call(http.url, 'PATCH', path, { token: guest, body: { layout: 'speaker' } });
    expect([notHost.status, notHost.body.error.code]).toEqual([403, 'FORBIDDEN']);
    expect(await row(id)).toEqual(before);
    expect(recorder.updates.filter((u) => u.id === id)).toEqual([]);

    await call(http.url, 'POST', '/api/video-calls/lc-bad/recording/stop', { token: host });
    const stopped = await call(http.url, 'PATCH', path, { token: host, body: { layout: 'speaker' } });
    expect([stopped.status, stopped.body.error.code]).toEqual([409, 'RECORDING_NOT_LIVE']);
    expect(await row(id)).toEqual(before);
  });

  test('the start request takes participants too, with the same rule', async () => {
    const token = await userToken('host-1', { rooms: ['room-lc-start'] });
    await call(http.url, 'POST', '/api/video-calls', { token, body: { id: 'lc-start', roomName: 'room-lc-start', hostId: 'host-1' } });
    const both = await call(http.url, 'POST', '/api/video-calls/lc-start/recording/start', { token: host, body: { participants: { include: ['a'], exclude: ['b'] } } });
    expect([both.status, both.body.error.code]).toEqual([400, 'PARTICIPANTS_FILTER_INVALID']);
  });
});
