import fs from 'node:fs/promises';
import path from 'node:path';
import express from 'express';
import { AppError } from '../errors';
import { assetAsDataUrl, imageAsDataUrl } from '../recorder/overlay-assets';
import { bundledPageDir } from '../recorder/static-files';
import { allowedAssetUrl, checkOverlayAssets } from '../recordings/overlays';
import { checkAssetExists, isAssetUrl, parseAssetUrl, type PresetAssetStore } from '../recordings/preset-assets';
import { presetSettings } from '../recordings/presets';
import { resolvePreview } from '../recordings/preview-options';
import { parse, send } from './io';
import { StudioCheckBody, StudioImageBody } from './studio-schemas';

/**
 * The layout studio (issue 10 item 6): a static page of the page bundle at /studio, which holds
 * no secret and calls the API with the token its user pastes, and two API routes it needs
 * beside /api/layout-presets:
 * - POST /api/studio/check: a preset's settings and the synthetic participants under the API's
 *   own rules (the preset PUT's and the preview's), writing nothing, so the page shows a refusal
 *   next to the control while it is edited;
 * - POST /api/studio/image: an overlay image from RECORDER_ASSET_ORIGINS or a preset's asset
 *   as a data: URL (the worker's own fetch or storage read, overlay-assets.ts), which the page's
 *   canvas can draw: the page itself fetches nothing from other origins.
 */

/** The page's own policy: same-origin scripts, styles and API calls; images as data: URLs; the compositor's frame clock is a blob: Worker. No upgrade-insecure-requests, so it works over plain http too. */
const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; worker-src blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE_FILES: Record<string, string> = {
  'studio.html': 'text/html; charset=utf-8',
  'studio.js': 'text/javascript; charset=utf-8',
  'studio.js.map': 'application/json',
  'studio.css': 'text/css; charset=utf-8',
};

/** GET /studio and its assets, from the bundle's folder (recorder-page/dist). */
export function studioPage(dir = bundledPageDir()): express.Router {
  const routes = express.Router({ strict: true });
  const serve = (file: string) => async (_req: express.Request, res: express.Response) => {
    const body = await fs.readFile(path.join(dir, file)).catch(() => {
      throw new AppError('NOT_FOUND', `the studio's ${file} is not built (npm run build)`);
    });
    res.setHeader('content-security-policy', PAGE_POLICY);
    res.setHeader('cache-control', 'no-cache');
    res.type(PAGE_FILES[file]).send(body);
  };
  routes.get('/studio', serve('studio.html'));
  routes.get('/studio/', (_req, res) => res.redirect(301, '/studio'));
  for (const file of Object.keys(PAGE_FILES)) if (file !== 'studio.html') routes.get(`/studio/${file}`, serve(file));
  return routes;
}

export interface StudioApiOptions {
  /** RECORDER_ASSET_ORIGINS: where overlay images may come from. */
  assetOrigins: readonly string[];
  /** The layout presets' uploaded assets (asset://<preset>/<file>). */
  assets?: PresetAssetStore;
}

/** /api/studio, behind the API's authentication: anyone who may read presets may check and preview. */
export function studioApiRoutes(opts: StudioApiOptions): express.Router {
  const routes = express.Router();
  routes.post('/check', async (req, res) => {
    const { participants, screenShare, speaking, cameraOff, ...input } = parse(StudioCheckBody, req.body ?? {}, 'body');
    const settings = presetSettings(input, opts.assetOrigins);
    await checkOverlayAssets(settings.overlays, opts.assets);
    const preview = resolvePreview({ ...input, participants, screenShare, speaking, cameraOff, overlays: undefined });
    const { participants: n, screenShare: share, speaking: speaker, cameraOff: off } = preview;
    send(res, 200, { settings, scene: { participants: n, screenShare: share, speaking: speaker, cameraOff: off } }, 'these settings may be saved');
  });
  routes.post('/image', async (req, res) => {
    const { url } = parse(StudioImageBody, req.body ?? {}, 'body');
    const dataUrl = isAssetUrl(url) ? await presetAssetDataUrl(url, opts.assets) : await imageAsDataUrl(allowedAssetUrl(url, opts.assetOrigins));
    res.setHeader('cache-control', 'private, max-age=300');
    send(res, 200, { url, dataUrl }, 'ok');
  });
  return routes;
}

/** A preset's asset as a start takes it (OVERLAY_ASSET_NOT_FOUND when it is not there), read as the worker reads it. */
async function presetAssetDataUrl(url: string, assets: PresetAssetStore | undefined): Promise<string> {
  await checkAssetExists(parseAssetUrl(url), assets);
  return assetAsDataUrl(url, assets);
}
