import { AppError } from '../errors';
import type { RecordingFormat } from './options';

/**
 * The one table of the containers a recording is delivered in: extension, content type,
 * the codecs each takes as they are, and how FFmpeg writes it. Pure data, here in the
 * domain so that the recorder's sink, post-processing and storage read the same row
 * without importing each other.
 */
export interface ContainerFormat {
  ext: string;
  contentType: string;
  /** FFmpeg's muxer. */
  muxer: string;
  /** The container family as ffprobe names it (`format_name`). */
  probedAs: string;
  /** The MP4 index (moov) is written before the media, so a player starts before the download ends. */
  faststart: boolean;
  audioOnly: boolean;
  /** Codecs the container takes as they are (stream copy). */
  videoCodecs: readonly string[];
  audioCodecs: readonly string[];
  /** FFmpeg's encoder arguments for a stream whose codec is not in the lists above. */
  videoEncoder: readonly string[];
  audioEncoder: readonly string[];
  audioBitrate: number;
}

const X264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p'];
const VP8 = ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '2500k', '-qmin', '4', '-qmax', '48'];
const AAC = ['-c:a', 'aac'];
const OPUS = ['-c:a', 'libopus'];
const ISO_BMFF = 'mov,mp4,m4a,3gp,3g2,mj2';

const CONTAINER_FORMATS: Readonly<Record<RecordingFormat, ContainerFormat>> = {
  // AAC only for audio in MP4: Opus-in-MP4 is not played everywhere (older Safari).
  mp4: { ext: 'mp4', contentType: 'video/mp4', muxer: 'mp4', probedAs: ISO_BMFF, faststart: true, audioOnly: false,
    videoCodecs: ['h264', 'hevc', 'av1'], audioCodecs: ['aac', 'mp3'], videoEncoder: X264, audioEncoder: AAC, audioBitrate: 128000 },
  webm: { ext: 'webm', contentType: 'video/webm', muxer: 'webm', probedAs: 'matroska,webm', faststart: false, audioOnly: false,
    videoCodecs: ['vp8', 'vp9', 'av1'], audioCodecs: ['opus', 'vorbis'], videoEncoder: VP8, audioEncoder: OPUS, audioBitrate: 96000 },
  mkv: { ext: 'mkv', contentType: 'video/x-matroska', muxer: 'matroska', probedAs: 'matroska,webm', faststart: false, audioOnly: false,
    videoCodecs: ['h264', 'hevc', 'vp8', 'vp9', 'av1', 'mpeg4', 'mjpeg'], audioCodecs: ['opus', 'aac', 'vorbis', 'mp3', 'flac', 'pcm_s16le', 'pcm_f32le'],
    videoEncoder: X264, audioEncoder: OPUS, audioBitrate: 96000 },
  m4a: { ext: 'm4a', contentType: 'audio/mp4', muxer: 'ipod', probedAs: ISO_BMFF, faststart: true, audioOnly: true,
    videoCodecs: [], audioCodecs: ['aac'], videoEncoder: [], audioEncoder: AAC, audioBitrate: 128000 },
  ogg: { ext: 'ogg', contentType: 'audio/ogg', muxer: 'ogg', probedAs: 'ogg', faststart: false, audioOnly: true,
    videoCodecs: [], audioCodecs: ['opus', 'vorbis'], videoEncoder: [], audioEncoder: OPUS, audioBitrate: 96000 },
};

export function containerFormat(format: RecordingFormat): ContainerFormat {
  const f = (CONTAINER_FORMATS as Partial<Record<string, ContainerFormat>>)[format];
  if (!f) throw new AppError('UNSUPPORTED_OPTION', `output format "${String(format)}" is not one of ${Object.keys(CONTAINER_FORMATS).join(', ')}`);
  return f;
}

/** How a stream gets into the output: copied as it is, encoded, or left out. */
export type StreamMode = 'copy' | 'transcode' | 'none';

/** Copy or encode, for a stream of `codec` (undefined: there is none) going into `f`. */
export function streamMode(f: ContainerFormat, kind: 'video' | 'audio', codec: string | undefined): StreamMode {
  if (!codec || (kind === 'video' && f.audioOnly)) return 'none';
  return (kind === 'video' ? f.videoCodecs : f.audioCodecs).includes(codec) ? 'copy' : 'transcode';
}

/** FFmpeg's arguments that write the container. */
export function muxerArgs(f: ContainerFormat): string[] {
  return ['-f', f.muxer, ...(f.faststart ? ['-movflags', '+faststart'] : [])];
}

/** FFmpeg's codec arguments of one stream in `mode` ('none' drops it). */
export function codecArgs(f: ContainerFormat, kind: 'video' | 'audio', mode: StreamMode, audioBitrate = f.audioBitrate): string[] {
  if (mode === 'none') return [kind === 'video' ? '-vn' : '-an'];
  if (mode === 'copy') return [kind === 'video' ? '-c:v' : '-c:a', 'copy'];
  return kind === 'video' ? [...f.videoEncoder] : [...f.audioEncoder, '-b:a', String(audioBitrate)];
}

const OTHER_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', json: 'application/json' };

/** The content type of a stored object or file, by its extension. */
export function contentTypeOf(name: string): string {
  const ext = /\.([^./\\]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return Object.values(CONTAINER_FORMATS).find((f) => f.ext === ext)?.contentType ?? OTHER_TYPES[ext] ?? 'application/octet-stream';
}
