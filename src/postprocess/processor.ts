import { EventEmitter } from 'node:events';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { AppError, toAppError } from '../errors';
import { posterKey, recordingKey, thumbnailKey } from '../storage/keys';
import type { Storage } from '../storage/types';
import { checkFreeSpace } from './disk';
import { formatSpec, type PostprocessFormat, type StreamMode } from './formats';
import { probeMedia, type MediaInfo } from './probe';
import { generateThumbnails, type LocalImage } from './thumbnails';
import { convertRecording } from './transcode';

export interface PostprocessInput {
  recordingId: string;
  callId: string;
  /** The finished media file of the recorder. */
  inputPath: string;
  format: PostprocessFormat;
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
  /** Delete the input file once everything is uploaded (never on failure). */
  removeInputOnSuccess?: boolean;
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

export interface PostprocessResult {
  recordingId: string;
  callId: string;
  format: PostprocessFormat;
  durationMs: number;
  /** How each stream got into the output: 'copy' = remuxed, no re-encode. */
  conversion: { video: StreamMode; audio: StreamMode };
  media: Pick<MediaInfo, 'formatName'> & { width?: number; height?: number; fps?: number; videoCodec?: string; audioCodec?: string };
  video: UploadedObject;
  thumbnails: UploadedImage[];
  poster: UploadedImage | null;
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
  thumbnailsGenerated: [{ recordingId: string; thumbnails: LocalImage[]; poster: LocalImage | null }];
  recordingUploaded: [{ recordingId: string; video: UploadedObject }];
  completed: [PostprocessResult];
  failed: [{ recordingId: string; error: AppError }];
}

/** The scratch directory of one recording's job below `workDir`. */
export function jobWorkDir(workDir: string, recordingId: string): string {
  return path.join(workDir, recordingId);
}

const SPAN = { convert: [0, 45], thumbnails: [45, 55], upload: [55, 100] } as const;

/**
 * Turns a finished recording into delivered files: probe, remux/transcode, thumbnails and
 * poster, upload. Emits status PROCESSING then UPLOADING, progress, thumbnailsGenerated,
 * recordingUploaded, and completed or failed. Knows nothing of HTTP or the database.
 * Every ffmpeg it starts is killed when the signal given to `process` aborts.
 */
export class PostProcessor extends EventEmitter<PostprocessEvents> {
  constructor(readonly options: PostprocessOptions) {
    super();
  }

  async process(input: PostprocessInput, opts: { signal?: AbortSignal } = {}): Promise<PostprocessResult> {
    try {
      const result = await this.run(input, opts.signal);
      this.emit('completed', result);
      return result;
    } catch (err) {
      const error = opts.signal?.aborted && !(err instanceof AppError && err.code !== 'JOB_ABORTED')
        ? new AppError('JOB_ABORTED', `post-processing of ${input.recordingId} aborted`, { cause: err })
        : toAppError(err, 'POSTPROCESS_FAILED');
      this.emit('failed', { recordingId: input.recordingId, error });
      throw error;
    }
  }

  private async run(input: PostprocessInput, signal?: AbortSignal): Promise<PostprocessResult> {
    const o = this.options;
    const t0 = Date.now();
    const { recordingId, callId } = input;
    const spec = formatSpec(input.format);
    const prefix = o.prefix ?? '';
    // keys first: this validates the ids before anything touches the disk
    const videoKey = recordingKey(prefix, callId, recordingId, spec.ext);
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
      const info = await probeMedia(input.inputPath, { ffprobePath: o.ffprobePath, ffmpegPath: o.ffmpegPath, signal });
      progress('probe', 0);
      if (o.minFreeDiskMb) await checkFreeSpace(work, o.minFreeDiskMb + Math.ceil(info.size / (1024 * 1024)));
      const converted = await convertRecording(info, input.format, path.join(work, `recording.${spec.ext}`), {
        ffmpegPath: o.ffmpegPath,
        signal,
        onProgress: (p) => progress('convert', p),
      });
      const outInfo = await probeMedia(converted.path, { ffprobePath: o.ffprobePath, ffmpegPath: o.ffmpegPath, signal });

      const total = spec.audioOnly ? 0 : o.thumbnailCount ?? 5;
      let made = 0;
      const images = await generateThumbnails(outInfo, {
        ffmpegPath: o.ffmpegPath,
        signal,
        outDir: path.join(work, 'thumbnails'),
        count: total,
        width: o.thumbnailWidth,
        posterAt: o.posterAt,
        onImage: () => progress('thumbnails', (++made / (total + 1)) * 100),
      });
      progress('thumbnails', 100);
      this.emit('thumbnailsGenerated', { recordingId, ...images });
      const processingMs = Date.now() - t0;

      // --- upload: the video first, then the images; progress by bytes
      this.emit('status', { recordingId, status: 'UPLOADING' });
      const t1 = Date.now();
      const all = converted.size + images.thumbnails.reduce((s, i) => s + i.size, 0) + (images.poster?.size ?? 0);
      let done = 0;
      const put = async (key: string, file: string, contentType: string) => {
        const r = await o.storage.put(key, file, contentType, (p) => progress('upload', ((done + p.loaded) / all) * 100), { signal });
        done += r.size;
        progress('upload', (done / all) * 100);
        return { key: r.key, url: r.url, size: r.size, contentType };
      };
      const video = await put(videoKey, converted.path, spec.contentType);
      this.emit('recordingUploaded', { recordingId, video });
      const thumbnails: UploadedImage[] = [];
      for (const img of images.thumbnails) {
        const up = await put(thumbnailKey(prefix, callId, recordingId, img.index), img.path, 'image/jpeg');
        thumbnails.push({ ...up, index: img.index, atMs: img.atMs, width: img.width, height: img.height });
      }
      let poster: UploadedImage | null = null;
      if (images.poster) {
        const up = await put(posterKey(prefix, callId, recordingId), images.poster.path, 'image/jpeg');
        poster = { ...up, index: 0, atMs: images.poster.atMs, width: images.poster.width, height: images.poster.height };
      }
      const uploadMs = Date.now() - t1;

      if (o.removeInputOnSuccess && path.resolve(input.inputPath) !== path.resolve(converted.path)) {
        await fsp.rm(input.inputPath, { force: true });
      }
      return {
        recordingId,
        callId,
        format: input.format,
        durationMs: outInfo.durationMs,
        conversion: { video: converted.plan.video, audio: converted.plan.audio },
        media: {
          formatName: outInfo.formatName,
          width: outInfo.video?.width,
          height: outInfo.video?.height,
          fps: outInfo.video ? info.video?.fps : undefined,
          videoCodec: outInfo.video?.codec,
          audioCodec: outInfo.audio?.codec,
        },
        video,
        thumbnails,
        poster,
        timings: { processingMs, uploadMs, totalMs: Date.now() - t0 },
      };
    } finally {
      await fsp.rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
