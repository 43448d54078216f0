import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors';
import { isRunning, selfIdentity, type ProcessIdentity } from '../observability/process-identity';

/**
 * One process at a time in an embedded database directory: two PGlite instances writing
 * the same files corrupt them. `<dir>/recorder.lock` names the owner (pid and start time);
 * a second process is refused with CONFIG_INVALID naming the directory, and a lock whose
 * owner is dead (a crash, a SIGKILL) is taken over.
 */
export const LOCK_FILE = 'recorder.lock';

const Owner = z.object({ pid: z.number().int().positive(), startTicks: z.number().optional() });

export interface DirLock {
  release(): void;
}

export function lockDir(dir: string): DirLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const me = selfIdentity();
  const body = JSON.stringify(me);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, body, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new AppError('CONFIG_INVALID', `cannot lock the embedded database directory ${dir} (PGLITE_DIR): ${(err as Error).message}`, { cause: err });
      }
    }
    const owner = readOwner(file);
    if (owner && isRunning(owner)) {
      throw new AppError(
        'CONFIG_INVALID',
        `the embedded database ${dir} is in use by process ${owner.pid}: one process per PGLITE_DIR (stop it, or set PGLITE_DIR to another directory, or use DATABASE_URL to share a database)`,
      );
    }
    // a dead owner's lock (or a torn one); a second failure means another process took it first
    if (attempt > 0) throw new AppError('CONFIG_INVALID', `the embedded database ${dir} was locked by another process starting at the same time`);
    fs.rmSync(file, { force: true });
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // only our own lock: never one a successor took over
      if (readOwner(file)?.pid === me.pid) fs.rmSync(file, { force: true });
    },
  };
}

function readOwner(file: string): ProcessIdentity | undefined {
  try {
    const parsed = Owner.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
