import { AppError } from '../errors';
import { IDENTIFIERS } from './identifiers';

/**
 * Images uploaded as a layout preset's assets (issue 10 item 3): an overlay names one as
 * `asset://<preset>/<file>` instead of an http(s) URL, so an operator needs no image host of
 * their own. They are kept in the recordings' storage (storage/preset-assets.ts) and read
 * from it by the worker (recorder/overlay-assets.ts), never fetched over the network.
 * An overlay may name the asset of any preset; a request naming one that is not there is
 * refused (OVERLAY_ASSET_NOT_FOUND) before anything is written.
 */

export const ASSET_LIMITS = { maxBytes: 4 * 1024 * 1024, maxPerPreset: 20, maxNameLength: 100 };

/** The types an overlay image may be, each with its file name extensions (the first is the usual one). */
export const ASSET_TYPES = {
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg'],
  'image/webp': ['webp'],
  'image/gif': ['gif'],
} as const;
export type AssetType = keyof typeof ASSET_TYPES;

export const ASSET_SCHEME = 'asset://';

/** An asset's file name: one path segment, its extension one of ASSET_TYPES'. */
export const ASSET_NAME_PATTERN = /^(?!.*\.\.)(?=.{1,100}$)[A-Za-z0-9][A-Za-z0-9._-]*\.(?:png|jpe?g|webp|gif)$/i;
export const ASSET_NAME_RULE = `1-${ASSET_LIMITS.maxNameLength} letters, digits or . _ -, starting with a letter or digit, ending in .png, .jpg, .jpeg, .webp or .gif`;

export interface AssetRef {
  preset: string;
  file: string;
}

export interface AssetInfo {
  name: string;
  size: number;
  type: AssetType;
}

/** The presets' assets, a port the storage implements (storage/preset-assets.ts). */
export interface PresetAssetStore {
  /** The assets of `preset`, by name. */
  list(preset: string): Promise<AssetInfo[]>;
  /** Null when there is none of that name. */
  head(ref: AssetRef): Promise<AssetInfo | null>;
  /** Its bytes; null when it is gone. */
  read(ref: AssetRef): Promise<{ info: AssetInfo; bytes: Buffer } | null>;
  /** Creates or replaces it. */
  write(ref: AssetRef, bytes: Buffer, type: AssetType): Promise<AssetInfo>;
  /** A missing asset is not an error. */
  delete(ref: AssetRef): Promise<void>;
  /** Every asset of `preset`; how many there were. */
  deleteAll(preset: string): Promise<number>;
}

/** The type of a file named `file` by its extension; null when it names none we take. */
export function assetTypeOfName(file: string): AssetType | null {
  const ext = /\.([^.]+)$/.exec(file)?.[1]?.toLowerCase();
  const found = Object.entries(ASSET_TYPES).find(([, exts]) => (exts as readonly string[]).includes(ext ?? ''));
  return found ? (found[0] as AssetType) : null;
}

/** `file` when it is a safe asset name with an image extension, else VALIDATION_ERROR naming the rule. */
export function checkAssetName(file: string): string {
  if (!ASSET_NAME_PATTERN.test(file)) {
    throw new AppError('VALIDATION_ERROR', `asset name ${JSON.stringify(file.slice(0, 120))} must be ${ASSET_NAME_RULE}`);
  }
  return file;
}

/** What the first bytes say the image is: PNG, JPEG, WebP or GIF; null for anything else. */
export function sniffImageType(bytes: Buffer): AssetType | null {
  const starts = (sig: number[], at = 0) => bytes.length >= at + sig.length && sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  return null;
}

export const isAssetUrl = (url: string) => url.startsWith(ASSET_SCHEME);

export const assetUrl = (ref: AssetRef) => `${ASSET_SCHEME}${ref.preset}/${ref.file}`;

/** `asset://<preset>/<file>` as its parts, or UNSUPPORTED_OPTION naming `what` and the form. */
export function parseAssetUrl(url: string, what = 'overlays image'): AssetRef {
  const [preset, file, ...rest] = url.slice(ASSET_SCHEME.length).split('/');
  const form = `${what} ${JSON.stringify(url.slice(0, 200))} must be ${ASSET_SCHEME}<preset>/<file>: a preset name (${IDENTIFIERS.presetName.rule}) and an asset name (${ASSET_NAME_RULE})`;
  if (!isAssetUrl(url) || rest.length > 0 || !preset || !IDENTIFIERS.presetName.pattern.test(preset) || file === undefined) throw new AppError('UNSUPPORTED_OPTION', form);
  try {
    return { preset, file: checkAssetName(file) };
  } catch {
    throw new AppError('UNSUPPORTED_OPTION', form);
  }
}

/**
 * OVERLAY_ASSET_NOT_FOUND unless `ref` is stored (or when there is no store of assets); its
 * details name the field `path` that names it, when it is one, so a form marks that field.
 */
export async function checkAssetExists(ref: AssetRef, store: PresetAssetStore | undefined, path?: string): Promise<void> {
  if (store && (await store.head(ref))) return;
  throw new AppError(
    'OVERLAY_ASSET_NOT_FOUND',
    `the overlays name ${assetUrl(ref)}, but preset ${ref.preset} has no asset ${ref.file} (PUT /api/layout-presets/${ref.preset}/assets/${ref.file} uploads it)`,
    path ? { details: { path } } : {},
  );
}
