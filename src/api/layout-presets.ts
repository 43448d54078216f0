import express from 'express';
import type { LayoutPresetService } from '../recordings/preset-service';
import { parse, send } from './io';
import { CreatePresetBody, PresetParams, PresetSettingsBody } from './preset-schemas';

/** /api/layout-presets, behind the API's authentication; who may do what: recordings/preset-service.ts. */
export function layoutPresetRoutes(presets: LayoutPresetService): express.Router {
  const routes = express.Router();
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
