import { AppError } from '../errors';
import type { RecordingsContext } from './context';
import type { Actor } from './permissions';
import type { StoredRecording } from './repository';
import { controlTarget } from './stop';
import { toFileMs } from './timeline';

/**
 * A marker by the host (POST .../recording/markers): a label at an instant of a live recording,
 * paused or not, which post-processing makes a chapter of the file. `at` is now unless given;
 * it must lie within the recording (from its time 0 until now, a client's clock up to
 * MARKER_CLOCK_SKEW_MS ahead taken as now), else 400 MARKER_OUT_OF_RANGE. An instant inside a
 * pause lands at the seam. Anything refused changes nothing.
 */

/** How far ahead of ours a caller's clock may be for an `at` of "now". */
export const MARKER_CLOCK_SKEW_MS = 1000;
/** Markers one recording keeps at most (409 TOO_MANY_MARKERS beyond). */
export const MAX_MARKERS = 500;

export interface MarkerView {
  recordingId: string;
  label: string;
  at: string;
  /** Its place on the file's clock (the pauses before it cut out). */
  offsetMs: number;
}

export async function addMarker(ctx: RecordingsContext, actor: Actor, callId: string, input: { label: string; at?: string; recordingId?: string }): Promise<MarkerView> {
  let rec = await controlTarget(ctx, actor, callId, input.recordingId);
  for (let attempt = 1; ; attempt++) {
    const { recording, recordingAt } = refuseMarker(rec);
    const now = new Date();
    const at = input.at === undefined ? now : new Date(input.at);
    if (at.getTime() < recordingAt.getTime() || at.getTime() > now.getTime() + MARKER_CLOCK_SKEW_MS) {
      throw new AppError('MARKER_OUT_OF_RANGE', `at must lie within the recording: from ${recordingAt.toISOString()} until now`);
    }
    const marker = { label: input.label, at: at > now ? now : at };
    const written = await ctx.deps.repo.updateIf(recording.id, { status: ['RECORDING', 'PAUSED'], updatedAt: recording.updatedAt }, { markers: [...recording.markers, marker] });
    if (written) return { recordingId: recording.id, label: marker.label, at: marker.at.toISOString(), offsetMs: toFileMs(marker.at, recordingAt, recording.pauses) };
    if (attempt === 3) throw new AppError('CONFLICT', 'the recording kept changing meanwhile: try again');
    rec = await ctx.deps.repo.getRecording(recording.id);
  }
}

/** The recording and its time 0, if it takes a marker now. */
function refuseMarker(rec: StoredRecording | null): { recording: StoredRecording; recordingAt: Date } {
  if (!rec || (rec.status !== 'RECORDING' && rec.status !== 'PAUSED') || !rec.recordingAt) {
    throw new AppError('RECORDING_NOT_LIVE', `markers go on a recording that is RECORDING or PAUSED; ${rec ? `this one is ${rec.status}` : 'none is in progress'}`);
  }
  if (rec.markers.length >= MAX_MARKERS) throw new AppError('TOO_MANY_MARKERS', `a recording keeps at most ${MAX_MARKERS} markers`);
  return { recording: rec, recordingAt: rec.recordingAt };
}
