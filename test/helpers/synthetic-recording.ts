import fsp from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../src/errors';
import { runOwned, stderrTail } from '../../src/postprocess/child';

/**
 * Synthetic recordings made with ffmpeg's lavfi sources (testsrc2 picture, sine tone), for
 * tests and benchmarks. `kind` mimics what reaches the
 * post-processor: 'h264-opus.mkv' is what the recorder's remux of Chromium's
 * MediaRecorder stream looks like.
 */
export type SyntheticKind = 'h264-opus.mkv' | 'vp8-opus.webm' | 'h264-aac.mp4' | 'opus.ogg';

export interface SyntheticOptions {
  durationSec: number;
  width?: number;
  height?: number;
  fps?: number;
  ffmpegPath?: string;
  /** Video bitrate (e.g. '2M'): makes file size predictable for upload benchmarks. */
  videoBitrate?: string;
}

export async function makeSyntheticRecording(out: string, kind: SyntheticKind, opts: SyntheticOptions): Promise<string> {
  const w = opts.width ?? 640;
  const h = opts.height ?? 360;
  const fps = opts.fps ?? 30;
  const d = String(opts.durationSec);
  await fsp.mkdir(path.dirname(out), { recursive: true });
  const video = ['-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${fps}:duration=${d}`];
  const audio = ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${d}`];
  const rate = opts.videoBitrate ? ['-b:v', opts.videoBitrate, '-maxrate', opts.videoBitrate, '-bufsize', opts.videoBitrate] : [];
  let args: string[];
  switch (kind) {
    case 'h264-opus.mkv':
      args = [...video, ...audio, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(fps), '-pix_fmt', 'yuv420p', ...rate,
        '-c:a', 'libopus', '-b:a', '64k', '-f', 'matroska'];
      break;
    case 'vp8-opus.webm':
      args = [...video, ...audio, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-g', String(fps), ...(rate.length ? rate : ['-b:v', '1M']),
        '-c:a', 'libopus', '-b:a', '64k', '-f', 'webm'];
      break;
    case 'h264-aac.mp4':
      args = [...video, ...audio, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(fps), '-pix_fmt', 'yuv420p', ...rate,
        '-c:a', 'aac', '-b:a', '96k', '-f', 'mp4'];
      break;
    case 'opus.ogg':
      args = [...audio, '-c:a', 'libopus', '-b:a', '64k', '-f', 'ogg'];
      break;
  }
  const r = await runOwned(opts.ffmpegPath ?? 'ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args, '-shortest', out], { timeoutMs: 10 * 60000 });
  if (r.code !== 0) throw new AppError('FFMPEG_FAILED', `making synthetic ${kind}: ${stderrTail(r.stderr)}`);
  return out;
}
