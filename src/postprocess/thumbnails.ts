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

/** One image to take: where, into which file, scaled to a width or full size. */
interface Shot {
  atMs: number;
  out: string;
  scaleWidth?: number;
  index: number;
}

const QUIET = ['-nostdin', '-hide_banner', '-v', 'error', '-y'];
const seekTo = (atMs: number) => ['-ss', (atMs / 1000).toFixed(3)];

/** Output arguments of one JPEG taken from input `input`'s picture. */
function jpegOutput(input: number, shot: Shot): string[] {
  const vf = shot.scaleWidth ? ['-vf', `scale=${shot.scaleWidth}:-2:flags=bicubic`] : [];
  return ['-map', `${input}:v:0`, '-frames:v', '1', ...vf, '-q:v', shot.scaleWidth ? '4' : '2', '-f', 'image2', '-update', '1', shot.out];
}

/** The image a shot wrote, or null when it wrote none. */
async function readShot(shot: Shot, atMs: number, input: string): Promise<LocalImage | null> {
  const buf = await fsp.readFile(shot.out).catch(() => null);
  if (!buf?.length) return null;
  const dims = jpegSize(buf);
  if (!dims) throw new AppError('RECORDING_CORRUPT', `frame at ${atMs} ms of ${input} did not give a JPEG`);
  return { path: shot.out, index: shot.index, atMs, width: dims.width, height: dims.height, size: buf.length };
}

/** One image at `shot.atMs` (earlier if nothing is decodable there, e.g. past the last key frame). */
async function imageAt(ffmpeg: string, input: string, shot: Shot, signal: AbortSignal | undefined): Promise<LocalImage> {
  let t = shot.atMs;
  for (let attempt = 0; attempt < 4; attempt++) {
    const r = await runOwned(ffmpeg, [...QUIET, ...seekTo(t), '-i', input, ...jpegOutput(0, shot)], { signal, timeoutMs: 60000 });
    if (r.code !== 0) throw new AppError('RECORDING_CORRUPT', `frame at ${t} ms of ${input} cannot be decoded: ${stderrTail(r.stderr)}`);
    const img = await readShot(shot, t, input);
    if (img) return img;
    t = Math.max(0, Math.floor(t * 0.8) - 500); // step back towards a decodable frame
  }
  throw new AppError('RECORDING_CORRUPT', `no decodable frame near ${shot.atMs} ms of ${input}`);
}

/**
 * `count` JPEG thumbnails `thumb-<i>.jpg` (scaled to `width`) at distinct timestamps,
 * and `poster.jpg` at full size, in `outDir`. A recording without video gets none. All
 * are taken by one FFmpeg (one start instead of one per image); an image it could not
 * take is taken again on its own, stepping back to a decodable frame.
 */
export async function generateThumbnails(info: MediaInfo, opts: ThumbnailOptions): Promise<{ thumbnails: LocalImage[]; poster: LocalImage | null }> {
  if (!info.video) return { thumbnails: [], poster: null };
  await fsp.mkdir(opts.outDir, { recursive: true });
  const ffmpeg = opts.ffmpegPath ?? 'ffmpeg';
  const count = opts.count ?? DEFAULT_THUMBNAIL_COUNT;
  const width = Math.min(opts.width ?? DEFAULT_THUMBNAIL_WIDTH, info.video.width || Infinity);
  const scaleWidth = Math.max(2, Math.floor(width / 2) * 2);
  const shots: Shot[] = thumbnailTimestamps(info.durationMs, count).map((atMs, i) => ({ atMs, out: path.join(opts.outDir, `thumb-${i + 1}.jpg`), scaleWidth, index: i + 1 }));
  const posterAt = Math.floor(info.durationMs * Math.min(Math.max(opts.posterAt ?? 0.5, 0), 0.99));
  shots.push({ atMs: posterAt, out: path.join(opts.outDir, 'poster.jpg'), index: 0 });

  const all = await runOwned(ffmpeg, [...QUIET, ...shots.flatMap((s) => [...seekTo(s.atMs), '-i', info.path]), ...shots.flatMap((s, i) => jpegOutput(i, s))], {
    signal: opts.signal,
    timeoutMs: 60000,
  });
  const images: LocalImage[] = [];
  for (const shot of shots) {
    const img = (all.code === 0 ? await readShot(shot, shot.atMs, info.path) : null) ?? (await imageAt(ffmpeg, info.path, shot, opts.signal));
    images.push(img);
    opts.onImage?.(img);
  }
  return { thumbnails: images.slice(0, -1), poster: images.at(-1)! };
}
