import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { GcsStorage, S3Storage } from '../../src/storage';
import * as s3 from '../helpers/services/s3';
import * as gcs from '../helpers/services/gcs';

/** Destinations that are down, refuse, or must be watched on the wire: private emulators per test. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-faults-'));
const file = path.join(tmp, 'f.bin');
const bytes = crypto.randomBytes(9 * 1024 * 1024);
fs.writeFileSync(file, bytes);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('S3 faults', () => {
  it('reports an unreachable endpoint as STORAGE_UNAVAILABLE (retry later) and unhealthy', async () => {
    const emu = await s3.start();
    const storage = new S3Storage({ bucket: s3.TEST_S3_BUCKET, region: 'us-east-1', credentials: s3.TEST_S3_CREDENTIALS, endpoint: emu.endpoint, maxAttempts: 2 });
    try {
      await storage.put('c/r/recording.mp4', file, 'video/mp4');
      await emu.stop();
      await expect(storage.put('c/r/recording.mp4', file, 'video/mp4')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', fault: 'destination' });
      expect(await storage.checkHealth()).toMatchObject({ ok: false, provider: 'aws' });
    } finally {
      await emu.stop();
      await storage.close();
    }
  });

  it('reports a missing bucket as STORAGE_REJECTED (the destination refuses)', async () => {
    const storage = new S3Storage({ bucket: 'no-such-bucket', region: 'us-east-1', credentials: s3.TEST_S3_CREDENTIALS, endpoint: process.env.TEST_S3_ENDPOINT });
    await expect(storage.put('c/r/recording.mp4', file, 'video/mp4')).rejects.toMatchObject({ code: 'STORAGE_REJECTED', fault: 'destination' });
    expect((await storage.checkHealth()).ok).toBe(false);
    await storage.close();
  });

  it('aborts an upload when asked', async () => {
    const storage = new S3Storage({ bucket: process.env.TEST_S3_BUCKET!, region: 'us-east-1', credentials: s3.TEST_S3_CREDENTIALS, endpoint: process.env.TEST_S3_ENDPOINT });
    const ctl = new AbortController();
    const p = storage.put('faults/abort/recording.mp4', file, 'video/mp4', () => ctl.abort(), { signal: ctl.signal });
    await expect(p).rejects.toMatchObject({ code: 'JOB_ABORTED' });
    await storage.close();
  });
});

describe('GCS faults and resumable uploads', () => {
  it('uploads in resumable chunks (seen on the wire through a recording proxy)', async () => {
    const target = new URL(process.env.TEST_GCS_ENDPOINT!);
    const seen: Array<{ method: string; url: string; range?: string }> = [];
    const proxy = http.createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, range: req.headers['content-range'] as string | undefined });
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    const storage = new GcsStorage({
      bucket: process.env.TEST_GCS_BUCKET!,
      endpoint: `http://127.0.0.1:${port}`,
      credentials: process.env.TEST_GCS_CREDENTIALS,
      chunkSize: 4 * 1024 * 1024,
    });
    try {
      const res = await storage.put('faults/resumable/recording.mp4', file, 'video/mp4');
      expect(res.size).toBe(bytes.length);
      expect(seen.some((s) => s.method === 'POST' && /uploadType=resumable/.test(s.url))).toBe(true);
      const chunks = seen.filter((s) => s.method === 'PUT' && s.range);
      expect(chunks.length).toBeGreaterThanOrEqual(3); // 9 MiB in 4 MiB chunks
      expect(chunks[0].range).toMatch(/^bytes 0-4194303\//);
      const parts: Buffer[] = [];
      for await (const c of await storage.createReadStream('faults/resumable/recording.mp4')) parts.push(c as Buffer);
      expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    } finally {
      await storage.deletePrefix('faults/');
      await new Promise((r) => proxy.close(r));
    }
  });

  it('reports an unreachable emulator as STORAGE_UNAVAILABLE and a missing bucket as STORAGE_REJECTED', async () => {
    const emu = await gcs.start();
    const storage = new GcsStorage({ bucket: gcs.TEST_GCS_BUCKET, endpoint: emu.endpoint, credentials: gcs.dummyServiceAccount(), maxRetries: 0 });
    const missing = new GcsStorage({ bucket: 'no-such-bucket', endpoint: emu.endpoint, credentials: gcs.dummyServiceAccount() });
    try {
      await expect(missing.put('c/r/poster.jpg', file, 'image/jpeg')).rejects.toMatchObject({ code: 'STORAGE_REJECTED' });
      await emu.stop();
      await expect(storage.put('c/r/poster.jpg', file, 'image/jpeg')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
      expect((await storage.checkHealth()).ok).toBe(false);
    } finally {
      await emu.stop();
    }
  });
});
