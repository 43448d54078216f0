import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createService, type Service } from '../../src/app/http';
import { createPostprocessing, type Postprocessing } from '../../src/postprocess/service-adapter';
import { recordingPrefix } from '../../src/storage/keys';
import { createTestDatabase } from '../helpers/services/postgres';
import * as s3 from '../helpers/services/s3';
import { call, FfmpegTestRecorder, listen, testConfig, tmpDir, userToken, waitFor } from './recordings-harness';

/**
 * Post-processing and storage wired into the service, through HTTP: the ffmpeg recorder double
 * records, the real PostProcessor probes/remuxes/makes thumbnails and uploads to S3 (moto),
 * GCS (fake-gcs-server) or local storage; download, retry after an outage, delete, retention
 * and DISK_FULL.
 */
jest.setTimeout(60_000);

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let host: string;
let guest: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase('ppsvc');
  host = await userToken('host-1');
  guest = await userToken('guest-1');
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await db?.drop();
});

interface Env {
  svc: Service;
  pp: Postprocessing;
  url: string;
}

let closePrevious: (() => Promise<void>) | undefined;

/** One service at a time: they share the database, and another's poller would claim this one's jobs. */
async function make(env: Record<string, string> = {}): Promise<Env> {
  await closePrevious?.();
  const config = testConfig({ DATABASE_URL: db.url, POSTPROCESS_RETRY_BASE_SECONDS: '0.1', ...env });
  const pp = createPostprocessing(config, undefined, { storage: { s3: { maxAttempts: 1, connectTimeoutMs: 1000 } } });
  const svc = await createService(config, {
    recorder: new FfmpegTestRecorder(),
    postprocess: pp.postprocess,
    storage: pp.recordingStorage,
    ...(pp.signedFiles ? { signedFiles: pp.signedFiles } : {}),
    presence: false,
    tuning: { postprocess: { pollMs: 100, leaseMs: 60_000 } },
  });
  await svc.start();
  const http = await listen(svc.app);
  let closing: Promise<void> | undefined;
  closePrevious = () =>
    (closing ??= (async () => {
      await http.close();
      await svc.close();
      await pp.close();
    })());
  cleanups.push(closePrevious);
  return { svc, pp, url: http.url };
}

const s3Env = (endpoint = process.env.TEST_S3_ENDPOINT!) => ({
  RECORDING_STORAGE_PROVIDER: 'aws',
  RECORDING_STORAGE_BUCKET: process.env.TEST_S3_BUCKET!,
  RECORDING_STORAGE_ENDPOINT: endpoint,
  RECORDING_STORAGE_CREDENTIALS: process.env.TEST_S3_CREDENTIALS!,
  RECORDING_STORAGE_PREFIX: `svc-${Date.now()}`,
});
const gcsEnv = () => ({
  RECORDING_STORAGE_PROVIDER: 'gcp',
  RECORDING_STORAGE_BUCKET: process.env.TEST_GCS_BUCKET!,
  RECORDING_STORAGE_ENDPOINT: process.env.TEST_GCS_ENDPOINT!,
  RECORDING_STORAGE_CREDENTIALS: process.env.TEST_GCS_CREDENTIALS!,
  RECORDING_STORAGE_PREFIX: `svc-${Date.now()}`,
});

let n = 0;
async function record(e: Env, ms = 1500): Promise<{ callId: string; id: string }> {
  const callId = `pp-${Date.now().toString(36)}-${++n}`;
  const created = await call(e.url, 'POST', '/api/video-calls', { token: await userToken('host-1', { rooms: [`room-${callId}`] }), body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1', participantIds: ['guest-1'] } });
  expect(created.status).toBe(201);
  const start = await call(e.url, 'POST', `/api/video-calls/${callId}/recording/start`, { token: host, body: { format: 'mp4' } });
  expect(start.status).toBe(201);
  const id = start.body.data.id as string;
  await waitFor(async () => (await row(e, id)).status === 'RECORDING', 15_000, 'RECORDING');
  await new Promise((r) => setTimeout(r, ms));
  expect((await call(e.url, 'POST', `/api/video-calls/${callId}/recording/stop`, { token: host })).status).toBe(200);
  return { callId, id };
}
const row = (e: Env, id: string) => e.svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
const waitStatus = (e: Env, id: string, status: string, ms = 30_000) => waitFor(async () => ((await row(e, id)).status === status ? row(e, id) : null), ms, status);
const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readObject(pp: Postprocessing, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await pp.storage.createReadStream(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe.each([
  ['S3', s3Env],
  ['GCS', gcsEnv],
])('%s target', (_name, env) => {
  test('start -> stop -> COMPLETED with video, 5 thumbnails and a poster; signed download; delete removes everything', async () => {
    const e = await make(env());
    const progress: number[] = [];
    e.svc.bus.on('recordingProgress', (p) => {
      if ('percent' in p) progress.push(p.percent);
    });
    const { callId, id } = await record(e);
    const done = await waitStatus(e, id, 'COMPLETED');
    const prefix = recordingPrefix(e.svc.db ? (e.pp.recordingStorage as unknown as { prefix: string }).prefix : '', callId, id);
    expect(done.storageKey).toBe(`${prefix}recording.mp4`);
    expect(done.storageProvider).toBe(e.pp.storage.provider);
    expect(done.storageUrl).toMatch(/^http/);
    expect(Number(done.fileSize)).toBeGreaterThan(1000);
    expect(done.durationMs).toBeGreaterThan(500);
    const thumbs = done.thumbnails as { key: string; url?: string; atMs: number; width: number; height: number; kind: string }[];
    expect(thumbs.filter((t) => t.kind === 'thumbnail')).toHaveLength(5);
    expect(thumbs.filter((t) => t.kind === 'poster')).toHaveLength(1);
    for (const t of thumbs) expect(t).toMatchObject({ key: expect.stringMatching(new RegExp(`^${prefix}`)), width: expect.any(Number), height: expect.any(Number), atMs: expect.any(Number) });
    const objects = (await e.pp.storage.list(prefix)).map((o) => o.key).sort();
    expect(objects).toEqual([done.storageKey!, `${prefix}manifest.json`, ...thumbs.map((t) => t.key)].sort());
    // the manifest, uploaded last, names every other object with its stored size
    const manifest = JSON.parse((await readObject(e.pp, `${prefix}manifest.json`)).toString());
    expect(done.manifestKey).toBe(`${prefix}manifest.json`);
    expect(manifest).toMatchObject({ version: 1, recordingId: id, callId, format: 'mp4', durationMs: done.durationMs, recordingAt: done.recordingAt!.toISOString() });
    for (const f of manifest.files) expect({ key: f.key, size: f.size }).toEqual({ key: f.key, size: (await e.pp.storage.head(f.key))!.size });
    expect(manifest.files.map((f: { key: string }) => f.key).sort()).toEqual(objects.filter((k) => !k.endsWith('manifest.json')));
    expect((await e.pp.storage.head(done.storageKey!))!.size).toBe(Number(done.fileSize));
    expect(progress.at(-1)).toBe(100);
    // the recorder's local file is removed once COMPLETED is recorded
    expect(fs.existsSync(done.filePath!)).toBe(false);

    // download: a participant gets a short-lived signed URL; its bytes are the stored object's
    const dl = await call(e.url, 'GET', `/api/video-calls/${callId}/recording/${id}/download`, { token: guest });
    expect(dl.status).toBe(200);
    expect(dl.body.data.expiresAt).toEqual(expect.any(String));
    const fetched = Buffer.from(await (await fetch(dl.body.data.url)).arrayBuffer());
    expect(sha(fetched)).toBe(sha(await readObject(e.pp, done.storageKey!)));
    // only the host deletes; deletion removes every object
    expect((await call(e.url, 'DELETE', `/api/video-calls/${callId}/recording/${id}`, { token: guest })).status).toBe(403);
    const del = await call(e.url, 'DELETE', `/api/video-calls/${callId}/recording/${id}`, { token: host });
    expect(del.status).toBe(200);
    expect(del.body.data.status).toBe('DELETED');
    expect(await e.pp.storage.list(prefix)).toEqual([]);
  });
});

test('local storage: download streams the file with Range (206, 416); retention deletes old recordings and stale spool files', async () => {
  const e = await make();
  const { callId, id } = await record(e, 1000);
  const done = await waitStatus(e, id, 'COMPLETED');
  const whole = await readObject(e.pp, done.storageKey!);
  const base = `/api/video-calls/${callId}/recording/${id}/download`;
  const full = await fetch(e.url + base, { headers: { authorization: `Bearer ${guest}` } });
  expect(full.status).toBe(200);
  expect(full.headers.get('accept-ranges')).toBe('bytes');
  expect(sha(Buffer.from(await full.arrayBuffer()))).toBe(sha(whole));
  const part = await fetch(e.url + base, { headers: { authorization: `Bearer ${guest}`, range: 'bytes=100-199' } });
  expect(part.status).toBe(206);
  expect(part.headers.get('content-range')).toBe(`bytes 100-199/${whole.length}`);
  expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(100, 200))).toBe(true);
  const tail = await fetch(e.url + base, { headers: { authorization: `Bearer ${guest}`, range: 'bytes=-10' } });
  expect(tail.status).toBe(206);
  expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(whole.length - 10))).toBe(true);
  const bad = await fetch(e.url + base, { headers: { authorization: `Bearer ${guest}`, range: `bytes=${whole.length + 10}-` } });
  expect(bad.status).toBe(416);
  expect(bad.headers.get('content-range')).toBe(`bytes */${whole.length}`);
  expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('RANGE_NOT_SATISFIABLE');
  expect((await call(e.url, 'GET', base, { headers: {} })).status).toBe(401);

  // the signed URLs in the recording's view are served under /files, and only as signed
  const view = (await call(e.url, 'GET', `/api/video-calls/${callId}/recording/${id}`, { token: guest })).body.data as {
    url: string;
    thumbnails: Array<{ url: string }>;
  };
  const signed = await fetch(e.url + view.url);
  expect(signed.status).toBe(200);
  expect(sha(Buffer.from(await signed.arrayBuffer()))).toBe(sha(whole));
  const ranged = await fetch(e.url + view.url, { headers: { range: 'bytes=0-9' } });
  expect(ranged.status).toBe(206);
  expect((await fetch(e.url + view.thumbnails[0].url)).headers.get('content-type')).toBe('image/jpeg');
  expect((await fetch(e.url + view.url.replace(/signature=[^&]+/, 'signature=forged'))).status).toBe(404);
  expect((await fetch(e.url + view.url.replace(/expires=\d+/, 'expires=1'))).status).toBe(404);
  // the URLs are signed when the view is read, not when the recording completed
  await e.svc.db.prisma.callRecording.update({ where: { id }, data: { storageUrl: '/files/stale?expires=1&signature=old' } });
  const reread = (await call(e.url, 'GET', `/api/video-calls/${callId}/recording/${id}`, { token: guest })).body.data as { url: string; storageKey: string };
  expect(reread.storageKey).toBe(done.storageKey);
  expect((await fetch(e.url + reread.url)).status).toBe(200);
  const listed = (await call(e.url, 'GET', `/api/video-calls/${callId}/recordings`, { token: guest })).body.data as Array<{ id: string; url: string }>;
  expect((await fetch(e.url + listed.find((r) => r.id === id)!.url)).status).toBe(200);

  // retention: an old recording is deleted through the domain, a fresh one stays
  const fresh = await record(e, 800);
  await waitStatus(e, fresh.id, 'COMPLETED');
  await e.svc.db.prisma.callRecording.update({ where: { id }, data: { completedAt: new Date(Date.now() - 40 * 86_400_000) } });
  const spool = testSpoolDir(e);
  fs.mkdirSync(spool, { recursive: true });
  const stale = path.join(spool, 'orphan.webm');
  const recent = path.join(spool, 'recent.webm');
  fs.writeFileSync(stale, 'x');
  fs.writeFileSync(recent, 'x');
  const old = new Date(Date.now() - 2 * 86_400_000);
  fs.utimesSync(stale, old, old);
  const report = await e.svc.maintenance.runOnce();
  expect(report.retention.deleted).toEqual([id]);
  expect(report.removedFiles).toEqual([stale]);
  expect(fs.existsSync(recent)).toBe(true);
  expect((await row(e, id)).status).toBe('DELETED');
  expect((await row(e, fresh.id)).status).toBe('COMPLETED');
  expect(await e.pp.storage.list(recordingPrefix('', callId, id))).toEqual([]);
});

function testSpoolDir(e: Env): string {
  return (e.svc.maintenance as unknown as { opts: { spoolDir: string } }).opts.spoolDir;
}

test('storage outage: retried with backoff, FAILED after the last attempt with the file kept; POST retry after the storage is back -> COMPLETED', async () => {
  const moto = await s3.start();
  let motoNow = moto;
  cleanups.push(() => motoNow.stop());
  const e = await make({ ...s3Env(moto.endpoint), POSTPROCESS_MAX_ATTEMPTS: '2' });
  const failedEvents: string[] = [];
  e.svc.bus.on('recordingFailed', (p) => failedEvents.push(p.error.code));
  await moto.stop();
  const { callId, id } = await record(e, 800);
  const failed = await waitStatus(e, id, 'FAILED').catch(async (err: Error) => {
    const r = await row(e, id);
    throw new Error(`${err.message}; row: status ${r.status}, attempts ${r.attempts}, next ${r.nextAttemptAt?.toISOString()}, lastError ${r.lastError}`);
  });
  expect(failed).toMatchObject({ errorCode: 'STORAGE_UNAVAILABLE', errorFault: 'destination', attempts: 2 });
  expect(failedEvents).toEqual(['STORAGE_UNAVAILABLE']);
  expect(fs.statSync(failed.filePath!).size).toBeGreaterThan(0);
  // only the host retries
  expect((await call(e.url, 'POST', `/api/video-calls/${callId}/recording/${id}/retry`, { token: guest })).status).toBe(403);

  motoNow = await s3.start({ port: moto.port });
  const retry = await call(e.url, 'POST', `/api/video-calls/${callId}/recording/${id}/retry`, { token: host });
  expect(retry.status).toBe(202);
  expect(retry.body.data.error).toBeNull();
  const done = await waitStatus(e, id, 'COMPLETED');
  expect(done.errorCode).toBeNull();
  expect((await e.pp.storage.head(done.storageKey!))!.size).toBe(Number(done.fileSize));
  // a COMPLETED recording cannot be retried; a FAILED one without its file cannot either
  const again = await call(e.url, 'POST', `/api/video-calls/${callId}/recording/${id}/retry`, { token: host });
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('RECORDING_NOT_RETRYABLE');
  await e.svc.db.prisma.callRecording.update({ where: { id }, data: { status: 'FAILED' } });
  const gone = await call(e.url, 'POST', `/api/video-calls/${callId}/recording/${id}/retry`, { token: host });
  expect(gone.status).toBe(409);
  expect(gone.body.error.code).toBe('RECORDING_FILE_MISSING');
});

test('storage outage: the upload is retried by itself and completes once the storage is back, with no manual retry', async () => {
  const moto = await s3.start();
  let motoNow = moto;
  cleanups.push(() => motoNow.stop());
  const e = await make({ ...s3Env(moto.endpoint), POSTPROCESS_MAX_ATTEMPTS: '5', POSTPROCESS_RETRY_BASE_SECONDS: '1' });
  const failedEvents: string[] = [];
  e.svc.bus.on('recordingFailed', (p) => failedEvents.push(p.error.code));
  await moto.stop();
  const { id } = await record(e, 800);
  const waiting = await waitFor(async () => {
    const r = await row(e, id);
    return r.lastError ? r : null;
  }, 30_000, 'a failed attempt');
  expect(waiting.status).toBe('UPLOADING');
  expect(waiting.lastError).toMatch(/^STORAGE_UNAVAILABLE/);
  motoNow = await s3.start({ port: moto.port });
  const done = await waitStatus(e, id, 'COMPLETED');
  expect(done.attempts).toBeGreaterThanOrEqual(2);
  expect(done.errorCode).toBeNull();
  expect((await e.pp.storage.head(done.storageKey!))!.size).toBe(Number(done.fileSize));
  expect(fs.existsSync(done.filePath!)).toBe(false); // the local file goes once the upload is confirmed
  expect(failedEvents).toEqual([]);
});

test('DISK_FULL: start is refused with 507 and nothing is written', async () => {
  const e = await make({ RECORDING_MIN_FREE_DISK_MB: String(1024 * 1024 * 1024), RECORDING_OUTPUT_DIR: tmpDir('pp-full-') });
  const callId = `full-${Date.now().toString(36)}`;
  await call(e.url, 'POST', '/api/video-calls', { token: await userToken('host-1', { rooms: [`room-${callId}`] }), body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1' } });
  const res = await call(e.url, 'POST', `/api/video-calls/${callId}/recording/start`, { token: host });
  expect(res.status).toBe(507);
  expect(res.body.error.code).toBe('DISK_FULL');
  expect(await e.svc.db.prisma.callRecording.count({ where: { callId } })).toBe(0);
  const callRow = await e.svc.db.prisma.videoCall.findUniqueOrThrow({ where: { id: callId } });
  expect(callRow.recordingStatus).toBeNull();
});

test('the OpenAPI document has retry and download', async () => {
  const e = await make();
  const doc = (await call(e.url, 'GET', '/api/openapi.json')).body;
  expect(Object.keys(doc.paths['/api/video-calls/{callId}/recording/{recordingId}/retry'])).toEqual(['post']);
  const dl = doc.paths['/api/video-calls/{callId}/recording/{recordingId}/download'].get;
  expect(Object.keys(dl.responses)).toEqual(expect.arrayContaining(['200', '206', '416']));
  expect(doc.paths['/api/video-calls/{callId}/recording/start'].post.responses['507']).toBeDefined();
});
