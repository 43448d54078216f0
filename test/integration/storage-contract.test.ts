import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createStorage, LocalStorage, S3Storage, type Storage, type StorageConfig, type UploadProgress } from '../../src/storage';

/**
 * The same contract against the three providers: the local disk, moto (S3) and
 * fake-gcs-server (GCS), both started by test/helpers/services.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-contract-'));
const small = path.join(tmp, 'small.bin');
const large = path.join(tmp, 'large.bin'); // > one 5 MiB part: a multipart / multi-chunk upload
const smallBytes = crypto.randomBytes(200 * 1024);
const largeBytes = crypto.randomBytes(12 * 1024 * 1024);
fs.writeFileSync(small, smallBytes);
fs.writeFileSync(large, largeBytes);

const env = process.env;
const base = { region: 'us-east-1', signedUrlSeconds: 120, localDir: path.join(tmp, 'local-store') };
const configs: Array<[string, StorageConfig]> = [
  ['local', { ...base, provider: 'local', prefix: '' }],
  ['aws', { ...base, provider: 'aws', prefix: 'aws-contract/', bucket: env.TEST_S3_BUCKET, endpoint: env.TEST_S3_ENDPOINT, credentials: env.TEST_S3_CREDENTIALS }],
  ['gcp', { ...base, provider: 'gcp', prefix: 'gcs-contract/', bucket: env.TEST_GCS_BUCKET, endpoint: env.TEST_GCS_ENDPOINT, credentials: env.TEST_GCS_CREDENTIALS }],
];

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.each(configs)('%s storage', (name, cfg) => {
  let storage: Storage;
  const p = cfg.prefix;
  beforeAll(() => {
    storage = createStorage(cfg, { gcs: { chunkSize: 4 * 1024 * 1024 } });
  });
  afterAll(async () => {
    await storage.deletePrefix(p || 'c1/');
    await storage.close();
  });

  it('is healthy', async () => {
    const h = await storage.checkHealth();
    expect(h).toMatchObject({ ok: true, provider: cfg.provider });
  });

  it('uploads a small file, heads it, reads it back', async () => {
    const key = `${p}c1/r1/poster.jpg`;
    const res = await storage.put(key, small, 'image/jpeg');
    expect(res).toMatchObject({ key, size: smallBytes.length });
    expect(await storage.head(key)).toMatchObject({ key, size: smallBytes.length });
    expect((await readAll(await storage.createReadStream(key))).equals(smallBytes)).toBe(true);
  });

  it('uploads 12 MiB in parts with progress, and the signed URL returns the same bytes', async () => {
    const key = `${p}c1/r1/recording.mp4`;
    const progress: UploadProgress[] = [];
    const res = await storage.put(key, large, 'video/mp4', (pr) => progress.push(pr));
    expect(res.size).toBe(largeBytes.length);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({ loaded: largeBytes.length, total: largeBytes.length });
    for (let i = 1; i < progress.length; i++) expect(progress[i].loaded).toBeGreaterThanOrEqual(progress[i - 1].loaded);

    if (storage instanceof S3Storage) {
      // a multipart object's ETag is "<md5 of part md5s>-<number of parts>": 12 MiB / 5 MiB = 3 parts
      const h = await storage.client.send(new HeadObjectCommand({ Bucket: storage.bucket, Key: key }));
      expect(h.ETag).toMatch(/-3"?$/);
    }
    const url = await storage.signedUrl(key, 60);
    if (storage instanceof LocalStorage) {
      const u = new URL(url, 'http://x');
      expect(decodeURIComponent(u.pathname.replace(/^\/files\//, ''))).toBe(key);
      expect(storage.verifySignedUrl(key, u.searchParams.get('expires')!, u.searchParams.get('signature')!)).toBe(true);
      expect(storage.verifySignedUrl(`${key}x`, u.searchParams.get('expires')!, u.searchParams.get('signature')!)).toBe(false);
      expect((await readAll(await storage.createReadStream(key))).equals(largeBytes)).toBe(true);
    } else {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(url).toMatch(/X-(Amz|Goog)-Signature=/);
      const resp = await fetch(url);
      expect(resp.status).toBe(200);
      const body = Buffer.from(await resp.arrayBuffer());
      expect(crypto.createHash('sha256').update(body).digest('hex')).toBe(crypto.createHash('sha256').update(largeBytes).digest('hex'));
    }
  });

  it('reads byte ranges', async () => {
    const key = `${p}c1/r1/recording.mp4`;
    const mid = await readAll(await storage.createReadStream(key, { start: 6 * 1024 * 1024 - 10, end: 6 * 1024 * 1024 + 9 }));
    expect(mid.equals(largeBytes.subarray(6 * 1024 * 1024 - 10, 6 * 1024 * 1024 + 10))).toBe(true);
    const tail = await readAll(await storage.createReadStream(key, { start: largeBytes.length - 100 }));
    expect(tail.equals(largeBytes.subarray(largeBytes.length - 100))).toBe(true);
  });

  it('reports missing objects', async () => {
    expect(await storage.head(`${p}c1/none/recording.mp4`)).toBeNull();
    await expect(storage.createReadStream(`${p}c1/none/recording.mp4`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(storage.delete(`${p}c1/none/recording.mp4`)).resolves.toBeUndefined();
  });

  it('lists, deletes one object, and deletes a whole recording prefix', async () => {
    for (let i = 1; i <= 5; i++) await storage.put(`${p}c1/r1/thumbnails/thumb-${i}.jpg`, small, 'image/jpeg');
    await storage.put(`${p}c1/r2/recording.mp4`, small, 'video/mp4');
    const listed = await storage.list(`${p}c1/r1/`);
    expect(listed.map((o) => o.key).sort()).toEqual(
      [`${p}c1/r1/poster.jpg`, `${p}c1/r1/recording.mp4`, ...[1, 2, 3, 4, 5].map((i) => `${p}c1/r1/thumbnails/thumb-${i}.jpg`)].sort(),
    );
    await storage.delete(`${p}c1/r1/poster.jpg`);
    expect(await storage.head(`${p}c1/r1/poster.jpg`)).toBeNull();
    expect(await storage.deletePrefix(`${p}c1/r1/`)).toBe(6);
    expect(await storage.list(`${p}c1/r1/`)).toEqual([]);
    expect(await storage.head(`${p}c1/r2/recording.mp4`)).not.toBeNull(); // a neighbour is untouched
  });

  if (name === 'local') {
    it('refuses keys outside its directory and unsatisfiable ranges', async () => {
      await expect(storage.put('../evil', small, 'x')).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await storage.put('c1/r3/a.bin', small, 'x');
      await expect(storage.createReadStream('c1/r3/a.bin', { start: smallBytes.length })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await storage.deletePrefix('c1/r3/');
      expect(fs.existsSync(path.join(cfg.localDir, 'c1', 'r3'))).toBe(false);
    });
  }
});
