import fs from 'node:fs/promises';
import path from 'node:path';
import { toAppError } from '../errors';
import type { HlsReport } from '../recordings/contract';
import { exponentialBackoff, shouldRetry, type RetryPolicy } from '../recordings/failure-policy';
import { HLS_PLAYLIST_NAME as HLS_PLAYLIST } from '../storage/keys';
import type { Storage } from '../storage/types';
import { parsePlaylist, renderPlaylist, type LocalPlaylist } from './hls-playlist';
import type { Logger } from './logger';

/** Where FFmpeg writes a recording's HLS output, and the names in it. */
export const HLS_LOCAL_PLAYLIST = 'local.m3u8';
export const HLS_INIT = 'init.mp4';
export const HLS_SEGMENT_PATTERN = 'seg-%05d.m4s';
const UPLOADED_COPY = 'stored.m3u8';
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

/** One segment's upload: attempts in all and the backoff between them; a segment that runs out is missing. */
export const HLS_UPLOAD_RETRY: RetryPolicy = { maxAttempts: 4, baseMs: 500, maxMs: 4000 };

export interface HlsUploaderOptions {
  storage: Storage;
  /** The storage key prefix of the recording's HLS objects (storage/keys.ts hlsPrefix). */
  keyPrefix: string;
  /** The local directory FFmpeg writes into. */
  dir: string;
  /** Upload as segments are cut; false: everything at finish(). */
  live: boolean;
  log: Logger;
  retry?: RetryPolicy;
  pollMs?: number;
  /** What is in the storage already (a salvage finishing a dead worker's output): never stored again. */
  stored?: { map: boolean; segments: readonly string[] };
}

/**
 * Pushes a recording's HLS output from FFmpeg's directory to the storage: each segment once
 * FFmpeg has listed it (so it is closed), then the playlist listing only stored segments, so
 * a viewer never asks for one that is not there. One upload at a time, in order. A segment
 * whose upload fails is retried with backoff a few times, then left out (reported missing):
 * the storage being down never holds the file output back, and the call goes on.
 */
export class HlsUploader {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private local: LocalPlaylist = { targetDurationSec: 0, segments: [], ended: false };
  private readonly readableAt = new Map<string, number>();
  private readonly missing = new Set<string>();
  private mapStored = false;
  private readonly abort = new AbortController();
  private deadlineAt = Infinity;

  constructor(private readonly o: HlsUploaderOptions) {
    this.mapStored = o.stored?.map ?? false;
    for (const uri of o.stored?.segments ?? []) this.readableAt.set(uri, 0);
  }

  get playlistKey(): string {
    return `${this.o.keyPrefix}${HLS_PLAYLIST}`;
  }

  start(): void {
    if (!this.o.live) return;
    this.timer = setInterval(() => {
      this.running ??= this.sync(false).finally(() => (this.running = undefined));
    }, this.o.pollMs ?? 100);
  }

  /**
   * After FFmpeg has exited: the segments left, those that failed once more, then the
   * playlist with EXT-X-ENDLIST; gives up what is not stored within `deadlineMs`.
   */
  async finish(recordingAt: Date | undefined, deadlineMs = 20000): Promise<HlsReport> {
    await this.halt();
    this.deadlineAt = Date.now() + deadlineMs;
    await this.sync(true);
    await fs.rm(this.o.dir, { recursive: true, force: true }).catch(() => undefined);
    return this.report(recordingAt);
  }

  /** Stops the live uploads once the one under way is through, storing nothing more (another takes over: hls-salvage.ts). */
  async halt(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Stops at once (the recording is being torn down); the local directory stays for finish() or discard. */
  kill(): void {
    clearInterval(this.timer);
    this.abort.abort();
  }

  private async sync(final: boolean): Promise<void> {
    const text = await fs.readFile(path.join(this.o.dir, HLS_LOCAL_PLAYLIST), 'utf8').catch(() => null);
    if (text !== null) this.local = parsePlaylist(text);
    if (this.local.mapUri && !this.mapStored) this.mapStored = await this.store(this.local.mapUri, 'video/mp4');
    // without its initialisation segment no segment plays: they wait for it
    if (!this.mapStored && this.local.mapUri && !final) return;
    if (final) this.missing.clear(); // each gets one more round
    for (const s of this.local.segments) {
      if (this.readableAt.has(s.uri) || this.missing.has(s.uri)) continue;
      if (this.mapStored && (await this.store(s.uri, 'video/mp4'))) {
        this.readableAt.set(s.uri, Date.now());
        if (!final) await this.storePlaylist(false);
      } else this.missing.add(s.uri);
    }
    if (final) await this.storePlaylist(true);
  }

  /** One object from the directory (`name`, or the file `localName`), with the retry policy; false when it could not be stored. */
  private async store(name: string, contentType: string, localName = name): Promise<boolean> {
    const policy = this.o.retry ?? HLS_UPLOAD_RETRY;
    for (let attempt = 1; ; attempt++) {
      if (this.abort.signal.aborted || Date.now() > this.deadlineAt) return false;
      try {
        await this.o.storage.put(`${this.o.keyPrefix}${name}`, path.join(this.o.dir, localName), contentType, undefined, { signal: this.abort.signal });
        return true;
      } catch (err) {
        const error = toAppError(err);
        if (!shouldRetry(error, attempt, policy)) {
          this.o.log.warn({ object: name, attempts: attempt, err: error.message }, 'HLS upload gave up');
          return false;
        }
        await new Promise((r) => setTimeout(r, exponentialBackoff(attempt, policy)));
      }
    }
  }

  private async storePlaylist(ended: boolean): Promise<void> {
    let gap = false;
    const segments = [];
    for (const s of this.local.segments) {
      if (!this.readableAt.has(s.uri)) {
        gap = true;
        continue;
      }
      segments.push({ ...s, afterGap: gap && segments.length > 0 });
      gap = false;
    }
    const file = path.join(this.o.dir, UPLOADED_COPY);
    await fs.writeFile(file, renderPlaylist({ targetDurationSec: this.local.targetDurationSec, ...(this.local.mapUri ? { mapUri: this.local.mapUri } : {}), segments, ended }));
    if (!(await this.store(HLS_PLAYLIST, PLAYLIST_TYPE, UPLOADED_COPY))) this.o.log.warn({ ended }, 'HLS playlist not stored');
  }

  private report(recordingAt: Date | undefined): HlsReport {
    const stored = this.local.segments.filter((s) => this.readableAt.has(s.uri));
    const firstFrame: number[] = [];
    const lastFrame: number[] = [];
    let offsetSec = 0;
    for (const s of this.local.segments) {
      const at = this.readableAt.get(s.uri);
      if (at !== undefined && recordingAt && this.o.live) {
        firstFrame.push(at - (recordingAt.getTime() + offsetSec * 1000));
        lastFrame.push(at - (recordingAt.getTime() + (offsetSec + s.durationSec) * 1000));
      }
      offsetSec += s.durationSec;
    }
    return {
      playlistKey: this.playlistKey,
      segments: stored.length,
      durationMs: Math.round(stored.reduce((sum, s) => sum + s.durationSec, 0) * 1000),
      missing: this.local.segments.filter((s) => !this.readableAt.has(s.uri)).map((s) => s.uri),
      ...(firstFrame.length ? { readableAfterMs: { firstFrame: median(firstFrame), lastFrame: median(lastFrame) } } : {}),
    };
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return Math.round(sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2);
}
