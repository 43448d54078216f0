import { AppError } from '../errors';
import { loadCall, type RecordingsContext } from './context';
import type { RecordingEndReason } from './contract';
import { checkIdentifier } from './identifiers';
import type { Actor } from './permissions';
import type { RecordingWithRoom, StoredRecording } from './repository';
import { recordingView, type RecordingView } from './views';

/** Stopping a recording: by its host, or by the system (the room ended, LiveKit said so). */

/**
 * The recording the host controls (stop, pause, resume, markers): the given one of the call
 * (NOT_FOUND if it is not the call's), else the call's active one (null if none).
 */
export async function controlTarget(ctx: RecordingsContext, actor: Actor, callId: string, recordingId?: string): Promise<StoredRecording | null> {
  if (recordingId !== undefined) checkIdentifier('recordingId', recordingId, 'recording id');
  const call = await loadCall(ctx, actor, callId, 'control');
  const target = recordingId ? await ctx.deps.repo.getRecording(recordingId) : await ctx.deps.repo.findActiveForCall(call.id);
  if (recordingId && (!target || target.callId !== call.id)) throw new AppError('NOT_FOUND', 'recording not found');
  return target;
}

/** Stops the given (or else the active) recording of a call, paused or not: 409 RECORDING_NOT_ACTIVE if none. */
export async function stopRecording(ctx: RecordingsContext, actor: Actor, callId: string, recordingId?: string): Promise<RecordingView> {
  const target = await controlTarget(ctx, actor, callId, recordingId);
  if (!target || (target.status !== 'STARTING' && target.status !== 'RECORDING' && target.status !== 'PAUSED')) {
    throw new AppError('RECORDING_NOT_ACTIVE', target?.status === 'STOPPING' ? 'the recording is already stopping' : 'no recording is in progress');
  }
  const rec = await stopSystem(ctx, target.id, 'stopped');
  if (!rec) throw new AppError('RECORDING_NOT_ACTIVE', 'the recording ended meanwhile');
  return recordingView(rec);
}

/** STOPPING in the database first, then the owning worker is asked to stop. */
export async function stopSystem(ctx: RecordingsContext, recordingId: string, reason: RecordingEndReason): Promise<RecordingWithRoom | null> {
  const rec = await ctx.deps.lifecycle.stopping(recordingId, reason);
  if (rec) await ctx.deps.dispatcher.requestStop(recordingId, reason);
  return rec;
}

/** A verified LiveKit webhook event. */
export async function handleLivekitEvent(ctx: RecordingsContext, event: { event: string; roomName?: string }): Promise<void> {
  if (!event.roomName) return;
  if (event.event === 'room_finished') {
    for (const rec of await ctx.deps.repo.findActiveForRoom(event.roomName)) {
      await stopSystem(ctx, rec.id, 'room_ended');
    }
  } else if (event.event === 'participant_left') {
    ctx.deps.onParticipantLeft?.(event.roomName);
  }
}
