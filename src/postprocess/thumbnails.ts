import fsp from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';
import { runOwned, stderrTail } from './child';
import type { MediaInfo } from './inspect';

export interface LocalImage {
  path: string;
  /** 1-based position (thumbnails); 0 for the poster. */
  index: number;
  atMs: number;
  width: number;
  height: number;
  size: number;
}

export interface ThumbnailOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  outDir: string;
  /** How many thumbnails, spread evenly: at (2i-1)/(2n) of the duration (10/30/50/70/90% for 5). */
  count?: number;
  /** Width in pixels of thumbnails; height keeps the aspect (even). Never upscaled. */
  width?: number;
  /** Where the full-size poster frame is taken, as a fraction of the duration. */
  posterAt?: number;
  onImage?: (img: LocalImage) => void;
}

export const DEFAULT_THUMBNAIL_COUNT = 5;
const DEFAULT_THUMBNAIL_WIDTH = 320;

/** Timestamps (ms) of `count` thumbnails spread over `durationMs`: centres of equal slices. */
export function thumbnailTimestamps(durationMs: number, count = DEFAULT_THUMBNAIL_COUNT): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor((durationMs * (2 * i + 1)) / (2 * count)));
}

/** Width and height from a JPEG's SOF marker (no image library needed). */
export function jpegSize(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = buf[i + 1];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0xff) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return null;
}

async function grabFrame(
  ffmpeg: string,
  input: string,
  atMs: number,
  out: string,
  scaleWidth: number | undefined,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const vf = scaleWidth ? ['-vf', `scale=${scaleWidth}:-2:flags=bicubic`] : [];
  const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-ss', (atMs / 1000).toFixed(3), '-i', input,
    '-map', '0:v:0', '-frames:v', '1', ...vf, '-q:v', scaleWidth ? '4' : '2', '-f', 'image2', '-update', '1', out];
  const r = await runOwned(ffmpeg, args, { signal, timeoutMs: 60000 });
  if (r.code !== 0) throw new AppError('RECORDING_CORRUPT', `frame at ${atMs} ms of ${input} cannot be decoded: ${stderrTail(r.stderr)}`);
  const st = await fsp.stat(out).catch(() => null);
  return !!st && st.size > 0;
}

/** One image at `atMs` (earlier if nothing is decodable there, e.g. past the last key frame). */
async function imageAt(opts: ThumbnailOptions, info: MediaInfo, atMs: number, out: string, scaleWidth: number | undefined, index: number): Promise<LocalImage> {
  const ffmpeg = opts.ffmpegPath ?? 'ffmpeg';
  let t = atMs;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (await grabFrame(ffmpeg, info.path, t, out, scaleWidth, opts.signal)) {
      const buf = await fsp.readFile(out);
      const dims = jpegSize(buf);
      if (!dims) throw new AppError('RECORDING_CORRUPT', `frame at ${t} ms of ${info.path} did not give a JPEG`);
      return { path: out, index, atMs: t, width: dims.width, height: dims.height, size: buf.length };
    }
    t = Math.max(0, Math.floor(t * 0.8) - 500); // step back towards a decodable frame
  }
  throw new AppError('RECORDING_CORRUPT', `no decodable frame near ${atMs} ms of ${info.path}`);
}

/**
 * `count` JPEG thumbnails `thumb-<i>.jpg` (scaled to `width`) at distinct timestamps,
 * and `poster.jpg` at full size, in `outDir`. A recording without video gets none.
 */
export async function generateThumbnails(info: MediaInfo, opts: ThumbnailOptions): Promise<{ thumbnails: LocalImage[]; poster: LocalImage | null }> {
  if (!info.video) return { thumbnails: [], poster: null };
  await fsp.mkdir(opts.outDir, { recursive: true });
  const count = opts.count ?? DEFAULT_THUMBNAIL_COUNT;
  const width = Math.min(opts.width ?? DEFAULT_THUMBNAIL_WIDTH, info.video.width || Infinity);
  const scale = Math.max(2, Math.floor(width / 2) * 2);
  const thumbnails: LocalImage[] = [];
  const stamps = thumbnailTimestamps(info.durationMs, count);
  for (let i = 0; i < stamps.length; i++) {
    const img = await imageAt(opts, info, stamps[i], path.join(opts.outDir, `thumb-${i + 1}.jpg`), scale, i + 1);
    thumbnails.push(img);
    opts.onImage?.(img);
  }
  const posterAt = Math.floor(info.durationMs * Math.min(Math.max(opts.posterAt ?? 0.5, 0), 0.99));
  const poster = await imageAt(opts, info, posterAt, path.join(opts.outDir, 'poster.jpg'), undefined, 0);
  opts.onImage?.(poster);
  return { thumbnails, poster };
}
