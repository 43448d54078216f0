import path from 'node:path';
import { AppError } from '../errors';
import { codecArgs, containerFormat, muxerArgs, streamMode, videoBitrate, type ContainerFormat, type PictureRate, type StreamMode } from '../recordings/formats';
import type { RecordingFormat } from '../recordings/options';
import type { ProbeStream } from '../recorder/probe';
import type { MediaInfo } from './inspect';

export interface ConversionPlan {
  format: RecordingFormat;
  ext: string;
  contentType: string;
  video: StreamMode;
  audio: StreamMode;
  /** The file already is what is delivered: uploaded as it is, no FFmpeg pass. */
  keep: boolean;
  /** ffmpeg arguments between `-i input` and the output path. */
  args: string[];
}

export interface PlanOptions {
  /** The video bit rate the caller asked for (RecordingOptions.videoBitrate): an encode aims at it too. */
  videoBitrate?: number;
}

/**
 * Decides what post-processing does to a recording: nothing when it already is the
 * deliverable (the recorder's FFmpeg sink writes the final container), else a pass that
 * copies each stream the container takes and encodes the others (a WebM is recorded as
 * H.264 in Matroska: its pass encodes VP8, at the caller's bit rate or one for its size).
 */
export function planConversion(info: MediaInfo, format: RecordingFormat, opts: PlanOptions = {}): ConversionPlan {
  const f = containerFormat(format);
  if (f.audioOnly && !info.audio) {
    throw new AppError('UNSUPPORTED_OPTION', `format ${format} is audio-only but the recording has no audio`);
  }
  const video = streamMode(f, 'video', info.video?.codec);
  const audio = streamMode(f, 'audio', info.audio?.codec);
  const args = [
    ...(video === 'none' ? [] : ['-map', '0:v:0']), ...codecArgs(f, 'video', video, info.video && videoBitrate(f, pictureOf(info.video), opts.videoBitrate)),
    ...(audio === 'none' ? [] : ['-map', '0:a:0']), ...codecArgs(f, 'audio', audio),
    '-sn', '-dn', '-map_metadata', '-1', '-avoid_negative_ts', 'make_zero', ...muxerArgs(f),
  ];
  return { format, ext: f.ext, contentType: f.contentType, video, audio, keep: isFinal(info, f, video, audio), args };
}

/** The picture of a probed video stream; MediaRecorder's timestamps state no rate, so 30 fps when none is stated. */
function pictureOf(v: ProbeStream): PictureRate {
  return { width: v.width ?? 1280, height: v.height ?? 720, fps: Math.min(60, v.frameRate ?? 30) };
}

/**
 * Whether a pass would only write the same file again: the container and extension of the
 * format, every stream copied and nothing else in it (so no picture for audio-only), its duration stated (a raw spool has
 * none) and, for MP4, the index first.
 */
function isFinal(info: MediaInfo, f: ContainerFormat, video: StreamMode, audio: StreamMode): boolean {
  const streams = (video === 'copy' ? 1 : 0) + (audio === 'copy' ? 1 : 0);
  return (
    path.extname(info.path).toLowerCase() === `.${f.ext}` &&
    info.format === f.probedAs &&
    video !== 'transcode' &&
    audio !== 'transcode' &&
    info.streams.length === streams &&
    info.durationStated &&
    (!f.faststart || info.indexFirst === true)
  );
}
