import fsp from 'node:fs/promises';
import { AppError } from '../errors';
import { containerFormat, muxerArgs } from '../recordings/formats';
import type { RecordingFormat } from '../recordings/options';
import type { RecordingMarker } from '../recordings/stored-data';
import { resumeOffsetsMs, toFileMs, type PausedSpan } from '../recordings/timeline';
import { runOwned, stderrTail } from './child';

/**
 * Chapters of a delivered recording, on the file's clock (recordings/timeline.ts): one at 0,
 * one at each resume, one per marker (a marker at a resume's instant names that chapter).
 * Written into the file by a stream-copy remux with an FFMETADATA file, which MP4 and m4a
 * (a chapter track and Nero chapters), Matroska and WebM carry; Ogg gets them as the comments
 * of the Vorbis chapter extension (CHAPTERnnn, CHAPTERnnnNAME) written as they are, since
 * FFmpeg 5.1's Ogg muxer puts a chapter starting at x.5 s or later one second late. ffprobe
 * -show_chapters shows them all. A recording with neither pause nor marker gets none.
 */

export interface Chapter {
  title: string;
  startMs: number;
  endMs: number;
  /** What made it: the recording's start, a resume after a pause, or the host's marker. */
  kind: 'start' | 'resume' | 'marker';
}

export const START_TITLE = 'Start';
export const RESUME_TITLE = 'Resumed';

/** The chapters of a file `durationMs` long; [] when only the one at 0 would be. */
export function chaptersOf(r: { durationMs: number; recordingAt?: Date; pauses: readonly PausedSpan[]; markers: readonly RecordingMarker[] }): Chapter[] {
  if (!r.recordingAt) return [];
  const recordingAt = r.recordingAt;
  const starts = new Map<number, Pick<Chapter, 'title' | 'kind'>>([[0, { title: START_TITLE, kind: 'start' }]]);
  for (const at of resumeOffsetsMs(recordingAt, r.pauses)) if (!starts.has(Math.round(at))) starts.set(Math.round(at), { title: RESUME_TITLE, kind: 'resume' });
  // a marker names the chapter that starts where it is (the last one added wins)
  for (const m of r.markers) starts.set(Math.round(toFileMs(m.at, recordingAt, r.pauses)), { title: m.label, kind: 'marker' });
  const sorted = [...starts].filter(([startMs]) => startMs < r.durationMs).sort(([a], [b]) => a - b);
  if (sorted.length < 2) return [];
  return sorted.map(([startMs, c], i) => ({ ...c, startMs, endMs: i + 1 < sorted.length ? sorted[i + 1]![0] : Math.round(r.durationMs) }));
}

/** FFmpeg's metadata file of the chapters (its special characters escaped). */
export function ffmetadata(chapters: readonly Chapter[]): string {
  const escape = (s: string) => s.replace(/[\\=;#\n]/g, (c) => `\\${c}`);
  return [';FFMETADATA1', ...chapters.map((c) => `[CHAPTER]\nTIMEBASE=1/1000\nSTART=${c.startMs}\nEND=${c.endMs}\ntitle=${escape(c.title)}`), ''].join('\n');
}

/**
 * Writes `inputPath` with `chapters` to `outPath`: every stream copied, the container's muxer
 * options kept (MP4's index first), in the background like every pass (child.ts).
 */
export async function writeChapters(inputPath: string, format: RecordingFormat, chapters: readonly Chapter[], outPath: string, opts: { ffmpegPath?: string; signal?: AbortSignal } = {}): Promise<void> {
  const metaPath = `${outPath}.ffmeta`;
  const tmp = `${outPath}.tmp`;
  await fsp.writeFile(metaPath, ffmetadata(chapters));
  try {
    const f = containerFormat(format);
    const carry = f.muxer === 'ogg' ? ['-map_chapters', '-1', ...vorbisChapterArgs(chapters)] : ['-map_chapters', '1'];
    const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-i', inputPath, '-f', 'ffmetadata', '-i', metaPath, '-map', '0', ...carry, '-c', 'copy', ...muxerArgs(f), tmp];
    const r = await runOwned(opts.ffmpegPath ?? 'ffmpeg', args, { signal: opts.signal, background: true });
    if (r.code !== 0) throw new AppError('FFMPEG_FAILED', `writing the chapters of ${inputPath} failed: ${stderrTail(r.stderr)}`);
    await fsp.rename(tmp, outPath);
  } finally {
    await fsp.rm(metaPath, { force: true });
    await fsp.rm(tmp, { force: true });
  }
}

/** The chapters as Vorbis comments of the (one, audio) stream: CHAPTER000=00:00:02.500, CHAPTER000NAME=title. */
export function vorbisChapterArgs(chapters: readonly Chapter[]): string[] {
  const clock = (ms: number) => {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
  };
  return chapters.flatMap((c, i) => {
    const n = String(i).padStart(3, '0');
    return ['-metadata:s:a:0', `CHAPTER${n}=${clock(c.startMs)}`, '-metadata:s:a:0', `CHAPTER${n}NAME=${c.title}`];
  });
}
