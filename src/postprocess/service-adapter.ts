import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { AppError, toAppError } from '../errors';
import type { Logger } from '../observability/logger';
import type { PostprocessJob, PostprocessPort, PostprocessSink, RecordingThumbnail } from '../recordings/ports';
import { resumeOffsetsMs } from '../recordings/timeline';
import { createStorage, type StorageTuning } from '../storage';
import { spoolPathOf } from '../recorder/spool';
import { fileFromStoredSpool } from '../recorder/salvage';
import { removeStoredSpool } from '../recorder/stored-spool';
import { timelinePathOf } from '../recorder/timeline-log';
import { trackDirOf } from '../recorder/track-spools';
import { LocalStorage } from '../storage/local';
import type { Storage } from '../storage/types';
import type { LocalRecordingDirs } from './local-files';
import { PostProcessor, type PostprocessOptions, type ProcessedRecording, type UploadedImage } from './processor';
import { StorageRecordingFiles } from './recording-files';

/**
 * The recordings domain's PostprocessPort on top of PostProcessor and a Storage: one job per
 * enqueue(), reported through the sink (UPLOADING, thumbnails, progress, COMPLETED or a failed
 * attempt). The durable job state lives in the database (src/recordings/postprocess-queue.ts);
 * this class only runs attempts. The recorder's local file and its spool are removed only once
 * the domain has recorded COMPLETED, so a failed or interrupted attempt can always be retried
 * from them (a FAILED recording keeps both until it is deleted or expires).
 */
export interface PostprocessAdapterOptions {
  /** Jobs run at once in this process; more wait in memory (default 2). */
  concurrency?: number;
  /** Overrides for every PostProcessor (workDir, thumbnail count, ...). */
  processor?: Partial<PostprocessOptions>;
  /** Remove the recorder's file (and its spool, given spoolDir) after COMPLETED (default true). */
  removeLocalFile?: boolean;
  /** The recorder's spool directory (RECORDING_SPOOL_DIR). */
  spoolDir?: string;
  /** How far the recorder moves a file's audio (ms, negative: earlier; -RECORDER_AV_OFFSET_MS): the speaker timeline follows it. */
  audioShiftMs?: number;
  /** Progress events at most this often per recording (default 1 s; 0 and 100 always). */
  progressIntervalMs?: number;
  logger?: Logger;
}

export class PostprocessAdapter implements PostprocessPort {
  private readonly waiting: (() => void)[] = [];
  private readonly inFlight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private active = 0;
  private closed = false;

  constructor(
    private readonly storage: Storage,
    private readonly base: PostprocessOptions,
    private readonly opts: PostprocessAdapterOptions = {},
  ) {}

  enqueue(job: PostprocessJob, sink: PostprocessSink): void {
    if (this.closed) throw new AppError('JOB_ABORTED', 'post-processing is shutting down');
    // A new attempt can be claimed while the previous one is still reporting its failure:
    // it runs after that one, never beside it, and is never dropped (its lease is held).
    const previous = (this.inFlight.get(job.recordingId)?.done ?? Promise.resolve()).catch(() => undefined);
    const abort = new AbortController();
    const done: Promise<void> = previous
      .then(() => this.slot())
      .then(() =>
        this.run(job, sink, abort.signal).finally(() => {
          this.active--;
          this.waiting.shift()?.();
        }),
      )
      .finally(() => {
        if (this.inFlight.get(job.recordingId)?.done === done) this.inFlight.delete(job.recordingId);
      });
    this.inFlight.set(job.recordingId, { abort, done });
  }

  async destinationHealthy(): Promise<boolean> {
    return (await this.storage.checkHealth()).ok;
  }

  /** Jobs running or waiting in this process. */
  get pending(): number {
    return this.inFlight.size;
  }

  private slot(): Promise<void> {
    const max = Math.max(1, this.opts.concurrency ?? 2);
    if (this.active < max) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.active++;
        resolve();
      });
    });
  }

  private async run(job: PostprocessJob, sink: PostprocessSink, signal: AbortSignal): Promise<void> {
    const log = this.opts.logger?.child({ recordingId: job.recordingId });
    if (signal.aborted) throw new AppError('JOB_ABORTED', 'post-processing is shutting down');
    const processor = new PostProcessor(this.base);
    const every = this.opts.progressIntervalMs ?? 1000;
    let lastAt = 0;
    processor.on('progress', (p) => {
      const now = Date.now();
      if (p.percent !== 100 && p.percent !== 0 && now - lastAt < every) return;
      lastAt = now;
      try {
        sink.progress?.(job.recordingId, p.percent);
      } catch {
        /* progress is best effort */
      }
    });
    let uploading: Promise<unknown> = Promise.resolve();
    processor.on('status', (s) => {
      if (s.status === 'UPLOADING') uploading = sink.uploading(job.recordingId).then(() => undefined, (err: unknown) => err);
    });
    let result: ProcessedRecording;
    try {
      await this.fileHere(job);
      result = await processor.process(
        {
          recordingId: job.recordingId,
          callId: job.callId,
          inputPath: job.filePath,
          format: job.format,
          videoBitrate: job.options.videoBitrate,
          manifest: { roomName: job.roomName, quality: job.quality, ...(job.recordingAt ? { recordingAt: job.recordingAt } : {}) },
          ...(job.recordingAt
            ? { sidecars: { recordingAt: job.recordingAt, pauses: job.pauses, markers: job.markers, timelinePath: this.timelinePath(job.recordingId), chat: job.options.chat !== undefined, audioShiftMs: this.opts.audioShiftMs ?? 0 } }
            : {}),
          ...(job.recordingAt && job.options.tracks && this.opts.spoolDir ? { tracks: { dir: trackDirOf(this.opts.spoolDir, job.recordingId), audioShiftMs: this.opts.audioShiftMs ?? 0, cutsMs: resumeOffsetsMs(job.recordingAt, job.pauses) } } : {}),
        },
        { signal },
      );
      const uploadErr = await uploading;
      if (uploadErr) throw uploadErr;
    } catch (err) {
      // The status write may still be in flight; the failure is reported against the status it sets.
      await uploading;
      const e = toAppError(err, 'POSTPROCESS_FAILED');
      log?.warn({ err: { code: e.code, message: e.message }, attempt: job.attempt }, 'post-processing attempt failed');
      await sink.failed(job.recordingId, e).catch((e2: unknown) => log?.error({ err: e2 }, 'reporting a failed attempt failed'));
      return;
    }
    try {
      const thumbnails = toThumbnails(result.thumbnails, result.poster);
      if (thumbnails.length) await sink.thumbnailsGenerated(job.recordingId, thumbnails);
      await sink.completed(job.recordingId, {
        storage: { provider: this.storage.provider, key: result.video.key, ...(result.video.url ? { url: result.video.url } : {}) },
        fileSize: result.video.size,
        durationMs: result.durationMs,
        ...(thumbnails.length ? { thumbnails } : {}),
        ...(result.manifest ? { manifestKey: result.manifest.key } : {}),
        ...(result.sidecars.length ? { sidecars: result.sidecars.map(({ kind, key }) => ({ kind, key })) } : {}),
        ...(result.tracks.length ? { tracks: result.tracks.map((t) => ({ identity: t.track.identity, name: t.track.name, media: t.track.media, key: t.key, offsetMs: t.offsetMs, durationMs: t.durationMs })) } : {}),
      });
    } catch (err) {
      // Uploaded, but the database did not take it: a service fault, retried (the local file is still there).
      await sink.failed(job.recordingId, err).catch(() => undefined);
      return;
    }
    if (this.opts.removeLocalFile ?? true) {
      const stored = this.storage.provider === 'local' ? path.resolve(this.localPathOf(result.video.key)) : '';
      if (path.resolve(job.filePath) !== stored) await fsp.rm(job.filePath, { force: true }).catch(() => undefined);
      if (this.opts.spoolDir) {
        await fsp.rm(spoolPathOf(this.opts.spoolDir, job.recordingId), { force: true }).catch(() => undefined);
        await fsp.rm(timelinePathOf(this.opts.spoolDir, job.recordingId), { force: true }).catch(() => undefined);
        await fsp.rm(trackDirOf(this.opts.spoolDir, job.recordingId), { recursive: true, force: true }).catch(() => undefined);
      }
    }
    // after the local files, which go at once (a bucket's listing and deletes take longer)
    await removeStoredSpool({ storage: this.storage, prefix: this.base.prefix ?? '' }, job.callId, job.recordingId).catch(() => undefined);
  }

  /** A job whose file was on a lost worker's disk gets it again from the stored spool (recorder/salvage.ts). */
  private async fileHere(job: PostprocessJob): Promise<void> {
    if (!this.opts.spoolDir || !job.callId) return;
    const settings = { ffmpegPath: this.base.ffmpegPath ?? 'ffmpeg', ffprobePath: this.base.ffprobePath ?? 'ffprobe', spoolDir: this.opts.spoolDir, avOffsetMs: -(this.opts.audioShiftMs ?? 0) };
    if (await fileFromStoredSpool(settings, job, { storage: this.storage, prefix: this.base.prefix ?? '' })) this.opts.logger?.warn({ recordingId: job.recordingId }, 'file made again from the stored spool: its worker was lost');
  }

  /** The recorder's timeline events of the recording, beside its spool (a crash keeps them, like the spool). */
  private timelinePath(recordingId: string): string | null {
    return this.opts.spoolDir ? timelinePathOf(this.opts.spoolDir, recordingId) : null;
  }

  private localPathOf(key: string): string {
    return path.join((this.storage as { dir?: string }).dir ?? '', key);
  }

  /** Aborts running attempts (they are retried after their backoff, by this or another process). */
  async close(): Promise<void> {
    this.closed = true;
    for (const { abort } of this.inFlight.values()) abort.abort();
    for (const w of this.waiting.splice(0)) w();
    await Promise.allSettled([...this.inFlight.values()].map((j) => j.done));
  }
}

function toThumbnails(thumbs: UploadedImage[], poster: UploadedImage | null): RecordingThumbnail[] {
  const one = (img: UploadedImage, kind: 'thumbnail' | 'poster'): RecordingThumbnail => ({
    key: img.key,
    ...(img.url ? { url: img.url } : {}),
    atMs: img.atMs,
    width: img.width,
    height: img.height,
    kind,
  });
  return [...thumbs.map((t) => one(t, 'thumbnail')), ...(poster ? [one(poster, 'poster')] : [])];
}

export interface Postprocessing {
  postprocess: PostprocessAdapter;
  storage: Storage;
  recordingStorage: StorageRecordingFiles;
  /** The local provider, whose signed URLs the API serves; undefined for S3 and GCS. */
  signedFiles?: LocalStorage;
  close(): Promise<void>;
}

/**
 * Post-processing and storage wired from the configuration, for createService():
 *   const pp = createPostprocessing(config, logger);
 *   createService(config, { postprocess: pp.postprocess, storage: pp.recordingStorage, ... });
 * Close it after the service (running attempts are aborted and retried later).
 */
export function createPostprocessing(
  config: Config,
  logger?: Logger,
  overrides: { adapter?: PostprocessAdapterOptions; storage?: StorageTuning } = {},
): Postprocessing {
  const storage = createStorage(config.storage, overrides.storage);
  const dirs: LocalRecordingDirs = { spoolDir: config.recorder.spoolDir, workDir: overrides.adapter?.processor?.workDir ?? path.join(config.recorder.spoolDir, 'postprocess') };
  const postprocess = new PostprocessAdapter(
    storage,
    {
      storage,
      prefix: config.storage.prefix,
      workDir: dirs.workDir,
      ffmpegPath: config.recorder.ffmpegPath,
      ffprobePath: config.recorder.ffprobePath,
      minFreeDiskMb: config.recorder.minFreeDiskMb,
      ...overrides.adapter?.processor,
    },
    { ...(logger ? { logger } : {}), spoolDir: dirs.spoolDir, audioShiftMs: -config.recorder.avOffsetMs, ...overrides.adapter },
  );
  const recordingStorage = new StorageRecordingFiles(storage, config.storage.prefix, config.storage.signedUrlSeconds, dirs);
  let closing: Promise<void> | undefined;
  return {
    postprocess,
    storage,
    recordingStorage,
    ...(storage instanceof LocalStorage ? { signedFiles: storage } : {}),
    close() {
      closing ??= (async () => {
        await postprocess.close();
        await storage.close();
      })();
      return closing;
    },
  };
}
