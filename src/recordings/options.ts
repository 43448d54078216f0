import { AppError } from '../errors';
import { DEFAULT_RECORDING_OPTIONS, LAYOUTS, OUTPUT_FORMATS, type LayoutName, type OutputFormat, type RecordingOptions } from './contract';

/** What a caller may ask for when starting a recording (already shape-checked by the API). */
/**
 * What a recording is delivered as: a format the live recorder writes, or an audio-only one
 * (m4a, ogg) that post-processing makes from the recorder's mkv (the picture is dropped).
 */
export const RECORDING_FORMATS = [...OUTPUT_FORMATS, 'm4a', 'ogg'] as const;
export type RecordingFormat = (typeof RECORDING_FORMATS)[number];
export const AUDIO_ONLY_FORMATS: readonly RecordingFormat[] = ['m4a', 'ogg'];

/** The format the live recorder is asked for when delivering `format`. */
export function recorderFormatFor(format: RecordingFormat): OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(format) ? (format as OutputFormat) : 'mkv';
}

export interface RecordingOptionsInput {
  layout?: LayoutName;
  format?: RecordingFormat;
  resolution?: ResolutionPreset;
  width?: number;
  height?: number;
  fps?: number;
  videoBitrate?: number;
  audioBitrate?: number;
  maxDurationSeconds?: number;
  /** A custom layout page, recorded by tab capture; its origin must be allowed by the operator. */
  customLayoutUrl?: string;
}

export const RESOLUTION_PRESETS = { '720p': { width: 1280, height: 720 }, '1080p': { width: 1920, height: 1080 } } as const;
export type ResolutionPreset = keyof typeof RESOLUTION_PRESETS;

export const OPTION_LIMITS = {
  minWidth: 160,
  maxWidth: 1920,
  minHeight: 120,
  maxHeight: 1080,
  fps: [15, 24, 25, 30] as const,
  minVideoBitrate: 100_000,
  maxVideoBitrate: 20_000_000,
  minAudioBitrate: 32_000,
  maxAudioBitrate: 320_000,
};

export interface ResolvedOptions {
  /** What the recorder is asked for (`format`: what it writes, mkv for an audio-only delivery). */
  options: RecordingOptions;
  /** What is delivered (the stored file's format). */
  outputFormat: RecordingFormat;
  maxDurationSeconds: number;
}

/**
 * Turns a start request into recorder options, refusing what the recorder cannot do with
 * UNSUPPORTED_OPTION. `maxDurationSeconds` is capped by the operator's limit.
 */
export function resolveRecordingOptions(input: RecordingOptionsInput, limits: { maxDurationSeconds: number; layoutOrigins?: string[] }): ResolvedOptions {
  const bad = (message: string): never => {
    throw new AppError('UNSUPPORTED_OPTION', message);
  };
  if (input.layout !== undefined && !LAYOUTS.includes(input.layout)) bad(`layout must be one of ${LAYOUTS.join(', ')}`);
  if (input.format !== undefined && !RECORDING_FORMATS.includes(input.format)) bad(`format must be one of ${RECORDING_FORMATS.join(', ')}`);
  if (input.resolution !== undefined && (input.width !== undefined || input.height !== undefined)) {
    bad('give either resolution or width and height, not both');
  }
  if ((input.width === undefined) !== (input.height === undefined)) bad('width and height go together');

  let { width, height } = DEFAULT_RECORDING_OPTIONS;
  if (input.resolution !== undefined) {
    const preset = RESOLUTION_PRESETS[input.resolution];
    if (!preset) bad(`resolution must be one of ${Object.keys(RESOLUTION_PRESETS).join(', ')}`);
    ({ width, height } = preset);
  } else if (input.width !== undefined && input.height !== undefined) {
    width = input.width;
    height = input.height;
    const L = OPTION_LIMITS;
    if (!Number.isInteger(width) || width < L.minWidth || width > L.maxWidth) bad(`width must be an integer from ${L.minWidth} to ${L.maxWidth}`);
    if (!Number.isInteger(height) || height < L.minHeight || height > L.maxHeight) bad(`height must be an integer from ${L.minHeight} to ${L.maxHeight}`);
    if (width % 2 !== 0 || height % 2 !== 0) bad('width and height must be even (H.264 needs it)');
  }
  const fps = input.fps ?? DEFAULT_RECORDING_OPTIONS.fps;
  if (!(OPTION_LIMITS.fps as readonly number[]).includes(fps)) bad(`fps must be one of ${OPTION_LIMITS.fps.join(', ')}`);
  const inRange = (v: number | undefined, min: number, max: number, name: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) bad(`${name} must be an integer from ${min} to ${max} bits per second`);
  };
  inRange(input.videoBitrate, OPTION_LIMITS.minVideoBitrate, OPTION_LIMITS.maxVideoBitrate, 'videoBitrate');
  inRange(input.audioBitrate, OPTION_LIMITS.minAudioBitrate, OPTION_LIMITS.maxAudioBitrate, 'audioBitrate');
  const maxDurationSeconds = input.maxDurationSeconds ?? limits.maxDurationSeconds;
  if (!Number.isInteger(maxDurationSeconds) || maxDurationSeconds < 1 || maxDurationSeconds > limits.maxDurationSeconds) {
    bad(`maxDurationSeconds must be an integer from 1 to ${limits.maxDurationSeconds}`);
  }

  const outputFormat: RecordingFormat = input.format ?? DEFAULT_RECORDING_OPTIONS.format;
  const options: RecordingOptions = {
    width,
    height,
    fps,
    format: recorderFormatFor(outputFormat),
    layout: input.layout ?? DEFAULT_RECORDING_OPTIONS.layout,
  };
  if (input.videoBitrate !== undefined) options.videoBitrate = input.videoBitrate;
  if (input.audioBitrate !== undefined) options.audioBitrate = input.audioBitrate;
  if (input.customLayoutUrl !== undefined) options.customLayoutUrl = allowedLayoutUrl(input.customLayoutUrl, limits.layoutOrigins ?? []);
  return { options, outputFormat, maxDurationSeconds };
}

/**
 * A custom layout page runs with the recorder's room token: only pages the operator allowed
 * (RECORDER_CUSTOM_LAYOUT_ORIGINS) may be one.
 */
export function allowedLayoutUrl(raw: string, allowedOrigins: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('UNSUPPORTED_OPTION', 'customLayoutUrl must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('UNSUPPORTED_OPTION', 'customLayoutUrl must be an absolute http(s) URL');
  if (url.username || url.password) throw new AppError('UNSUPPORTED_OPTION', 'customLayoutUrl must not carry credentials');
  if (!allowedOrigins.includes(url.origin)) {
    throw new AppError('LAYOUT_URL_NOT_ALLOWED', `custom layouts from ${url.origin} are not allowed (the operator lists allowed origins in RECORDER_CUSTOM_LAYOUT_ORIGINS)`);
  }
  return url.toString();
}

/** Same request? Used to tell an idempotent replay from a reused Idempotency-Key. */
export function sameResolvedOptions(a: ResolvedOptions, b: ResolvedOptions): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
