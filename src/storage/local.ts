import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors';
import { contentTypeOf } from '../recordings/formats';
import { assertSafeKey } from './keys';
import type { ByteRange, ObjectInfo, ProgressListener, PutOptions, PutResult, Storage, StorageHealth } from './types';

export interface LocalStorageOptions {
  /** Root directory; keys are paths below it. */
  dir: string;
  /** Default lifetime of signed URLs. */
  signedUrlSeconds?: number;
  /** Secret of the HMAC in signed URLs; random per process when not given. */
  signingSecret?: string | Buffer;
  /** Where the API serves local files, e.g. "http://127.0.0.1:8080/files"; default "/files". */
  baseUrl?: string;
}

/**
 * Files on the local disk (the default, and embedded mode). Writes go to a temporary
 * name and are renamed into place, so a reader never sees half a file. Signed URLs are
 * HMAC-signed paths below `baseUrl` that the HTTP layer checks with `verifySignedUrl`.
 */
export class LocalStorage implements Storage {
  readonly provider = 'local' as const;
  readonly dir: string;
  private readonly secret: Buffer;
  private readonly baseUrl: string;
  private readonly signedUrlSeconds: number;

  constructor(opts: LocalStorageOptions) {
    this.dir = path.resolve(opts.dir);
    this.secret = opts.signingSecret ? Buffer.from(opts.signingSecret) : crypto.randomBytes(32);
    this.baseUrl = (opts.baseUrl ?? '/files').replace(/\/+$/, '');
    this.signedUrlSeconds = opts.signedUrlSeconds ?? 900;
  }

  /** Absolute path of a key, guaranteed inside `dir`. */
  pathOf(key: string): string {
    assertSafeKey(key);
    const p = path.resolve(this.dir, key);
    if (!p.startsWith(this.dir + path.sep)) throw new AppError('VALIDATION_ERROR', `storage key "${key}" escapes the storage directory`);
    return p;
  }

  async put(key: string, filePath: string, contentType: string, onProgress?: ProgressListener, options: PutOptions = {}): Promise<PutResult> {
    const dest = this.pathOf(key);
    let total: number;
    try {
      total = (await fsp.stat(filePath)).size;
    } catch (err) {
      throw new AppError('UPLOAD_FAILED', `local storage put "${key}": cannot read ${filePath}: ${(err as Error).message}`, { cause: err });
    }
    const tmp = `${dest}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.part`;
    try {
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      let loaded = 0;
      let lastReport = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          loaded += chunk.length;
          const now = Date.now();
          if (onProgress && (now - lastReport > 200 || loaded === total)) {
            lastReport = now;
            onProgress({ loaded, total });
          }
          cb(null, chunk);
        },
      });
      await pipeline(fs.createReadStream(filePath), meter, fs.createWriteStream(tmp), { signal: options.signal });
      if (onProgress && loaded !== total) onProgress({ loaded, total });
      await fsp.rename(tmp, dest);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') throw new AppError('DISK_FULL', `local storage put "${key}": disk full in ${this.dir}`, { cause: err });
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new AppError('STORAGE_REJECTED', `local storage put "${key}": ${this.dir} is not writable (${code})`, { cause: err });
      }
      if ((err as Error).name === 'AbortError') throw new AppError('JOB_ABORTED', `local storage put "${key}" aborted`, { cause: err });
      throw new AppError('UPLOAD_FAILED', `local storage put "${key}": ${(err as Error).message}`, { cause: err });
    }
    return { key, size: total, url: await this.signedUrl(key) };
  }

  async putBytes(key: string, data: Uint8Array, _contentType: string): Promise<void> {
    const dest = this.pathOf(key);
    const tmp = `${dest}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.part`;
    try {
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await fsp.writeFile(tmp, data);
      await fsp.rename(tmp, dest);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw new AppError('UPLOAD_FAILED', `local storage put "${key}": ${(err as Error).message}`, { cause: err });
    }
  }

  async delete(key: string): Promise<void> {
    const p = this.pathOf(key);
    await fsp.rm(p, { force: true });
    await this.pruneEmptyDirs(path.dirname(p));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const objects = await this.list(prefix);
    for (const o of objects) await fsp.rm(this.pathOf(o.key), { force: true });
    // remove the directory of a directory-shaped prefix, and empty parents
    if (prefix.endsWith('/')) {
      const dir = this.pathOf(prefix.replace(/\/+$/, ''));
      await fsp.rm(dir, { recursive: true, force: true });
      await this.pruneEmptyDirs(path.dirname(dir));
    } else if (objects.length) {
      await this.pruneEmptyDirs(path.dirname(this.pathOf(objects[0].key)));
    }
    return objects.length;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    // Walk from the deepest directory the prefix names, then filter by the full prefix.
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = dirPart ? this.pathOf(dirPart) : this.dir;
    const out: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw err;
      }
      for (const e of entries) {
        const abs = path.join(dir, e.name);
        if (e.isDirectory()) await walk(abs);
        else if (e.isFile() && !e.name.endsWith('.part')) {
          const key = path.relative(this.dir, abs).split(path.sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const st = await fsp.stat(abs);
          out.push({ key, size: st.size, lastModified: st.mtime, contentType: contentTypeOf(key) });
        }
      }
    };
    await walk(start);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async signedUrl(key: string, seconds = this.signedUrlSeconds): Promise<string> {
    assertSafeKey(key);
    const expires = Math.floor(Date.now() / 1000) + seconds;
    const encoded = key.split('/').map(encodeURIComponent).join('/');
    return `${this.baseUrl}/${encoded}?expires=${expires}&signature=${this.sign(key, expires)}`;
  }

  /** Checks a signature made by `signedUrl` (for the HTTP layer serving local files). */
  verifySignedUrl(key: string, expires: number | string, signature: string): boolean {
    const exp = Number(expires);
    if (!Number.isFinite(exp) || exp * 1000 < Date.now()) return false;
    const expected = Buffer.from(this.sign(key, exp));
    const given = Buffer.from(String(signature));
    return expected.length === given.length && crypto.timingSafeEqual(expected, given);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const st = await fsp.stat(this.pathOf(key));
      if (!st.isFile()) return null;
      return { key, size: st.size, lastModified: st.mtime, contentType: contentTypeOf(key) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw err;
    }
  }

  async createReadStream(key: string, range?: ByteRange): Promise<Readable> {
    const info = await this.head(key);
    if (!info) throw new AppError('NOT_FOUND', `local storage: "${key}" not found`);
    if (range) {
      const end = range.end ?? info.size - 1;
      if (range.start < 0 || range.start >= info.size || end < range.start) {
        throw new AppError('VALIDATION_ERROR', `range ${range.start}-${range.end ?? ''} not satisfiable for "${key}" of ${info.size} bytes`, {
          details: { size: info.size, rangeNotSatisfiable: true },
        });
      }
      return fs.createReadStream(this.pathOf(key), { start: range.start, end: Math.min(end, info.size - 1) });
    }
    return fs.createReadStream(this.pathOf(key));
  }

  async checkHealth(): Promise<StorageHealth> {
    const t0 = Date.now();
    try {
      await fsp.mkdir(this.dir, { recursive: true });
      const probe = path.join(this.dir, `.health-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
      await fsp.writeFile(probe, 'ok');
      await fsp.rm(probe, { force: true });
      return { ok: true, provider: this.provider, latencyMs: Date.now() - t0 };
    } catch (err) {
      return { ok: false, provider: this.provider, latencyMs: Date.now() - t0, detail: `${this.dir}: ${(err as Error).message}` };
    }
  }

  async close(): Promise<void> {}

  private sign(key: string, expires: number): string {
    return crypto.createHmac('sha256', this.secret).update(`${key}\n${expires}`).digest('base64url');
  }

  private async pruneEmptyDirs(dir: string): Promise<void> {
    for (let d = dir; d.startsWith(this.dir + path.sep); d = path.dirname(d)) {
      try {
        await fsp.rmdir(d);
      } catch {
        return; // not empty (or gone): stop climbing
      }
    }
  }
}
