import { EventEmitter } from 'node:events';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { AppError, toAppError } from '../errors';
import { containerFormat, contentTypeOf, type StreamMode } from '../recordings/formats';
import type { RecordingFormat } from '../recordings/options';
import { manifestKey, posterKey, recordingKey, sidecarKey, thumbnailKey } from '../storage/keys';
import type { Storage } from '../storage/types';
import { checkFreeSpace } from './disk';
import { inspectRecording, type MediaInfo } from './inspect';
import { chaptersOf, writeChapters } from './chapters';
import { buildManifest, type ManifestContext } from './manifest';
import { planConversion } from './plan';
import { prepareSidecars, storeSidecars, type SidecarSource, type StoredSidecar } from './sidecars';
import { DEFAULT_THUMBNAIL_COUNT, generateThumbnails } from './thumbnails';
import { prepareTracks, storeTracks, type StoredTrack, type TrackSource } from './tracks';
import { convertRecording } from './transcode';

export interface PostprocessInput {
  recordingId: string;
  callId: string;
  /** The finished media file of the recorder. */
  inputPath: string;
  format: RecordingFormat;
  /** The video bit rate the caller asked for: a pass that encodes the picture aims at it. */
  videoBitrate?: number;
  /** What manifest.json says of the recording beyond its files; no manifest without it. */
  manifest?: ManifestContext;
  /** What the sidecars (speakers, chat) are made from; none without it. */
  sidecars?: SidecarSource;
  /** The participants' own tracks (start option `tracks`); none without it. */
  tracks?: TrackSource;
}

export interface PostprocessOptions {
  storage: Storage;
  /** Storage key prefix (config.storage.prefix). */
  prefix?: string;
  /** Scratch space; each job uses `<workDir>/<recordingId>` and removes it when done. */
  workDir: string;
  ffmpegPath?: string;
  ffprobePath?: string;
  thumbnailCount?: number;
  thumbnailWidth?: number;
  posterAt?: number;
  /** Refuse to start with less free space than this in workDir (MiB). */
  minFreeDiskMb?: number;
}

export interface UploadedObject {
  key: string;
  url?: string;
  size: number;
  contentType: string;
}

export interface UploadedImage extends UploadedObject {
  index: number;
  atMs: number;
  width: number;
  height: number;
}

/** What one post-processing job delivered (the domain's PostprocessResult is made from it). */
export interface ProcessedRecording {
  recordingId: string;
  callId: string;
  format: RecordingFormat;
  durationMs: number;
  /**
   * How each stream got into the output ('copy' = not re-encoded); `rewritten` false: the
   * recorder's file already was the deliverable and was uploaded as it is.
   */
  conversion: { video: StreamMode; audio: StreamMode; rewritten: boolean };
  video: UploadedObject;
  thumbnails: UploadedImage[];
  poster: UploadedImage | null;
  sidecars: StoredSidecar[];
  tracks: StoredTrack[];
  /** Uploaded last, so a manifest in the storage means every file it names is there. */
  manifest: UploadedObject | null;
  timings: { processingMs: number; uploadMs: number; totalMs: number };
}

export type PostprocessStatus = 'PROCESSING' | 'UPLOADING';
export type PostprocessPhase = 'probe' | 'convert' | 'thumbnails' | 'upload';

export interface PostprocessProgress {
  recordingId: string;
  phase: PostprocessPhase;
  /** Whole job, 0..100 (convert 0-45, thumbnails 45-55, upload 55-100). */
  percent: number;
}

/** Events of a PostProcessor; every payload names the recording. */
export interface PostprocessEvents {
  status: [{ recordingId: string; status: PostprocessStatus }];
  progress: [PostprocessProgress];
}

/** The scratch directory of one recording's job below `workDir`. */
export function jobWorkDir(workDir: string, recordingId: string): string {
  return path.join(workDir, recordingId);
}

const SPAN = { convert: [0, 45], thumbnails: [45, 55], upload: [55, 100] } as const;

/**
 * Turns a finished recording into delivered files: probe (once), a remux/transcode only
 * when the file is not already the deliverable, thumbnails and poster, upload. Emits
 * status PROCESSING then UPLOADING, and progress. Knows nothing of HTTP or the database.
 * Every ffmpeg it starts is killed when the signal given to `process` aborts.
 */
export class PostProcessor extends EventEmitter<PostprocessEvents> {
  constructor(readonly options: PostprocessOptions) {
    super();
  }

  async process(input: PostprocessInput, opts: { signal?: AbortSignal } = {}): Promise<ProcessedRecording> {
    try {
      return await this.run(input, opts.signal);
    } catch (err) {
      throw opts.signal?.aborted && !(err instanceof AppError && err.code !== 'JOB_ABORTED')
        ? new AppError('JOB_ABORTED', `post-processing of ${input.recordingId} aborted`, { cause: err })
        : toAppError(err, 'POSTPROCESS_FAILED');
    }
  }

  private async run(input: PostprocessInput, signal?: AbortSignal): Promise<ProcessedRecording> {
    const o = this.options;
    const t0 = Date.now();
    const { recordingId, callId } = input;
    const tools = { ffprobePath: o.ffprobePath, ffmpegPath: o.ffmpegPath, signal };
    const prefix = o.prefix ?? '';
    // keys first: this validates the ids before anything touches the disk
    const videoKey = recordingKey(prefix, callId, recordingId, containerFormat(input.format).ext);
    const work = jobWorkDir(o.workDir, recordingId);
    let lastPct = -1;
    const progress = (phase: PostprocessPhase, phasePct: number) => {
      const span = phase === 'probe' ? SPAN.convert : SPAN[phase];
      const pct = Math.floor(span[0] + ((span[1] - span[0]) * Math.min(100, Math.max(0, phasePct))) / 100);
      if (pct > lastPct) {
        lastPct = pct;
        this.emit('progress', { recordingId, phase, percent: pct });
      }
    };

    this.emit('status', { recordingId, status: 'PROCESSING' });
    await fsp.rm(work, { recursive: true, force: true }); // a retried job starts clean
    await fsp.mkdir(work, { recursive: true });
    try {
      if (o.minFreeDiskMb) await checkFreeSpace(work, o.minFreeDiskMb);
      const info = await inspectRecording(input.inputPath, tools);
      progress('probe', 0);
      const plan = planConversion(info, input.format, { videoBitrate: input.videoBitrate });
      let out: MediaInfo = info;
      if (!plan.keep) {
        if (o.minFreeDiskMb) await checkFreeSpace(work, o.minFreeDiskMb + Math.ceil(info.size / (1024 * 1024)));
        const converted = path.join(work, `recording.${plan.ext}`);
        await convertRecording(info, plan, converted, { ffmpegPath: o.ffmpegPath, signal, onProgress: (p) => progress('convert', p) });
        out = await inspectRecording(converted, tools); // a new file: probed once too
      }
      const chapters = input.sidecars ? chaptersOf({ ...input.sidecars, durationMs: out.durationMs }) : [];
      if (chapters.length) {
        const chaptered = path.join(work, `chaptered.${plan.ext}`);
        await writeChapters(out.path, input.format, chapters, chaptered, { ffmpegPath: o.ffmpegPath, signal });
        out = await inspectRecording(chaptered, tools);
      }
      progress('convert', 100);

      const total = out.video ? o.thumbnailCount ?? DEFAULT_THUMBNAIL_COUNT : 0;
      let made = 0;
      const images = await generateThumbnails(out, {
        ffmpegPath: o.ffmpegPath,
        signal,
        outDir: path.join(work, 'thumbnails'),
        count: total,
        width: o.thumbnailWidth,
        posterAt: o.posterAt,
        onImage: () => progress('thumbnails', (++made / (total + 1)) * 100),
      });
      progress('thumbnails', 100);
      const sidecarFiles = input.sidecars ? await prepareSidecars(input.sidecars, out.durationMs, path.join(work, 'sidecars')) : [];
      const trackFiles = input.tracks ? await prepareTracks(input.tracks, path.join(work, 'tracks'), tools, out.path) : [];
      const processingMs = Date.now() - t0;

      // --- upload: the video first, then the images and the sidecars, the manifest last; progress by bytes
      this.emit('status', { recordingId, status: 'UPLOADING' });
      const t1 = Date.now();
      const all = out.size + images.thumbnails.reduce((s, i) => s + i.size, 0) + (images.poster?.size ?? 0) + sidecarFiles.reduce((s, f) => s + f.size, 0) + trackFiles.reduce((s, f) => s + f.size, 0);
      let done = 0;
      const put = async (key: string, file: string, contentType: string) => {
        const r = await o.storage.put(key, file, contentType, (p) => progress('upload', ((done + p.loaded) / all) * 100), { signal });
        done += r.size;
        progress('upload', (done / all) * 100);
        return { key: r.key, url: r.url, size: r.size, contentType };
      };
      const video = await put(videoKey, out.path, plan.contentType);
      const thumbnails: UploadedImage[] = [];
      for (const img of images.thumbnails) {
        const up = await put(thumbnailKey(prefix, callId, recordingId, img.index), img.path, contentTypeOf(img.path));
        thumbnails.push({ ...up, index: img.index, atMs: img.atMs, width: img.width, height: img.height });
      }
      let poster: UploadedImage | null = null;
      if (images.poster) {
        const up = await put(posterKey(prefix, callId, recordingId), images.poster.path, contentTypeOf(images.poster.path));
        poster = { ...up, index: 0, atMs: images.poster.atMs, width: images.poster.width, height: images.poster.height };
      }
      const sidecars = await storeSidecars(sidecarFiles, put, (kind) => sidecarKey(prefix, callId, recordingId, kind));
      const tracks = await storeTracks(trackFiles, put, { prefix, callId, recordingId });
      const conversion = { video: plan.video, audio: plan.audio, rewritten: !plan.keep };
      let manifest: UploadedObject | null = null;
      if (input.manifest) {
        const file = path.join(work, 'manifest.json');
        const doc = buildManifest({ recordingId, callId, format: input.format, durationMs: out.durationMs, conversion }, input.manifest, { video, thumbnails, poster, sidecars, tracks }, { chapters, pauses: input.sidecars?.pauses ?? [] });
        await fsp.writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
        manifest = await put(manifestKey(prefix, callId, recordingId), file, contentTypeOf(file));
      }
      const uploadMs = Date.now() - t1;

      return {
        recordingId,
        callId,
        format: input.format,
        durationMs: out.durationMs,
        conversion,
        video,
        thumbnails,
        poster,
        sidecars,
        tracks,
        manifest,
        timings: { processingMs, uploadMs, totalMs: Date.now() - t0 },
      };
    } finally {
      await fsp.rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
