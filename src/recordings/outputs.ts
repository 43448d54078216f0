import { z } from 'zod';
import { AppError } from '../errors';
import { sealedMaxLength } from './secrets';
import { checkStreamUrl, mapStreamUrls, MAX_STREAMS, redactStreamUrl, STREAM_TYPES, type StreamsChange, type StreamType } from './streams';

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
 * - `rtmp`, `srt`: the composite streamed live to `url` (streams.ts: the allowed hosts, the
 *   key's redaction); up to MAX_STREAMS of them, distinct URLs, added and removed live.
 */

export const OUTPUT_TYPES = ['file', 'hls', ...STREAM_TYPES] as const;
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
/**
 * A live stream; `url` holds its key: shown only redacted (views.ts), stored sealed under
 * RECORDER_SECRETS_KEY (secrets.ts), hence as long as a sealed URL of 2000 characters.
 */
export const streamOutputSchema = z.strictObject({ type: z.enum(STREAM_TYPES), url: z.string().min(1).max(sealedMaxLength(2000)) });
/** A resolved output, as stored with the recording's options. */
export const outputSchema = z.discriminatedUnion('type', [fileOutputSchema, hlsOutputSchema, streamOutputSchema]);
export type RecordingOutput = z.infer<typeof outputSchema>;
export type HlsOutput = z.infer<typeof hlsOutputSchema>;
export type StreamOutput = z.infer<typeof streamOutputSchema>;

/**
 * What a caller may write for one output: its `type` and that type's fields (checked by
 * resolveOutputs, so that every broken rule is UNSUPPORTED_OPTION naming it).
 */
export const startOutputSchema = z.looseObject({ type: z.string() });
export type StartOutput = z.infer<typeof startOutputSchema>;

/** The rules of `outputs` in one sentence, for messages and the API's description. */
export const OUTPUTS_RULE = `a non-empty list, each one of ${OUTPUT_TYPES.join(', ')}, file and hls at most once, at most ${MAX_STREAMS} streams (${STREAM_TYPES.join(', ')}) of distinct URLs`;

const isStreamType = (t: string): t is StreamType => (STREAM_TYPES as readonly string[]).includes(t);

/**
 * The caller's `outputs` as stored: defaults filled, UNSUPPORTED_OPTION for a broken rule.
 * `audioOnly`: the delivery has no picture (m4a, ogg), which HLS of the recording would carry.
 * `streamHosts`: the hosts a stream may go to (RECORDER_STREAM_ALLOWED; 'any' for the CLI).
 */
export function resolveOutputs(input: StartOutput[], what = 'outputs', audioOnly = false, streamHosts: readonly string[] | 'any' = []): RecordingOutput[] {
  const bad = (message: string): never => {
    throw new AppError('UNSUPPORTED_OPTION', `${what} ${message}`);
  };
  if (input.length === 0) bad(`must be ${OUTPUTS_RULE} (omit it for the file alone)`);
  const seen = new Set<string>();
  return input.map((raw, i) => {
    if (!(OUTPUT_TYPES as readonly string[]).includes(raw.type)) bad(`[${i}].type "${raw.type}" is not one of ${OUTPUT_TYPES.join(', ')}`);
    const key = isStreamType(raw.type) ? `${raw.type} ${String(raw.url)}` : raw.type;
    if (seen.has(key)) bad(`[${i}]: ${isStreamType(raw.type) ? `${raw.type} ${redactStreamUrl(String(raw.url))}` : raw.type} is listed twice; ${what} must be ${OUTPUTS_RULE}`);
    seen.add(key);
    if (isStreamType(raw.type)) {
      if (input.filter((o) => isStreamType(o.type)).length > MAX_STREAMS) throw new AppError('TOO_MANY_STREAMS', `${what} names more than ${MAX_STREAMS} streams`);
      if (typeof raw.url !== 'string') bad(`[${i}].url must be the stream's URL`);
      checkStreamUrl(raw.type, raw.url as string, streamHosts, `${what}[${i}].url`);
    }
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

/** The live streams a recording's options ask for. */
export function streamOutputsOf(outputs: readonly RecordingOutput[] | undefined): StreamOutput[] {
  return outputs?.filter((o): o is StreamOutput => isStreamType(o.type)) ?? [];
}

/**
 * The outputs after a live change of streams (PATCH `streams`): `remove` names current
 * streams by their URL as given or as the view shows it (redacted), STREAM_NOT_FOUND for one
 * that names none; `add` follows the start's rules (allowed hosts, distinct, MAX_STREAMS).
 */
export function applyStreamsChange(outputs: readonly RecordingOutput[] | undefined, change: StreamsChange, streamHosts: readonly string[]): RecordingOutput[] {
  let next = [...(outputs ?? [])];
  for (const [i, url] of (change.remove ?? []).entries()) {
    const named = next.filter((o) => isStreamType(o.type) && 'url' in o && (o.url === url || redactStreamUrl(o.url) === url));
    if (named.length === 0) throw new AppError('STREAM_NOT_FOUND', `streams.remove[${i}] names no stream of this recording`);
    next = next.filter((o) => !named.includes(o));
  }
  const added = (change.add ?? []).map((a, i) => ({ type: a.type, url: checkStreamUrl(a.type, a.url, streamHosts, `streams.add[${i}].url`) }));
  for (const [i, a] of added.entries()) {
    if (next.some((o) => o.type === a.type && 'url' in o && o.url === a.url) || added.slice(0, i).some((b) => b.url === a.url)) {
      throw new AppError('UNSUPPORTED_OPTION', `streams.add[${i}]: ${redactStreamUrl(a.url)} is already streamed to`);
    }
  }
  next.push(...added);
  if (streamOutputsOf(next).length > MAX_STREAMS) throw new AppError('TOO_MANY_STREAMS', `a recording streams to at most ${MAX_STREAMS} destinations`);
  return next;
}

/** `outputs` as a view shows them: each stream's URL redacted. */
export function redactedOutputs(outputs: RecordingOutput[]): RecordingOutput[] {
  return mapStreamUrls(outputs, redactStreamUrl);
}
