import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isAppError } from '../errors';
import { ASSET_LIMITS, assetTypeOfName, checkAssetName, type AssetInfo, type AssetRef, type AssetType, type PresetAssetStore } from '../recordings/preset-assets';
import { presetAssetPrefix } from './keys';
import type { Storage } from './types';

/**
 * The layout presets' assets in the recordings' storage (local, S3 or GCS), one object each at
 * `<prefix>_presets/<preset>/<file>` (keys.ts). An asset's type is its name's extension, which
 * the upload's bytes were checked against (recordings/preset-asset-service.ts), so a listing
 * needs no read of each object.
 */
export class StoragePresetAssets implements PresetAssetStore {
  constructor(
    private readonly storage: Storage,
    private readonly prefix: string,
  ) {}

  async list(preset: string): Promise<AssetInfo[]> {
    const under = presetAssetPrefix(this.prefix, preset);
    const objects = await this.storage.list(under);
    return objects.flatMap((o) => {
      const info = assetInfo(o.key.slice(under.length), o.size);
      return info ? [info] : [];
    }).sort((a, b) => a.name.localeCompare(b.name));
  }

  async head(ref: AssetRef): Promise<AssetInfo | null> {
    const found = await this.storage.head(this.keyOf(ref));
    return found ? assetInfo(ref.file, found.size) : null;
  }

  async read(ref: AssetRef): Promise<{ info: AssetInfo; bytes: Buffer } | null> {
    let stream;
    try {
      stream = await this.storage.createReadStream(this.keyOf(ref));
    } catch (err) {
      if (isAppError(err) && err.code === 'NOT_FOUND') return null;
      throw err;
    }
    const parts: Buffer[] = [];
    let size = 0;
    for await (const part of stream as AsyncIterable<Buffer>) {
      size += part.length;
      // an object put there by other means than the API: not read whole into memory
      if (size > ASSET_LIMITS.maxBytes) {
        stream.destroy();
        throw new Error(`the stored asset ${ref.preset}/${ref.file} is larger than ${ASSET_LIMITS.maxBytes / 1024 / 1024} MB`);
      }
      parts.push(part);
    }
    const info = assetInfo(ref.file, size);
    return info ? { info, bytes: Buffer.concat(parts) } : null;
  }

  async write(ref: AssetRef, bytes: Buffer, type: AssetType): Promise<AssetInfo> {
    // Storage.put streams from a file
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'preset-asset-'));
    try {
      const file = path.join(dir, 'upload');
      await fsp.writeFile(file, bytes);
      await this.storage.put(this.keyOf(ref), file, type);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
    return { name: ref.file, size: bytes.length, type };
  }

  async delete(ref: AssetRef): Promise<void> {
    await this.storage.delete(this.keyOf(ref));
  }

  deleteAll(preset: string): Promise<number> {
    return this.storage.deletePrefix(presetAssetPrefix(this.prefix, preset));
  }

  private keyOf(ref: AssetRef): string {
    return `${presetAssetPrefix(this.prefix, ref.preset)}${checkAssetName(ref.file)}`;
  }
}

/** An object below a preset's prefix as an asset; null for one that is not (a deeper key, another name). */
function assetInfo(name: string, size: number): AssetInfo | null {
  const type = name.includes('/') ? null : assetTypeOfName(name);
  return type ? { name, size, type } : null;
}
