import fs from 'node:fs/promises';
import { isAppError } from '../errors';
import type { RecordingsContext } from './context';
import { workerLost } from './failure-policy';
import type { SalvagedFile } from './ports';
import { salvagedQuality } from './quality';
import type { RecordingWithRoom } from './repository';
import { ACTIVE_STATUSES } from './status';
import { lostStreams } from './streams';

/** After a restart: recordings a dead worker left behind get a true status. */

export interface RecoveryReport {
  failed: string[];
  salvaged: string[];
  skipped: string[];
  /** In how many ms a skipped recording may be a dead worker's: its owner's claim runs out, or its wait for a worker ends. */
  recheckInMs?: number;
}

/**
 * Gives recordings left STARTING/RECORDING/STOPPING by a dead worker a true status: handed
 * to post-processing when their media survived (salvaged by the recorder, or the output
 * file exists), else FAILED with WORKER_LOST. With the spool in object storage only a
 * worker decides (another machine's output path means nothing here), and a store that does
 * not answer while it salvages leaves the recording for the next run.
 */
export async function recover(ctx: RecordingsContext): Promise<RecoveryReport> {
  const report: RecoveryReport = { failed: [], salvaged: [], skipped: [] };
  const grace = ctx.opts.unclaimedGraceMs ?? 60_000;
  const skip = (id: string, forMs: number) => {
    report.skipped.push(id);
    if (Number.isFinite(forMs)) report.recheckInMs = Math.min(report.recheckInMs ?? Infinity, forMs);
  };
  const salvager = Boolean(ctx.deps.recorder) || !ctx.opts.spoolStored;
  for (const rec of await ctx.deps.repo.findAllActive()) {
    if (!salvager) {
      skip(rec.id, Infinity);
      continue;
    }
    const lease = await ctx.deps.dispatcher.ownerLeaseMs(rec.id, rec.workerId);
    if (lease > 0) {
      skip(rec.id, lease);
      continue;
    }
    const waited = Date.now() - rec.startingAt.getTime();
    if (rec.workerId === null && rec.status === 'STARTING' && waited < grace) {
      skip(rec.id, grace - waited); // still waiting in the dispatch queue
      continue;
    }
    const file = await salvage(ctx, rec);
    if (file === 'later') {
      skip(rec.id, STORE_RETRY_MS);
      continue;
    }
    // its streams went with the worker: the view says so (salvage does not stream again)
    if (rec.streams.some((s) => s.status !== 'ENDED' && s.status !== 'FAILED')) await ctx.deps.repo.updateIf(rec.id, {}, { streams: lostStreams(rec.streams, new Date()) });
    if (file && ctx.deps.postprocess) {
      await ctx.deps.lifecycle.stopping(rec.id, 'worker_lost');
      const moved = await ctx.deps.lifecycle
        // the HLS report reaches post-processing (the manifest's playlist entry) as a live recording's does: in the quality report
        .processing(rec.id, file, ctx.deps.postprocess.leaseUntil(), { ...workerLost.kept(), ...(file.hls ? { quality: salvagedQuality(file.hls) } : {}) })
        .catch(() => null);
      if (moved) {
        report.salvaged.push(rec.id);
        await ctx.deps.postprocess.handOff(moved);
        continue;
      }
    }
    const failed = await ctx.deps.lifecycle.failed(rec.id, workerLost.nothing(), ACTIVE_STATUSES);
    if (failed) report.failed.push(rec.id);
  }
  return report;
}

/** When a salvage found the store down, the next try. */
const STORE_RETRY_MS = 5000;

/** The file `rec` left, null when nothing usable is left, 'later' when the store of its spool failed. */
async function salvage(ctx: RecordingsContext, rec: RecordingWithRoom): Promise<SalvagedFile | null | 'later'> {
  const outputPath = rec.filePath;
  if (!outputPath) return null;
  try {
    if (ctx.deps.recorder?.salvage) {
      return await ctx.deps.recorder.salvage({
        id: rec.id,
        callId: rec.callId,
        roomName: rec.call.roomName,
        outputPath,
        options: rec.options,
        ...(rec.maxDurationSeconds ? { maxDurationSeconds: rec.maxDurationSeconds } : {}),
      });
    }
    const st = await fs.stat(outputPath);
    return st.isFile() && st.size > 0 ? { path: outputPath, size: st.size } : null;
  } catch (err) {
    return isAppError(err) && err.code === 'STORAGE_UNAVAILABLE' ? 'later' : null;
  }
}
