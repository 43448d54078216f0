import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError, toAppError } from '../errors';
import { loadRecording, storedRef, type RecordingsContext } from './context';
import type { Actor } from './permissions';
import type { RecordingWithRoom } from './repository';
import { isActive } from './status';
import { recordingView, type RecordingView } from './views';

/** Deleting finished recordings: by their host, or by retention. */

export interface RetentionResult {
  deleted: string[];
  failed: { id: string; code: string; message: string }[];
}

/** Removes the stored file and thumbnails, then marks DELETED. Active recordings must be stopped first. */
export async function deleteRecording(ctx: RecordingsContext, actor: Actor, callId: string, recordingId: string): Promise<RecordingView> {
  const { rec } = await loadRecording(ctx, actor, callId, recordingId, 'control');
  if (isActive(rec.status)) throw new AppError('RECORDING_ALREADY_ACTIVE', 'stop the recording before deleting it');
  if (rec.status !== 'COMPLETED' && rec.status !== 'FAILED') throw new AppError('CONFLICT', 'the recording is being processed; delete it when it is done');
  return recordingView(await deleteSystem(ctx, rec));
}

/** Removes every stored object and local file of a finished recording, then marks it DELETED. */
async function deleteSystem(ctx: RecordingsContext, rec: RecordingWithRoom): Promise<RecordingWithRoom> {
  const ref = storedRef(rec);
  if (ctx.deps.storage) {
    await ctx.deps.storage.remove(ref);
  } else {
    if (rec.filePath) await fs.rm(rec.filePath, { force: true });
    if (rec.storageProvider === 'local' && rec.storageKey && path.isAbsolute(rec.storageKey)) await fs.rm(rec.storageKey, { force: true });
  }
  return ctx.deps.lifecycle.deleted(rec.id);
}

/**
 * Retention: deletes (objects removed, status DELETED) every recording that finished more
 * than `retentionMs` ago. One failure does not stop the others.
 */
export async function deleteExpired(ctx: RecordingsContext, retentionMs: number, now = new Date()): Promise<RetentionResult> {
  const cutoff = new Date(now.getTime() - retentionMs);
  const result: RetentionResult = { deleted: [], failed: [] };
  const seen = new Set<string>();
  for (;;) {
    const batch = (await ctx.deps.repo.findExpired(cutoff, 100)).filter((r) => !seen.has(r.id));
    if (batch.length === 0) return result;
    for (const rec of batch) {
      seen.add(rec.id);
      try {
        await deleteSystem(ctx, rec);
        result.deleted.push(rec.id);
      } catch (err) {
        const e = toAppError(err);
        result.failed.push({ id: rec.id, code: e.code, message: e.message });
      }
    }
  }
}
