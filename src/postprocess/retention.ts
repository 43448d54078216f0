import fsp from 'node:fs/promises';
import path from 'node:path';
import { recordingPrefix } from '../storage/keys';
import type { Storage } from '../storage/types';

export interface RecordingRef {
  callId: string;
  recordingId: string;
  /** Local files of the recording still on this machine (spool, unfinished output). */
  localPaths?: string[];
}

export interface DeleteRecordingResult {
  objects: number;
  localFiles: number;
}

/** Removes every stored object of a recording (video, thumbnails, poster) and its local files. */
export async function deleteRecordingFiles(storage: Storage, prefix: string, ref: RecordingRef): Promise<DeleteRecordingResult> {
  const objects = await storage.deletePrefix(recordingPrefix(prefix, ref.callId, ref.recordingId));
  let localFiles = 0;
  for (const p of ref.localPaths ?? []) {
    const st = await fsp.stat(p).catch(() => null);
    if (!st) continue;
    await fsp.rm(p, { recursive: true, force: true });
    localFiles++;
  }
  return { objects, localFiles };
}

/**
 * Removes entries of a spool/temp directory not modified for `olderThanMs` (leftovers of
 * crashed jobs). Entries named in `keep` (absolute paths) are left alone. Returns the paths removed.
 */
export async function cleanupDir(dir: string, olderThanMs: number, opts: { keep?: string[]; now?: number } = {}): Promise<string[]> {
  const now = opts.now ?? Date.now();
  const keep = new Set((opts.keep ?? []).map((p) => path.resolve(p)));
  let entries: string[];
  try {
    entries = await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of entries) {
    const p = path.resolve(dir, name);
    if (keep.has(p)) continue;
    const st = await fsp.lstat(p).catch(() => null);
    if (!st) continue;
    // a directory counts as fresh if anything inside was touched recently
    const newest = st.isDirectory() ? await newestMtime(p) : st.mtimeMs;
    if (now - newest >= olderThanMs) {
      await fsp.rm(p, { recursive: true, force: true });
      removed.push(p);
    }
  }
  return removed;
}

async function newestMtime(dir: string): Promise<number> {
  let newest = (await fsp.lstat(dir)).mtimeMs;
  for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    const m = e.isDirectory() ? await newestMtime(p) : (await fsp.lstat(p).catch(() => null))?.mtimeMs ?? 0;
    if (m > newest) newest = m;
  }
  return newest;
}
