import fsp from 'node:fs/promises';
import { AppError } from '../errors';
import { probe, type ProbeResult } from '../recorder/probe';
import { runOwned, stderrTail } from './child';

/** What post-processing knows of a file: its probe, and what decides whether it needs an FFmpeg pass. */
export interface MediaInfo extends ProbeResult {
  /** The container states its duration (else it was measured by reading the file through). */
  durationStated: boolean;
  /** ISO BMFF (MP4) only: the index (moov) comes before the media data (faststart). */
  indexFirst?: boolean;
}

export interface InspectOptions {
  ffprobePath?: string;
  ffmpegPath?: string;
  signal?: AbortSignal;
}

/** "HH:MM:SS.xx" of ffmpeg's progress/stats to milliseconds. */
function clockToMs(s: string): number {
  const m = /(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(s);
  return m ? Math.round((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000) : 0;
}

/**
 * Checks a finished recording and describes it, with one probe. A missing or zero-byte
 * file, or one without audio or video, is RECORDING_EMPTY; one ffprobe cannot read is
 * RECORDING_CORRUPT. When the container does not state a duration (a stream cut short),
 * the file is read through once (-c copy) to measure it.
 */
export async function inspectRecording(file: string, opts: InspectOptions = {}): Promise<MediaInfo> {
  let size: number;
  try {
    const st = await fsp.stat(file);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (err) {
    throw new AppError('RECORDING_EMPTY', `recording file ${file} is missing: ${(err as Error).message}`, { cause: err });
  }
  if (size === 0) throw new AppError('RECORDING_EMPTY', `recording file ${file} is empty (0 bytes): nothing was recorded`);

  const info = await probe(opts.ffprobePath ?? 'ffprobe', file, { signal: opts.signal, timeoutMs: 60000 });
  if (!info.video && !info.audio) throw new AppError('RECORDING_EMPTY', `recording file ${file} has no audio or video stream`);
  const durationMs = info.durationMs || (await measureDuration(file, opts));
  if (!durationMs) throw new AppError('RECORDING_EMPTY', `recording file ${file} contains no media (duration 0)`);
  return {
    ...info,
    size,
    durationMs,
    durationStated: info.durationMs > 0,
    ...(info.format.split(',').includes('mp4') ? { indexFirst: await moovBeforeMdat(file) } : {}),
  };
}

/** Reads the whole file without decoding and returns the last timestamp ffmpeg reached. */
async function measureDuration(file: string, opts: InspectOptions): Promise<number> {
  let outTimeMs = 0;
  const r = await runOwned(opts.ffmpegPath ?? 'ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-map', '0', '-c', 'copy', '-f', 'null', '-progress', 'pipe:1', '-'], {
    signal: opts.signal,
    timeoutMs: 10 * 60000,
    onStdoutLine: (l) => {
      if (l.startsWith('out_time=')) outTimeMs = Math.max(outTimeMs, clockToMs(l.slice(9)));
    },
  });
  if (r.code !== 0 && !outTimeMs) {
    throw new AppError('RECORDING_CORRUPT', `recording file ${file} cannot be read through: ${stderrTail(r.stderr)}`);
  }
  return outTimeMs;
}

/** Walks the top-level boxes of an MP4 (a few header reads) until moov or mdat comes. */
async function moovBeforeMdat(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const head = Buffer.alloc(16);
    let pos = 0;
    for (let boxes = 0; boxes < 64; boxes++) {
      const { bytesRead } = await fh.read(head, 0, 16, pos);
      if (bytesRead < 8) return false;
      const type = head.toString('latin1', 4, 8);
      if (type === 'moov') return true;
      if (type === 'mdat') return false;
      let size = head.readUInt32BE(0);
      if (size === 1 && bytesRead === 16) size = Number(head.readBigUInt64BE(8));
      if (size < 8) return false; // 0 = "to the end of the file": no moov after it
      pos += size;
    }
    return false;
  } finally {
    await fh.close();
  }
}
