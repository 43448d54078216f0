import { AppError } from '../errors';
import { checkIdentifier } from './identifiers';
import type { Actor } from './permissions';
import { ASSET_LIMITS, ASSET_TYPES, assetTypeOfName, assetUrl, checkAssetName, sniffImageType, type AssetInfo, type AssetRef, type AssetType, type PresetAssetStore } from './preset-assets';
import { authorizePresetWrite, refuseAssetsInUse } from './preset-service';
import { findPreset, type LayoutPresetRepository } from './presets';

/**
 * A layout preset's assets (/api/layout-presets/:name/assets): images its overlays, or
 * another preset's, or a request's, name as asset://<preset>/<file>. Read like presets (any
 * authenticated caller), written like them (a service key or an admin). Only a preset that
 * exists holds assets; one named by a stored preset's overlays is not deleted (ASSET_IN_USE),
 * so a preset never names an image that is gone. A refused request changes nothing.
 */
export interface AssetUpload {
  /** The request's Content-Type (its parameters ignored). */
  contentType: string | undefined;
  bytes: Buffer;
}

export class PresetAssetService {
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly presets: LayoutPresetRepository,
    private readonly store: PresetAssetStore,
  ) {}

  async list(preset: string): Promise<AssetInfo[]> {
    await findPreset(this.presets, checkPresetName(preset));
    return this.store.list(preset);
  }

  /** Its bytes and type; ASSET_NOT_FOUND when the preset has none of that name. */
  async get(preset: string, file: string): Promise<{ info: AssetInfo; bytes: Buffer }> {
    const ref = await this.existingPreset(preset, file);
    const found = await this.store.read(ref);
    if (!found) throw notFound(ref);
    return found;
  }

  /** Creates or replaces the asset: TOO_MANY_ASSETS when a new one would be one too many. */
  async put(actor: Actor, preset: string, file: string, upload: AssetUpload): Promise<{ asset: AssetInfo; created: boolean }> {
    authorizePresetWrite(actor);
    const ref = { preset: checkPresetName(preset), file: checkAssetName(file) };
    await findPreset(this.presets, ref.preset);
    const type = uploadedType(ref, upload);
    return this.onePerPreset(ref.preset, async () => {
      const existing = await this.store.list(ref.preset);
      const created = !existing.some((a) => a.name === ref.file);
      if (created && existing.length >= ASSET_LIMITS.maxPerPreset) throw tooMany(ref.preset);
      const asset = await this.store.write(ref, upload.bytes, type);
      // another API process may have added one meanwhile: counted again, and the new one taken back if over
      if (created && (await this.store.list(ref.preset)).length > ASSET_LIMITS.maxPerPreset) {
        await this.store.delete(ref);
        throw tooMany(ref.preset);
      }
      return { asset, created };
    });
  }

  /** Uploads to one preset one at a time in this process, so two cannot both take its last place. */
  private onePerPreset<T>(preset: string, write: () => Promise<T>): Promise<T> {
    const turn = (this.writing.get(preset) ?? Promise.resolve()).then(write, write);
    const settled = turn.then(() => undefined, () => undefined);
    this.writing.set(preset, settled);
    void settled.then(() => this.writing.get(preset) === settled && this.writing.delete(preset));
    return turn;
  }

  /** The asset removed: ASSET_NOT_FOUND when there is none, ASSET_IN_USE while a preset's overlays name it. */
  async delete(actor: Actor, preset: string, file: string): Promise<AssetInfo> {
    authorizePresetWrite(actor);
    const ref = await this.existingPreset(preset, file);
    const info = await this.store.head(ref);
    if (!info) throw notFound(ref);
    await refuseAssetsInUse(this.presets, (r) => r.preset === ref.preset && r.file === ref.file, `asset ${assetUrl(ref)}`);
    await this.store.delete(ref);
    return info;
  }

  private async existingPreset(preset: string, file: string): Promise<AssetRef> {
    const ref = { preset: checkPresetName(preset), file: checkAssetName(file) };
    await findPreset(this.presets, ref.preset);
    return ref;
  }
}

/** The image type of an upload, when its Content-Type, its first bytes and its name all say the same. */
function uploadedType(ref: AssetRef, upload: AssetUpload): AssetType {
  const types = Object.keys(ASSET_TYPES).join(', ');
  const declared = (upload.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!(declared in ASSET_TYPES)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `send the image as its own body with Content-Type ${types} (this one is ${declared || 'not given'})`);
  if (upload.bytes.length === 0) throw new AppError('VALIDATION_ERROR', 'the body is empty: send the image');
  if (upload.bytes.length > ASSET_LIMITS.maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `an asset is at most ${ASSET_LIMITS.maxBytes / 1024 / 1024} MB`);
  const sniffed = sniffImageType(upload.bytes);
  if (!sniffed) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `the body is not a PNG, JPEG, WebP or GIF image`);
  if (sniffed !== declared) throw new AppError('ASSET_TYPE_MISMATCH', `the body is ${sniffed} but its Content-Type says ${declared}`);
  const named = assetTypeOfName(ref.file);
  if (named !== sniffed) throw new AppError('ASSET_TYPE_MISMATCH', `the body is ${sniffed} but the name ${ref.file} says ${named}: name it .${ASSET_TYPES[sniffed][0]}`);
  return sniffed;
}

const tooMany = (preset: string) => new AppError('TOO_MANY_ASSETS', `preset ${preset} holds ${ASSET_LIMITS.maxPerPreset} assets, the most it may: delete one, or replace one by its name`);
const notFound = (ref: AssetRef) => new AppError('ASSET_NOT_FOUND', `preset ${ref.preset} has no asset ${ref.file}`);
const checkPresetName = (name: string) => checkIdentifier('presetName', name, 'preset name');
