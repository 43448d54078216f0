import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { AppError } from '../errors';
import { loadCall, type RecordingsContext } from './context';
import { checkIdentifier } from './identifiers';
import { checkOverlayAssets } from './overlays';
import { resolveRecordingOptions, sameResolvedOptions, type ResolvedOptions, type StartOptions } from './options';
import type { Actor } from './permissions';
import type { RecordingJob } from './ports';
import { findPreset, withPreset } from './presets';
import type { StoredRecording } from './repository';
import { recordingView, type RecordingView } from './views';

/** Starting a recording: options resolved, the row written (idempotently), the job dispatched. */

export interface StartResult {
  recording: RecordingView;
  /** True when an Idempotency-Key matched an earlier start: nothing new was started. */
  replayed: boolean;
}

export async function startRecording(ctx: RecordingsContext, actor: Actor, callId: string, input: StartOptions, idempotencyKey?: string): Promise<StartResult> {
  if (idempotencyKey !== undefined) checkIdentifier('idempotencyKey', idempotencyKey, 'Idempotency-Key');
  const call = await loadCall(ctx, actor, callId, 'control');
  const request = input.preset === undefined ? input : withPreset(input, await findPreset(ctx.deps.presets, input.preset));
  const resolved = resolveRecordingOptions(request, { maxDurationSeconds: ctx.opts.maxDurationSeconds, layoutOrigins: ctx.opts.layoutOrigins ?? [], assetOrigins: ctx.opts.assetOrigins ?? [], streamHosts: ctx.opts.streamHosts ?? [] });

  if (idempotencyKey) {
    const earlier = await ctx.deps.repo.findByIdempotencyKey(call.id, idempotencyKey);
    if (earlier) return { recording: replay(earlier, resolved), replayed: true };
  }
  await checkOverlayAssets(resolved.options.overlays, ctx.deps.presetAssets);
  await ctx.opts.checkDisk?.();
  const id = randomUUID();
  const outputPath = path.join(ctx.opts.outputDir, `${id}.${resolved.options.format}`);
  const rec = await ctx.deps.repo.createRecording({
    id,
    callId: call.id,
    requestedBy: actor.userId!,
    options: resolved.options,
    outputFormat: resolved.outputFormat,
    maxDurationSeconds: resolved.maxDurationSeconds,
    filePath: outputPath,
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });
  if (!rec) {
    // The same key raced us and won.
    const earlier = await ctx.deps.repo.findByIdempotencyKey(call.id, idempotencyKey!);
    return { recording: replay(earlier!, resolved), replayed: true };
  }
  const job: RecordingJob = {
    id,
    callId: call.id,
    roomName: call.roomName,
    outputPath,
    options: resolved.options,
    maxDurationSeconds: resolved.maxDurationSeconds,
    requestedAt: rec.startingAt.getTime(),
  };
  try {
    await ctx.deps.dispatcher.dispatch(job);
  } catch (err) {
    await ctx.deps.lifecycle.failed(id, err, ['STARTING']);
    throw err;
  }
  return { recording: recordingView(rec), replayed: false };
}

function replay(earlier: StoredRecording, resolved: ResolvedOptions): RecordingView {
  const before: ResolvedOptions = {
    options: earlier.options,
    outputFormat: earlier.outputFormat,
    maxDurationSeconds: earlier.maxDurationSeconds ?? 0,
  };
  if (!sameResolvedOptions(before, resolved)) {
    throw new AppError('CONFLICT', 'Idempotency-Key was already used for a different request');
  }
  return recordingView(earlier);
}
