import fs from 'node:fs/promises';
import { spoolPrefix } from '../storage/keys';
import type { Logger } from './logger';
import { FileMirror, storedSpoolPrefix, StoredSpool, type SpoolStore } from './stored-spool';
import { copyRun, storedRun } from './stored-spool-read';
import { trackDirOf, trackIndexPathOf, trackSpoolPathOf } from './track-spools';

/**
 * The per-participant tracks' spools stored as the call goes on, beside the composite's
 * (stored-spool.ts): each track's spool as a spool of its own (`track-<n>`), acked once
 * stored like the composite's chunks, and the tracks' index as lines (`track-index`). A worker
 * that finishes a lost machine's recording brings them back (fetchStoredTracks), so its
 * tracks are made as the composite is: from everything acked.
 */

export const TRACK_INDEX_SPOOL = 'track-index';
const trackSpoolName = (n: number) => `track-${n}`;
const TRACK_SPOOL_NAME = /^track-([1-9][0-9]{0,2})\/$/;

export class StoredTracks {
  private readonly index: FileMirror;
  private indexUpload: Promise<void> = Promise.resolve();
  private readonly spools: StoredSpool[] = [];

  constructor(
    private readonly store: SpoolStore,
    private readonly at: { callId: string; recordingId: string },
    dir: string,
    private readonly log: Logger,
  ) {
    this.index = new FileMirror(store.storage, storedSpoolPrefix(store, at.callId, at.recordingId, TRACK_INDEX_SPOOL), trackIndexPathOf(dir), 'jsonl');
  }

  /** The stored mirror of track `n`'s spool at `path`. */
  forTrack(n: number, path: string): StoredSpool {
    const spool = new StoredSpool(this.store, { ...this.at, name: trackSpoolName(n) }, path, undefined, this.log.child({ track: n }));
    this.spools.push(spool);
    return spool;
  }

  /** A line was added to the index: stored after the ones before it. */
  indexWritten(): void {
    this.indexUpload = this.indexUpload.then(() => this.index.uploadLines()).catch((err: Error) => this.log.warn({ err: err.message }, 'track index not stored'));
  }

  /** A start that never recorded: what of its tracks was stored goes (their spools and the index). */
  async remove(): Promise<void> {
    await Promise.all(this.spools.map((s) => s.remove()));
    await this.indexUpload;
    await this.store.storage.deletePrefix(this.index.keyPrefix).catch((err: Error) => this.log.warn({ err: err.message }, 'stored track index not removed'));
  }

  /** Waits at most `ms` for each track's chunks not stored yet, then for the index. */
  async close(ms: number): Promise<void> {
    await Promise.all(this.spools.map((s) => s.close(ms)));
    this.indexWritten();
    await this.indexUpload;
  }
}

/**
 * Brings recording `at`'s stored track spools and index into `spoolDir`'s tracks directory,
 * each where the stored one is longer than what is here (this machine may have none of it).
 */
export async function fetchStoredTracks(spoolDir: string, at: { callId: string; recordingId: string }, store: SpoolStore): Promise<void> {
  const prefix = spoolPrefix(store.prefix, at.callId, at.recordingId);
  const tracks = new Set<number>();
  for (const o of await store.storage.list(prefix)) {
    const m = TRACK_SPOOL_NAME.exec(o.key.slice(prefix.length).replace(/[^/]*$/, ''));
    if (m) tracks.add(Number(m[1]));
  }
  const dir = trackDirOf(spoolDir, at.recordingId);
  const index = await storedRun(store, { ...at, name: TRACK_INDEX_SPOOL });
  if (tracks.size === 0 && index.keys.length === 0) return;
  await fs.mkdir(dir, { recursive: true });
  const size = (file: string) => fs.stat(file).then((s) => s.size, () => 0);
  if (index.bytes > (await size(trackIndexPathOf(dir)))) await copyRun(store, index, trackIndexPathOf(dir));
  for (const n of tracks) {
    const run = await storedRun(store, { ...at, name: trackSpoolName(n) });
    const file = trackSpoolPathOf(dir, n);
    if (run.bytes > (await size(file))) await copyRun(store, run, file);
  }
}
