import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListMultipartUploadsCommandOutput,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError } from '../errors';
import { parseAwsCredentials } from './credentials';
import { httpStatusOf, isNotFound, toStorageError } from './errors';
import { assertSafeKey } from './keys';
import type { ByteRange, ObjectInfo, ProgressListener, PutOptions, PutResult, Storage, StorageHealth } from './types';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** RECORDING_STORAGE_CREDENTIALS as given (JSON or "key:secret"); undefined = default chain. */
  credentials?: string;
  /** S3-compatible endpoint (moto, MinIO, R2...); path-style addressing is used with it. */
  endpoint?: string;
  signedUrlSeconds?: number;
  /** Multipart part size in bytes (min 5 MiB); memory use is about partSize * queueSize. */
  partSize?: number;
  /** Parts sent in parallel. */
  queueSize?: number;
  /** SDK attempts per request before an error surfaces (the job queue retries on top). */
  maxAttempts?: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;

/** AWS S3 or an S3-compatible store; uploads are streamed multipart uploads (lib-storage). */
export class S3Storage implements Storage {
  readonly provider = 'aws' as const;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly signedUrlSeconds: number;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(opts: S3StorageOptions) {
    this.bucket = opts.bucket;
    this.signedUrlSeconds = opts.signedUrlSeconds ?? 900;
    this.partSize = Math.max(opts.partSize ?? S3_MIN_PART_SIZE, S3_MIN_PART_SIZE);
    this.queueSize = Math.max(1, opts.queueSize ?? 4);
    const credentials = parseAwsCredentials(opts.credentials);
    this.client = new S3Client({
      region: opts.region,
      ...(credentials ? { credentials } : {}),
      ...(opts.endpoint
        ? {
            endpoint: opts.endpoint,
            forcePathStyle: true,
            // S3-compatible stores vary in their support of the newer default checksums.
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }
        : {}),
      // Kept on purpose under recordings/failure-policy.ts: the SDK retries one request (a part of
      // a multipart upload) within seconds, so a blip does not cost the whole attempt
      // (remux, thumbnails and upload again after a 30 s backoff); the policy outlasts outages.
      maxAttempts: opts.maxAttempts ?? 3,
      // options of the SDK's own Node HTTP handler
      requestHandler: {
        connectionTimeout: opts.connectTimeoutMs ?? 5000,
        requestTimeout: opts.requestTimeoutMs ?? 120000,
      },
    });
  }

  async put(key: string, filePath: string, contentType: string, onProgress?: ProgressListener, options: PutOptions = {}): Promise<PutResult> {
    assertSafeKey(key);
    let total: number;
    try {
      total = (await fsp.stat(filePath)).size;
    } catch (err) {
      throw new AppError('UPLOAD_FAILED', `aws storage put "${key}": cannot read ${filePath}: ${(err as Error).message}`, { cause: err });
    }
    if (options.signal?.aborted) throw new AppError('JOB_ABORTED', `aws storage put "${key}" aborted`);
    const body = fs.createReadStream(filePath, { highWaterMark: 1024 * 1024 });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, Metadata: options.metadata },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false, // a failed multipart upload is aborted, leaving no parts behind
    });
    if (onProgress) upload.on('httpUploadProgress', (p) => onProgress({ loaded: p.loaded ?? 0, total }));
    const onAbort = () => void upload.abort().catch(() => undefined);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (err) {
      if (options.signal?.aborted) throw new AppError('JOB_ABORTED', `aws storage put "${key}" aborted`, { cause: err });
      throw toStorageError(this.provider, 'put', key, err);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      body.destroy();
    }
    return { key, size: total, url: await this.signedUrl(key) };
  }

  async putBytes(key: string, data: Uint8Array, contentType: string): Promise<void> {
    assertSafeKey(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: data, ContentType: contentType }));
    } catch (err) {
      throw toStorageError(this.provider, 'put', key, err);
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw toStorageError(this.provider, 'delete', key, err);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const objects = await this.list(prefix);
    let deleted = 0;
    for (let i = 0; i < objects.length; i += 1000) {
      const batch = objects.slice(i, i + 1000);
      try {
        const out = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((o) => ({ Key: o.key })), Quiet: true } }),
        );
        if (out.Errors?.length) {
          const first = out.Errors[0];
          throw new AppError('STORAGE_REJECTED', `aws storage deletePrefix "${prefix}": ${out.Errors.length} objects not deleted (${first.Key}: ${first.Code} ${first.Message})`);
        }
      } catch (err) {
        throw toStorageError(this.provider, 'deletePrefix', prefix, err);
      }
      deleted += batch.length;
    }
    await this.abortUploads(prefix);
    return deleted;
  }

  /**
   * Aborts the unfinished multipart uploads under `prefix`: a process killed in the middle of
   * an upload leaves its parts stored (and billed), invisible to list().
   */
  private async abortUploads(prefix: string): Promise<void> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId) continue;
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId })).catch((err: unknown) => {
            if (!isNotFound(err)) throw err; // finished or aborted meanwhile
          });
        }
      } catch (err) {
        // a policy without s3:ListBucketMultipartUploads: the objects are gone, a lifecycle rule gets the parts
        if (httpStatusOf(err) === 403) return;
        throw toStorageError(this.provider, 'deletePrefix', prefix, err);
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      } catch (err) {
        throw toStorageError(this.provider, 'list', prefix, err);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async signedUrl(key: string, seconds = this.signedUrlSeconds): Promise<string> {
    assertSafeKey(key);
    try {
      return await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: seconds });
    } catch (err) {
      throw toStorageError(this.provider, 'signedUrl', key, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertSafeKey(key);
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: h.ContentLength ?? 0, contentType: h.ContentType, lastModified: h.LastModified };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw toStorageError(this.provider, 'head', key, err);
    }
  }

  async createReadStream(key: string, range?: ByteRange): Promise<Readable> {
    assertSafeKey(key);
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined }),
      );
      return out.Body as Readable;
    } catch (err) {
      throw toStorageError(this.provider, 'get', key, err);
    }
  }

  async checkHealth(): Promise<StorageHealth> {
    const t0 = Date.now();
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return { ok: true, provider: this.provider, latencyMs: Date.now() - t0 };
    } catch (err) {
      const e = toStorageError(this.provider, 'checkHealth', this.bucket, err);
      return { ok: false, provider: this.provider, latencyMs: Date.now() - t0, detail: `${e.code}: ${e.message}` };
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
