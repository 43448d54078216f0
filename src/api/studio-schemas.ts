import { extendZodWithOpenApi, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { OVERLAY_LIMITS } from '../recordings/overlays';
import { presetSettingsInput, presetSettingsSchema } from '../recordings/presets';
import type { PathKit } from './preset-schemas';

extendZodWithOpenApi(z);

/** /api/studio (the layout studio's routes, studio.ts): request schemas and their part of the OpenAPI document. */

const participantNumber = z.number().int().optional().openapi({ description: "A synthetic participant's number, 1 to participants" });

/** A preset's settings (the PUT's own schema, so its messages) and the picture's participants. */
export const StudioCheckBody = presetSettingsInput
  .extend({
    participants: z.number().int().optional().openapi({ description: 'Synthetic participants, 1 to 25' }),
    screenShare: participantNumber,
    speaking: participantNumber,
    cameraOff: participantNumber,
  })
  .openapi('StudioCheckBody');

export const StudioImageBody = z.strictObject({ url: z.string().max(OVERLAY_LIMITS.maxUrl) }).openapi('StudioImageBody');

const CheckResult = z
  .object({
    settings: presetSettingsSchema,
    scene: z.object({ participants: z.number(), screenShare: z.number().optional(), speaking: z.number().optional(), cameraOff: z.number().optional() }),
  })
  .openapi('StudioCheckResult');
const ImageResult = z.object({ url: z.string(), dataUrl: z.string() }).openapi('StudioImageResult');

export function registerStudioPaths(registry: OpenAPIRegistry, kit: PathKit): void {
  const common = { security: kit.security, tags: ['layout studio'] };
  registry.registerPath({
    ...common,
    method: 'post',
    path: '/api/studio/check',
    summary: "A preset's settings under the API's rules, writing nothing (the layout studio)",
    description:
      'The settings of PUT /api/layout-presets/:name and the synthetic participants of the picture, checked as the PUT and a layout preview check them; any authenticated caller. 400 with the code the PUT would give (UNSUPPORTED_OPTION, VALIDATION_ERROR, ASSET_URL_NOT_ALLOWED).',
    request: { headers: kit.headers, ...(kit.body(StudioCheckBody) as object) },
    responses: { 200: kit.json(kit.envelope(CheckResult, 'StudioCheckResponse'), 'The settings as a preset would store them'), ...kit.errors } as never,
  });
  registry.registerPath({
    ...common,
    method: 'post',
    path: '/api/studio/image',
    summary: 'An overlay image from RECORDER_ASSET_ORIGINS as a data: URL (the layout studio)',
    description:
      'Fetched as a worker fetches overlay images (PNG, JPEG, WebP or GIF, at most 4 MB, 5 s, no redirects), so the studio page fetches nothing from other origins; any authenticated caller. 400 ASSET_URL_NOT_ALLOWED for another origin, 502 OVERLAY_IMAGE_FAILED when it cannot be had.',
    request: { headers: kit.headers, ...(kit.body(StudioImageBody) as object) },
    responses: { 200: kit.json(kit.envelope(ImageResult, 'StudioImageResponse'), 'The image'), ...kit.errors } as never,
  });
}
