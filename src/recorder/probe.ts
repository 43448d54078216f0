import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { AppError } from '../errors';

const run = promisify(execFile);

export interface ProbeStream {
  type: 'video' | 'audio' | 'other';
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  pixFmt?: string;
  /** The average frame rate the container states. */
  frameRate?: number;
  /** Decoded frames (or packets) / duration, measured when asked: MediaRecorder timestamps are variable. */
  fps?: number;
  frames?: number;
  /** A cover image (attached picture), not a moving picture. */
  attachedPic: boolean;
}

export interface ProbeResult {
  path: string;
  /** The container family, as ffprobe names it: "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", ... */
  format: string;
  /** As the container (or else its longest stream) states it; 0 when it states none (a stream cut short). */
  durationMs: number;
  size: number;
  bitRate?: number;
  /** The first packet's time (ms), when the container states a later one than 0. */
  startMs?: number;
  streams: ProbeStream[];
  /** The picture: the first video stream that is not a cover image. */
  video?: ProbeStream;
  audio?: ProbeStream;
}

const num = z.union([z.string(), z.number()]).optional();

/** The part of ffprobe's `-print_format json -show_format -show_streams` read here. */
const FfprobeJson = z.object({
  format: z.object({ format_name: z.string().optional(), duration: num, size: num, bit_rate: num, start_time: num }),
  streams: z
    .array(
      z.object({
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        width: z.number().optional(),
        height: z.number().optional(),
        pix_fmt: z.string().optional(),
        avg_frame_rate: z.string().optional(),
        r_frame_rate: z.string().optional(),
        sample_rate: num,
        channels: z.number().optional(),
        duration: num,
        start_time: num,
        tags: z.object({ DURATION: z.string().optional() }).partial().optional(),
        nb_frames: num,
        nb_read_frames: num,
        nb_read_packets: num,
        disposition: z.object({ attached_pic: z.number().optional() }).optional(),
      }),
    )
    .default([]),
});

/**
 * A Matroska stream's own length: its DURATION tag is when its last packet ends, on the file's
 * clock, so the span is that less the stream's start. The container's duration is the longest
 * stream's end: a video that starts 0.3 s after the sound, divided by that, read 28 fps for 30.
 */
function spanOfTag(tag: string | undefined, start: string | number | undefined): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(tag ?? '');
  if (!m) return undefined;
  return positive(Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) - (Number(start) || 0));
}

/** A positive finite number of a field, or undefined. */
function positive(v: string | number | undefined): number | undefined {
  const n = Number(v);
  return v !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** "30000/1001" to 29.97. */
function rate(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const [n, d] = s.split('/').map(Number);
  const v = d ? n / d : n;
  return Number.isFinite(v) && v > 0 && v < 1000 ? Math.round(v * 100) / 100 : undefined;
}

export interface ProbeOptions {
  /** Decode the video to count its frames (and so measure its frame rate). */
  countFrames?: boolean;
  /** Count the video's packets without decoding (one packet per frame here). */
  countPackets?: boolean;
  /** Kills ffprobe (JOB_ABORTED). */
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * The one place that runs ffprobe: a media file's container, duration and streams. A file
 * ffprobe cannot read is RECORDING_CORRUPT.
 */
export async function probe(ffprobePath: string, file: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams'];
  if (opts.countFrames) args.push('-count_frames');
  else if (opts.countPackets) args.push('-count_packets');
  let stdout: string;
  try {
    ({ stdout } = await run(ffprobePath, [...args, file], {
      maxBuffer: 16 * 1024 * 1024,
      signal: opts.signal,
      timeout: opts.timeoutMs,
      killSignal: 'SIGKILL',
    }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
    if (e.code === 'ENOENT') {
      throw new AppError('FFMPEG_NOT_FOUND', `ffprobe not found at "${ffprobePath}": install FFmpeg or set FFPROBE_PATH`, { cause: err });
    }
    if (e.name === 'AbortError') throw new AppError('JOB_ABORTED', `ffprobe of ${file} aborted`, { cause: err });
    if (e.killed) throw new AppError('FFMPEG_FAILED', `ffprobe of ${file} killed after ${opts.timeoutMs} ms`, { cause: err });
    throw new AppError('RECORDING_CORRUPT', `ffprobe cannot read ${file}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
  let json: z.infer<typeof FfprobeJson>;
  try {
    json = FfprobeJson.parse(JSON.parse(stdout));
  } catch (err) {
    throw new AppError('RECORDING_CORRUPT', `ffprobe found no container in ${file}: ${(err as Error).message}`, { cause: err });
  }
  const stated = positive(json.format.duration) ?? Math.max(0, ...json.streams.map((s) => positive(s.duration) ?? 0));
  const streams: ProbeStream[] = json.streams.map((s) => {
    const type = s.codec_type === 'video' || s.codec_type === 'audio' ? s.codec_type : 'other';
    const counted = s.nb_read_frames ?? s.nb_read_packets ?? s.nb_frames;
    const frames = counted !== undefined ? Number(counted) : undefined;
    const seconds = positive(s.duration) ?? spanOfTag(s.tags?.DURATION, s.start_time) ?? stated;
    return {
      type,
      codec: s.codec_name ?? 'unknown',
      width: s.width,
      height: s.height,
      sampleRate: positive(s.sample_rate),
      channels: s.channels,
      pixFmt: s.pix_fmt,
      frameRate: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate),
      frames,
      fps: type === 'video' && frames !== undefined && seconds > 0 ? frames / seconds : undefined,
      attachedPic: !!s.disposition?.attached_pic,
    };
  });
  return {
    path: file,
    format: json.format.format_name ?? 'unknown',
    durationMs: Math.round(stated * 1000),
    size: positive(json.format.size) ?? 0,
    bitRate: positive(json.format.bit_rate),
    startMs: positive(json.format.start_time) && Math.round(Number(json.format.start_time) * 1000),
    streams,
    video: streams.find((s) => s.type === 'video' && !s.attachedPic && (s.width ?? 0) > 0),
    audio: streams.find((s) => s.type === 'audio'),
  };
}

export function describeProbe(p: ProbeResult): string {
  const parts = p.streams.map((s) =>
    s.type === 'video'
      ? `video ${s.codec} ${s.width}x${s.height}${s.fps ? ` ${s.fps.toFixed(2)} fps` : ''}`
      : s.type === 'audio'
        ? `audio ${s.codec} ${s.sampleRate} Hz ${s.channels} ch`
        : s.codec,
  );
  return `${p.format}, ${(p.durationMs / 1000).toFixed(2)} s, ${(p.size / 1e6).toFixed(2)} MB; ${parts.join('; ')}`;
}
