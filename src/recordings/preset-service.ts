import { AppError } from '../errors';
import { checkIdentifier } from './identifiers';
import { checkOverlayAssets, overlayAssets } from './overlays';
import type { Actor } from './permissions';
import type { AssetRef, PresetAssetStore } from './preset-assets';
import { findPreset, presetSettings, presetView, type LayoutPresetRepository, type PresetSettingsInput, type PresetView } from './presets';

/**
 * The layout presets' use cases (/api/layout-presets). Anyone the API authenticated reads
 * them (the studio page and call apps list them); only a service key or an admin (a user
 * whose token says `"role": "admin"`) writes. A refused request writes nothing. Overlays
 * may name the uploaded assets of any preset (asset://<preset>/<file>) that exist; deleting a
 * preset deletes its assets (preset-asset-service.ts has their own routes).
 */
export interface PresetServiceOptions {
  /** Origins an overlay image may come from (RECORDER_ASSET_ORIGINS). */
  assetOrigins: readonly string[];
  /** The presets' uploaded assets; without it overlays naming one are OVERLAY_ASSET_NOT_FOUND. */
  assets?: PresetAssetStore;
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
    const preset = await this.newPreset(actor, name, input);
    const created = await this.repo.create(preset);
    if (!created) throw new AppError('PRESET_EXISTS', `a layout preset ${JSON.stringify(preset.name)} exists (PUT replaces it)`);
    return presetView(created);
  }

  /** Creates the preset or replaces its settings. */
  async put(actor: Actor, name: string, input: PresetSettingsInput): Promise<{ preset: PresetView; created: boolean }> {
    const { preset, created } = await this.repo.put(await this.newPreset(actor, name, input));
    return { preset: presetView(preset), created };
  }

  /**
   * The preset removed, with its assets; PRESET_NOT_FOUND when there is none, ASSET_IN_USE while
   * another preset's overlays name one of its assets. Recordings that used it keep the settings
   * they were given (a live recording keeps drawing the images it has).
   */
  async delete(actor: Actor, name: string): Promise<PresetView> {
    authorizePresetWrite(actor);
    const preset = await findPreset(this.repo, checkName(name));
    if (this.opts.assets) {
      await refuseAssetsInUse(this.repo, (ref) => ref.preset === preset.name, `assets of preset ${preset.name}`, preset.name);
      // the assets first: a deletion cut short by the storage is done again by a retry
      await this.opts.assets.deleteAll(preset.name);
    }
    const removed = await this.repo.delete(preset.name);
    if (!removed) throw new AppError('PRESET_NOT_FOUND', `there is no layout preset ${JSON.stringify(name)}`);
    return presetView(removed);
  }

  private async newPreset(actor: Actor, name: string, input: PresetSettingsInput) {
    authorizePresetWrite(actor);
    const presetName = checkName(name);
    const settings = presetSettings(input, this.opts.assetOrigins);
    await checkOverlayAssets(settings.overlays, this.opts.assets);
    return { name: presetName, settings, createdBy: actor.userId };
  }
}

/** ASSET_IN_USE naming the presets (but `except`) whose overlays name an asset that `matches` picks. */
export async function refuseAssetsInUse(repo: LayoutPresetRepository, matches: (ref: AssetRef) => boolean, what: string, except?: string): Promise<void> {
  const users = (await repo.list()).filter((p) => p.name !== except && overlayAssets(p.settings.overlays).some(matches)).map((p) => p.name);
  if (users.length > 0) throw new AppError('ASSET_IN_USE', `the overlays of preset(s) ${users.join(', ')} name ${what}: change them first`);
}

/** Presets change how every recording that names one looks: a service key or an admin only. */
export function authorizePresetWrite(actor: Actor): void {
  if (actor.kind === 'service' || actor.admin === true) return;
  throw new AppError('FORBIDDEN', 'only a service key or an admin (a token with "role": "admin") may change layout presets');
}

const checkName = (name: string) => checkIdentifier('presetName', name, 'preset name');
