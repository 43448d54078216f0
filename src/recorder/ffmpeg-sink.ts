import path from 'node:path';
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { AppError } from '../errors';
import type { OutputFormat, RecordingOptions } from '../recordings/contract';
import { codecArgs, containerFormat, muxerArgs, streamMode, videoBitrate, type ContainerFormat, type PictureRate } from '../recordings/formats';
import { HLS_INIT, HLS_LOCAL_PLAYLIST, HLS_SEGMENT_PATTERN } from './hls-uploader';

export type VideoCodec = 'h264' | 'vp8' | 'vp9' | 'unknown';

export function videoCodecOf(mimeType: string): VideoCodec {
  const m = mimeType.toLowerCase();
  if (m.includes('h264') || m.includes('avc1')) return 'h264';
  if (m.includes('vp9')) return 'vp9';
  if (m.includes('vp8')) return 'vp8';
  return 'unknown';
}

export interface OutputSpec {
  format: OutputFormat;
  videoCodec: VideoCodec;
  /** The recording's picture and the bit rate asked for: what an encode of the video aims at. */
  picture?: PictureRate;
  videoBitrate?: number;
  audioBitrate?: number;
  /** Moves audio later (positive) or earlier (negative) to cancel the encoder's constant A/V offset. */
  audioShiftMs?: number;
}

/** The output of a recording with `o` whose page records `videoCodec`: for the live sink and for salvage alike. */
export function outputSpecOf(o: RecordingOptions, videoCodec: VideoCodec, audioShiftMs: number): OutputSpec {
  return { format: o.format, videoCodec, picture: o, videoBitrate: o.videoBitrate, audioBitrate: o.audioBitrate, audioShiftMs };
}

/**
 * FFmpeg output options for a MediaRecorder WebM input (Opus audio, whatever the video):
 * each stream is copied when the container takes its codec, encoded otherwise (MP4 audio
 * becomes AAC; the picture only when the page fell back to a codec the container does not
 * take), see recordings/formats.ts: a start asks for a container that takes the page's codec.
 */
export function outputOptions(spec: OutputSpec): string[] {
  const f = containerFormat(spec.format);
  return [...streamArgs(f, spec), ...muxerArgs(f)];
}

/** The streams of `spec` going into `f`: mapped, then copied or encoded. */
export function streamArgs(f: ContainerFormat, spec: OutputSpec): string[] {
  const mode = spec.videoCodec === 'unknown' ? 'transcode' : streamMode(f, 'video', spec.videoCodec);
  const video = codecArgs(f, 'video', mode, spec.picture && videoBitrate(f, spec.picture, spec.videoBitrate));
  const shift = spec.audioShiftMs ?? 0;
  // a bitstream filter moves the audio packets' timestamps, so copied audio stays copied
  const audioShift = shift !== 0 ? ['-bsf:a', `setts=ts=TS${shift > 0 ? '+' : '-'}${Math.abs(shift) / 1000}/TB`] : [];
  const audio = [...codecArgs(f, 'audio', streamMode(f, 'audio', 'opus'), spec.audioBitrate), ...audioShift];
  return ['-map', '0:v:0?', '-map', '0:a:0?', ...video, ...audio];
}

/** A live HLS output beside the file: fMP4 segments and FFmpeg's playlist in `dir` (hls-uploader.ts reads both). */
export interface HlsSpec {
  dir: string;
  segmentSeconds: number;
}

/**
 * FFmpeg's second output: the streams as MP4 takes them (the page's H.264 copied, Opus made
 * AAC), cut into fMP4 segments. The page asks its encoder for a keyframe every
 * `segmentSeconds`; cutting at 90% of that makes every keyframe a cut, so a keyframe that
 * comes a few milliseconds early does not double a segment. The playlist is written to a
 * temporary name and renamed, and a segment is listed only once it is closed.
 * MediaRecorder's WebM gives its video packets no duration (FFmpeg reads 1 ms each), and the
 * last segment's EXTINF is their sum (0.06 s for 2 s of media): each packet is given the time
 * to the next one instead.
 */
export function hlsOutputOptions(spec: OutputSpec, hls: HlsSpec): string[] {
  return [
    ...streamArgs(containerFormat('mp4'), spec),
    '-bsf:v', 'setts=duration=if(eq(NEXT_PTS\\,NOPTS)\\,DURATION\\,NEXT_PTS-PTS)',
    '-f', 'hls',
    '-hls_time', (hls.segmentSeconds * 0.9).toFixed(2),
    '-hls_segment_type', 'fmp4',
    '-hls_fmp4_init_filename', HLS_INIT,
    '-hls_segment_filename', path.join(hls.dir, HLS_SEGMENT_PATTERN),
    '-hls_playlist_type', 'event',
    '-hls_list_size', '0',
    '-hls_flags', 'independent_segments+temp_file',
  ];
}

/**
 * One FFmpeg process turning the live WebM stream into the output file. Owns the
 * process: end() closes its input and waits for it to finish, kill() ends it at once.
 */
export class FfmpegSink {
  private readonly input = new PassThrough({ highWaterMark: 8 * 1024 * 1024 });
  private readonly command: ffmpeg.FfmpegCommand;
  private readonly exit: Promise<void>;
  failure?: AppError;
  private stderrTail = '';

  constructor(ffmpegPath: string, readonly outputPath: string, spec: OutputSpec, hls?: HlsSpec) {
    this.command = ffmpeg({ stdoutLines: 0 })
      .setFfmpegPath(ffmpegPath)
      .input(this.input)
      .inputFormat('webm')
      .inputOptions(['-fflags', '+genpts'])
      .output(outputPath)
      .outputOptions(['-y', ...outputOptions(spec)]);
    // the same process writes the HLS output: the input is parsed once, the video copied twice
    if (hls) this.command.output(path.join(hls.dir, HLS_LOCAL_PLAYLIST)).outputOptions(['-y', ...hlsOutputOptions(spec, hls)]);
    this.exit = new Promise<void>((resolve) => {
      this.command.on('stderr', (line: string) => {
        this.stderrTail = (this.stderrTail + line + '\n').slice(-2000);
      });
      this.command.on('end', () => resolve());
      this.command.on('error', (err: Error) => {
        this.failure = ffmpegError(err, this.stderrTail, ffmpegPath);
        resolve();
      });
    });
    // FFmpeg closing its stdin early (it died) must not crash the worker
    this.input.on('error', () => undefined);
    this.command.run();
  }

  get alive(): boolean {
    return !this.failure;
  }

  get pid(): number | undefined {
    return (this.command as unknown as { ffmpegProc?: { pid?: number } }).ffmpegProc?.pid;
  }

  write(chunk: Uint8Array): void {
    if (this.alive && !this.input.writableEnded) this.input.write(chunk);
  }

  /** Closes the input and waits for FFmpeg to write the trailer and exit. */
  async end(timeoutMs = 30000): Promise<void> {
    this.input.end();
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.exit;
    clearTimeout(timer);
    if (this.failure) throw this.failure;
  }

  kill(): void {
    this.input.destroy();
    this.command.kill('SIGKILL');
  }

  /** Kills FFmpeg and waits for it to be gone (a start given up: nothing to finish). */
  async killed(): Promise<void> {
    this.kill();
    await this.exit;
  }
}

/** Remuxes a finished WebM (the spool) into the output format: the recovery path. */
export async function remuxFile(ffmpegPath: string, inputPath: string, outputPath: string, spec: OutputSpec): Promise<void> {
  await runOnFile(ffmpegPath, inputPath, outputPath, outputOptions(spec));
}

/** Cuts a finished WebM (the spool) into HLS in `hls.dir` as the live sink's second output does: the same cuts, the same names (hls-salvage.ts). */
export async function segmentFile(ffmpegPath: string, inputPath: string, spec: OutputSpec, hls: HlsSpec): Promise<void> {
  await runOnFile(ffmpegPath, inputPath, path.join(hls.dir, HLS_LOCAL_PLAYLIST), hlsOutputOptions(spec, hls));
}

async function runOnFile(ffmpegPath: string, inputPath: string, outputPath: string, options: string[]): Promise<void> {
  let stderrTail = '';
  await new Promise<void>((resolve, reject) => {
    ffmpeg(inputPath)
      .setFfmpegPath(ffmpegPath)
      .inputOptions(['-fflags', '+genpts'])
      .outputOptions(['-y', ...options])
      .output(outputPath)
      .on('stderr', (line: string) => {
        stderrTail = (stderrTail + line + '\n').slice(-2000);
      })
      .on('end', () => resolve())
      .on('error', (err: Error) => reject(ffmpegError(err, stderrTail, ffmpegPath)))
      .run();
  });
}

function ffmpegError(err: Error, stderrTail: string, ffmpegPath: string): AppError {
  if (/ENOENT|Cannot find ffmpeg/i.test(err.message)) {
    return new AppError('FFMPEG_NOT_FOUND', `FFmpeg not found at "${ffmpegPath}": install it or set FFMPEG_PATH`, { cause: err });
  }
  if (/No space left on device/i.test(stderrTail)) {
    return new AppError('DISK_FULL', 'disk full while FFmpeg wrote the recording', { cause: err });
  }
  const last = stderrTail.trim().split('\n').slice(-3).join(' | ');
  return new AppError('FFMPEG_FAILED', `FFmpeg failed: ${err.message}${last ? ` (${last})` : ''}`, { cause: err });
}
