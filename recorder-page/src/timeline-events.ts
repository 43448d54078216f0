import { RoomEvent, type Participant, type RemoteParticipant, type Room } from 'livekit-client';
import { TIMELINE_LIMITS, type SpeakerRef, type TimelineMessage } from './protocol';
import { SPEAKING_RMS } from './room';

/**
 * What the recording's sidecars are made of (the worker writes each event down as it comes,
 * post-processing puts them on the file's clock): who speaks when, and the chat.
 * Only recorded participants count (RecordedSet's rule): an excluded participant is neither a
 * speaker nor in the chat. Times are wall clock in ms, the clock of the 'started' message.
 */

type Send = (msg: TimelineMessage) => void;
const now = () => performance.timeOrigin + performance.now();

/** The page's meter is read this often for dating speaker changes. */
const SAMPLE_MS = 50;
/** A run of sound the meter heard within this before the server named its speaker is that speaker's turn: LiveKit names one ~1 s after the onset (400 ms windows, then its update tick), later on a loaded machine. */
const LOOKBACK_MS = 1500;
/** A turn's onset is dated at most this long before the server named it (a noise heard for minutes is not one turn). */
const MAX_ONSET_LEAD_MS = 4000;
/** A pause shorter than this inside speech (between words) does not end the run the onset is looked for in. */
const WORD_GAP_MS = 300;

/**
 * LiveKit's active speakers, as a change of the set each time. The server decides who speaks
 * (its level threshold and percentile over a window), but only on its 400 ms windows and update
 * tick, a second late or more; the page's own meter (the loudness of each recorded participant in
 * the mix, every 50 ms) dates the change: when the new speaker's sound began, when the one who
 * stopped was last heard.
 */
export class SpeakerTimeline {
  /** Whom the meter heard at its last sample. */
  private loudNow = new Set<string>();
  /** When the meter last heard each participant, however long ago: the server may say a speaker stopped long after. */
  private readonly lastLoudAt = new Map<string, number>();
  /** When each participant's latest run of sound began (pauses between words kept inside), however long ago: the server may name a speaker late. */
  private readonly runBegan = new Map<string, number>();
  /** When each reported speaker's current turn began (its onset, or when it was reported). */
  private readonly turnBegan = new Map<string, number>();
  /** What the server said last (all of them, recorded or not), null before it said anything. */
  private serverSpeakers: SpeakerRef[] | null = null;
  /** The set last reported (recorded participants only). */
  private reported = new Map<string, SpeakerRef>();
  private sampler?: ReturnType<typeof setInterval>;
  private readonly onServer = (speakers: Participant[]) => {
    const self = this.room.localParticipant.identity;
    this.serverSpeakers = speakers.filter((p) => p.identity !== self).map(refOf);
    if (this.sampler) this.report(this.serverSpeakers, true);
  };

  constructor(
    private readonly room: Room,
    private readonly recorded: (identity: string) => boolean,
    private readonly loudness: () => Map<string, number>,
    private readonly send: Send,
  ) {
    // listening from before the join: a change said while the page waited for the canvas is the state at time 0
    room.on(RoomEvent.ActiveSpeakersChanged, this.onServer);
  }

  /** The encoder started: the set at time 0 is the server's, or, before it said anything, whom the meter hears now. */
  start(): void {
    if (this.sampler) return;
    this.sample();
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    const initial = this.serverSpeakers ?? this.heardNow();
    this.report(initial, false);
  }

  /** Who is recorded changed (a live change): those no longer recorded stop speaking now, those now recorded start now. */
  recordedChanged(): void {
    if (this.sampler) this.report(this.serverSpeakers ?? [...this.reported.values()], false);
  }

  stop(): void {
    clearInterval(this.sampler);
    this.sampler = undefined;
    this.room.off(RoomEvent.ActiveSpeakersChanged, this.onServer);
  }

  private heardNow(): SpeakerRef[] {
    return [...this.loudNow].flatMap((identity) => {
      const p = this.room.remoteParticipants.get(identity);
      return p ? [refOf(p)] : [];
    });
  }

  private sample(): void {
    const loud = new Set<string>();
    for (const [identity, level] of this.loudness()) if (level > SPEAKING_RMS) loud.add(identity);
    const t = now();
    for (const identity of loud) {
      const last = this.lastLoudAt.get(identity);
      if (last === undefined || t - last > WORD_GAP_MS) this.runBegan.set(identity, t);
      this.lastLoudAt.set(identity, t);
    }
    this.loudNow = loud;
    // Before the server says anything, the meter is all there is: someone speaking since before
    // the page joined is never a change the server reports, and at time 0 their sound may not
    // have reached the mix yet. Whom it hears is added (not ended) until the server speaks.
    if (this.sampler && this.serverSpeakers === null) {
      const added = this.heardNow().filter((s) => !this.reported.has(s.identity));
      if (added.length) this.report([...this.reported.values(), ...added], true);
    }
  }

  /** Reports `speakers` (those recorded, at most TIMELINE_LIMITS.speakers) if the set changed; `dated`: date the change by the meter. */
  private report(speakers: SpeakerRef[], dated: boolean): void {
    const next = new Map(speakers.filter((s) => this.recorded(s.identity)).slice(0, TIMELINE_LIMITS.speakers).map((s) => [s.identity, s]));
    const started = [...next.keys()].filter((id) => !this.reported.has(id));
    const ended = [...this.reported.keys()].filter((id) => !next.has(id));
    if (started.length === 0 && ended.length === 0) return;
    const at = now();
    this.reported = next;
    const since = (id: string) => (dated && started.includes(id) ? this.onsetOf(id, at) : undefined);
    const endedAt = (id: string) => {
      const heard = dated ? this.lastHeard(id) : 0;
      // heard before this turn began: the meter missed this turn, the server's word is all there is
      return heard >= (this.turnBegan.get(id) ?? Infinity) ? heard : at;
    };
    const endings = ended.map((identity) => ({ identity, at: endedAt(identity) }));
    const speaking = [...next.values()].map((s) => {
      const onset = since(s.identity);
      if (started.includes(s.identity)) this.turnBegan.set(s.identity, onset ?? at);
      return onset === undefined ? s : { ...s, since: onset };
    });
    this.send({ type: 'speakers', at, speakers: speaking, ...(endings.length ? { ended: endings } : {}) });
  }

  /** When the meter's latest run of `identity`'s sound began, undefined if it did not hear them within LOOKBACK_MS of `at`. */
  private onsetOf(identity: string, at: number): number | undefined {
    const last = this.lastLoudAt.get(identity);
    const began = this.runBegan.get(identity);
    if (last === undefined || began === undefined || at - last > LOOKBACK_MS) return undefined;
    return Math.max(began, at - MAX_ONSET_LEAD_MS);
  }

  /** When the meter last heard `identity` (the middle of the sample gap after it), 0 if never. */
  private lastHeard(identity: string): number {
    const t = this.lastLoudAt.get(identity);
    return t === undefined ? 0 : t + SAMPLE_MS / 2;
  }
}

/** At most this many chat messages a second reach the worker (a burst of twice that); the rest are dropped. */
const CHAT_PER_SECOND = 20;

/**
 * Data messages on the topics the start asked for, both kinds LiveKit has: packets
 * (publishData, RoomEvent.DataReceived) and text streams (sendText). Each is relayed with its
 * sender, topic and text (UTF-8, cut to TIMELINE_LIMITS.textBytes), dated when it arrived.
 */
export class ChatRelay {
  private tokens = CHAT_PER_SECOND * 2;
  private refilledAt = now();
  private readonly decoder = new TextDecoder();
  private readonly onData = (payload: Uint8Array, participant?: RemoteParticipant, _kind?: unknown, topic?: string) => {
    if (!topic || !this.topics.includes(topic) || !participant) return; // a server-sent packet has no sender to name
    const truncated = payload.byteLength > TIMELINE_LIMITS.textBytes;
    this.relay(participant.identity, topic, this.decoder.decode(payload.subarray(0, TIMELINE_LIMITS.textBytes)), truncated);
  };

  constructor(
    private readonly room: Room,
    private readonly topics: string[],
    private readonly recorded: (identity: string) => boolean,
    private readonly send: Send,
  ) {
    room.on(RoomEvent.DataReceived, this.onData);
    for (const topic of topics) {
      room.registerTextStreamHandler(topic, (reader, { identity }) => {
        const at = now();
        void readBounded(reader).then(({ text, truncated }) => this.relay(identity, topic, text, truncated, at), () => undefined);
      });
    }
  }

  stop(): void {
    this.room.off(RoomEvent.DataReceived, this.onData);
    for (const topic of this.topics) this.room.unregisterTextStreamHandler(topic);
  }

  private relay(identity: string, topic: string, text: string, truncated: boolean, at = now()): void {
    if (!this.recorded(identity) || !this.take()) return;
    const p = this.room.remoteParticipants.get(identity);
    this.send({ type: 'chat', at, identity, name: p ? refOf(p).name : identity, topic, text, ...(truncated ? { truncated } : {}) });
  }

  private take(): boolean {
    const t = now();
    this.tokens = Math.min(CHAT_PER_SECOND * 2, this.tokens + ((t - this.refilledAt) / 1000) * CHAT_PER_SECOND);
    this.refilledAt = t;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

/** A text stream's text up to TIMELINE_LIMITS.textBytes (counted in UTF-8); the rest is not read. */
async function readBounded(reader: AsyncIterable<string>): Promise<{ text: string; truncated: boolean }> {
  const encoder = new TextEncoder();
  let text = '';
  let bytes = 0;
  for await (const chunk of reader) {
    const size = encoder.encode(chunk).byteLength;
    if (bytes + size > TIMELINE_LIMITS.textBytes) {
      const room = TIMELINE_LIMITS.textBytes - bytes;
      text += new TextDecoder().decode(encoder.encode(chunk).subarray(0, room));
      return { text, truncated: true };
    }
    text += chunk;
    bytes += size;
  }
  return { text, truncated: false };
}

/** The launch query's `chat` (a JSON list of topics), or null: chat is not recorded. */
export function chatTopicsFromQuery(raw: string | null): string[] | null {
  return raw ? (JSON.parse(raw) as string[]) : null;
}

function refOf(p: Participant): SpeakerRef {
  return { identity: p.identity, name: (p.name || p.identity).slice(0, TIMELINE_LIMITS.name) };
}
