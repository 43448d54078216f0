import { createService, type Service } from '../../src/app/http';
import { createPostprocessing, type Postprocessing } from '../../src/postprocess/service-adapter';
import type { Actor } from '../../src/recordings/permissions';
import { recordingPrefix } from '../../src/storage/keys';
import { createTestDatabase } from '../helpers/services/postgres';
import { FfmpegTestRecorder, testConfig, waitFor } from './recordings-harness';

/**
 * Retention shorter than a day (RECORDING_RETENTION=1h): the service's maintenance deletes
 * a recording that finished more than an hour ago, through the domain (stored objects
 * removed, status DELETED), and keeps one that finished less than an hour ago.
 */
jest.setTimeout(60_000);

// the call app's token for the host names its rooms (any room here)
const host: Actor = { kind: 'user', userId: 'host-1', rooms: ['*'] };
const MIN = 60_000;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: Service;
let pp: Postprocessing;

beforeAll(async () => {
  db = await createTestDatabase('retention');
  const config = testConfig({ DATABASE_URL: db.url, RECORDING_RETENTION: '1h' });
  pp = createPostprocessing(config);
  svc = await createService(config, {
    recorder: new FfmpegTestRecorder(),
    postprocess: pp.postprocess,
    storage: pp.recordingStorage,
    presence: false,
    tuning: { postprocess: { pollMs: 100 } },
  });
  await svc.start();
});
afterAll(async () => {
  await svc?.close();
  await pp?.close();
  await db?.drop();
});

const row = (id: string) => svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });

async function recordOne(callId: string): Promise<{ id: string; callId: string }> {
  await svc.recordings.createCall(host, { id: callId, roomName: `room-${callId}`, hostId: 'host-1' });
  const { id } = (await svc.recordings.startRecording(host, callId, {})).recording;
  await waitFor(async () => (await row(id)).status === 'RECORDING', 15_000, 'RECORDING');
  await new Promise((r) => setTimeout(r, 600));
  await svc.recordings.stopRecording(host, callId);
  await waitFor(async () => (await row(id)).status === 'COMPLETED', 30_000, 'COMPLETED');
  return { id, callId };
}

test('a recording finished 61 minutes ago is deleted with its objects; one finished 59 minutes ago stays', async () => {
  const [old, fresh] = [await recordOne('ret-old'), await recordOne('ret-fresh')];
  const now = Date.now();
  await svc.db.prisma.callRecording.update({ where: { id: old.id }, data: { completedAt: new Date(now - 61 * MIN) } });
  await svc.db.prisma.callRecording.update({ where: { id: fresh.id }, data: { completedAt: new Date(now - 59 * MIN) } });
  const prefixOf = (r: { id: string; callId: string }) => recordingPrefix('', r.callId, r.id);
  expect((await pp.storage.list(prefixOf(old))).length).toBeGreaterThan(0);

  const report = await svc.maintenance.runOnce(new Date(now));
  expect(report.retention).toEqual({ deleted: [old.id], failed: [] });
  expect(await row(old.id)).toMatchObject({ status: 'DELETED', deletedAt: expect.any(Date) });
  expect(await pp.storage.list(prefixOf(old))).toEqual([]);
  expect((await row(fresh.id)).status).toBe('COMPLETED');
  expect((await pp.storage.list(prefixOf(fresh))).map((o) => o.key)).toContain((await row(fresh.id)).storageKey);
});
