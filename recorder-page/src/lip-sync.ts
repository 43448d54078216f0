import { Track, type RemoteParticipant } from 'livekit-client';
import type { AvReceiveSample } from './protocol';
import { RECEIVE_BUFFER_MS } from './room';

/** A participant's pair is read every TICK_MS while it is new (its sound's buffer still grows), then left as it is. */
const YOUNG_MS = 3000;
const TICK_MS = 100;
/** Fewer samples than this (20 ms at 48 kHz) since the last reading say nothing of the delay. */
const MIN_SAMPLES = 960;
/** RTCRtpReceiver.jitterBufferTarget's upper bound. */
const MAX_TARGET_MS = 4000;
/**
 * Once a pair is settled, its picture and its sound may wait this much apart on the receive
 * side, in this many readings (a second each) in a row, before the one that waits less is held
 * longer: a burst moves them tens of ms from one second to the next, and following that froze
 * the picture (below), while sound some 45 ms ahead of its picture is where viewers begin to
 * notice. CI runs saw a picture wait 150 to 190 ms longer than its sound for the rest of the
 * file; a camera held 200 ms longer by hand came back to its earlier offset 2 to 4 s later.
 */
const LASTING_MS = 40;
const LASTING_READINGS = 2;
const SETTLING_MS = 3000;

type Receiver = RTCRtpReceiver & { jitterBufferTarget: number | null };

interface Pair {
  identity: string;
  audio: Receiver;
  video: Receiver;
  since: number;
  readAt: number;
  /** The audio receiver's cumulative jitterBufferDelay (s) and jitterBufferEmittedCount, as last read. */
  delayS: number;
  emitted: number;
  /** Settled readings in a row whose picture and sound waited more than LASTING_MS apart, the same way. */
  streak: number;
  lastLead: number;
  /** When a difference was last evened out: the buffers take a while to reach a new target. */
  evenedAt: number;
}

/**
 * Lip sync, done by the page: each participant's camera is held as long as their sound waits
 * on the receive side. LiveKit gives each track a MediaStream of its own, so WebRTC never pairs
 * them. The sound's jitter buffer starts near 10 ms at the subscription and grows to its floor
 * (room.ts RECEIVE_BUFFER_MS) over some 1.7 s, while the picture's holds its delay from the
 * first frame: a recording's first second had the sound 60 to 120 ms earlier against the
 * picture than the rest of the file (scripts/bench-avsync.ts). The camera's jitterBufferTarget
 * follows the sound's measured delay instead, read every 100 ms in a pair's first 3 s, and then
 * keeps the last one. Following it after that too (each second) froze the picture: each raise of
 * a camera's target holds its frames that long, and the sound's delay moves by tens of ms from
 * one second to the next, so the pause e2e saw 150 to 230 ms freezes in 2 of 3 quiet runs (none
 * over 97 ms without it). After that, a lasting difference (LASTING_MS, LASTING_READINGS) is
 * evened out: a picture that waits longer than its sound holds the sound as long (WebRTC's audio
 * buffer stretches the sound to it, the picture never stops), and a sound that waits longer
 * gives back what was added to it. It never holds the picture then: a sound's buffer that grew
 * with a burst of jitter shrinks again by itself, and a picture held for it stays held (a quiet
 * run's file had its sound 209 ms behind in a reading, then 18, 97 and 194 ms early at the
 * flashes after the picture was held that much).
 */
export class LipSync {
  private readonly pairs = new Map<RTCRtpReceiver, Pair>();
  private timer?: ReturnType<typeof setInterval>;

  constructor(private readonly participants: () => Iterable<RemoteParticipant>) {}

  start(): void {
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = performance.now();
    const present = new Set<RTCRtpReceiver>();
    for (const p of this.participants()) {
      const audio = p.getTrackPublication(Track.Source.Microphone)?.track?.receiver as Receiver | undefined;
      const video = p.getTrackPublication(Track.Source.Camera)?.track?.receiver as Receiver | undefined;
      if (!audio || !video || !('jitterBufferTarget' in video)) continue;
      present.add(audio);
      let pair = this.pairs.get(audio);
      if (pair?.video !== video) this.pairs.set(audio, (pair = { identity: p.identity, audio, video, since: now, readAt: -Infinity, delayS: 0, emitted: 0, streak: 0, lastLead: 0, evenedAt: -Infinity }));
      // one reading a tick while young (a getStats slower than a tick is not overlapped)
      if (now - pair.since > YOUNG_MS || now - pair.readAt < TICK_MS / 2) continue;
      pair.readAt = now;
      void this.follow(audio, pair);
    }
    for (const audio of [...this.pairs.keys()]) if (!present.has(audio)) this.pairs.delete(audio);
  }

  /** The page's readings of each participant's receive delays, a second apart (receive-stats.ts). */
  settled(readings: readonly AvReceiveSample[]): void {
    const now = performance.now();
    for (const r of readings) {
      const pair = [...this.pairs.values()].find((x) => x.identity === r.identity);
      if (!pair || now - pair.since <= YOUNG_MS) continue;
      // positive: the picture waits longer, so the sound plays early
      const lead = r.videoMs - r.audioMs;
      const lasting = Math.abs(lead) > LASTING_MS;
      pair.streak = lasting && Math.sign(lead) === Math.sign(pair.lastLead) ? pair.streak + 1 : lasting ? 1 : 0;
      pair.lastLead = lead;
      if (pair.streak < LASTING_READINGS || now < pair.evenedAt + SETTLING_MS) continue;
      pair.streak = 0;
      pair.evenedAt = now;
      const audioTarget = pair.audio.jitterBufferTarget ?? RECEIVE_BUFFER_MS;
      if (lead > 0) pair.audio.jitterBufferTarget = clampTarget(audioTarget + lead);
      else if (audioTarget > RECEIVE_BUFFER_MS) pair.audio.jitterBufferTarget = Math.max(RECEIVE_BUFFER_MS, clampTarget(audioTarget + lead));
    }
  }

  private async follow(audio: RTCRtpReceiver, pair: Pair): Promise<void> {
    const report = await audio.getStats().catch(() => undefined);
    let inbound: Record<string, unknown> | undefined;
    report?.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp') inbound = s;
    });
    if (!inbound) return;
    const delayS = Number(inbound.jitterBufferDelay ?? 0);
    const emitted = Number(inbound.jitterBufferEmittedCount ?? 0);
    const samples = emitted - pair.emitted;
    // a muted or silent sender emits nothing: the camera keeps the delay it had
    if (samples < MIN_SAMPLES) return;
    const meanMs = ((delayS - pair.delayS) / samples) * 1000;
    pair.delayS = delayS;
    pair.emitted = emitted;
    pair.video.jitterBufferTarget = clampTarget(meanMs);
  }
}

function clampTarget(ms: number): number {
  return Math.max(0, Math.min(MAX_TARGET_MS, Math.round(ms)));
}
