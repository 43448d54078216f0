import fsp from 'node:fs/promises';
import { AppError } from '../errors';
import { probe } from '../recorder/probe';
import { runOwned, stderrTail } from './child';

/** Past this (ms) over a seam, a segment holds media of the pause: less is a packet's rounding. */
const OVER_SEAM_MS = 20;

export interface PlacedSegment {
  path: string;
  offsetMs: number;
  durationMs: number;
  size: number;
}

/**
 * A track segment holds only what the composite holds: on a loaded page the composite's
 * encoder stops at a pause up to ~300 ms before the tracks' recorders do, so a segment
 * begun before a pause ended that much into it (the host paused: that is not to be in any
 * file). Each segment is cut at the first of the composite's seams (`cutsMs`, on its file
 * clock) past its middle. Its start is left: one placed before its seam was placed by the
 * page's count of the pause, which is what is wrong there, and a copied Ogg or camera
 * cannot begin at any instant (a page, a keyframe). A copy, no re-encode.
 */
export async function cutAtSeam<T extends PlacedSegment>(t: T, cutsMs: readonly number[], tools: { ffmpeg: string; ffprobe: string; signal?: AbortSignal }): Promise<T> {
  const middle = t.offsetMs + t.durationMs / 2;
  const keepMs = Math.min(t.durationMs, ...cutsMs.filter((c) => c > middle).map((c) => c - t.offsetMs));
  if (keepMs >= t.durationMs - OVER_SEAM_MS) return t;
  const cut = t.path.replace(/(\.[^.]+)$/, '.cut$1');
  const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-i', t.path, '-t', (keepMs / 1000).toFixed(3), '-c', 'copy', ...(cut.endsWith('.mp4') ? ['-movflags', '+faststart'] : []), cut];
  const r = await runOwned(tools.ffmpeg, args, { signal: tools.signal, background: true });
  if (r.code !== 0) throw new AppError('FFMPEG_FAILED', `cutting a track at the pause failed: ${stderrTail(r.stderr)}`);
  await fsp.rename(cut, t.path);
  const made = await probe(tools.ffprobe, t.path, { signal: tools.signal });
  return { ...t, durationMs: made.durationMs, size: made.size };
}
