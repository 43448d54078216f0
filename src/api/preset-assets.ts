import express from 'express';
import { AppError } from '../errors';
import type { PresetAssetService } from '../recordings/preset-asset-service';
import { ASSET_LIMITS, assetUrl, type AssetInfo } from '../recordings/preset-assets';
import { parse, send } from './io';
import { AssetParams, PresetParams } from './preset-schemas';

/**
 * /api/layout-presets/:name/assets, behind the API's authentication: a preset's uploaded
 * images (recordings/preset-asset-service.ts says who may do what). An upload is the image
 * itself as the body, with its own Content-Type (app.ts lets this one route take a body that
 * is not JSON).
 */
export function presetAssetRoutes(assets: PresetAssetService): express.Router {
  const routes = express.Router({ mergeParams: true });
  routes.get('/', async (req, res) => {
    const { name } = parse(PresetParams, req.params, 'path');
    send(res, 200, (await assets.list(name)).map((a) => assetView(name, a)), 'ok');
  });
  routes.get('/:file', async (req, res) => {
    const { name, file } = parse(AssetParams, req.params, 'path');
    const { info, bytes } = await assets.get(name, file);
    res.setHeader('cache-control', 'private, no-cache');
    res.type(info.type).send(bytes);
  });
  routes.put('/:file', rawImage, async (req, res) => {
    const { name, file } = parse(AssetParams, req.params, 'path');
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const { asset, created } = await assets.put(req.actor!, name, file, { contentType: req.get('content-type'), bytes });
    send(res, created ? 201 : 200, assetView(name, asset), created ? 'asset stored' : 'asset replaced');
  });
  routes.delete('/:file', async (req, res) => {
    const { name, file } = parse(AssetParams, req.params, 'path');
    send(res, 200, assetView(name, await assets.delete(req.actor!, name, file)), 'asset deleted');
  });
  return routes;
}

/** The body as bytes, at most an asset's size (PAYLOAD_TOO_LARGE saying so, not the JSON bodies' limit). */
const rawImage: express.RequestHandler = (req, res, next) => {
  express.raw({ type: () => true, limit: ASSET_LIMITS.maxBytes })(req, res, (err?: unknown) => {
    if ((err as { type?: unknown } | undefined)?.type === 'entity.too.large') return next(new AppError('PAYLOAD_TOO_LARGE', `an asset is at most ${ASSET_LIMITS.maxBytes / 1024 / 1024} MB`));
    next(err);
  });
};

/** An asset as the API shows it, with the URL an overlay names it by. */
export const assetView = (preset: string, a: AssetInfo) => ({ ...a, url: assetUrl({ preset, file: a.name }) });
