import fs from 'node:fs/promises';
import { spoolPrefix } from '../storage/keys';
import type { Storage, StorageProvider } from '../storage/types';
import type { RecordingRequest } from '../recordings/contract';
import type { Logger } from './logger';
import { timelinePathOf } from './timeline-log';

/**
 * The spool mirrored in object storage while the call goes on, so that another worker can
 * finish a recording whose machine was lost (salvage.ts, stored-spool-read.ts).
 *
 * The local spool file stays the first copy: each chunk is appended there, then the bytes
 * not yet stored are put as one object named by its byte range in the file,
 * `spool/<name>/<start>-<end>.webm` (12 digits each, so a listing sorts in file order and a
 * hole shows). Numbered objects rather than one multipart upload: S3 parts must be 5 MB but
 * the last (minutes of media), a multipart upload is unreadable until completed (a lost
 * machine never completes it), and GCS has no such upload; a put per segment works on both.
 * One put is in flight at a time; chunks that arrive meanwhile go together in the next one,
 * so a slow store means fewer, larger objects, never a queue of requests.
 *
 * The page's ack waits for its chunk to be stored (`whenStored`), so what a lost machine
 * costs is what the page had not yet handed over: the timeslice being recorded and the
 * chunk in flight. When the store fails, or a put takes longer than `ackTimeoutMs`, the ack
 * falls back to the local spool (the recording never waits on the store): until the
 * uploads have caught up again, what is not stored yet is lost with the machine. The
 * uploads go on from the local file every `retryMs`, so nothing is skipped once it is back.
 */

/** Where stored spools go: the recording's storage (S3 or GCS; local storage is no other machine's). */
export interface SpoolStore {
  storage: Storage;
  prefix: string;
}

export interface StoredSpoolTuning {
  /** The longest a chunk's ack waits for its put; then it is acked from the local spool. */
  ackTimeoutMs: number;
  /** After a failed put, the next try (of everything not stored yet). */
  retryMs: number;
  /** The most bytes one object holds (a store that was down is caught up in objects this big). */
  maxSegmentBytes: number;
}

export const DEFAULT_STORED_SPOOL_TUNING: StoredSpoolTuning = { ackTimeoutMs: 2000, retryMs: 2000, maxSegmentBytes: 8 * 1024 * 1024 };

/** At a recording's end, the longest the last chunks' puts are waited for (a store that is down is not): the composite's and its tracks'. */
export const STORED_SPOOL_FLUSH_MS = 2000;

/** The composite's spool and the page's timeline log; per-track spools take names of their own. */
export const MEDIA_SPOOL = 'media';
export const TIMELINE_SPOOL = 'timeline';

/** True when the provider is another machine's reach: a spool stored there survives this one. */
export function storesSpoolOn(provider: StorageProvider): boolean {
  return provider !== 'local';
}

export function storesSpool(store: SpoolStore | undefined): store is SpoolStore {
  return store !== undefined && storesSpoolOn(store.storage.provider);
}

/** The prefix of one spool (`name`) of a recording. */
export function storedSpoolPrefix(store: SpoolStore, callId: string, recordingId: string, name: string): string {
  return `${spoolPrefix(store.prefix, callId, recordingId)}${name}/`;
}

/** The stored mirror of `req`'s spool at `localPath` (and timeline log), when `deps.hls` is S3 or GCS and the recording has a call. */
export function openStoredSpool(deps: { hls?: SpoolStore; spoolDir: string; log: Logger }, req: RecordingRequest, localPath: string): StoredSpool | undefined {
  if (!storesSpool(deps.hls) || !req.callId) return undefined;
  // a custom layout page says nothing of speakers or chat: it has no timeline log
  const timeline = req.options.customLayoutUrl ? undefined : timelinePathOf(deps.spoolDir, req.id);
  return new StoredSpool(deps.hls, { callId: req.callId, recordingId: req.id, name: MEDIA_SPOOL }, localPath, timeline, deps.log);
}

/** After COMPLETED (the file is stored): the recording's stored spools go, as the local one does. */
export async function removeStoredSpool(store: SpoolStore, callId: string, recordingId: string): Promise<void> {
  if (storesSpool(store)) await store.storage.deletePrefix(spoolPrefix(store.prefix, callId, recordingId));
}

const pad = (n: number) => String(n).padStart(12, '0');
export const SEGMENT_NAME = /^(\d{12})-(\d{12})\.(webm|jsonl)$/;

/** One local append-only file, stored as objects of byte ranges. */
export class FileMirror {
  stored = 0;

  constructor(
    private readonly storage: Storage,
    readonly keyPrefix: string,
    private readonly path: string,
    private readonly ext: 'webm' | 'jsonl',
  ) {}

  /** Puts bytes [stored, upTo) of the file as one object. */
  async upload(upTo: number): Promise<void> {
    if (upTo <= this.stored) return;
    const data = await readRange(this.path, this.stored, upTo);
    const type = this.ext === 'webm' ? 'video/webm' : 'application/x-ndjson';
    await this.storage.putBytes(`${this.keyPrefix}${pad(this.stored)}-${pad(this.stored + data.byteLength)}.${this.ext}`, data, type);
    this.stored += data.byteLength;
  }

  /** Puts the complete lines written since the last call (a line being written waits). */
  async uploadLines(): Promise<void> {
    const size = await fs.stat(this.path).then((st) => st.size, () => 0);
    if (size <= this.stored) return;
    const tail = await readRange(this.path, this.stored, size);
    const end = tail.lastIndexOf(0x0a);
    if (end >= 0) await this.upload(this.stored + end + 1);
  }
}

async function readRange(file: string, start: number, end: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(end - start);
    const { bytesRead } = await handle.read(buf, 0, buf.length, start);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

interface Waiter {
  index: number;
  release: () => void;
  /** An ack's wait, which a failing store ends at once (close() waits on). */
  ack?: boolean;
}

/** The stored mirror of one recording's spool (and its timeline log), fed chunk by chunk. */
export class StoredSpool {
  private readonly ends: number[] = [];
  private readonly appendedAt: number[] = [];
  private waiters: Waiter[] = [];
  private storedChunks = 0;
  private pumping = false;
  private pump?: Promise<void>;
  private cleared = false;
  private degraded = false;
  private closed = false;
  private wake?: () => void;
  private readonly media: FileMirror;
  private readonly timeline?: FileMirror;
  /** Per chunk, ms from its local write to its object being stored (the ack's added wait). */
  readonly storeMs: number[] = [];

  /** `at`: the recording's call and id; `name` names this spool among the recording's (MEDIA_SPOOL, a track's). */
  constructor(
    private readonly store: SpoolStore,
    at: { callId: string; recordingId: string; name: string },
    localPath: string,
    timelinePath: string | undefined,
    private readonly log: Logger,
    private readonly tuning: StoredSpoolTuning = DEFAULT_STORED_SPOOL_TUNING,
  ) {
    const prefixOf = (name: string) => storedSpoolPrefix(store, at.callId, at.recordingId, name);
    this.media = new FileMirror(store.storage, prefixOf(at.name), localPath, 'webm');
    if (timelinePath) this.timeline = new FileMirror(store.storage, prefixOf(TIMELINE_SPOOL), timelinePath, 'jsonl');
  }

  /** Chunk number `ends.length` was written to the local spool, which is now `byteEnd` long. */
  appended(byteEnd: number): void {
    this.ends.push(byteEnd);
    this.appendedAt.push(Date.now());
    this.kick();
  }

  /**
   * Resolves once chunk `index` and every one before it are stored; at once while the store
   * is failing, and after `ackTimeoutMs` at the latest (the ack then falls back to the local spool).
   */
  whenStored(index: number): Promise<void> {
    if (this.degraded || this.closed) return Promise.resolve();
    return this.stored(index, this.tuning.ackTimeoutMs, true);
  }

  /** Resolves once chunk `index` and every one before it are stored, or after `ms`. */
  private stored(index: number, ms: number, ack = false): Promise<void> {
    if (index < this.storedChunks) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => waiter.release(), ms);
      const waiter: Waiter = {
        index,
        ack,
        release: () => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  get storedBytes(): number {
    return this.media.stored;
  }

  /** Stops storing: waits at most `ms` for what is not stored yet (and then stores the timeline's last lines), then for the put in flight. */
  async close(ms = 0): Promise<void> {
    const flush = !this.closed && !this.degraded && ms > 0;
    if (flush) await this.stored(this.ends.length - 1, ms);
    this.closed = true;
    this.wake?.();
    for (const w of [...this.waiters]) w.release();
    await this.pump;
    if (flush) await this.timeline?.uploadLines().catch(() => undefined);
    if (this.storeMs.length) {
      const sorted = [...this.storeMs].sort((a, b) => a - b);
      this.log.info({ chunks: this.storeMs.length, storedBytes: this.media.stored, medianStoreMs: sorted[sorted.length >> 1] }, 'stored spool closed');
    }
  }

  /** A start that never recorded, or a recording finished and stored: its objects go. */
  async remove(): Promise<void> {
    await this.close();
    await this.clear().catch((err: Error) => this.log.warn({ err: err.message }, 'stored spool not removed'));
  }

  private async clear(): Promise<void> {
    for (const mirror of [this.media, this.timeline]) if (mirror) await this.store.storage.deletePrefix(mirror.keyPrefix);
  }

  private kick(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    this.pump = this.run().finally(() => {
      this.pumping = false;
      if (this.storedChunks < this.ends.length) this.kick();
    });
  }

  private async run(): Promise<void> {
    while (!this.closed && this.storedChunks < this.ends.length) {
      const last = this.lastOfNextSegment();
      try {
        // objects an earlier attempt of this id left would break the chain of byte ranges
        if (!this.cleared) await this.clear();
        this.cleared = true;
        await this.media.upload(this.ends[last]);
      } catch (err) {
        if (!this.degraded) this.log.warn({ err: (err as Error).message, storedBytes: this.media.stored }, 'spool not stored: acks fall back to the local spool until the store is back');
        this.degraded = true;
        for (const w of this.waiters.filter((x) => x.ack)) w.release();
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, this.tuning.retryMs).unref();
        });
        continue;
      }
      const now = Date.now();
      for (let i = this.storedChunks; i <= last; i++) this.storeMs.push(now - this.appendedAt[i]);
      this.storedChunks = last + 1;
      if (this.degraded) this.log.info({ storedBytes: this.media.stored }, 'spool stored again: acks wait for the store');
      this.degraded = false;
      for (const w of this.waiters.filter((x) => x.index < this.storedChunks)) w.release();
      await this.timeline?.uploadLines().catch((err: Error) => this.log.warn({ err: err.message }, 'timeline log not stored'));
    }
  }

  /** The last chunk of the next object: every chunk not stored yet, within maxSegmentBytes (at least one). */
  private lastOfNextSegment(): number {
    let last = this.storedChunks;
    while (last + 1 < this.ends.length && this.ends[last + 1] - this.media.stored <= this.tuning.maxSegmentBytes) last++;
    return last;
  }
}
