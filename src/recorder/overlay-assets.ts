import { AppError } from '../errors';
import type { Overlays } from '../recordings/overlays';
import type { PageOverlays } from '../../recorder-page/src/overlay-spec';

/**
 * The overlays as the page draws them: each image fetched here, once, and handed over as a
 * data: URL. The page then fetches nothing (its network is the room's), its canvas stays
 * origin-clean without the asset host sending CORS headers, and a missing image fails the
 * start or the change with OVERLAY_IMAGE_FAILED before the picture changes. The origins were
 * checked against RECORDER_ASSET_ORIGINS when the request was taken (recordings/overlays.ts);
 * redirects are refused so the fetch stays on the origin that was checked.
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
