import { AppError } from '../errors';
import type { RecordingsContext } from './context';
import type { Actor } from './permissions';
import type { RecordingUpdate, RecordingWithRoom, StoredRecording } from './repository';
import { controlTarget } from './stop';
import type { PausedSpan } from './timeline';
import { recordingView, type RecordingView } from './views';

/**
 * Pause and resume by the host (POST .../recording/pause, .../resume). The row moves first
 * (RECORDING <-> PAUSED, the span written with the instant of the request), then the worker
 * that runs it pauses or resumes the page's encoder, so the span is cut out of the file. A
 * refused request changes nothing: pausing a paused recording is RECORDING_ALREADY_PAUSED,
 * resuming one that is not paused RECORDING_NOT_PAUSED, pausing one that is not recording
 * RECORDING_NOT_LIVE (all 409).
 */

export async function pauseRecording(ctx: RecordingsContext, actor: Actor, callId: string, recordingId?: string): Promise<RecordingView> {
  const rec = await controlTarget(ctx, actor, callId, recordingId);
  const moved = await move(ctx, rec, refusePause, 'PAUSED', (r, now) => ({ pausedAt: now, pauses: [...r.pauses, { pausedAt: now, resumedAt: null }] }));
  await ctx.deps.dispatcher.requestPause(moved.id, true);
  return recordingView(moved);
}

export async function resumeRecording(ctx: RecordingsContext, actor: Actor, callId: string, recordingId?: string): Promise<RecordingView> {
  const rec = await controlTarget(ctx, actor, callId, recordingId);
  const moved = await move(ctx, rec, refuseResume, 'RECORDING', (r, now) => ({ pauses: closeLast(r.pauses, now) }));
  await ctx.deps.dispatcher.requestPause(moved.id, false);
  return recordingView(moved);
}

/**
 * RECORDING <-> PAUSED (`to`) with the pauses `change` makes of the row as read, written only
 * while the row is still as read (another write in between: read again, at most three times).
 */
async function move(
  ctx: RecordingsContext,
  read: StoredRecording | null,
  refuse: (rec: StoredRecording | null) => asserts rec is StoredRecording,
  to: 'PAUSED' | 'RECORDING',
  change: (rec: StoredRecording, now: Date) => RecordingUpdate,
): Promise<RecordingWithRoom> {
  let rec = read;
  for (let attempt = 1; ; attempt++) {
    refuse(rec);
    const moved = await ctx.deps.lifecycle.pauseOrResume(rec.id, to, change(rec, new Date()), rec.updatedAt);
    if (moved) return moved;
    if (attempt === 3) throw new AppError('CONFLICT', 'the recording kept changing meanwhile: try again');
    rec = await ctx.deps.repo.getRecording(rec.id);
  }
}

function refusePause(rec: StoredRecording | null): asserts rec is StoredRecording {
  if (rec?.status === 'PAUSED') throw new AppError('RECORDING_ALREADY_PAUSED', 'the recording is already paused');
  if (rec?.status !== 'RECORDING') throw new AppError('RECORDING_NOT_LIVE', `only a recording that is RECORDING can be paused; ${rec ? `this one is ${rec.status}` : 'none is in progress'}`);
}

function refuseResume(rec: StoredRecording | null): asserts rec is StoredRecording {
  if (rec?.status !== 'PAUSED') throw new AppError('RECORDING_NOT_PAUSED', `only a paused recording can be resumed; ${rec ? `this one is ${rec.status}` : 'none is in progress'}`);
}

/** The pauses with the open one (the last) ended at `at`. */
function closeLast(pauses: readonly PausedSpan[], at: Date): PausedSpan[] {
  return pauses.map((p, i) => (i === pauses.length - 1 && p.resumedAt === null ? { ...p, resumedAt: at } : p));
}
