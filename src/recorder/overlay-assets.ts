import { AppError, isAppError } from '../errors';
import type { Overlays } from '../recordings/overlays';
import { isAssetUrl, parseAssetUrl, type PresetAssetStore } from '../recordings/preset-assets';
import { StoragePresetAssets } from '../storage/preset-assets';
import type { Storage } from '../storage/types';
import type { PageOverlays } from '../../recorder-page/src/overlay-spec';

/**
 * The overlays as the page draws them: each image fetched here, once, and handed over as a
 * data: URL. The page then fetches nothing (its network is the room's), its canvas stays
 * origin-clean without the asset host sending CORS headers, and a missing image fails the
 * start or the change with OVERLAY_IMAGE_FAILED before the picture changes. The origins were
 * checked against RECORDER_ASSET_ORIGINS when the request was taken (recordings/overlays.ts);
 * redirects are refused so the fetch stays on the origin that was checked. A preset's asset
 * (asset://<preset>/<file>) is read from the store of presets' assets instead, the same way.
 */
export const OVERLAY_IMAGE_LIMITS = { maxBytes: 4 * 1024 * 1024, timeoutMs: 5000 };
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];

export async function pageOverlays(overlays: Overlays | undefined, fetchImage: (url: string) => Promise<string> = imageAsDataUrl): Promise<PageOverlays | null> {
  if (!overlays || Object.keys(overlays).length === 0) return null;
  const page: PageOverlays = { ...overlays };
  const [watermark, backdrop] = await Promise.all([
    overlays.imageWatermark ? fetchImage(overlays.imageWatermark.url) : undefined,
    overlays.background && 'imageUrl' in overlays.background ? fetchImage(overlays.background.imageUrl) : undefined,
  ]);
  if (overlays.imageWatermark && watermark) page.imageWatermark = { ...overlays.imageWatermark, url: watermark };
  if (backdrop) page.background = { imageUrl: backdrop };
  return page;
}

/**
 * How a process reads overlay images: a preset's asset from `assets` (the recordings' storage),
 * anything else over HTTP. `noAssets` says why there is no store, for the error.
 */
export function overlayImageReader(assets: PresetAssetStore | undefined, noAssets = 'this process has no storage of preset assets'): (url: string) => Promise<string> {
  return (url) => (isAssetUrl(url) ? assetAsDataUrl(url, assets, noAssets) : imageAsDataUrl(url));
}

/** The presets' assets in the recordings' storage, which a worker has for its HLS outputs (session deps' `hls`). */
export function presetAssetsIn(store: { storage: Storage; prefix: string } | undefined): PresetAssetStore | undefined {
  return store && new StoragePresetAssets(store.storage, store.prefix);
}

/** A preset's asset as a data: URL, or OVERLAY_IMAGE_FAILED (also when it was deleted since the request was taken). */
export async function assetAsDataUrl(url: string, assets: PresetAssetStore | undefined, noAssets = 'this process has no storage of preset assets'): Promise<string> {
  const fail = (why: string, cause?: unknown): never => {
    throw new AppError('OVERLAY_IMAGE_FAILED', `cannot use the overlay image ${url.slice(0, 200)}: ${why}`, cause ? { cause } : {});
  };
  const ref = parseAssetUrl(url);
  if (!assets) return fail(noAssets);
  let found;
  try {
    found = await assets.read(ref);
  } catch (err) {
    return fail(`reading it from storage failed (${isAppError(err) ? `${err.code}: ` : ''}${(err as Error).message})`, err);
  }
  if (!found) return fail(`preset ${ref.preset} has no asset ${ref.file} (any more)`);
  return `data:${found.info.type};base64,${found.bytes.toString('base64')}`;
}

/** `url` (http or https) as a data: URL, or OVERLAY_IMAGE_FAILED saying why. */
export async function imageAsDataUrl(url: string): Promise<string> {
  const where = shortUrl(url);
  const fail = (why: string, cause?: unknown): never => {
    throw new AppError('OVERLAY_IMAGE_FAILED', `cannot use the overlay image ${where}: ${why}`, cause ? { cause } : {});
  };
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(OVERLAY_IMAGE_LIMITS.timeoutMs) });
  } catch (err) {
    return fail((err as Error).name === 'TimeoutError' ? `no answer within ${OVERLAY_IMAGE_LIMITS.timeoutMs / 1000} s` : `fetch failed (${(err as Error).message})`, err);
  }
  if (!res.ok) {
    await res.body?.cancel();
    return fail(`the server answered ${res.status}`);
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!IMAGE_TYPES.includes(type)) {
    await res.body?.cancel();
    return fail(`it is ${type || 'of no stated type'}, not one of ${IMAGE_TYPES.join(', ')}`);
  }
  const bytes = await readBounded(res, OVERLAY_IMAGE_LIMITS.maxBytes).catch((err: Error) => fail(err.message, err));
  return `data:${type};base64,${bytes.toString('base64')}`;
}

async function readBounded(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`it is larger than ${maxBytes / 1024 / 1024} MB`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of res.body ?? []) {
    size += part.byteLength;
    if (size > maxBytes) throw new Error(`it is larger than ${maxBytes / 1024 / 1024} MB`);
    parts.push(Buffer.from(part));
  }
  return Buffer.concat(parts);
}

function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`.slice(0, 200);
  } catch {
    return url.slice(0, 200);
  }
}
