/**
 * Which channel a participant's audio goes to (launch query `audio`, JSON; the rule's source
 * is src/recordings/audio-routing.ts): null mixes everyone on both channels; dual-channel puts
 * those named on the left (by identity, or every agent) and the others on the right.
 */
export type AudioRouting = { mode: 'dual-channel'; left: { identities: string[]; agents: boolean } } | null;
export type AudioSide = 'left' | 'right' | 'both';

export function sideOf(routing: AudioRouting, identity: string, isAgent: boolean): AudioSide {
  if (!routing) return 'both';
  return routing.left.identities.includes(identity) || (routing.left.agents && isAgent) ? 'left' : 'right';
}

export function routingFromQuery(raw: string | null): AudioRouting {
  return raw ? (JSON.parse(raw) as AudioRouting) : null;
}
