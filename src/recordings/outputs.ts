import { z } from 'zod';
import { AppError } from '../errors';

/**
 * What a recording produces beside (or as well as) its file: `outputs` of a start request.
 * One entry per kind, told apart by `type`; a later kind (RTMP: `{ type: 'rtmp', url }`) is
 * another member of the union and another row of OUTPUT_TYPES, nothing else changes shape.
 *
 * - `file`: the recording's file, post-processed and stored (what a recording without
 *   `outputs` makes). It is always made today: post-processing, thumbnails and the manifest
 *   are built from it, so `[{ type: 'hls' }]` still delivers the file.
 * - `hls`: fMP4 segments of `segmentSeconds` and a playlist, uploaded to the storage under
 *   `<recording prefix>hls/` as they are cut (`live`, the default) or all at the end.
 */

export const OUTPUT_TYPES = ['file', 'hls'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

export const HLS_SEGMENT_SECONDS = { min: 2, max: 10, default: 4 } as const;

const segmentRule = `must be an integer from ${HLS_SEGMENT_SECONDS.min} to ${HLS_SEGMENT_SECONDS.max} seconds`;

export const fileOutputSchema = z.strictObject({ type: z.literal('file') });
export const hlsOutputSchema = z.strictObject({
  type: z.literal('hls'),
  segmentSeconds: z
    .number()
    .int({ error: segmentRule })
    .min(HLS_SEGMENT_SECONDS.min, { error: segmentRule })
    .max(HLS_SEGMENT_SECONDS.max, { error: segmentRule }),
  /** Segments uploaded as they are cut (a viewer watches a few segments behind), else all at the end. */
  live: z.boolean(),
});
/** A resolved output, as stored with the recording's options. */
export const outputSchema = z.discriminatedUnion('type', [fileOutputSchema, hlsOutputSchema]);
export type RecordingOutput = z.infer<typeof outputSchema>;
export type HlsOutput = z.infer<typeof hlsOutputSchema>;

/**
 * What a caller may write for one output: its `type` and that type's fields (checked by
 * resolveOutputs, so that every broken rule is UNSUPPORTED_OPTION naming it).
 */
export const startOutputSchema = z.looseObject({ type: z.string() });
export type StartOutput = z.infer<typeof startOutputSchema>;

/** The rules of `outputs` in one sentence, for messages and the API's description. */
export const OUTPUTS_RULE = `a non-empty list of distinct types, each one of ${OUTPUT_TYPES.join(', ')}`;

/**
 * The caller's `outputs` as stored: defaults filled, UNSUPPORTED_OPTION for a broken rule.
 * `audioOnly`: the delivery has no picture (m4a, ogg), which HLS of the recording would carry.
 */
export function resolveOutputs(input: StartOutput[], what = 'outputs', audioOnly = false): RecordingOutput[] {
  const bad = (message: string): never => {
    throw new AppError('UNSUPPORTED_OPTION', `${what} ${message}`);
  };
  if (input.length === 0) bad(`must be ${OUTPUTS_RULE} (omit it for the file alone)`);
  const seen = new Set<string>();
  return input.map((raw, i) => {
    if (!(OUTPUT_TYPES as readonly string[]).includes(raw.type)) bad(`[${i}].type "${raw.type}" is not one of ${OUTPUT_TYPES.join(', ')}`);
    if (seen.has(raw.type)) bad(`[${i}]: ${raw.type} is listed twice; ${what} must be ${OUTPUTS_RULE}`);
    seen.add(raw.type);
    if (raw.type === 'hls' && audioOnly) bad(`[${i}]: hls carries the picture, which an audio-only format (m4a, ogg) leaves out`);
    const withDefaults = raw.type === 'hls' ? { segmentSeconds: HLS_SEGMENT_SECONDS.default, live: true, ...raw } : raw;
    const parsed = outputSchema.safeParse(withDefaults);
    if (!parsed.success) {
      bad(parsed.error.issues.map((issue) => `[${i}]${issue.path.length ? `.${issue.path.join('.')}` : ''} ${issue.message}`).join('; '));
    }
    return parsed.data!;
  });
}

/** The HLS output a recording's options ask for, if any. */
export function hlsOutputOf(outputs: readonly RecordingOutput[] | undefined): HlsOutput | undefined {
  return outputs?.find((o): o is HlsOutput => o.type === 'hls');
}
