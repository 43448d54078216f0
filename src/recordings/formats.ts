import { AppError } from '../errors';
import type { OutputFormat, RecordingFormat } from './options';

/**
 * The one table of the containers a recording is delivered in: what the live recorder
 * writes for it, extension, content type, the codecs each takes as they are, and how FFmpeg
 * writes it. Pure data, here in the domain so that the recorder's page and sink,
 * post-processing and storage read the same row without importing each other.
 */
export interface ContainerFormat {
  /**
   * The row the live recorder writes for this delivery: the format itself, or the one
   * post-processing makes it from. Its container takes the page's codec as it is, so the
   * live FFmpeg only copies: WebM is recorded as H.264 in Matroska and encoded to VP8 after
   * the call (the page encoding VP8 itself held 27 fps for one recording on 2 cores, 5 for
   * three; H.264 holds 30 for three at about half the CPU each).
   */
  recordedAs: OutputFormat;
  /** The codec the recorder page's MediaRecorder is asked for when this row is recorded live (VP8 if the browser has none). */
  pageVideoCodec?: PageVideoCodec;
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
  /**
   * Bits per pixel of the picture (width x height x fps) an encode of the video aims at,
   * when its encoder needs a rate (libvpx's realtime mode does: its default is 256 kbit/s).
   */
  videoBitsPerPixel?: number;
  audioEncoder: readonly string[];
  audioBitrate: number;
}

export type PageVideoCodec = 'h264' | 'vp8';

const X264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p'];
const VP8 = ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-qmin', '4', '-qmax', '48'];
// 2.5 Mbit/s at 1280x720 30 fps, what Chrome's MediaRecorder gives the live H.264 by default
const VP8_BITS_PER_PIXEL = 2_500_000 / (1280 * 720 * 30);
const AAC = ['-c:a', 'aac'];
const OPUS = ['-c:a', 'libopus'];
const ISO_BMFF = 'mov,mp4,m4a,3gp,3g2,mj2';

const CONTAINER_FORMATS: Readonly<Record<RecordingFormat, ContainerFormat>> = {
  // AAC only for audio in MP4: Opus-in-MP4 is not played everywhere (older Safari).
  mp4: { recordedAs: 'mp4', pageVideoCodec: 'h264', ext: 'mp4', contentType: 'video/mp4', muxer: 'mp4', probedAs: ISO_BMFF, faststart: true, audioOnly: false,
    videoCodecs: ['h264', 'hevc', 'av1'], audioCodecs: ['aac', 'mp3'], videoEncoder: X264, audioEncoder: AAC, audioBitrate: 128000 },
  webm: { recordedAs: 'mkv', pageVideoCodec: 'h264', ext: 'webm', contentType: 'video/webm', muxer: 'webm', probedAs: 'matroska,webm', faststart: false, audioOnly: false,
    videoCodecs: ['vp8', 'vp9', 'av1'], audioCodecs: ['opus', 'vorbis'], videoEncoder: VP8, videoBitsPerPixel: VP8_BITS_PER_PIXEL, audioEncoder: OPUS, audioBitrate: 96000 },
  mkv: { recordedAs: 'mkv', pageVideoCodec: 'h264', ext: 'mkv', contentType: 'video/x-matroska', muxer: 'matroska', probedAs: 'matroska,webm', faststart: false, audioOnly: false,
    videoCodecs: ['h264', 'hevc', 'vp8', 'vp9', 'av1', 'mpeg4', 'mjpeg'], audioCodecs: ['opus', 'aac', 'vorbis', 'mp3', 'flac', 'pcm_s16le', 'pcm_f32le'],
    videoEncoder: X264, audioEncoder: OPUS, audioBitrate: 96000 },
  m4a: { recordedAs: 'mkv', ext: 'm4a', contentType: 'audio/mp4', muxer: 'ipod', probedAs: ISO_BMFF, faststart: true, audioOnly: true,
    videoCodecs: [], audioCodecs: ['aac'], videoEncoder: [], audioEncoder: AAC, audioBitrate: 128000 },
  ogg: { recordedAs: 'mkv', ext: 'ogg', contentType: 'audio/ogg', muxer: 'ogg', probedAs: 'ogg', faststart: false, audioOnly: true,
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

/** A picture's size and rate, for the bit rate of an encode. */
export interface PictureRate {
  width: number;
  height: number;
  fps: number;
}

/** The bit rate an encode into `f` aims at for `picture`: the caller's, else the table's bits per pixel; undefined when its encoder takes none. */
export function videoBitrate(f: ContainerFormat, picture: PictureRate, asked?: number): number | undefined {
  if (!f.videoBitsPerPixel) return undefined;
  return asked ?? Math.round(Math.max(300_000, f.videoBitsPerPixel * picture.width * picture.height * picture.fps));
}

/** FFmpeg's codec arguments of one stream in `mode` ('none' drops it); `bitrate`: the audio's, or the video's (see videoBitrate). */
export function codecArgs(f: ContainerFormat, kind: 'video' | 'audio', mode: StreamMode, bitrate?: number): string[] {
  if (mode === 'none') return [kind === 'video' ? '-vn' : '-an'];
  if (mode === 'copy') return [kind === 'video' ? '-c:v' : '-c:a', 'copy'];
  if (kind === 'audio') return [...f.audioEncoder, '-b:a', String(bitrate ?? f.audioBitrate), ...SOUND_ON_ITS_TIMESTAMPS];
  return [...f.videoEncoder, ...(bitrate ? ['-b:v', String(bitrate)] : []), ...EVERY_FRAME];
}

/**
 * An encode keeps the sound where its timestamps put it. A starved page's MediaRecorder leaves
 * holes in its audio's timestamps (sound never captured: 8 to 25 ms at a seam, and up to 1.37 s
 * in an 11 s file seen in CI); the encoder stamps its output across the hole, but a player (and
 * FFmpeg's own decoder) plays AAC samples one after another, so all the sound after a hole came
 * that much early against the picture. Silence fills a hole longer than 60 ms (Chromium's own
 * stamps jitter by up to 25 ms on a quiet machine; filling those would cut real sound) and
 * sound that overlaps by as much is trimmed; the file's sound starts at its time 0.
 */
const SOUND_ON_ITS_TIMESTAMPS = ['-af', 'aresample=async=1:min_hard_comp=0.06:first_pts=0'];

/**
 * An encode keeps every frame at its own time. FFmpeg's default rounds MediaRecorder's frame
 * times to slots of the stated rate (1/30 s) and drops a frame that shares its slot: 0 to 4
 * of 249 frames in each of 5 WebM deliveries measured, quiet, and more on a loaded machine.
 */
const EVERY_FRAME = ['-fps_mode', 'passthrough', '-enc_time_base:v', '-1'];

const OTHER_TYPES: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', json: 'application/json', jsonl: 'application/jsonl', vtt: 'text/vtt', m3u8: 'application/vnd.apple.mpegurl', m4s: 'video/iso.segment',
};

/** The content type of a stored object or file, by its extension. */
export function contentTypeOf(name: string): string {
  const ext = /\.([^./\\]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return Object.values(CONTAINER_FORMATS).find((f) => f.ext === ext)?.contentType ?? OTHER_TYPES[ext] ?? 'application/octet-stream';
}
