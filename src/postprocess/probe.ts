import fsp from 'node:fs/promises';
import { AppError } from '../errors';
import { runOwned, stderrTail } from './child';

export interface VideoStreamInfo {
  codec: string;
  width: number;
  height: number;
  /** Average frame rate when the container knows it. */
  fps?: number;
  pixFmt?: string;
}

export interface AudioStreamInfo {
  codec: string;
  sampleRate?: number;
  channels?: number;
}

export interface MediaInfo {
  path: string;
  size: number;
  durationMs: number;
  formatName: string;
  bitRate?: number;
  video?: VideoStreamInfo;
  audio?: AudioStreamInfo;
}

export interface ProbeOptions {
  ffprobePath?: string;
  ffmpegPath?: string;
  signal?: AbortSignal;
}

interface FfprobeJson {
  format?: { format_name?: string; duration?: string; bit_rate?: string; size?: string };
  streams?: Array<{
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    pix_fmt?: string;
    sample_rate?: string;
    channels?: number;
    duration?: string;
    disposition?: { attached_pic?: number };
  }>;
}

function rate(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const [n, d] = s.split('/').map(Number);
  const v = d ? n / d : n;
  return Number.isFinite(v) && v > 0 && v < 1000 ? Math.round(v * 100) / 100 : undefined;
}

function seconds(s: string | undefined): number {
  const v = Number(s);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/** "HH:MM:SS.xx" of ffmpeg's progress/stats to milliseconds. */
function clockToMs(s: string): number {
  const m = /(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(s);
  return m ? Math.round((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000) : 0;
}

/**
 * Checks a finished recording and describes it. A missing or zero-byte file, or one
 * without audio or video, is RECORDING_EMPTY; one ffprobe cannot read is RECORDING_CORRUPT.
 * When the container does not state a duration (a stream cut short), the file is read
 * through once (-c copy) to measure it.
 */
export async function probeMedia(file: string, opts: ProbeOptions = {}): Promise<MediaInfo> {
  let size: number;
  try {
    const st = await fsp.stat(file);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (err) {
    throw new AppError('RECORDING_EMPTY', `recording file ${file} is missing: ${(err as Error).message}`, { cause: err });
  }
  if (size === 0) throw new AppError('RECORDING_EMPTY', `recording file ${file} is empty (0 bytes): nothing was recorded`);

  const ffprobe = opts.ffprobePath ?? 'ffprobe';
  const r = await runOwned(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], {
    signal: opts.signal,
    captureStdout: true,
    timeoutMs: 60000,
  });
  let json: FfprobeJson;
  try {
    if (r.code !== 0) throw new Error(stderrTail(r.stderr) || `exit code ${r.code}`);
    json = JSON.parse(r.stdout) as FfprobeJson;
    if (!json.format) throw new Error('no container format recognised');
  } catch (err) {
    throw new AppError('RECORDING_CORRUPT', `recording file ${file} is unreadable: ${(err as Error).message}`, { cause: err });
  }
  const streams = json.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && (s.width ?? 0) > 0);
  const a = streams.find((s) => s.codec_type === 'audio');
  if (!v && !a) throw new AppError('RECORDING_EMPTY', `recording file ${file} has no audio or video stream`);

  let durationSec = seconds(json.format.duration);
  if (!durationSec) durationSec = Math.max(0, ...streams.map((s) => seconds(s.duration)));
  let durationMs = Math.round(durationSec * 1000);
  if (!durationMs) durationMs = await measureDuration(file, opts);
  if (!durationMs) throw new AppError('RECORDING_EMPTY', `recording file ${file} contains no media (duration 0)`);

  return {
    path: file,
    size,
    durationMs,
    formatName: json.format.format_name ?? 'unknown',
    bitRate: Number(json.format.bit_rate) || undefined,
    video: v
      ? { codec: v.codec_name ?? 'unknown', width: v.width ?? 0, height: v.height ?? 0, fps: rate(v.avg_frame_rate) ?? rate(v.r_frame_rate), pixFmt: v.pix_fmt }
      : undefined,
    audio: a ? { codec: a.codec_name ?? 'unknown', sampleRate: Number(a.sample_rate) || undefined, channels: a.channels } : undefined,
  };
}

/** Reads the whole file without decoding and returns the last timestamp ffmpeg reached. */
async function measureDuration(file: string, opts: ProbeOptions): Promise<number> {
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
