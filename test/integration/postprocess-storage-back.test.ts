import { createService } from '../../src/app/http';
import { createPostprocessing } from '../../src/postprocess/service-adapter';
import { createTestDatabase } from '../helpers/services/postgres';
import * as s3 from '../helpers/services/s3';
import { FfmpegTestRecorder, testConfig, waitFor } from './recordings-harness';

/**
 * Storage down at upload, with the default retry numbers: while it is down the job says so
 * (lastError) and is not hammered; once it is back the upload is retried within seconds,
 * not at the next backoff step. Real S3 (moto, an instance of this file's own), real
 * post-processing, the ffmpeg recorder double.
 */
jest.setTimeout(90_000);

const host = { kind: 'user' as const, userId: 'host-1', rooms: ['*'] };

test('storage back: the waiting upload is retried within seconds, and while storage is down it is not retried again', async () => {
  const db = await createTestDatabase('ppback');
  let moto = await s3.start();
  const config = testConfig({
    DATABASE_URL: db.url,
    RECORDING_STORAGE_PROVIDER: 'aws',
    RECORDING_STORAGE_BUCKET: process.env.TEST_S3_BUCKET!,
    RECORDING_STORAGE_ENDPOINT: moto.endpoint,
    RECORDING_STORAGE_CREDENTIALS: process.env.TEST_S3_CREDENTIALS!,
    RECORDING_STORAGE_PREFIX: `back-${Date.now()}`,
    POSTPROCESS_STORAGE_PROBE_SECONDS: '0.5',
  });
  const pp = createPostprocessing(config, undefined, { storage: { s3: { maxAttempts: 1, connectTimeoutMs: 1000 } } });
  const svc = await createService(config, { recorder: new FfmpegTestRecorder(), postprocess: pp.postprocess, storage: pp.recordingStorage, presence: false });
  try {
    await svc.start();
    const row = (id: string) => svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
    await moto.stop();
    await svc.recordings.createCall(host, { id: 'back-1', roomName: 'room-back-1', hostId: 'host-1' });
    const { recording } = await svc.recordings.startRecording(host, 'back-1', { format: 'mp4' });
    await waitFor(async () => (await row(recording.id)).status === 'RECORDING', 15_000, 'RECORDING');
    await new Promise((r) => setTimeout(r, 800));
    const stoppedAt = Date.now();
    await svc.recordings.stopRecording(host, 'back-1');
    // the true status, soon: still to be uploaded, and why not yet
    const waiting = await waitFor(async () => {
      const r = await row(recording.id);
      return r.lastError ? r : null;
    }, 30_000, 'a failed attempt');
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    expect(waiting.status).toMatch(/^(PROCESSING|UPLOADING)$/);
    expect(waiting.lastError).toMatch(/^STORAGE_UNAVAILABLE/);
    // down for a while: health checks only, no new attempt
    await new Promise((r) => setTimeout(r, 4000));
    expect((await row(recording.id)).attempts).toBe(1);

    moto = await s3.start({ port: moto.port });
    const backAt = Date.now();
    const done = await waitFor(async () => {
      const r = await row(recording.id);
      return r.status === 'COMPLETED' || r.status === 'FAILED' ? r : null;
    }, 20_000, 'final status');
    expect(done.status).toBe('COMPLETED');
    expect(Date.now() - backAt).toBeLessThan(8000);
    expect(done.attempts).toBe(2);
    expect((await pp.storage.head(done.storageKey!))!.size).toBe(Number(done.fileSize));
  } finally {
    await svc.close();
    await pp.close();
    await moto.stop();
    await db.drop();
  }
});
