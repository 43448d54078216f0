import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AppError } from '../errors';

const run = promisify(execFile);

export interface ProbeStream {
  type: 'video' | 'audio' | 'other';
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** decoded frame count / duration, measured (MediaRecorder timestamps are variable) */
  fps?: number;
  frames?: number;
}

export interface ProbeResult {
  format: string;
  durationMs: number;
  size: number;
  bitRate?: number;
  streams: ProbeStream[];
}

/**
 * ffprobe summary of a media file; `countFrames` decodes the video to measure its frame
 * rate, `countPackets` counts it without decoding (one packet per frame here).
 */
export async function probe(ffprobePath: string, file: string, opts: { countFrames?: boolean; countPackets?: boolean } = {}): Promise<ProbeResult> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams'];
  if (opts.countFrames) args.push('-count_frames');
  else if (opts.countPackets) args.push('-count_packets');
  let stdout: string;
  try {
    ({ stdout } = await run(ffprobePath, [...args, file], { maxBuffer: 16 * 1024 * 1024 }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AppError('FFMPEG_NOT_FOUND', `ffprobe not found at "${ffprobePath}": install FFmpeg or set FFPROBE_PATH`, { cause: err });
    }
    throw new AppError('RECORDING_CORRUPT', `ffprobe cannot read ${file}: ${((err as { stderr?: string }).stderr ?? '').trim() || (err as Error).message}`, { cause: err });
  }
  const json = JSON.parse(stdout) as {
    format?: { format_name?: string; duration?: string; size?: string; bit_rate?: string };
    streams?: Array<Record<string, string | number | undefined>>;
  };
  const durationS = Number(json.format?.duration ?? 0);
  const streams: ProbeStream[] = (json.streams ?? []).map((s) => {
    const type = s.codec_type === 'video' || s.codec_type === 'audio' ? s.codec_type : 'other';
    const counted = s.nb_read_frames ?? s.nb_read_packets ?? s.nb_frames;
    const frames = counted !== undefined ? Number(counted) : undefined;
    const streamDuration = s.duration !== undefined ? Number(s.duration) : durationS;
    return {
      type,
      codec: String(s.codec_name ?? 'unknown'),
      width: s.width !== undefined ? Number(s.width) : undefined,
      height: s.height !== undefined ? Number(s.height) : undefined,
      sampleRate: s.sample_rate !== undefined ? Number(s.sample_rate) : undefined,
      channels: s.channels !== undefined ? Number(s.channels) : undefined,
      frames,
      fps: type === 'video' && frames !== undefined && streamDuration > 0 ? frames / streamDuration : undefined,
    };
  });
  return {
    format: json.format?.format_name ?? 'unknown',
    durationMs: Math.round(durationS * 1000),
    size: Number(json.format?.size ?? 0),
    bitRate: json.format?.bit_rate ? Number(json.format.bit_rate) : undefined,
    streams,
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
