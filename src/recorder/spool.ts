import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';

/**
 * The raw MediaRecorder stream, appended chunk by chunk before anything else sees it.
 * Concatenated in order the chunks are a valid WebM file, so whatever happens to FFmpeg
 * or the worker, what reached the spool can be remuxed later.
 */
export class SpoolFile {
  private handle?: fs.FileHandle;
  private chain: Promise<void> = Promise.resolve();
  bytes = 0;
  chunks = 0;

  private constructor(readonly path: string) {}

  /** A new spool for recording `id`; refuses to reuse an existing file. */
  static async create(dir: string, id: string): Promise<SpoolFile> {
    await fs.mkdir(dir, { recursive: true });
    return SpoolFile.open(spoolPathOf(dir, id), 'wx');
  }

  static async open(file: string, flags: 'wx' | 'w' | 'a'): Promise<SpoolFile> {
    const spool = new SpoolFile(file);
    spool.handle = await fs.open(file, flags);
    return spool;
  }

  /** Appends in call order; resolves once the bytes are written (not merely queued). */
  append(data: Uint8Array): Promise<void> {
    const write = this.chain.then(async () => {
      if (!this.handle) throw new AppError('INTERNAL', 'spool is closed');
      try {
        await this.handle.write(data);
      } catch (err) {
        throw spoolWriteError(err, this.path);
      }
      this.bytes += data.byteLength;
      this.chunks++;
    });
    // a failed write fails every later one too: the file would have a hole
    this.chain = write;
    return write;
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    const handle = this.handle;
    this.handle = undefined;
    if (handle) {
      await handle.sync().catch(() => undefined);
      await handle.close();
    }
  }
}

/** Where recording `id`'s raw MediaRecorder stream is spooled. */
export function spoolPathOf(spoolDir: string, id: string): string {
  return path.join(spoolDir, `${id}.webm`);
}

export function spoolWriteError(err: unknown, file: string): AppError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new AppError('DISK_FULL', `disk full while writing ${file}: free space on that disk or set RECORDING_OUTPUT_DIR`, { cause: err });
  }
  return new AppError('INTERNAL', `cannot write ${file}: ${(err as Error).message}`, { cause: err });
}
