import os from 'node:os';
import { AppError } from '../errors';
import type { MediaInfo } from './probe';

/** What a finished recording can be delivered as. m4a and ogg drop the picture. */
export const POSTPROCESS_FORMATS = ['mp4', 'webm', 'mkv', 'm4a', 'ogg'] as const;
export type PostprocessFormat = (typeof POSTPROCESS_FORMATS)[number];

export function isPostprocessFormat(v: unknown): v is PostprocessFormat {
  return typeof v === 'string' && (POSTPROCESS_FORMATS as readonly string[]).includes(v);
}

interface FormatSpec {
  ext: string;
  contentType: string;
  muxer: string;
  audioOnly: boolean;
  /** Codecs the container takes as they are (stream copy). */
  videoCopy: readonly string[];
  audioCopy: readonly string[];
  /** Encoder arguments when the input codec is not in the copy list. */
  videoEncode: readonly string[];
  audioEncode: readonly string[];
  muxerArgs: readonly string[];
}

const X264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p'];
const AAC = ['-c:a', 'aac', '-b:a', '128k'];
const OPUS = ['-c:a', 'libopus', '-b:a', '96k'];

const SPECS: Record<PostprocessFormat, FormatSpec> = {
  // AAC only for audio in MP4: Opus-in-MP4 is not played everywhere (older Safari).
  mp4: { ext: 'mp4', contentType: 'video/mp4', muxer: 'mp4', audioOnly: false, videoCopy: ['h264', 'hevc', 'av1'], audioCopy: ['aac', 'mp3'],
         videoEncode: X264, audioEncode: AAC, muxerArgs: ['-movflags', '+faststart'] },
  webm: { ext: 'webm', contentType: 'video/webm', muxer: 'webm', audioOnly: false, videoCopy: ['vp8', 'vp9', 'av1'], audioCopy: ['opus', 'vorbis'],
          videoEncode: ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '2500k', '-qmin', '4', '-qmax', '48',
            '-threads', String(Math.min(8, os.cpus().length))],
          audioEncode: OPUS, muxerArgs: [] },
  mkv: { ext: 'mkv', contentType: 'video/x-matroska', muxer: 'matroska', audioOnly: false,
         videoCopy: ['h264', 'hevc', 'vp8', 'vp9', 'av1', 'mpeg4', 'mjpeg'], audioCopy: ['opus', 'aac', 'vorbis', 'mp3', 'flac', 'pcm_s16le', 'pcm_f32le'],
         videoEncode: X264, audioEncode: OPUS, muxerArgs: [] },
  m4a: { ext: 'm4a', contentType: 'audio/mp4', muxer: 'ipod', audioOnly: true, videoCopy: [], audioCopy: ['aac'],
         videoEncode: [], audioEncode: AAC, muxerArgs: ['-movflags', '+faststart'] },
  ogg: { ext: 'ogg', contentType: 'audio/ogg', muxer: 'ogg', audioOnly: true, videoCopy: [], audioCopy: ['opus', 'vorbis'],
         videoEncode: [], audioEncode: OPUS, muxerArgs: [] },
};

export function formatSpec(format: PostprocessFormat): Readonly<FormatSpec> {
  const s = SPECS[format];
  if (!s) throw new AppError('UNSUPPORTED_OPTION', `output format "${String(format)}" is not one of ${POSTPROCESS_FORMATS.join(', ')}`);
  return s;
}

export type StreamMode = 'copy' | 'transcode' | 'none';

export interface ConversionPlan {
  format: PostprocessFormat;
  ext: string;
  contentType: string;
  video: StreamMode;
  audio: StreamMode;
  /** ffmpeg arguments between `-i input` and the output path. */
  args: string[];
}

/** Decides stream copy or encode per stream: remux whenever the container takes the codec. */
export function planConversion(info: MediaInfo, format: PostprocessFormat): ConversionPlan {
  const spec = formatSpec(format);
  if (spec.audioOnly && !info.audio) {
    throw new AppError('UNSUPPORTED_OPTION', `format ${format} is audio-only but the recording has no audio`);
  }
  const video: StreamMode = spec.audioOnly || !info.video ? 'none' : spec.videoCopy.includes(info.video.codec) ? 'copy' : 'transcode';
  const audio: StreamMode = !info.audio ? 'none' : spec.audioCopy.includes(info.audio.codec) ? 'copy' : 'transcode';
  const args: string[] = [];
  if (video !== 'none') args.push('-map', '0:v:0', ...(video === 'copy' ? ['-c:v', 'copy'] : spec.videoEncode));
  else args.push('-vn');
  if (audio !== 'none') args.push('-map', '0:a:0', ...(audio === 'copy' ? ['-c:a', 'copy'] : spec.audioEncode));
  else args.push('-an');
  args.push('-sn', '-dn', '-map_metadata', '-1', '-avoid_negative_ts', 'make_zero', ...spec.muxerArgs, '-f', spec.muxer);
  return { format, ext: spec.ext, contentType: spec.contentType, video, audio, args };
}
