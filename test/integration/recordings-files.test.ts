import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import path from 'node:path';
import { createService, type Service } from '../../src/app/http';
import { createPostprocessing, type Postprocessing } from '../../src/postprocess/service-adapter';
import { SpoolFile, spoolPathOf } from '../../src/recorder/spool';
import type { LiveRecording, RecordingRequest } from '../../src/recordings/contract';
import type { Actor } from '../../src/recordings/permissions';
import type { RecorderPort } from '../../src/recordings/ports';
import type { S3Storage } from '../../src/storage/s3';
import { recordingPrefix } from '../../src/storage/keys';
import { createTestDatabase } from '../helpers/services/postgres';
import { FfmpegTestRecorder, testConfig, waitFor, type FfmpegTestRecorderOptions } from './recordings-harness';

/**
 * Everything a recording leaves, listed file by file: while it records (its spool), once it
 * is COMPLETED (only the stored objects), once it FAILED (spool and output kept for a retry),
 * and after DELETE or retention (nothing, locally or in S3). The recorder is the ffmpeg test
 * double with a spool written by the real SpoolFile beside it, as the real recorder does.
 */
jest.setTimeout(90_000);

// the call app's token for the host names its rooms (any room here)
const host: Actor = { kind: 'user', userId: 'host-1', rooms: ['*'] };
let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase('recfiles');
});
afterAll(async () => {
  await closeCurrent?.();
  await db?.drop();
});

/** The ffmpeg double, plus the spool every real recording has: appended while it records. */
class SpoolingRecorder implements RecorderPort {
  private readonly inner: FfmpegTestRecorder;
  constructor(private readonly spoolDir: string, opts: FfmpegTestRecorderOptions = {}) {
    this.inner = new FfmpegTestRecorder(opts);
  }
  async open(req: RecordingRequest): Promise<LiveRecording> {
    const spool = await SpoolFile.create(this.spoolDir, req.id);
    const live = await this.inner.open(req);
    const timer = setInterval(() => void spool.append(Buffer.alloc(4096, 1)).catch(() => undefined), 100);
    const closed = live.done.finally(() => {
      clearInterval(timer);
      return spool.close();
    });
    closed.catch(() => undefined);
    return { ...live, done: closed };
  }
}

interface Env {
  svc: Service;
  pp: Postprocessing;
  outputDir: string;
  spoolDir: string;
  s3Prefix?: string;
}
let closeCurrent: (() => Promise<void>) | undefined;

/** One service at a time on the shared database (another's poller would take this one's jobs). */
async function make(env: Record<string, string>, recorderOpts: FfmpegTestRecorderOptions = {}): Promise<Env> {
  await closeCurrent?.();
  const config = testConfig({ DATABASE_URL: db.url, RECORDING_RETENTION: '1h', POSTPROCESS_RETRY_BASE_SECONDS: '0.1', ...env });
  const pp = createPostprocessing(config, undefined, { storage: { s3: { maxAttempts: 1, connectTimeoutMs: 1000 } } });
  const svc = await createService(config, {
    recorder: new SpoolingRecorder(config.recorder.spoolDir, recorderOpts),
    postprocess: pp.postprocess,
    storage: pp.recordingStorage,
    presence: false,
    tuning: { postprocess: { pollMs: 100 } },
  });
  await svc.start();
  closeCurrent = async () => {
    await svc.close();
    await pp.close();
  };
  return { svc, pp, outputDir: config.recorder.outputDir, spoolDir: config.recorder.spoolDir, ...(env.RECORDING_STORAGE_PREFIX ? { s3Prefix: env.RECORDING_STORAGE_PREFIX } : {}) };
}

/** Every file below `dir`, relative, sorted (directories only through their files). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

const row = (e: Env, id: string) => e.svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
const waitStatus = async (e: Env, id: string, status: string) => {
  await waitFor(async () => (await row(e, id)).status === status, 30_000, status);
  return row(e, id);
};

let n = 0;
async function startOne(e: Env): Promise<{ callId: string; id: string }> {
  const callId = `files-${Date.now().toString(36)}-${++n}`;
  await e.svc.recordings.createCall(host, { id: callId, roomName: `room-${callId}`, hostId: 'host-1' });
  const { id } = (await e.svc.recordings.startRecording(host, callId, {})).recording;
  await waitStatus(e, id, 'RECORDING');
  return { callId, id };
}
async function recordOne(e: Env): Promise<{ callId: string; id: string; spoolWhileRecording: boolean }> {
  const r = await startOne(e);
  await new Promise((res) => setTimeout(res, 700));
  const spoolWhileRecording = fs.statSync(spoolPathOf(e.spoolDir, r.id)).size > 0;
  await e.svc.recordings.stopRecording(host, r.callId);
  await waitStatus(e, r.id, 'COMPLETED');
  return { ...r, spoolWhileRecording };
}

const storedNames = ['manifest.json', 'poster.jpg', 'recording.mp4', ...[1, 2, 3, 4, 5].map((i) => `thumbnails/thumb-${i}.jpg`)];

test('local storage: a COMPLETED recording leaves only its stored objects; DELETE and retention leave nothing', async () => {
  const e = await make({});
  const [a, b] = [await recordOne(e), await recordOne(e)];
  expect([a.spoolWhileRecording, b.spoolWhileRecording]).toEqual([true, true]);
  // the spool, the recorder's output and the scratch files are gone once the file is stored
  const stored = (r: { callId: string; id: string }) => storedNames.map((f) => path.join(r.callId, r.id, f));
  // removed right after COMPLETED is written (before it, a failed write could not be retried from them)
  const onlyStored = [...stored(a), ...stored(b)].sort();
  await waitFor(async () => filesUnder(e.outputDir).length === onlyStored.length, 3000, 'local files removed').catch(() => undefined);
  expect(filesUnder(e.outputDir)).toEqual(onlyStored);

  await e.svc.recordings.deleteRecording(host, a.callId, a.id);
  expect(filesUnder(e.outputDir)).toEqual(stored(b));
  expect(fs.existsSync(path.join(e.outputDir, a.callId))).toBe(false);

  await e.svc.db.prisma.callRecording.update({ where: { id: b.id }, data: { completedAt: new Date(Date.now() - 61 * 60_000) } });
  expect((await e.svc.maintenance.runOnce()).retention.deleted).toEqual([b.id]);
  expect(filesUnder(e.outputDir)).toEqual([]);
});

test('a FAILED recording keeps its spool and output for a retry; DELETE removes them and any scratch files', async () => {
  const e = await make({}, { crashAfterMs: 1500 });
  const { callId, id } = await startOne(e);
  const failed = await waitStatus(e, id, 'FAILED');
  const output = path.relative(e.outputDir, failed.filePath!);
  const spool = path.relative(e.outputDir, spoolPathOf(e.spoolDir, id));
  expect(filesUnder(e.outputDir)).toEqual([output, spool].sort());
  // what a post-processing attempt killed half-way leaves in its scratch directory
  const scratch = path.join(e.spoolDir, 'postprocess', id);
  fs.mkdirSync(path.join(scratch, 'thumbnails'), { recursive: true });
  fs.writeFileSync(path.join(scratch, 'recording.mp4.tmp'), 'x');
  fs.writeFileSync(path.join(scratch, 'thumbnails', 'thumb-1.jpg'), 'x');

  await e.svc.recordings.deleteRecording(host, callId, id);
  expect(filesUnder(e.outputDir)).toEqual([]);
  expect((await row(e, id)).status).toBe('DELETED');
});

test('S3 (moto): nothing stays on the recorder once COMPLETED; DELETE and retention remove every object and unfinished upload', async () => {
  const prefix = `files-${Date.now()}/`;
  const e = await make({
    RECORDING_STORAGE_PROVIDER: 'aws',
    RECORDING_STORAGE_BUCKET: process.env.TEST_S3_BUCKET!,
    RECORDING_STORAGE_ENDPOINT: process.env.TEST_S3_ENDPOINT!,
    RECORDING_STORAGE_CREDENTIALS: process.env.TEST_S3_CREDENTIALS!,
    RECORDING_STORAGE_PREFIX: prefix,
  });
  const s3 = e.pp.storage as S3Storage;
  const objects = async () => (await s3.list(prefix)).map((o) => o.key).sort();
  const uploads = async () => ((await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }))).Uploads ?? []).map((u) => u.Key);
  const [a, b] = [await recordOne(e), await recordOne(e)];
  expect([a.spoolWhileRecording, b.spoolWhileRecording]).toEqual([true, true]);
  expect(filesUnder(e.outputDir)).toEqual([]);
  const stored = (r: { callId: string; id: string }) => storedNames.map((f) => `${recordingPrefix(prefix, r.callId, r.id)}${f}`);
  expect(await objects()).toEqual([...stored(a), ...stored(b)].sort());
  // an upload interrupted by a crash: its parts are stored, though list() does not show them
  const partial = `${recordingPrefix(prefix, a.callId, a.id)}recording.mp4`;
  const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: partial }));
  await s3.client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: partial, UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 7) }));
  expect(await uploads()).toEqual([partial]);

  await e.svc.recordings.deleteRecording(host, a.callId, a.id);
  expect(await objects()).toEqual(stored(b));
  expect(await uploads()).toEqual([]);

  await e.svc.db.prisma.callRecording.update({ where: { id: b.id }, data: { completedAt: new Date(Date.now() - 61 * 60_000) } });
  expect((await e.svc.maintenance.runOnce()).retention.deleted).toEqual([b.id]);
  expect(await objects()).toEqual([]);
  expect(filesUnder(e.outputDir)).toEqual([]);
});
