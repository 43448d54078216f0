import express from 'express';
import type { PresetAssetService } from '../recordings/preset-asset-service';
import type { LayoutPresetService } from '../recordings/preset-service';
import { parse, send } from './io';
import { presetAssetRoutes } from './preset-assets';
import { CreatePresetBody, PresetParams, PresetSettingsBody } from './preset-schemas';

/** /api/layout-presets, behind the API's authentication; who may do what: recordings/preset-service.ts. With `assets`, a preset's uploaded images under /:name/assets. */
export function layoutPresetRoutes(presets: LayoutPresetService, assets?: PresetAssetService): express.Router {
  const routes = express.Router();
  if (assets) routes.use('/:name/assets', presetAssetRoutes(assets));
  routes.post('/', async (req, res) => {
    const { name, ...settings } = parse(CreatePresetBody, req.body ?? {}, 'body');
    send(res, 201, await presets.create(req.actor!, name, settings), 'preset created');
  });
  routes.get('/', async (_req, res) => {
    send(res, 200, await presets.list(), 'ok');
  });
  routes.get('/:name', async (req, res) => {
    const { name } = parse(PresetParams, req.params, 'path');
    send(res, 200, await presets.get(name), 'ok');
  });
  routes.put('/:name', async (req, res) => {
    const { name } = parse(PresetParams, req.params, 'path');
    const settings = parse(PresetSettingsBody, req.body ?? {}, 'body');
    const { preset, created } = await presets.put(req.actor!, name, settings);
    send(res, created ? 201 : 200, preset, created ? 'preset created' : 'preset replaced');
  });
  routes.delete('/:name', async (req, res) => {
    const { name } = parse(PresetParams, req.params, 'path');
    send(res, 200, await presets.delete(req.actor!, name), 'preset deleted');
  });
  return routes;
}
