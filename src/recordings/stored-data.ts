import { z } from 'zod';
import { AppError } from '../errors';
import { ID_PATTERNS } from './identifiers';
import { RECORDING_FORMATS, recordingOptionsSchema, type RecordingFormat, type RecordingOptions } from './options';
import type { RecordingJob } from './ports';

/**
 * What the domain reads back of what it wrote, parsed with the rules that wrote it (never
 * cast): the JSON columns of a recording (options, thumbnails; the quality report is
 * quality.ts's), its format and the job a dispatcher carried to a worker. Data that does not parse is
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

export const recordingJobSchema = z.object({
  id: z.string().regex(ID_PATTERNS.recordingId),
  callId: z.string().regex(ID_PATTERNS.callId),
  roomName: z.string().regex(ID_PATTERNS.roomName),
  outputPath: z.string().min(1),
  options: recordingOptionsSchema,
  maxDurationSeconds: z.number().int().positive().optional(),
  requestedAt: z.number().optional(),
}) satisfies z.ZodType<RecordingJob>;

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
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
