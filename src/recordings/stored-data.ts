import { z } from 'zod';
import { AppError } from '../errors';
import { ID_PATTERNS } from './identifiers';
import { RECORDING_FORMATS, recordingOptionsSchema, type RecordingFormat, type RecordingOptions } from './options';
import type { RecordingJob } from './ports';
import { streamInfoSchema, type StreamInfo } from './streams';
import type { PausedSpan } from './timeline';

/**
 * What the domain reads back of what it wrote, parsed with the rules that wrote it (never
 * cast): the JSON columns of a recording (options, thumbnails, pauses, markers, sidecars; the quality
 * report is quality.ts's), its format and the job a dispatcher carried to a worker. Data that does not parse is
 * not ours to guess at: INTERNAL, naming what and where.
 */

export const thumbnailSchema = z.object({
  /** Storage key (or local path) of the image. */
  key: z.string().min(1),
  url: z.string().optional(),
  /** Position in the recording. */
  atMs: z.number().nonnegative(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  /** 'poster': the cover image; absent or 'thumbnail': one of the timeline thumbnails. */
  kind: z.enum(['thumbnail', 'poster']).optional(),
});
export type RecordingThumbnail = z.infer<typeof thumbnailSchema>;

/** A pause as stored: ISO instants, `resumedAt` null while still paused (timeline.ts's PausedSpan). */
const pausedSpanSchema = z.object({ pausedAt: z.iso.datetime(), resumedAt: z.iso.datetime().nullable() });

/** The longest marker label (MARKER_LABEL_MAX characters). */
export const MARKER_LABEL_MAX = 200;

/** A marker the host set: a label at a wall-clock instant of the recording (a chapter of the file). */
export const markerSchema = z.object({ label: z.string().min(1).max(MARKER_LABEL_MAX), at: z.iso.datetime() });
export interface RecordingMarker {
  label: string;
  at: Date;
}

/** A sidecar's name, which is its kind and the last part of its key: `speakers.vtt`, `chat.jsonl`, `chapters.json`. */
export const SIDECAR_NAME = /^[a-z][a-z0-9-]*\.(json|jsonl|vtt)$/;
export type SidecarName = `${string}.${'json' | 'jsonl' | 'vtt'}`;
export const sidecarNameSchema = z.custom<SidecarName>((v) => typeof v === 'string' && SIDECAR_NAME.test(v), { error: 'must be a sidecar name (speakers.vtt)' });

/** A file made from the recording's timeline, stored beside it (postprocess/sidecars.ts). */
export const sidecarSchema = z.object({ kind: sidecarNameSchema, key: z.string().min(1) });
export type RecordingSidecar = z.infer<typeof sidecarSchema>;

export const recordingJobSchema = z.object({
  id: z.string().regex(ID_PATTERNS.recordingId),
  callId: z.string().regex(ID_PATTERNS.callId),
  roomName: z.string().regex(ID_PATTERNS.roomName),
  outputPath: z.string().min(1),
  options: recordingOptionsSchema,
  maxDurationSeconds: z.number().int().positive().optional(),
  requestedAt: z.number().optional(),
}) satisfies z.ZodType<RecordingJob>;

/** `value` parsed with `schema`, else INTERNAL naming `what` (presets.ts reads its rows with it too). */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new AppError('INTERNAL', `${what} is not valid: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
}

/** A recording's stored options. */
export function storedOptions(json: unknown, recordingId: string): RecordingOptions {
  return parseOrThrow(recordingOptionsSchema, json, `the stored options of recording ${recordingId}`);
}

/** What a recording is delivered as (its outputFormat column). */
export function storedFormat(value: string, recordingId: string): RecordingFormat {
  return parseOrThrow(z.enum(RECORDING_FORMATS), value, `the stored format of recording ${recordingId}`);
}

/** A recording's stored thumbnails (none before post-processing made them). */
export function storedThumbnails(json: unknown, recordingId: string): RecordingThumbnail[] {
  return json === null ? [] : parseOrThrow(z.array(thumbnailSchema), json, `the stored thumbnails of recording ${recordingId}`);
}

/** A recording's pauses, in order (none before its first pause). */
export function storedPauses(json: unknown, recordingId: string): PausedSpan[] {
  if (json === null) return [];
  return parseOrThrow(z.array(pausedSpanSchema), json, `the stored pauses of recording ${recordingId}`).map((p) => ({
    pausedAt: new Date(p.pausedAt),
    resumedAt: p.resumedAt === null ? null : new Date(p.resumedAt),
  }));
}

/** A recording's markers, in the order they were added. */
export function storedMarkers(json: unknown, recordingId: string): RecordingMarker[] {
  if (json === null) return [];
  return parseOrThrow(z.array(markerSchema), json, `the stored markers of recording ${recordingId}`).map((m) => ({ label: m.label, at: new Date(m.at) }));
}

/** Pauses and markers as their columns store them (JSON: instants as ISO strings). */
export const pausesJson = (pauses: readonly PausedSpan[]) => pauses.map((p) => ({ pausedAt: p.pausedAt.toISOString(), resumedAt: p.resumedAt?.toISOString() ?? null }));
export const markersJson = (markers: readonly RecordingMarker[]) => markers.map((m) => ({ label: m.label, at: m.at.toISOString() }));

/** A recording's stored sidecars (none before post-processing made them, or for a recording older than sidecars). */
export function storedSidecars(json: unknown, recordingId: string): RecordingSidecar[] {
  return json === null ? [] : parseOrThrow(z.array(sidecarSchema), json, `the stored sidecars of recording ${recordingId}`);
}

/** A recording's stream states (none for one without streams, or older than them). */
export function storedStreams(json: unknown, recordingId: string): StreamInfo[] {
  return json === null ? [] : parseOrThrow(z.array(streamInfoSchema), json, `the stored streams of recording ${recordingId}`);
}

/** A dispatched job as a worker takes it off the queue (a JSON string). */
export function parseRecordingJob(payload: string): RecordingJob {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw new AppError('INTERNAL', 'a dispatched recording job is not JSON');
  }
  return parseOrThrow(recordingJobSchema, json, 'a dispatched recording job');
}
