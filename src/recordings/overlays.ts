import { z } from 'zod';
import { AppError } from '../errors';
import { checkAssetExists, isAssetUrl, parseAssetUrl, type AssetRef, type PresetAssetStore } from './preset-assets';

/**
 * The overlays a recording may carry (issue 10 item 3): a text and/or an image watermark,
 * name labels over camera tiles, a clock, and a background colour or image. One rule for the
 * API, the CLI, the dispatch job and the page; the bounds keep a request's size and the page's
 * per-frame work small.
 *
 * Images come only from origins the operator lists (RECORDER_ASSET_ORIGINS) or are a layout
 * preset's uploaded assets, named `asset://<preset>/<file>` (preset-assets.ts); the worker
 * fetches the one or reads the other from storage (recorder/overlay-assets.ts) and hands the
 * page their bytes, so the page itself fetches nothing.
 */
export const OVERLAY_POSITIONS = ['top-left', 'top-right', 'bottom-left', 'bottom-right', 'center'] as const;
export type OverlayPosition = (typeof OVERLAY_POSITIONS)[number];

export const OVERLAY_LIMITS = { maxText: 120, maxUrl: 2000, minFraction: 0.02, maxFraction: 1, minTextSize: 0.01, maxTextSize: 0.2 };
const O = OVERLAY_LIMITS;

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, { error: 'must be a colour like #1a2b3c' });
const position = z.enum(OVERLAY_POSITIONS, { error: `must be one of ${OVERLAY_POSITIONS.join(', ')}` });
const fraction = (min: number, max: number) => {
  const message = `must be a number from ${min} to ${max}`;
  return z.number({ error: message }).min(min, { error: message }).max(max, { error: message });
};
const opacity = fraction(0, 1);
const imageUrl = z.string().max(O.maxUrl, { error: `must be at most ${O.maxUrl} characters` });

export const overlaysSchema = z.strictObject({
  textWatermark: z
    .strictObject({
      text: z.string().min(1, { error: 'must not be empty' }).max(O.maxText, { error: `must be at most ${O.maxText} characters` }),
      position: position.default('bottom-right'),
      /** Text height as a fraction of the canvas height. */
      size: fraction(O.minTextSize, O.maxTextSize).default(0.04),
      colour: colour.default('#ffffff'),
      opacity: opacity.default(0.8),
    })
    .optional(),
  imageWatermark: z
    .strictObject({
      url: imageUrl,
      position: position.default('top-right'),
      /** Image width as a fraction of the canvas width (height follows the image's aspect). */
      size: fraction(O.minFraction, O.maxFraction).default(0.15),
      opacity: opacity.default(1),
    })
    .optional(),
  /** Names over camera tiles too (tiles without a camera always show one). */
  nameLabels: z.boolean().optional(),
  /** The wall-clock time (HH:MM:SS) in `timeZone` (an IANA name, default UTC). */
  clock: z.strictObject({ position: position.default('top-left'), timeZone: z.string().max(64).refine(knownTimeZone, { error: 'must be an IANA time zone such as Europe/Berlin' }).default('UTC') }).optional(),
  background: z
    .union([z.strictObject({ colour }), z.strictObject({ imageUrl })], { error: 'must be { colour } or { imageUrl }' })
    .optional(),
});
export type Overlays = z.infer<typeof overlaysSchema>;

function knownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An image `overlays` asks the page to load, and the field that names it (the `path` of a refusal's details). */
export interface OverlayImage {
  path: 'overlays.imageWatermark.url' | 'overlays.background.imageUrl';
  url: string;
}

export function overlayImages(overlays: Overlays): OverlayImage[] {
  const images: OverlayImage[] = [];
  if (overlays.imageWatermark) images.push({ path: 'overlays.imageWatermark.url', url: overlays.imageWatermark.url });
  if (overlays.background && 'imageUrl' in overlays.background) images.push({ path: 'overlays.background.imageUrl', url: overlays.background.imageUrl });
  return images;
}

/**
 * `overlays` for a recording: every image a preset's asset (its form checked here, that it
 * exists by checkOverlayAssets) or from an allowed origin (ASSET_URL_NOT_ALLOWED), and only on
 * a built-in layout (a custom page draws its own picture: UNSUPPORTED_OPTION).
 */
export function checkOverlays(overlays: Overlays, target: { customLayoutUrl?: string | undefined }, allowedOrigins: readonly string[] | 'any'): Overlays {
  if (target.customLayoutUrl) throw new AppError('UNSUPPORTED_OPTION', 'overlays cannot be drawn over a custom layout page: it draws its own picture');
  for (const { path, url } of overlayImages(overlays)) {
    if (isAssetUrl(url)) parseAssetUrl(url);
    else if (allowedOrigins !== 'any') allowedAssetUrl(url, allowedOrigins, path);
    else absoluteHttpUrl(url, 'overlays image');
  }
  return overlays;
}

/** The preset assets `overlays` names (their URLs already checked by checkOverlays). */
export function overlayAssets(overlays: Overlays | undefined): AssetRef[] {
  return overlays ? overlayImages(overlays).filter(({ url }) => isAssetUrl(url)).map(({ url }) => parseAssetUrl(url)) : [];
}

/**
 * Every preset asset `overlays` names is there now, else OVERLAY_ASSET_NOT_FOUND (also when
 * this process has no store of them): a start, a live change or a preset that names a missing
 * one is refused before anything is written.
 */
export async function checkOverlayAssets(overlays: Overlays | undefined, store: PresetAssetStore | undefined): Promise<void> {
  for (const { path, url } of overlays ? overlayImages(overlays) : []) if (isAssetUrl(url)) await checkAssetExists(parseAssetUrl(url), store, path);
}

/**
 * An overlay image is fetched for the page, so only origins the operator allowed may serve one:
 * ASSET_URL_NOT_ALLOWED otherwise (its details naming the field `path`, when it is one), before anything is created.
 */
export function allowedAssetUrl(raw: string, allowedOrigins: readonly string[], path?: string): string {
  const url = absoluteHttpUrl(raw, 'overlays image');
  if (!allowedOrigins.includes(url.origin)) {
    throw new AppError('ASSET_URL_NOT_ALLOWED', `images from ${url.origin} are not allowed (the operator lists allowed origins in RECORDER_ASSET_ORIGINS)`, {
      ...(path ? { details: { path } } : {}),
    });
  }
  return url.toString();
}

/** `raw` as an http(s) URL without credentials, or UNSUPPORTED_OPTION naming `what`. */
export function absoluteHttpUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('UNSUPPORTED_OPTION', `${what} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('UNSUPPORTED_OPTION', `${what} must be an absolute http(s) URL`);
  if (url.username || url.password) throw new AppError('UNSUPPORTED_OPTION', `${what} must not carry credentials`);
  return url;
}
