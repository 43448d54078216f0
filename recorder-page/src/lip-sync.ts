import { Track, type RemoteParticipant } from 'livekit-client';

/** A participant's pair is read every TICK_MS while it is new (its sound's buffer still grows), then left as it is. */
const YOUNG_MS = 3000;
const TICK_MS = 100;
/** Fewer samples than this (20 ms at 48 kHz) since the last reading say nothing of the delay. */
const MIN_SAMPLES = 960;
/** RTCRtpReceiver.jitterBufferTarget's upper bound. */
const MAX_TARGET_MS = 4000;

type Receiver = RTCRtpReceiver & { jitterBufferTarget: number | null };

interface Pair {
  video: Receiver;
  since: number;
  readAt: number;
  /** The audio receiver's cumulative jitterBufferDelay (s) and jitterBufferEmittedCount, as last read. */
  delayS: number;
  emitted: number;
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
 * over 97 ms without it). A burst that grows the sound's buffer later is not followed.
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
      const audio = p.getTrackPublication(Track.Source.Microphone)?.track?.receiver;
      const video = p.getTrackPublication(Track.Source.Camera)?.track?.receiver as Receiver | undefined;
      if (!audio || !video || !('jitterBufferTarget' in video)) continue;
      present.add(audio);
      let pair = this.pairs.get(audio);
      if (pair?.video !== video) this.pairs.set(audio, (pair = { video, since: now, readAt: -Infinity, delayS: 0, emitted: 0 }));
      // one reading a tick while young (a getStats slower than a tick is not overlapped)
      if (now - pair.since > YOUNG_MS || now - pair.readAt < TICK_MS / 2) continue;
      pair.readAt = now;
      void this.follow(audio, pair);
    }
    for (const audio of [...this.pairs.keys()]) if (!present.has(audio)) this.pairs.delete(audio);
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
    pair.video.jitterBufferTarget = Math.max(0, Math.min(MAX_TARGET_MS, Math.round(meanMs)));
  }
}
