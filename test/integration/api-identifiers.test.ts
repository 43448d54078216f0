import { createService, type Service } from '../../src/app/http';
import { createPostprocessing, type Postprocessing } from '../../src/postprocess/service-adapter';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, SERVICE_KEY, testConfig, waitFor } from './recordings-harness';

/**
 * One rule per identifier, checked when the call is created: an id or room name the API
 * accepts is one the storage and the recorder accept too, so a recording never fails late
 * (after it was recorded) for its name.
 */
jest.setTimeout(60_000);

describe('API: identifiers are checked once, at create time', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let pp: Postprocessing;
  let http: Awaited<ReturnType<typeof listen>>;
  const asHost = { headers: { 'x-api-key': SERVICE_KEY, 'x-user-id': 'host-1' } };
  const create = (body: Record<string, unknown>) => call(http.url, 'POST', '/api/video-calls', { ...asHost, body: { hostId: 'host-1', ...body } });

  beforeAll(async () => {
    db = await createTestDatabase('ids');
    const config = testConfig({ DATABASE_URL: db.url });
    pp = createPostprocessing(config);
    svc = await createService(config, {
      recorder: new FfmpegTestRecorder(),
      postprocess: pp.postprocess,
      storage: pp.recordingStorage,
      signedFiles: pp.signedFiles!,
      presence: false,
      tuning: { postprocess: { pollMs: 100 } },
    });
    await svc.start();
    http = await listen(svc.app);
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
    await pp?.close();
    await db?.drop();
  });

  test.each([
    ['a call id starting with _', { id: '_x', roomName: 'room-a' }, 'VALIDATION_ERROR'],
    ['a call id starting with -', { id: '-x', roomName: 'room-b' }, 'VALIDATION_ERROR'],
    ['a call id with a dot', { id: 'a.b', roomName: 'room-c' }, 'VALIDATION_ERROR'],
    ['a room name starting with _', { id: 'ok-1', roomName: '_standup' }, 'INVALID_ROOM_NAME'],
    ['a room name starting with -', { id: 'ok-2', roomName: '-standup' }, 'INVALID_ROOM_NAME'],
    ['a room name starting with .', { id: 'ok-3', roomName: '.standup' }, 'INVALID_ROOM_NAME'],
  ])('%s: 400 at create, nothing stored', async (_name, body, code) => {
    const res = await create(body);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code });
    expect(await svc.db.prisma.videoCall.count()).toBe(0);
  });

  test.each([['/api/video-calls/_x'], ['/api/video-calls/-x/recordings']])('GET %s: 400, the same rule on every path', async (path) => {
    const res = await call(http.url, 'GET', path, asHost);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
  });

  test('an accepted id and room name at the edge of the rules record to COMPLETED with a stored file', async () => {
    const id = `9_-${'x'.repeat(61)}`;
    const roomName = 'r+standup:=@team_a.b-c';
    expect((await create({ id, roomName })).status).toBe(201);
    const start = await call(http.url, 'POST', `/api/video-calls/${id}/recording/start`, { ...asHost, body: { format: 'mp4' } });
    expect(start.status).toBe(201);
    const recId = start.body.data.id as string;
    const row = () => svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recId } });
    await waitFor(async () => (await row()).status === 'RECORDING', 15_000, 'RECORDING');
    await new Promise((r) => setTimeout(r, 800));
    expect((await call(http.url, 'POST', `/api/video-calls/${id}/recording/stop`, asHost)).status).toBe(200);
    const done = await waitFor(async () => {
      const r = await row();
      if (r.status === 'FAILED') throw new Error(`FAILED: ${r.errorCode} ${r.errorMessage}`);
      return r.status === 'COMPLETED' ? r : null;
    }, 30_000, 'COMPLETED');
    expect(done.storageKey).toBe(`${id}/${recId}/recording.mp4`);
    expect((await pp.storage.head(done.storageKey!))?.size).toBeGreaterThan(0);
  });
});
