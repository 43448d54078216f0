import { z } from 'zod';
import { AppError } from '../errors';

/**
 * The start option `tracks`: beside the composite, each recorded participant's audio (Opus in
 * .ogg) and, with "audio+video", their camera (its own file, no sound), written by the same
 * recorder page from the tracks it already subscribes to, each with its offset to the
 * composite's time 0 in manifest.json (postprocess/tracks.ts). Off unless asked.
 */
export const TRACKS_MODES = ['audio', 'audio+video'] as const;
export type TracksMode = (typeof TRACKS_MODES)[number];

/** As stored with the recording's options and sent to the page (launch query `tracks`). */
export const tracksOptionSchema = z.enum(TRACKS_MODES);

/** A participant's track as the recording's row stores it once post-processing stored its file (postprocess/tracks.ts). */
export const recordingTrackSchema = z.object({
  identity: z.string(),
  name: z.string(),
  media: z.enum(['audio', 'video']),
  key: z.string().min(1),
  /** Where its first sample lands on the recording's file clock. */
  offsetMs: z.number(),
  durationMs: z.number(),
});
export type RecordingTrack = z.infer<typeof recordingTrackSchema>;

/** A recording's stored tracks (none asked for, or none stored yet). */
export function storedTracks(json: unknown, recordingId: string): RecordingTrack[] {
  if (json === null || json === undefined) return [];
  const parsed = z.array(recordingTrackSchema).safeParse(json);
  if (!parsed.success) throw new AppError('INTERNAL', `the stored tracks of recording ${recordingId} do not parse: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

const RULE = `must be one of ${TRACKS_MODES.map((m) => `"${m}"`).join(', ')}`;

/**
 * The stored form of a start request's `tracks`; UNSUPPORTED_OPTION for what is not one, or
 * beside a custom layout page: that page joins the room itself and the worker records its tab,
 * so no recorder page holds the participants' own tracks.
 */
export function resolveTracks(input: unknown, opts: { customLayout: boolean; name: string }): TracksMode {
  const parsed = tracksOptionSchema.safeParse(input);
  if (!parsed.success) throw new AppError('UNSUPPORTED_OPTION', `${opts.name} ${RULE}`);
  if (opts.customLayout) throw new AppError('UNSUPPORTED_OPTION', `${opts.name} cannot be recorded with a custom layout page: its tab is recorded, not the participants' tracks`);
  return parsed.data;
}
