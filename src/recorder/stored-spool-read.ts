import fs from 'node:fs/promises';
import { SEGMENT_NAME, storedSpoolPrefix, type SpoolStore } from './stored-spool';

/** The objects of a stored spool that follow on from byte 0 without a hole, in order. */
export interface StoredRun {
  keys: string[];
  bytes: number;
}

/**
 * What is stored of the spool `name` of a recording (stored-spool.ts): the chain of byte
 * ranges from 0. An object after a hole (a put that failed while a later one got through
 * cannot happen, one being in flight at a time; a stray object can) ends the chain.
 */
export async function storedRun(store: SpoolStore, at: { callId: string; recordingId: string; name: string }): Promise<StoredRun> {
  const prefix = storedSpoolPrefix(store, at.callId, at.recordingId, at.name);
  const segments = (await store.storage.list(prefix))
    .map((o) => ({ key: o.key, m: SEGMENT_NAME.exec(o.key.slice(prefix.length)) }))
    .flatMap(({ key, m }) => (m ? [{ key, start: Number(m[1]), end: Number(m[2]) }] : []))
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const run: StoredRun = { keys: [], bytes: 0 };
  for (const s of segments) {
    if (s.start !== run.bytes || s.end <= s.start) continue;
    run.keys.push(s.key);
    run.bytes = s.end;
  }
  return run;
}

/** Writes the run's objects one after another into `dest` (replaced); returns the bytes written. */
export async function copyRun(store: SpoolStore, run: StoredRun, dest: string): Promise<number> {
  const out = await fs.open(dest, 'w');
  let bytes = 0;
  try {
    for (const key of run.keys) {
      for await (const chunk of await store.storage.createReadStream(key)) {
        await out.write(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    }
  } finally {
    await out.close();
  }
  return bytes;
}
