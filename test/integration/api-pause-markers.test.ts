import { createService, type Service } from '../../src/app/http';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, testConfig, userToken, waitFor } from './recordings-harness';

/**
 * POST .../recording/pause, .../resume and .../markers on PostgreSQL with the ffmpeg recorder
 * double: the status and the spans on the row, what reaches the recorder, and the refusals
 * (409, 400, 403, 404), after each of which the row is as it was.
 */
describe('pause, resume and markers', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let http: Awaited<ReturnType<typeof listen>>;
  let recorder: FfmpegTestRecorder;
  let host: string, guest: string;

  beforeAll(async () => {
    db = await createTestDatabase('pause-markers');
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

  const row = (id: string) => svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
  const view = async (callId: string, id: string) => (await call(http.url, 'GET', `/api/video-calls/${callId}/recording/${id}`, { token: host })).body.data;
  const post = (callId: string, what: string, body?: unknown, token = host) => call(http.url, 'POST', `/api/video-calls/${callId}/recording/${what}`, { token, ...(body !== undefined ? { body } : {}) });
  const refused = async (res: Awaited<ReturnType<typeof call>>) => [res.status, res.body.error?.code];

  async function recording(callId: string) {
    const token = await userToken('host-1', { rooms: [`room-${callId}`] });
    expect((await call(http.url, 'POST', '/api/video-calls', { token, body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1', participantIds: ['guest-1'] } })).status).toBe(201);
    const start = await post(callId, 'start', {});
    expect(start.status).toBe(201);
    const id = start.body.data.id as string;
    await waitFor(async () => (await view(callId, id)).status === 'RECORDING', 15000, 'RECORDING');
    return id;
  }

  test('pause and resume: PAUSED with its span, recordingAt kept, pausedMs in total; the recorder told each', async () => {
    const id = await recording('pm-ok');
    const recordingAt = (await row(id)).recordingAt;
    const paused = await post('pm-ok', 'pause');
    expect(paused.status).toBe(200);
    expect(paused.body.data).toMatchObject({ id, status: 'PAUSED', recordingAt: recordingAt!.toISOString() });
    expect(paused.body.data.pausedAt).toEqual(expect.any(String));
    // a paused recording is active: the call cannot start another
    expect(await refused(await post('pm-ok', 'start', {}))).toEqual([409, 'RECORDING_ALREADY_ACTIVE']);
    await new Promise((r) => setTimeout(r, 300));
    const resumed = await post('pm-ok', 'resume', { recordingId: id });
    expect(resumed.status).toBe(200);
    expect(resumed.body.data).toMatchObject({ status: 'RECORDING', recordingAt: recordingAt!.toISOString() });
    expect(resumed.body.data.pausedMs).toBeGreaterThanOrEqual(300);
    const r = await row(id);
    expect(r.recordingAt).toEqual(recordingAt);
    expect(r.pauses).toEqual([{ pausedAt: paused.body.data.pausedAt, resumedAt: expect.any(String) }]);
    expect(recorder.pauses.filter((p) => p.id === id)).toEqual([
      { id, paused: true },
      { id, paused: false },
    ]);
    // stopped while paused: the open pause counts until the stop, not on
    expect((await post('pm-ok', 'pause')).status).toBe(200);
    const stop = await post('pm-ok', 'stop');
    expect([stop.status, stop.body.data.status]).toEqual([200, 'STOPPING']);
    const done = await waitFor(async () => {
      const v = await view('pm-ok', id);
      return v.status === 'COMPLETED' ? v : null;
    }, 20000, 'COMPLETED');
    const pausedMs = done.pausedMs;
    expect(pausedMs).toBeGreaterThan(resumed.body.data.pausedMs);
    await new Promise((r) => setTimeout(r, 200));
    expect((await view('pm-ok', id)).pausedMs).toBe(pausedMs);
  });

  test('a paused recording takes a live change, and resumes with it', async () => {
    const id = await recording('pm-change');
    expect((await post('pm-change', 'pause')).status).toBe(200);
    const changed = await call(http.url, 'PATCH', `/api/video-calls/pm-change/recording/${id}`, { token: host, body: { layout: 'speaker-light' } });
    expect(changed.status).toBe(200);
    expect(changed.body.data).toMatchObject({ status: 'PAUSED', options: { layout: 'speaker', theme: 'light' } });
    expect((await post('pm-change', 'resume')).status).toBe(200);
    expect((await row(id)).options).toMatchObject({ layout: 'speaker', theme: 'light' });
    await post('pm-change', 'stop');
  });

  test('refused pauses and resumes are 409s with stable codes (403, 404 for others); the row is unchanged', async () => {
    const id = await recording('pm-bad');
    const before = await row(id);
    expect(await refused(await post('pm-bad', 'resume'))).toEqual([409, 'RECORDING_NOT_PAUSED']);
    expect(await refused(await post('pm-bad', 'pause', {}, guest))).toEqual([403, 'FORBIDDEN']);
    expect(await refused(await post('pm-nope', 'pause'))).toEqual([404, 'NOT_FOUND']);
    expect(await refused(await post('pm-bad', 'pause', { recordingId: '00000000-0000-4000-8000-000000000000' }))).toEqual([404, 'NOT_FOUND']);
    expect(await refused(await post('pm-bad', 'pause', { paused: true }))).toEqual([400, 'VALIDATION_ERROR']);
    expect(await row(id)).toEqual(before);
    expect(recorder.pauses.filter((p) => p.id === id)).toEqual([]);

    expect((await post('pm-bad', 'pause')).status).toBe(200);
    const paused = await row(id);
    expect(await refused(await post('pm-bad', 'pause'))).toEqual([409, 'RECORDING_ALREADY_PAUSED']);
    expect(await row(id)).toEqual(paused);

    expect((await post('pm-bad', 'stop')).status).toBe(200);
    await waitFor(async () => (await view('pm-bad', id)).status === 'COMPLETED', 20000, 'COMPLETED');
    const stopped = await row(id);
    expect(await refused(await post('pm-bad', 'pause', { recordingId: id }))).toEqual([409, 'RECORDING_NOT_LIVE']);
    expect(await refused(await post('pm-bad', 'resume', { recordingId: id }))).toEqual([409, 'RECORDING_NOT_PAUSED']);
    expect(await refused(await post('pm-bad', 'pause'))).toEqual([409, 'RECORDING_NOT_LIVE']);
    expect(await row(id)).toEqual(stopped);
  });

  test("markers: on the file's clock (pauses cut out, one inside a pause at its seam); refusals change nothing", async () => {
    const id = await recording('pm-mark');
    const recordingAt = (await row(id)).recordingAt!.getTime();
    const at = (ms: number) => new Date(recordingAt + ms).toISOString();
    await new Promise((r) => setTimeout(r, 400));
    const first = await post('pm-mark', 'markers', { label: 'intro', at: at(200) });
    expect(first.status).toBe(201);
    expect(first.body.data).toEqual({ recordingId: id, label: 'intro', at: at(200), offsetMs: 200 });
    const paused = await post('pm-mark', 'pause');
    const pausedAt = Date.parse(paused.body.data.pausedAt);
    await new Promise((r) => setTimeout(r, 300));
    // inside the pause: at the seam
    const inPause = await post('pm-mark', 'markers', { label: 'while paused' });
    expect([inPause.status, inPause.body.data.offsetMs]).toEqual([201, pausedAt - recordingAt]);
    const resumed = await post('pm-mark', 'resume');
    const pausedMs = resumed.body.data.pausedMs as number;
    const now = await post('pm-mark', 'markers', { label: 'Q&A' });
    expect(now.body.data.offsetMs).toBeCloseTo(Date.parse(now.body.data.at) - recordingAt - pausedMs, -1);
    expect(now.body.data.offsetMs).toBeGreaterThan(inPause.body.data.offsetMs);

    const before = await row(id);
    const cases: [unknown, number, string][] = [
      [{}, 400, 'VALIDATION_ERROR'],
      [{ label: '' }, 400, 'VALIDATION_ERROR'],
      [{ label: 'x'.repeat(201) }, 400, 'VALIDATION_ERROR'],
      [{ label: 'x', at: 'yesterday' }, 400, 'VALIDATION_ERROR'],
      [{ label: 'x', color: 'red' }, 400, 'VALIDATION_ERROR'],
      [{ label: 'x', at: at(-1000) }, 400, 'MARKER_OUT_OF_RANGE'],
      [{ label: 'x', at: new Date(Date.now() + 60_000).toISOString() }, 400, 'MARKER_OUT_OF_RANGE'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post('pm-mark', 'markers', body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status, code });
    }
    expect(await refused(await post('pm-mark', 'markers', { label: 'x' }, guest))).toEqual([403, 'FORBIDDEN']);
    expect(await refused(await post('pm-nope', 'markers', { label: 'x' }))).toEqual([404, 'NOT_FOUND']);
    expect(await row(id)).toEqual(before);
    expect((await view('pm-mark', id)).markers.map((m: { label: string; offsetMs: number }) => [m.label, m.offsetMs])).toEqual([
      ['intro', 200],
      ['while paused', pausedAt - recordingAt],
      ['Q&A', now.body.data.offsetMs],
    ]);

    expect((await post('pm-mark', 'stop')).status).toBe(200);
    const stopped = await row(id);
    expect(await refused(await post('pm-mark', 'markers', { label: 'late', recordingId: id }))).toEqual([409, 'RECORDING_NOT_LIVE']);
    expect((await row(id)).markers).toEqual(stopped.markers);
    await waitFor(async () => (await view('pm-mark', id)).status === 'COMPLETED', 20000, 'COMPLETED');
  });
});
