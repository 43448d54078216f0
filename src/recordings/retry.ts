import fs from 'node:fs/promises';
import { AppError } from '../errors';
import { loadRecording, type RecordingsContext } from './context';
import type { Actor } from './permissions';
import type { RecordingWithRoom } from './repository';
import { recordingView, type RecordingView } from './views';

/** Post-processing again for a FAILED recording whose local file still exists (host only). */
export async function retryRecording(ctx: RecordingsContext, actor: Actor, callId: string, recordingId: string): Promise<RecordingView> {
  const { rec } = await loadRecording(ctx, actor, callId, recordingId, 'control');
  if (rec.status !== 'FAILED') throw new AppError('RECORDING_NOT_RETRYABLE', `only a failed recording can be retried; this one is ${rec.status.toLowerCase()}`);
  if (!ctx.deps.postprocess) throw new AppError('RECORDING_NOT_RETRYABLE', 'post-processing is not available on this server');
  const st = rec.filePath ? await fs.stat(rec.filePath).catch(() => null) : null;
  if (!st || !st.isFile() || st.size === 0) {
    throw new AppError('RECORDING_FILE_MISSING', 'the recorded file is no longer on the recorder; the recording cannot be processed again');
  }
  let moved: RecordingWithRoom;
  try {
    moved = await ctx.deps.lifecycle.reprocess(rec.id, ctx.deps.postprocess.leaseUntil());
  } catch (err) {
    if (err instanceof AppError && err.code === 'INVALID_TRANSITION') throw new AppError('RECORDING_NOT_RETRYABLE', 'the recording changed meanwhile');
    throw err;
  }
  await ctx.deps.postprocess.handOff(moved);
  return recordingView((await ctx.deps.repo.getRecording(rec.id)) ?? moved);
}
