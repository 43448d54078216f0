import fsp from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';

export interface FreeSpace {
  dir: string;
  freeMb: number;
  totalMb: number;
}

/** Free space of the file system holding `dir` (or its nearest existing parent). */
async function freeSpace(dir: string): Promise<FreeSpace> {
  let d = path.resolve(dir);
  for (;;) {
    try {
      const s = await fsp.statfs(d);
      return { dir: d, freeMb: Math.floor((s.bavail * s.bsize) / (1024 * 1024)), totalMb: Math.floor((s.blocks * s.bsize) / (1024 * 1024)) };
    } catch (err) {
      const parent = path.dirname(d);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === d) throw err;
      d = parent;
    }
  }
}

/** Throws DISK_FULL when fewer than `minMb` MiB are free for unprivileged writers below `dir`. */
export async function checkFreeSpace(dir: string, minMb: number): Promise<FreeSpace> {
  const fs = await freeSpace(dir);
  if (fs.freeMb < minMb) {
    throw new AppError('DISK_FULL', `not enough disk space in ${dir}: ${fs.freeMb} MiB free, at least ${minMb} MiB needed`, {
      details: { dir, freeMb: fs.freeMb, minMb },
    });
  }
  return fs;
}
