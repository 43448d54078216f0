import { extendZodWithOpenApi, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { IDENTIFIERS } from '../recordings/identifiers';
import { ASSET_LIMITS, ASSET_NAME_PATTERN, ASSET_NAME_RULE, ASSET_TYPES, type AssetType } from '../recordings/preset-assets';
import { presetSettingsInput, presetSettingsSchema } from '../recordings/presets';

extendZodWithOpenApi(z);

/** /api/layout-presets: its request schemas (the domain's, presets.ts) and its part of the OpenAPI document. */

export const PresetName = z
  .string()
  .regex(IDENTIFIERS.presetName.pattern, { error: `must be ${IDENTIFIERS.presetName.rule}` })
  .openapi({ description: `A preset's name: ${IDENTIFIERS.presetName.rule}`, example: 'talk-portrait' });

// made before zod had .openapi(): named with zod's own metadata
export const PresetSettingsBody = presetSettingsInput.meta({
  id: 'LayoutPresetSettings',
  description:
    'What the preset sets, each with the start request\'s rule (layout, theme, resolution or width and height, fps) and overlays; at least one. What it leaves out, a request that names it gives or gets the default of',
});
export const CreatePresetBody = presetSettingsInput.extend({ name: PresetName }).openapi('CreateLayoutPresetBody');
export const PresetParams = z.strictObject({ name: PresetName });

export const AssetName = z
  .string()
  .regex(ASSET_NAME_PATTERN, { error: `must be ${ASSET_NAME_RULE}` })
  .openapi({ description: `An asset's file name: ${ASSET_NAME_RULE}; its extension says its type`, example: 'logo.png' });
export const AssetParams = z.strictObject({ name: PresetName, file: AssetName });

export const PresetViewSchema = presetSettingsSchema
  .extend({
    name: z.string(),
    createdBy: z.string().nullable().openapi({ description: 'The user who created it; null for a service key acting for nobody' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('LayoutPreset');

/** What buildOpenApiDocument (openapi.ts) shares with the paths it registers. */
export interface PathKit {
  security: Record<string, string[]>[];
  headers: z.ZodObject;
  errors: Record<number, unknown>;
  json: (schema: z.ZodType, description: string) => unknown;
  body: (schema: z.ZodType) => { body: unknown };
  envelope: (data: z.ZodType, name: string) => z.ZodType;
}

const WHO = 'Any authenticated caller reads presets; only a service key or an admin (a user token with "role": "admin") writes them (else 403 FORBIDDEN).';

export function registerPresetPaths(registry: OpenAPIRegistry, kit: PathKit): void {
  registerPresetAssetPaths(registry, kit);
  const one = kit.envelope(PresetViewSchema, 'LayoutPresetResponse');
  const common = { security: kit.security, tags: ['layout presets'] };
  const responses = (ok: Record<number, unknown>) => ({ ...ok, ...kit.errors }) as never;
  registry.registerPath({
    ...common,
    method: 'post',
    path: '/api/layout-presets',
    summary: 'Create a layout preset (service key or admin)',
    description: `${WHO} 409 PRESET_EXISTS when the name is taken (PUT replaces); 400 UNSUPPORTED_OPTION for a setting a start would refuse, ASSET_URL_NOT_ALLOWED for an overlay image from an origin not in RECORDER_ASSET_ORIGINS, OVERLAY_ASSET_NOT_FOUND for an overlay naming a preset asset (asset://<preset>/<file>) that is not uploaded, VALIDATION_ERROR for a bad name, an unknown field or no setting at all.`,
    request: { headers: kit.headers, ...(kit.body(CreatePresetBody) as object) },
    responses: responses({ 201: kit.json(one, 'Created') }),
  });
  registry.registerPath({
    ...common,
    method: 'get',
    path: '/api/layout-presets',
    summary: 'Every layout preset, by name',
    description: WHO,
    request: { headers: kit.headers },
    responses: responses({ 200: kit.json(kit.envelope(z.array(PresetViewSchema), 'LayoutPresetListResponse'), 'The presets') }),
  });
  registry.registerPath({
    ...common,
    method: 'get',
    path: '/api/layout-presets/{name}',
    summary: 'A layout preset',
    description: `${WHO} 404 PRESET_NOT_FOUND.`,
    request: { params: PresetParams, headers: kit.headers },
    responses: responses({ 200: kit.json(one, 'The preset') }),
  });
  registry.registerPath({
    ...common,
    method: 'put',
    path: '/api/layout-presets/{name}',
    summary: 'Create or replace a layout preset (service key or admin)',
    description: `${WHO} A replaced preset keeps only the settings of this body; recordings started with it keep what they were given.`,
    request: { params: PresetParams, headers: kit.headers, ...(kit.body(PresetSettingsBody) as object) },
    responses: responses({ 201: kit.json(one, 'Created'), 200: kit.json(one, 'Replaced') }),
  });
  registry.registerPath({
    ...common,
    method: 'delete',
    path: '/api/layout-presets/{name}',
    summary: 'Delete a layout preset (service key or admin)',
    description: `${WHO} Its uploaded assets are deleted with it; 409 ASSET_IN_USE while another preset's overlays name one of them. 404 PRESET_NOT_FOUND. Recordings started with it keep what they were given.`,
    request: { params: PresetParams, headers: kit.headers },
    responses: responses({ 200: kit.json(one, 'The preset deleted') }),
  });
}

export const AssetViewSchema = z
  .object({
    name: AssetName,
    size: z.number().int().openapi({ description: 'Bytes' }),
    type: z.enum(Object.keys(ASSET_TYPES) as [AssetType, ...AssetType[]]),
    url: z.string().openapi({ description: 'How an overlay names it: asset://<preset>/<file>', example: 'asset://talk-portrait/logo.png' }),
  })
  .openapi('LayoutPresetAsset');

/** /api/layout-presets/{name}/assets: a preset's uploaded images (api/preset-assets.ts). */
function registerPresetAssetPaths(registry: OpenAPIRegistry, kit: PathKit): void {
  const one = kit.envelope(AssetViewSchema, 'LayoutPresetAssetResponse');
  const common = { security: kit.security, tags: ['layout presets'] };
  const responses = (ok: Record<number, unknown>) => ({ ...ok, ...kit.errors }) as never;
  const imageContent = Object.fromEntries(Object.keys(ASSET_TYPES).map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }]));
  const name = `${ASSET_NAME_RULE}; its extension, the Content-Type and the bytes must say the same type`;
  registry.registerPath({
    ...common,
    method: 'get',
    path: '/api/layout-presets/{name}/assets',
    summary: "A layout preset's uploaded images, by name",
    description: `${WHO} 404 PRESET_NOT_FOUND.`,
    request: { params: PresetParams, headers: kit.headers },
    responses: responses({ 200: kit.json(kit.envelope(z.array(AssetViewSchema), 'LayoutPresetAssetListResponse'), 'The assets') }),
  });
  registry.registerPath({
    ...common,
    method: 'put',
    path: '/api/layout-presets/{name}/assets/{file}',
    summary: 'Upload or replace an image of a layout preset (service key or admin)',
    description:
      `${WHO} The body is the image itself: PNG, JPEG, WebP or GIF, at most ${ASSET_LIMITS.maxBytes / 1024 / 1024} MB (413 PAYLOAD_TOO_LARGE), at most ${ASSET_LIMITS.maxPerPreset} a preset (409 TOO_MANY_ASSETS). ` +
      `The file name: ${name}. 415 UNSUPPORTED_MEDIA_TYPE for another Content-Type or bytes that are no such image, 400 ASSET_TYPE_MISMATCH when the Content-Type, the bytes and the name disagree, 404 PRESET_NOT_FOUND. ` +
      'Overlays then name it as asset://<preset>/<file> (imageWatermark.url, background.imageUrl), in this or any preset, a start or a live change.',
    request: {
      params: AssetParams,
      headers: kit.headers,
      body: { required: true, content: imageContent },
    },
    responses: responses({ 201: kit.json(one, 'Stored'), 200: kit.json(one, 'Replaced') }),
  });
  registry.registerPath({
    ...common,
    method: 'get',
    path: '/api/layout-presets/{name}/assets/{file}',
    summary: 'An uploaded image of a layout preset, with its type',
    description: `${WHO} 404 PRESET_NOT_FOUND or ASSET_NOT_FOUND.`,
    request: { params: AssetParams, headers: kit.headers },
    responses: responses({ 200: { description: 'The image', content: imageContent } }),
  });
  registry.registerPath({
    ...common,
    method: 'delete',
    path: '/api/layout-presets/{name}/assets/{file}',
    summary: 'Delete an uploaded image of a layout preset (service key or admin)',
    description: `${WHO} 409 ASSET_IN_USE while a preset's overlays name it (change them first); 404 PRESET_NOT_FOUND or ASSET_NOT_FOUND. A live recording keeps drawing the image it has.`,
    request: { params: AssetParams, headers: kit.headers },
    responses: responses({ 200: kit.json(one, 'The asset deleted') }),
  });
}
