import { isDeepStrictEqual } from 'node:util';
import { AppError } from '../errors';
import { loadRecording, type RecordingsContext } from './context';
import { applyLiveChange, type LiveChange } from './live-change';
import { checkOverlayAssets } from './overlays';
import type { Actor } from './permissions';
import { findPreset, livePresetChange } from './presets';
import type { RecordingStatus } from './status';
import { recordingView, type RecordingView } from './views';

/**
 * A live change by the host (PATCH .../recording/:recordingId): the new options are written on
 * the row while it is RECORDING or PAUSED (so the view, a restart and a salvage know them, and a
 * paused recording resumes with them), then sent to
 * the worker that runs it. A named preset gives what can change live (presets.ts
 * livePresetChange). Anything refused changes nothing, and a change the worker could not
 * apply is taken back off the row.
 */
export async function updateRecording(ctx: RecordingsContext, actor: Actor, callId: string, recordingId: string, change: LiveChange): Promise<RecordingView> {
  const { rec } = await loadRecording(ctx, actor, callId, recordingId, 'control');
  const preset = change.preset === undefined ? undefined : await findPreset(ctx.deps.presets, change.preset);
  const options = applyLiveChange(rec.options, preset ? livePresetChange(rec.options, change, preset) : change, { assetOrigins: ctx.opts.assetOrigins ?? [], streamHosts: ctx.opts.streamHosts ?? [] });
  if (!isDeepStrictEqual(options.overlays, rec.options.overlays)) await checkOverlayAssets(options.overlays, ctx.deps.presetAssets);
  if (!LIVE.includes(rec.status)) throw notLive(rec.status);
  if (!(await ctx.deps.repo.updateIf(rec.id, { status: LIVE }, { options }))) throw notLive('no longer live');
  try {
    await ctx.deps.dispatcher.requestUpdate(rec.id, options);
  } catch (err) {
    // the worker could not apply it (an overlay image it cannot fetch, a page that did not answer): the row keeps what is recorded
    await ctx.deps.repo.updateIf(rec.id, { status: LIVE }, { options: rec.options });
    throw err;
  }
  const updated = await ctx.deps.repo.getRecording(rec.id);
  if (!updated) throw new AppError('NOT_FOUND', 'recording not found');
  return recordingView(updated);
}

const LIVE: readonly RecordingStatus[] = ['RECORDING', 'PAUSED'];
const notLive = (status: string) => new AppError('RECORDING_NOT_LIVE', `only a recording that is RECORDING or PAUSED can be changed; this one is ${status}`);
