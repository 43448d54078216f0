import { AppError } from '../errors';
import type { PreviewRequest } from '../../recorder-page/src/preview-scene';
import { DEFAULT_THEME } from '../../recorder-page/src/layouts/names';
import { parseStartOptions, resolveRecordingOptions, type StartOptions } from './options';
import { withPreset, type LayoutPreset } from './presets';

/**
 * The rules of a layout preview (`recorder preview-layout`; later the studio): the layout,
 * theme and canvas size under the start request's own rules (same codes, same messages),
 * and the synthetic participants within limits of their own.
 */
export const PREVIEW_LIMITS = { minParticipants: 1, maxParticipants: 25 };

export interface PreviewInput {
  layout?: string;
  theme?: string;
  width?: number;
  height?: number;
  participants?: number;
  /** 1-based participant numbers. */
  screenShare?: number;
  speaking?: number;
  cameraOff?: number;
  /** The start request's overlays (any image origin: the preview is the operator's). */
  overlays?: unknown;
}
type PreviewField = keyof PreviewInput;

export const DEFAULT_PREVIEW_PARTICIPANTS = 4;

/**
 * UNSUPPORTED_OPTION for what a recording would refuse, or a participant count or number out
 * of range. With a preset, its settings are the defaults of `input`'s, as in a start request.
 */
export function resolvePreview(input: PreviewInput, name: (field: PreviewField) => string = (f) => f, preset?: LayoutPreset): PreviewRequest {
  const given = parseStartOptions({ layout: input.layout, theme: input.theme, width: input.width, height: input.height, overlays: input.overlays }, (f: keyof StartOptions) => name(f as PreviewField));
  const start = preset ? withPreset(given, preset) : given;
  const { options } = resolveRecordingOptions(start, { maxDurationSeconds: 1, assetOrigins: 'any', name: (f) => name(f as PreviewField) });
  const { minParticipants: min, maxParticipants: max } = PREVIEW_LIMITS;
  const participants = input.participants ?? DEFAULT_PREVIEW_PARTICIPANTS;
  if (!Number.isInteger(participants) || participants < min || participants > max) {
    throw new AppError('UNSUPPORTED_OPTION', `${name('participants')} must be an integer from ${min} to ${max}`);
  }
  const request: PreviewRequest = { width: options.width, height: options.height, layout: options.layout, theme: options.theme ?? DEFAULT_THEME, participants };
  if (options.overlays) request.overlays = options.overlays;
  for (const field of ['screenShare', 'speaking', 'cameraOff'] as const) {
    const n = input[field];
    if (n === undefined) continue;
    if (!Number.isInteger(n) || n < 1 || n > participants) throw new AppError('UNSUPPORTED_OPTION', `${name(field)} must be a participant's number, from 1 to ${participants}`);
    request[field] = n;
  }
  return request;
}
