import { randomUUID } from 'node:crypto';
import { createService, type Service } from '../../src/app/http';
import { createPostprocessing, type Postprocessing } from '../../src/postprocess/service-adapter';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, SERVICE_KEY, testConfig, waitFor } from './recordings-harness';

/**
 * The call view's recordingUrl is signed when the view is read, like the recording view's
 * url: read after the URL stored at completion has expired, it still works. Local storage,
 * signed URLs valid 2 s; with and without the Redis view cache.
 */
jest.setTimeout(60_000);

const LIFETIME_S = 2;

describe.each([
  ['no view cache', false],
  ['Redis view cache', true],
])('call view recordingUrl (%s)', (_name, withRedis) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let pp: Postprocessing;
  let http: Awaited<ReturnType<typeof listen>>;
  const asHost = { headers: { 'x-api-key': SERVICE_KEY, 'x-user-id': 'host-1' } };
  const asGuest = { headers: { 'x-api-key': SERVICE_KEY, 'x-user-id': 'guest-1' } };

  beforeAll(async () => {
    db = await createTestDatabase('callurl');
    const config = testConfig({
      DATABASE_URL: db.url,
      RECORDING_SIGNED_URL_SECONDS: String(LIFETIME_S),
      ...(withRedis ? { REDIS_URL: process.env.TEST_REDIS_URL! } : {}),
    });
    pp = createPostprocessing(config);
    svc = await createService(config, {
      recorder: new FfmpegTestRecorder(),
      postprocess: pp.postprocess,
      storage: pp.recordingStorage,
      signedFiles: pp.signedFiles!,
      presence: false,
      tuning: { postprocess: { pollMs: 100 }, viewCacheTtlMs: 60_000, pool: { prefix: `callurl-${randomUUID().slice(0, 6)}`, pollMs: 50 }, recoveryIntervalMs: 0 },
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

  test('read after the stored URL expired, the call view gives a URL that works', async () => {
    const callId = `url-${withRedis ? 'redis' : 'db'}`;
    expect((await call(http.url, 'POST', '/api/video-calls', { ...asHost, body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1', participantIds: ['guest-1'] } })).status).toBe(201);
    const start = await call(http.url, 'POST', `/api/video-calls/${callId}/recording/start`, { ...asHost, body: { format: 'mp4' } });
    expect(start.status).toBe(201);
    const id = start.body.data.id as string;
    const row = () => svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
    await waitFor(async () => (await row()).status === 'RECORDING', 15_000, 'RECORDING');
    await new Promise((r) => setTimeout(r, 800));
    expect((await call(http.url, 'POST', `/api/video-calls/${callId}/recording/stop`, asHost)).status).toBe(200);
    const done = await waitFor(async () => {
      const r = await row();
      return r.status === 'COMPLETED' ? r : null;
    }, 30_000, 'COMPLETED');
    const stored = (await svc.db.prisma.videoCall.findUniqueOrThrow({ where: { id: callId } })).recordingUrl!;
    expect(stored).toMatch(/^\/files\//);
    // the first read may be cached; then the stored URL expires
    const first = (await call(http.url, 'GET', `/api/video-calls/${callId}`, asGuest)).body.data;
    expect(first).toMatchObject({ isRecorded: true, recordingStatus: 'COMPLETED' });
    await new Promise((r) => setTimeout(r, (LIFETIME_S + 1.5) * 1000));
    expect((await fetch(http.url + stored)).status).toBe(404);

    const view = (await call(http.url, 'GET', `/api/video-calls/${callId}`, asGuest)).body.data as { recordingUrl: string };
    const res = await fetch(http.url + view.recordingUrl);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).length).toBe(Number(done.fileSize));
    // the same recording's view agrees on the object
    const rec = (await call(http.url, 'GET', `/api/video-calls/${callId}/recording/${id}`, asGuest)).body.data as { url: string };
    expect(new URL(rec.url, http.url).pathname).toBe(new URL(view.recordingUrl, http.url).pathname);
    // and the call as the participants list answers it (host's writes return the view too)
    const added = await call(http.url, 'POST', `/api/video-calls/${callId}/participants`, { ...asHost, body: { userIds: ['late-1'] } });
    expect((await fetch(http.url + added.body.data.recordingUrl)).status).toBe(200);
  });
});
