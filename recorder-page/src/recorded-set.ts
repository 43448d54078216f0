import { sideOf, type AudioRouting } from './audio-routing';
import type { Mixer } from './mixer';

/** Who is recorded, as the worker says (launch query `participants`, or a live change): include or exclude by identity; null: everyone. */
export type ParticipantsFilter = { include: string[] } | { exclude: string[] } | null;

/**
 * The one rule of who is seen and heard. The compositor draws, the mixer mixes and the start
 * waits for only those it admits, so an excluded participant is gone from picture and sound
 * at the same instant, and with `include` someone unlisted who joins later is never recorded.
 */
export class RecordedSet {
  private filter: ParticipantsFilter = null;
  /** Every remote audio track, mixed or not, so a change can put it in or take it out. */
  private readonly audio = new Map<string, { identity: string; agent: boolean; track: MediaStreamTrack }>();

  constructor(
    private readonly mixer: Mixer,
    private readonly routing: AudioRouting = null,
  ) {
    if (routing) mixer.splitChannels();
  }

  recorded(identity: string): boolean {
    const f = this.filter;
    if (!f) return true;
    return 'include' in f ? f.include.includes(identity) : !f.exclude.includes(identity);
  }

  set(filter: ParticipantsFilter): void {
    this.filter = filter;
    for (const [id, input] of this.audio) {
      if (!this.recorded(input.identity)) this.mixer.remove(id);
      else if (!this.mixer.has(id)) this.mix(id, input);
    }
  }

  addAudio(id: string, track: MediaStreamTrack, identity: string, agent = false): void {
    const input = { identity, agent, track };
    this.audio.set(id, input);
    if (this.recorded(identity)) this.mix(id, input);
  }

  private mix(id: string, input: { identity: string; agent: boolean; track: MediaStreamTrack }): void {
    this.mixer.add(id, input.track, sideOf(this.routing, input.identity, input.agent));
  }

  removeAudio(id: string): void {
    this.audio.delete(id);
    this.mixer.remove(id);
  }

  /** How loud each recorded participant is now (the loudest of their tracks in the mix), by identity. */
  loudness(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, level] of this.mixer.loudness()) {
      const identity = this.audio.get(id)?.identity;
      if (identity !== undefined) out.set(identity, Math.max(level, out.get(identity) ?? 0));
    }
    return out;
  }
}

/** The launch query's `participants` (JSON), or null. */
export function filterFromQuery(raw: string | null): ParticipantsFilter {
  return raw ? (JSON.parse(raw) as ParticipantsFilter) : null;
}
