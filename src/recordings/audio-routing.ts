import { z } from 'zod';
import { AppError } from '../errors';
import { identities } from './participants-filter';

/**
 * How the participants' audio reaches the file (issue 10 item 4). `mixed` (the default): all of
 * it on both channels. `dual-channel`: the participants named by `left` (identities, and/or
 * every agent: LiveKit participant kind `agent`) on the left channel, everyone else on the
 * right, as Egress's DUAL_CHANNEL_AGENT does, so a transcriber can tell the two sides apart.
 * `"dual-channel"` alone puts the agents on the left.
 */
const left = z.strictObject({ identities: identities.optional(), kind: z.literal('agent', { error: 'must be "agent"' }).optional() });

/** What a caller may send. */
export const audioRoutingInput = z.union(
  [z.enum(['mixed', 'dual-channel']), z.strictObject({ mode: z.literal('mixed') }), z.strictObject({ mode: z.literal('dual-channel'), left: left.optional() })],
  { error: 'must be "mixed", "dual-channel" or {"mode": "dual-channel", "left": {"identities": [...], "kind": "agent"}}' },
);

/** As stored with the options and sent to the page; absent: mixed. */
export const audioRoutingSchema = z.strictObject({ mode: z.literal('dual-channel'), left: z.strictObject({ identities: identities, agents: z.boolean() }) });
export type AudioRouting = z.infer<typeof audioRoutingSchema>;

/** The routing to store (undefined: mixed); UNSUPPORTED_OPTION for a left side that names nobody or a custom layout page. */
export function resolveAudioRouting(input: z.infer<typeof audioRoutingInput>, target: { customLayoutUrl?: string | undefined }): AudioRouting | undefined {
  if (input === 'mixed' || (typeof input === 'object' && input.mode === 'mixed')) return undefined;
  if (target.customLayoutUrl) throw new AppError('UNSUPPORTED_OPTION', 'audio cannot be routed for a custom layout page: its tab is recorded as it plays');
  const named = typeof input === 'object' ? input.left : undefined;
  if (!named) return { mode: 'dual-channel', left: { identities: [], agents: true } };
  if (!named.identities?.length && !named.kind) throw new AppError('UNSUPPORTED_OPTION', 'audio.left must name identities or kind "agent"');
  return { mode: 'dual-channel', left: { identities: named.identities ?? [], agents: named.kind === 'agent' } };
}
