import { extendZodWithOpenApi, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { IDENTIFIERS } from '../recordings/identifiers';
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
  const one = kit.envelope(PresetViewSchema, 'LayoutPresetResponse');
  const common = { security: kit.security, tags: ['layout presets'] };
  const responses = (ok: Record<number, unknown>) => ({ ...ok, ...kit.errors }) as never;
  registry.registerPath({
    ...common,
    method: 'post',
    path: '/api/layout-presets',
    summary: 'Create a layout preset (service key or admin)',
    description: `${WHO} 409 PRESET_EXISTS when the name is taken (PUT replaces); 400 UNSUPPORTED_OPTION for a setting a start would refuse, ASSET_URL_NOT_ALLOWED for an overlay image from an origin not in RECORDER_ASSET_ORIGINS, VALIDATION_ERROR for a bad name, an unknown field or no setting at all.`,
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
    description: `${WHO} 404 PRESET_NOT_FOUND. Recordings started with it keep what they were given.`,
    request: { params: PresetParams, headers: kit.headers },
    responses: responses({ 200: kit.json(one, 'The preset deleted') }),
  });
}
