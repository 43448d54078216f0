import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage as GcsClient, type Bucket } from '@google-cloud/storage';
import { AppError } from '../errors';
import { parseGcpCredentials } from './credentials';
import { isNotFound, toStorageError } from './errors';
import { assertSafeKey } from './keys';
import type { ByteRange, ObjectInfo, ProgressListener, PutOptions, PutResult, Storage, StorageHealth } from './types';

export interface GcsStorageOptions {
  bucket: string;
  /** Service-account JSON or a path to it; undefined = Application Default Credentials. */
  credentials?: string;
  /** Emulator or private endpoint, e.g. http://127.0.0.1:4443 (requests then go unauthenticated). */
  endpoint?: string;
  projectId?: string;
  signedUrlSeconds?: number;
  /**
   * Bytes per request of a resumable upload (a multiple of 256 KiB). Each chunk is
   * acknowledged before the next, and this much is buffered in memory. 0 = one streamed request.
   */
  chunkSize?: number;
  /** Retries of the client library for idempotent requests (uploads are retried by the job queue). */
  maxRetries?: number;
}

const DEFAULT_CHUNK = 8 * 1024 * 1024;

/** Google Cloud Storage; uploads are resumable uploads streamed from disk. */
export class GcsStorage implements Storage {
  readonly provider = 'gcp' as const;
  readonly client: GcsClient;
  readonly bucket: Bucket;
  private readonly signedUrlSeconds: number;
  private readonly chunkSize: number;

  constructor(opts: GcsStorageOptions) {
    const sa = parseGcpCredentials(opts.credentials);
    this.signedUrlSeconds = opts.signedUrlSeconds ?? 900;
    const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
    this.chunkSize = chunk > 0 ? Math.max(256 * 1024, Math.floor(chunk / (256 * 1024)) * 256 * 1024) : 0;
    this.client = new GcsClient({
      projectId: opts.projectId ?? sa?.project_id ?? (opts.endpoint ? 'local-emulator' : undefined),
      ...(sa ? { credentials: sa as never } : {}),
      ...(opts.endpoint ? { apiEndpoint: opts.endpoint.replace(/\/+$/, '') } : {}),
      // Kept, as S3's maxAttempts (see s3.ts): a request retried within seconds under the job's own policy.
      retryOptions: { autoRetry: (opts.maxRetries ?? 2) > 0, maxRetries: opts.maxRetries ?? 2, retryDelayMultiplier: 2, totalTimeout: 120 },
    });
    this.bucket = this.client.bucket(opts.bucket);
  }

  async put(key: string, filePath: string, contentType: string, onProgress?: ProgressListener, options: PutOptions = {}): Promise<PutResult> {
    assertSafeKey(key);
    let total: number;
    try {
      total = (await fsp.stat(filePath)).size;
    } catch (err) {
      throw new AppError('UPLOAD_FAILED', `gcp storage put "${key}": cannot read ${filePath}: ${(err as Error).message}`, { cause: err });
    }
    const file = this.bucket.file(key);
    const write = file.createWriteStream({
      resumable: true,
      contentType,
      metadata: { contentType, ...(options.metadata ? { metadata: options.metadata } : {}) },
      ...(this.chunkSize ? { chunkSize: this.chunkSize } : {}),
    });
    // Count bytes as they leave the file (the 'progress' event of the upload reports sent bytes).
    let lastReport = 0;
    write.on('progress', (p: { bytesWritten?: number }) => {
      const now = Date.now();
      if (onProgress && p.bytesWritten !== undefined && (now - lastReport > 200 || p.bytesWritten >= total)) {
        lastReport = now;
        onProgress({ loaded: Math.min(p.bytesWritten, total), total });
      }
    });
    try {
      await pipeline(fs.createReadStream(filePath, { highWaterMark: 1024 * 1024 }), new PassThrough(), write, { signal: options.signal });
    } catch (err) {
      if (options.signal?.aborted) throw new AppError('JOB_ABORTED', `gcp storage put "${key}" aborted`, { cause: err });
      throw toStorageError(this.provider, 'put', key, err);
    }
    onProgress?.({ loaded: total, total });
    return { key, size: total, url: await this.signedUrl(key).catch(() => undefined) };
  }

  async putBytes(key: string, data: Uint8Array, contentType: string): Promise<void> {
    assertSafeKey(key);
    try {
      await this.bucket.file(key).save(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { resumable: false, contentType });
    } catch (err) {
      throw toStorageError(this.provider, 'put', key, err);
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    try {
      await this.bucket.file(key).delete({ ignoreNotFound: true });
    } catch (err) {
      if (isNotFound(err)) return;
      throw toStorageError(this.provider, 'delete', key, err);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const objects = await this.list(prefix);
    const queue = [...objects];
    const workers = Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let o = queue.shift(); o; o = queue.shift()) await this.delete(o.key);
    });
    await Promise.all(workers);
    return objects.length;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    try {
      const [files] = await this.bucket.getFiles({ prefix, autoPaginate: true });
      return files.map((f) => ({
        key: f.name,
        size: Number(f.metadata.size ?? 0),
        contentType: f.metadata.contentType,
        lastModified: f.metadata.updated ? new Date(f.metadata.updated) : undefined,
      }));
    } catch (err) {
      throw toStorageError(this.provider, 'list', prefix, err);
    }
  }

  /** V4 signed URL; needs credentials with client_email and private_key (a dummy key works with an emulator). */
  async signedUrl(key: string, seconds = this.signedUrlSeconds): Promise<string> {
    assertSafeKey(key);
    try {
      const [url] = await this.bucket.file(key).getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + seconds * 1000 });
      return url;
    } catch (err) {
      if (err instanceof Error && /client_email|private_key|sign/i.test(err.message) && !(err as { code?: unknown }).code) {
        throw new AppError('CONFIG_INVALID', `gcp storage: signed URLs need service-account credentials with a private key (${err.message})`, { cause: err });
      }
      throw toStorageError(this.provider, 'signedUrl', key, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertSafeKey(key);
    try {
      const [m] = await this.bucket.file(key).getMetadata();
      return { key, size: Number(m.size ?? 0), contentType: m.contentType, lastModified: m.updated ? new Date(m.updated) : undefined };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw toStorageError(this.provider, 'head', key, err);
    }
  }

  async createReadStream(key: string, range?: ByteRange): Promise<Readable> {
    const info = await this.head(key);
    if (!info) throw new AppError('NOT_FOUND', `gcp storage: "${key}" not found`);
    const src = this.bucket.file(key).createReadStream(range ? { start: range.start, end: range.end, validation: false } : {});
    // re-wrap so errors carry our codes
    const out = new Transform({ transform: (c, _e, cb) => cb(null, c) });
    src.on('error', (err) => out.destroy(toStorageError(this.provider, 'get', key, err)));
    return src.pipe(out);
  }

  async checkHealth(): Promise<StorageHealth> {
    const t0 = Date.now();
    try {
      await this.bucket.getMetadata();
      return { ok: true, provider: this.provider, latencyMs: Date.now() - t0 };
    } catch (err) {
      const e = toStorageError(this.provider, 'checkHealth', this.bucket.name, err);
      return { ok: false, provider: this.provider, latencyMs: Date.now() - t0, detail: `${e.code}: ${e.message}` };
    }
  }

  async close(): Promise<void> {}
}
