import { z } from 'zod';
import { AppError } from '../errors';
import { parseLayout } from '../../recorder-page/src/layouts/names';
import { participantsOf, startOptionsSchema, type RecordingOptions } from './options';
import { applyStreamsChange } from './outputs';
import { checkOverlays } from './overlays';
import { streamsChangeSchema } from './streams';

/**
 * What a live recording may change (PATCH .../recording/:recordingId): the start request's
 * own fields, so each has one rule. A field added here is one more `pick` and one more line
 * in applyLiveChange.
 */
export const LIVE_CHANGE_FIELDS = { layout: true, theme: true, participants: true, overlays: true, preset: true } as const;
export const liveChangeSchema = startOptionsSchema.pick(LIVE_CHANGE_FIELDS).extend({
  /** Stream destinations to add and remove (Egress's UpdateStream): `{ add: [{ type, url }], remove: [url] }`. */
  streams: streamsChangeSchema.optional(),
});
export type LiveChange = z.infer<typeof liveChangeSchema>;

/**
 * The options after `change` (with a preset's settings already in it: presets.ts
 * livePresetChange): CHANGE_EMPTY when it names nothing, UNSUPPORTED_OPTION when the
 * layout spelling and the theme disagree, PARTICIPANTS_FILTER_INVALID for a filter that is not
 * exactly one of include and exclude. A layout alone keeps the theme unless it spells one.
 */
export function applyLiveChange(current: RecordingOptions, change: LiveChange, limits: { assetOrigins: readonly string[]; streamHosts?: readonly string[] }): RecordingOptions {
  if (Object.values(change).every((v) => v === undefined)) throw new AppError('CHANGE_EMPTY', 'the change names nothing to change (layout, theme, participants, overlays, preset, streams)');
  const next: RecordingOptions = { ...current };
  if (change.layout !== undefined) {
    const { layout, theme: named } = parseLayout(change.layout)!;
    if (named && change.theme && named !== change.theme) throw new AppError('UNSUPPORTED_OPTION', `layout ${change.layout} is ${named} but theme is ${change.theme}`);
    next.layout = layout;
    if (named) next.theme = named;
  }
  if (change.theme !== undefined) next.theme = change.theme;
  if (change.participants !== undefined) next.participants = participantsOf(current, change.participants);
  // the whole set is replaced: `{}` takes every overlay away
  if (change.overlays !== undefined) next.overlays = checkOverlays(change.overlays, current, limits.assetOrigins);
  if (change.preset !== undefined) next.preset = change.preset;
  if (change.streams !== undefined) next.outputs = applyStreamsChange(current.outputs, change.streams, limits.streamHosts ?? []);
  return next;
}
