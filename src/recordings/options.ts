import { z } from 'zod';
import { AppError } from '../errors';
import { audioRoutingInput, audioRoutingSchema, resolveAudioRouting } from './audio-routing';
import { chatOptionSchema, resolveChat } from './chat-option';
import { containerFormat } from './formats';
import { IDENTIFIERS } from './identifiers';
import { absoluteHttpUrl, checkOverlays, overlaysSchema } from './overlays';
import { outputSchema, resolveOutputs, startOutputSchema } from './outputs';
import { resolveTracks, tracksOptionSchema } from './tracks-option';
import { checkParticipantsFilter, participantsFilterInput, participantsFilterSchema } from './participants-filter';
import {
  canonicalLayout, DEFAULT_LAYOUT, DEFAULT_THEME, LAYOUT_NAMES, LAYOUT_RULE, LAYOUT_SPELLINGS, parseLayout, THEME_NAMES,
} from '../../recorder-page/src/layouts/names';

/**
 * Every rule of a recording's options, once: the limits, the defaults, and two schemas.
 * - startOptionsSchema: what a caller may ask for (the API's start body, the CLI's flags).
 * - recordingOptionsSchema: what the recorder is asked for, resolved from a start request;
 *   the same object is stored with the recording, sent in the dispatch job and turned into
 *   the page's launch query, and it is parsed with this schema wherever it is read back.
 *
 * The limits are the API's: each side 120 to 1920 pixels, at most as many pixels as 1920x1080
 * (so 1080x1920 portrait too), at 15, 24, 25 or 30 fps. Compositing and encoding 4K or 60 fps
 * in Chromium does not hold its frame rate on the 2-core machines a worker is sized for, and
 * a recording that drops frames is not recorded right.
 */

/** What the live recorder can be asked to write (a start asks for its format's `recordedAs`, recordings/formats.ts). */
export const OUTPUT_FORMATS = ['mp4', 'webm', 'mkv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * What a recording is delivered as: mp4 and mkv as the live recorder writes them; webm, and
 * the audio-only m4a and ogg, made by post-processing from the recorder's mkv.
 */
export const RECORDING_FORMATS = [...OUTPUT_FORMATS, 'm4a', 'ogg'] as const;
export type RecordingFormat = (typeof RECORDING_FORMATS)[number];

export const RESOLUTION_PRESETS = {
  '720p': { width: 1280, height: 720 },
  '1080p': { width: 1920, height: 1080 },
  '720p-portrait': { width: 720, height: 1280 },
  '1080p-portrait': { width: 1080, height: 1920 },
} as const;
export type ResolutionPreset = keyof typeof RESOLUTION_PRESETS;

export const OPTION_LIMITS = {
  /** Of either side, in pixels. */
  minSide: 120,
  maxSide: 1920,
  maxPixels: 1920 * 1080,
  fps: [15, 24, 25, 30] as readonly number[],
  minVideoBitrate: 100_000,
  maxVideoBitrate: 20_000_000,
  minAudioBitrate: 32_000,
  maxAudioBitrate: 320_000,
};
const L = OPTION_LIMITS;

const integer = (min: number, max: number, unit = '') => {
  const message = `must be an integer from ${min} to ${max}${unit}`;
  return z.number().int({ error: message }).min(min, { error: message }).max(max, { error: message });
};
const even = (s: z.ZodNumber) => s.multipleOf(2, { error: 'must be even (H.264 needs it)' });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });
const SIZE_RULE = `must be an integer from ${L.minSide} to ${L.maxSide}`;
const PIXELS_RULE = `at most ${L.maxPixels} pixels (1920x1080 or 1080x1920)`;
const presetName = z.string().regex(IDENTIFIERS.presetName.pattern, { error: `must be ${IDENTIFIERS.presetName.rule}` });

/** The options of a live recording: what the recorder is asked for. */
export const recordingOptionsSchema = z
  .object({
    width: even(integer(L.minSide, L.maxSide)),
    height: even(integer(L.minSide, L.maxSide)),
    fps: z.literal(L.fps, { error: `must be one of ${L.fps.join(', ')}` }),
    format: oneOf(OUTPUT_FORMATS),
    /** A built-in layout's name (stored before `single` became `single-speaker`: read as that). */
    layout: z.preprocess((v) => canonicalLayout(v) ?? v, oneOf(LAYOUT_NAMES)),
    /** Absent (stored before themes): dark. */
    theme: oneOf(THEME_NAMES).optional(),
    /** bits per second; undefined lets the browser choose */
    videoBitrate: integer(L.minVideoBitrate, L.maxVideoBitrate, ' bits per second').optional(),
    audioBitrate: integer(L.minAudioBitrate, L.maxAudioBitrate, ' bits per second').optional(),
    /** An operator-allowed custom layout page, recorded by tab capture. */
    customLayoutUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** The canvas colour behind the tiles. */
    background: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/)
      .optional(),
    /** Who is recorded (participants-filter.ts); absent: everyone. */
    participants: participantsFilterSchema.optional(),
    /** Watermarks, name labels, a clock, a background (overlays.ts); absent: none. */
    overlays: overlaysSchema.optional(),
    /** What is made beside the file (outputs.ts); absent: the file alone. */
    outputs: z.array(outputSchema).optional(),
    /** The data topics recorded as the chat sidecars (chat-option.ts); absent: no chat. */
    chat: chatOptionSchema.optional(),
    /** The layout preset these options were last resolved from (presets.ts); what it set is in the fields above. */
    preset: presetName.optional(),
    /** Dual-channel audio (audio-routing.ts); absent: mixed. */
    audio: audioRoutingSchema.optional(),
    /** Each participant's tracks as files of their own beside the composite (tracks-option.ts); absent: none. */
    tracks: tracksOptionSchema.optional(),
  })
  .refine((o) => o.width * o.height <= L.maxPixels, { path: ['height'], error: `width x height must be ${PIXELS_RULE}` });
export type RecordingOptions = z.infer<typeof recordingOptionsSchema>;

export const DEFAULT_RECORDING_OPTIONS = { width: 1280, height: 720, fps: 30, format: 'mp4', layout: DEFAULT_LAYOUT, theme: DEFAULT_THEME } as const satisfies RecordingOptions;

/** What a caller may ask for when starting a recording; every field is optional. */
export const startOptionsSchema = z.strictObject({
  /** Any spelling of layouts/names.ts (`speaker-light`, `single`). */
  layout: z.enum(LAYOUT_SPELLINGS, { error: LAYOUT_RULE }).optional(),
  theme: oneOf(THEME_NAMES).optional(),
  format: oneOf(RECORDING_FORMATS).optional(),
  resolution: oneOf(Object.keys(RESOLUTION_PRESETS) as [ResolutionPreset, ...ResolutionPreset[]]).optional(),
  // which sizes: resolveRecordingOptions (the rule is between both sides)
  width: z.number().int({ error: SIZE_RULE }).optional(),
  height: z.number().int({ error: SIZE_RULE }).optional(),
  // which rates: resolveRecordingOptions, after the caller's permission was checked
  fps: z.number().int().optional(),
  videoBitrate: integer(L.minVideoBitrate, L.maxVideoBitrate, ' bits per second').optional(),
  audioBitrate: integer(L.minAudioBitrate, L.maxAudioBitrate, ' bits per second').optional(),
  maxDurationSeconds: z
    .number()
    .int({ error: 'must be a whole number of seconds' })
    .min(1, { error: 'must be a whole number of seconds' })
    .optional(),
  /** A custom layout page, recorded by tab capture; its origin must be allowed by the operator. */
  customLayoutUrl: z.string().max(2000).optional(),
  /** `{ include: [...] }` or `{ exclude: [...] }`: who is seen and heard (participants-filter.ts). */
  participants: participantsFilterInput.optional(),
  /** Watermarks, name labels, a clock, a background (overlays.ts); images only from RECORDER_ASSET_ORIGINS. */
  overlays: overlaysSchema.optional(),
  /** `[{ type: 'hls', segmentSeconds, live }, { type: 'rtmp', url }, { type: 'file' }]`: the rules are resolveOutputs' (outputs.ts). */
  outputs: z.array(startOutputSchema).optional(),
  /** true, or { topics }: the chat as sidecars (chat-option.ts checks it, for UNSUPPORTED_OPTION). */
  chat: z.unknown().optional(),
  /** A layout preset's name: its settings are the defaults of this request's (presets.ts withPreset). */
  preset: presetName.optional(),
  /** "mixed" (default) or "dual-channel" (audio-routing.ts). */
  audio: audioRoutingInput.optional(),
  /** "audio" or "audio+video": each participant's tracks beside the composite (tracks-option.ts checks it). */
  tracks: z.unknown().optional(),
});
export type StartOptions = z.infer<typeof startOptionsSchema>;
type StartField = keyof StartOptions;

/** The format the live recorder is asked for when delivering `format`. */
export function recorderFormatFor(format: RecordingFormat): OutputFormat {
  return containerFormat(format).recordedAs;
}

export interface ResolvedOptions {
  /** What the recorder is asked for (`format`: what it writes, mkv for an audio-only delivery). */
  options: RecordingOptions;
  /** What is delivered (the stored file's format). */
  outputFormat: RecordingFormat;
  maxDurationSeconds: number;
}

export interface ResolveLimits {
  /** The operator's cap on a recording's length, and the default when none is asked for. */
  maxDurationSeconds: number;
  /** Origins a custom layout page may come from; 'any' for the operator's own CLI. */
  layoutOrigins?: string[] | 'any';
  /** Origins overlay images may come from; 'any' for the operator's own CLI. */
  assetOrigins?: readonly string[] | 'any';
  /** Host patterns stream outputs may go to (recordings/streams.ts); 'any' for the operator's own CLI. */
  streamHosts?: readonly string[] | 'any';
  /** How a field is named in messages (the CLI names its flags). */
  name?: (field: StartField) => string;
}

/**
 * Parses a start request that did not come through the API's schema (the CLI's flags):
 * UNSUPPORTED_OPTION naming the field and the rule.
 */
export function parseStartOptions(input: unknown, name: (field: StartField) => string = (f) => f): StartOptions {
  const parsed = startOptionsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => (i.path.length ? `${name(i.path[0] as StartField)} ${i.message}` : i.message));
  throw new AppError('UNSUPPORTED_OPTION', issues.join('; '), { details: parsed.error.issues });
}

/**
 * Turns a start request (already parsed with startOptionsSchema) into recorder options, with
 * the rules between fields and the operator's: UNSUPPORTED_OPTION for what cannot be done.
 */
export function resolveRecordingOptions(input: StartOptions, limits: ResolveLimits): ResolvedOptions {
  const name = limits.name ?? ((f: StartField) => f);
  const bad = (message: string): never => {
    throw new AppError('UNSUPPORTED_OPTION', message);
  };
  if (input.resolution !== undefined && (input.width !== undefined || input.height !== undefined)) {
    bad(`give either ${name('resolution')} or ${name('width')} and ${name('height')}, not both`);
  }
  if ((input.width === undefined) !== (input.height === undefined)) bad(`${name('width')} and ${name('height')} go together`);

  let { width, height }: { width: number; height: number } = DEFAULT_RECORDING_OPTIONS;
  if (input.resolution !== undefined) ({ width, height } = RESOLUTION_PRESETS[input.resolution]);
  else if (input.width !== undefined && input.height !== undefined) ({ width, height } = input);
  for (const side of ['width', 'height'] as const) {
    const v = side === 'width' ? width : height;
    if (v < L.minSide || v > L.maxSide) bad(`${name(side)} ${SIZE_RULE}`);
  }
  if (width * height > L.maxPixels) bad(`${name('width')} x ${name('height')} must be ${PIXELS_RULE}`);
  if (width % 2 !== 0 || height % 2 !== 0) bad(`${name('width')} and ${name('height')} must be even (H.264 needs it)`);

  const { layout, theme: named } = parseLayout(input.layout ?? DEFAULT_RECORDING_OPTIONS.layout)!;
  if (named && input.theme && named !== input.theme) bad(`${name('layout')} ${input.layout} is ${named} but ${name('theme')} is ${input.theme}`);

  const rate = input.fps ?? DEFAULT_RECORDING_OPTIONS.fps;
  if (!L.fps.includes(rate)) bad(`${name('fps')} must be one of ${L.fps.join(', ')}`);
  const maxDurationSeconds = input.maxDurationSeconds ?? limits.maxDurationSeconds;
  if (maxDurationSeconds > limits.maxDurationSeconds) bad(`${name('maxDurationSeconds')} must be an integer from 1 to ${limits.maxDurationSeconds}`);

  const outputFormat: RecordingFormat = input.format ?? DEFAULT_RECORDING_OPTIONS.format;
  const options: RecordingOptions = {
    width,
    height,
    fps: rate,
    format: recorderFormatFor(outputFormat),
    layout,
    theme: input.theme ?? named ?? DEFAULT_THEME,
  };
  if (input.videoBitrate !== undefined) options.videoBitrate = input.videoBitrate;
  if (input.audioBitrate !== undefined) options.audioBitrate = input.audioBitrate;
  if (input.customLayoutUrl !== undefined) options.customLayoutUrl = allowedLayoutUrl(input.customLayoutUrl, limits.layoutOrigins ?? [], name('customLayoutUrl'));
  if (input.participants !== undefined) options.participants = participantsOf(options, input.participants);
  if (input.overlays !== undefined) options.overlays = checkOverlays(input.overlays, options, limits.assetOrigins ?? []);
  const audio = input.audio === undefined ? undefined : resolveAudioRouting(input.audio, options);
  if (audio) options.audio = audio;
  if (input.outputs !== undefined) options.outputs = resolveOutputs(input.outputs, name('outputs'), containerFormat(outputFormat).audioOnly, limits.streamHosts ?? []);
  const chat = input.chat === undefined ? undefined : resolveChat(input.chat, { customLayout: options.customLayoutUrl !== undefined, name: name('chat') });
  if (chat) options.chat = chat;
  if (input.preset !== undefined) options.preset = input.preset;
  if (input.tracks !== undefined) options.tracks = resolveTracks(input.tracks, { customLayout: options.customLayoutUrl !== undefined, name: name('tracks') });
  return { options, outputFormat, maxDurationSeconds };
}

/** The participants filter of `options`: one of include and exclude, and only for a built-in layout (a custom page draws whom it likes). */
export function participantsOf(options: RecordingOptions, input: NonNullable<StartOptions['participants']>) {
  const filter = checkParticipantsFilter(input);
  if (options.customLayoutUrl) throw new AppError('UNSUPPORTED_OPTION', 'participants cannot be chosen for a custom layout page: it draws whom it likes');
  return filter;
}

/**
 * A custom layout page runs with the recorder's room token: only pages the operator allowed
 * (RECORDER_CUSTOM_LAYOUT_ORIGINS) may be one.
 */
export function allowedLayoutUrl(raw: string, allowedOrigins: string[] | 'any', what = 'customLayoutUrl'): string {
  const url = absoluteHttpUrl(raw, what);
  if (allowedOrigins !== 'any' && !allowedOrigins.includes(url.origin)) {
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
