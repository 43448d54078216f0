import { AppError } from '../errors';
import { checkIdentifier } from './identifiers';
import type { Actor } from './permissions';
import { findPreset, presetSettings, presetView, type LayoutPresetRepository, type PresetSettingsInput, type PresetView } from './presets';

/**
 * The layout presets' use cases (/api/layout-presets). Anyone the API authenticated reads
 * them (the studio page and call apps list them); only a service key or an admin (a user
 * whose token says `"role": "admin"`) writes. A refused request writes nothing.
 */
export interface PresetServiceOptions {
  /** Origins an overlay image may come from (RECORDER_ASSET_ORIGINS). */
  assetOrigins: readonly string[];
}

export class LayoutPresetService {
  constructor(
    private readonly repo: LayoutPresetRepository,
    private readonly opts: PresetServiceOptions,
  ) {}

  async list(): Promise<PresetView[]> {
    return (await this.repo.list()).map(presetView);
  }

  async get(name: string): Promise<PresetView> {
    return presetView(await findPreset(this.repo, checkName(name)));
  }

  /** PRESET_EXISTS when the name is taken. */
  async create(actor: Actor, name: string, input: PresetSettingsInput): Promise<PresetView> {
    const preset = this.newPreset(actor, name, input);
    const created = await this.repo.create(preset);
    if (!created) throw new AppError('PRESET_EXISTS', `a layout preset ${JSON.stringify(preset.name)} exists (PUT replaces it)`);
    return presetView(created);
  }

  /** Creates the preset or replaces its settings. */
  async put(actor: Actor, name: string, input: PresetSettingsInput): Promise<{ preset: PresetView; created: boolean }> {
    const { preset, created } = await this.repo.put(this.newPreset(actor, name, input));
    return { preset: presetView(preset), created };
  }

  /** The preset removed; PRESET_NOT_FOUND when there is none. Recordings that used it keep the settings they were given. */
  async delete(actor: Actor, name: string): Promise<PresetView> {
    authorizePresetWrite(actor);
    const removed = await this.repo.delete(checkName(name));
    if (!removed) throw new AppError('PRESET_NOT_FOUND', `there is no layout preset ${JSON.stringify(name)}`);
    return presetView(removed);
  }

  private newPreset(actor: Actor, name: string, input: PresetSettingsInput) {
    authorizePresetWrite(actor);
    return { name: checkName(name), settings: presetSettings(input, this.opts.assetOrigins), createdBy: actor.userId };
  }
}

/** Presets change how every recording that names one looks: a service key or an admin only. */
export function authorizePresetWrite(actor: Actor): void {
  if (actor.kind === 'service' || actor.admin === true) return;
  throw new AppError('FORBIDDEN', 'only a service key or an admin (a token with "role": "admin") may change layout presets');
}

const checkName = (name: string) => checkIdentifier('presetName', name, 'preset name');
