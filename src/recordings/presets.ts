import { z } from 'zod';
import { AppError } from '../errors';
import { parseLayout, type LayoutName, type ThemeName } from '../../recorder-page/src/layouts/names';
import type { LiveChange } from './live-change';
import { recordingOptionsSchema, resolveRecordingOptions, startOptionsSchema, type RecordingOptions, type StartOptions } from './options';
import { overlaysSchema, type Overlays } from './overlays';
import { parseOrThrow } from './stored-data';

/**
 * Layout presets (issue 10 item 5): a named set of layout, theme, overlays, canvas size and
 * frame rate, kept in the database, which a start request or a live change names instead of
 * spelling each field. A preset keeps only what it was given; in a request that names one,
 * its settings are the defaults and the request's own fields win. Each field has the start
 * request's rule (options.ts), so whatever a preset holds, a start accepts.
 */

/** What a caller may set in a preset: the start request's own fields. */
export const presetSettingsInput = startOptionsSchema.pick({ layout: true, theme: true, resolution: true, width: true, height: true, fps: true, overlays: true });
export type PresetSettingsInput = z.infer<typeof presetSettingsInput>;

const stored = recordingOptionsSchema.shape;
/** What a preset holds: a layout's name and its theme apart, a size as width and height. */
export const presetSettingsSchema = z.strictObject({
  layout: stored.layout.optional(),
  theme: stored.theme,
  width: stored.width.optional(),
  height: stored.height.optional(),
  fps: stored.fps.optional(),
  overlays: overlaysSchema.optional(),
});
export type PresetSettings = z.infer<typeof presetSettingsSchema>;

export interface LayoutPreset {
  name: string;
  settings: PresetSettings;
  /** The user who created it; null for a service key acting for nobody. */
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewLayoutPreset = Pick<LayoutPreset, 'name' | 'settings' | 'createdBy'>;

/** The presets' store, a port the database implements (src/db/preset-repository.ts). */
export interface LayoutPresetRepository {
  /** Null when a preset of that name exists: nothing is written. */
  create(preset: NewLayoutPreset): Promise<LayoutPreset | null>;
  /** Creates it, or replaces the settings of the preset of that name (its createdBy and createdAt stay). */
  put(preset: NewLayoutPreset): Promise<{ preset: LayoutPreset; created: boolean }>;
  get(name: string): Promise<LayoutPreset | null>;
  /** Every preset, by name. */
  list(): Promise<LayoutPreset[]>;
  /** The preset it removed, or null when there was none. */
  delete(name: string): Promise<LayoutPreset | null>;
}

/** A stored preset's settings (its columns, unset ones absent) parsed with the rules that wrote them. */
export function storedPresetSettings(columns: Record<string, unknown>, name: string): PresetSettings {
  return parseOrThrow(presetSettingsSchema, columns, `the stored settings of layout preset ${name}`);
}

/**
 * `input` as a preset's settings, under the start request's rules (UNSUPPORTED_OPTION naming
 * the field) and the operator's image origins (ASSET_URL_NOT_ALLOWED); VALIDATION_ERROR when
 * it sets nothing.
 */
export function presetSettings(input: PresetSettingsInput, assetOrigins: readonly string[]): PresetSettings {
  const look = defined(input);
  if (Object.keys(look).length === 0) {
    throw new AppError('VALIDATION_ERROR', `a preset sets at least one of ${Object.keys(presetSettingsInput.shape).join(', ')}`);
  }
  // the start's own resolution of these fields: its checks, its canonical names
  const { options } = resolveRecordingOptions(look, { maxDurationSeconds: 1, assetOrigins });
  const settings: PresetSettings = {};
  if (look.layout !== undefined) settings.layout = options.layout;
  if (look.theme !== undefined || spelledTheme(look.layout)) settings.theme = options.theme;
  if (look.resolution !== undefined || look.width !== undefined || look.height !== undefined) {
    settings.width = options.width;
    settings.height = options.height;
  }
  if (look.fps !== undefined) settings.fps = options.fps;
  if (options.overlays !== undefined) settings.overlays = options.overlays;
  return settings;
}

/** The preset named `name`, else PRESET_NOT_FOUND. */
export async function findPreset(repo: LayoutPresetRepository | undefined, name: string): Promise<LayoutPreset> {
  const preset = await repo?.get(name);
  if (!preset) throw new AppError('PRESET_NOT_FOUND', `there is no layout preset ${JSON.stringify(name)}`);
  return preset;
}

/**
 * A start request that names `preset`, with the preset's settings as its defaults: every field
 * the request gives wins, its size (resolution, or width and height) replaces the preset's as
 * a whole, so do its overlays, and a layout it spells with a theme (`speaker-light`) replaces
 * the preset's theme. The preset's overlay images are checked again, as the request's own.
 */
export function withPreset(request: StartOptions, preset: LayoutPreset): StartOptions {
  const s = preset.settings;
  const own = defined(request);
  const fromPreset: StartOptions = presetLook(s, own.layout);
  const ownSize = own.resolution !== undefined || own.width !== undefined || own.height !== undefined;
  if (s.width !== undefined && s.height !== undefined && !ownSize) {
    fromPreset.width = s.width;
    fromPreset.height = s.height;
  }
  if (s.fps !== undefined) fromPreset.fps = s.fps;
  return { ...fromPreset, ...own, preset: preset.name };
}

/**
 * A live change that names `preset`: the preset's layout, theme and overlays as its defaults, the
 * change's own fields winning as in withPreset. Size and frame rate are fixed when a recording
 * starts: PRESET_CANVAS_MISMATCH when the preset sets others than `current`'s.
 */
export function livePresetChange(current: RecordingOptions, change: LiveChange, preset: LayoutPreset): LiveChange {
  const s = preset.settings;
  const differ = (['width', 'height', 'fps'] as const).filter((k) => s[k] !== undefined && s[k] !== current[k]);
  if (differ.length > 0) {
    const list = (of: Partial<Record<(typeof differ)[number], number>>) => differ.map((k) => `${k} ${of[k]}`).join(', ');
    throw new AppError(
      'PRESET_CANVAS_MISMATCH',
      `preset ${preset.name} sets ${list(s)} but the recording has ${list(current)}: size and frame rate are fixed when a recording starts`,
    );
  }
  const own = defined(change);
  return { ...presetLook(s, own.layout), ...own, preset: preset.name };
}

/** What a preset sets that a live change can change too: layout, theme, overlays; not its theme when the caller spells a layout with one. */
function presetLook(s: PresetSettings, callerLayout: string | undefined): { layout?: LayoutName; theme?: ThemeName; overlays?: Overlays } {
  const look: { layout?: LayoutName; theme?: ThemeName; overlays?: Overlays } = {};
  if (s.layout !== undefined) look.layout = s.layout;
  if (s.theme !== undefined && !spelledTheme(callerLayout)) look.theme = s.theme;
  if (s.overlays !== undefined) look.overlays = s.overlays;
  return look;
}

const spelledTheme = (layout: string | undefined) => layout !== undefined && parseLayout(layout)?.theme !== undefined;

/** `o` without its undefined fields, so a spread of it overrides only what was given. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A preset as the API shows it. */
export type PresetView = PresetSettings & { name: string; createdBy: string | null; createdAt: string; updatedAt: string };

export function presetView(p: LayoutPreset): PresetView {
  return { name: p.name, ...p.settings, createdBy: p.createdBy, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() };
}
