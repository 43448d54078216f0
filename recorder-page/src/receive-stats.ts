import { Track, type RemoteParticipant, type RemoteTrack } from 'livekit-client';
import type { AvReceiveSample, SoundReceiveSample } from './protocol';

/** The cumulative inbound-rtp counters of one receiver, as last read. */
interface Counters {
  delayS: number;
  emitted: number;
  decodeS: number;
  decoded: number;
}

/** Fewer samples (audio) or frames (video) than this since the last reading say nothing of the delay. */
const MIN_AUDIO_SAMPLES = 4800;
const MIN_VIDEO_FRAMES = 5;
/** WebRTC's audio counters count samples at its decoder's output rate (48 kHz for Opus). */
const AUDIO_SAMPLES_PER_MS = 48;

/**
 * How long each recorded participant's sound and picture wait on the receive side, read from
 * WebRTC's stats every second. The page plays each participant's video in a <video> drawn on
 * the canvas and mixes their audio in WebAudio; LiveKit puts every track in a MediaStream of its
 * own, so WebRTC's lip sync (which pairs the tracks of one stream) never aligns the two, and a
 * jitter buffer that grows under load moves the sound against the picture in the file.
 * `audioMs` and `videoMs` are the mean delays since the last reading (jitter buffer; for video
 * also decoding). (estimatedPlayoutTimestamp, which would say it by the sender's clock, stayed
 * empty through LiveKit here: checked with Chromium 156.)
 */
export class ReceiveStats {
  private readonly last = new WeakMap<RTCRtpReceiver, Counters>();
  /** Each microphone receiver's audible concealed samples, as last read. */
  private readonly concealed = new WeakMap<RTCRtpReceiver, number>();

  /**
   * One reading of every recorded participant with their microphone on, each receiver's stats
   * read once: `av`, the delays of those with their camera on too; `sound`, what each
   * microphone's receiver made up since the last reading (none at a receiver's first: what it
   * concealed before then is not this recording's).
   */
  async sample(participants: Iterable<RemoteParticipant>, recorded: (identity: string) => boolean): Promise<{ av: AvReceiveSample[]; sound: SoundReceiveSample[] }> {
    const mics: { identity: string; audio: RemoteTrack; video?: RemoteTrack }[] = [];
    for (const p of participants) {
      if (!recorded(p.identity)) continue;
      const audio = p.getTrackPublication(Track.Source.Microphone);
      const video = p.getTrackPublication(Track.Source.Camera);
      if (!audio?.track || audio.isMuted) continue;
      mics.push({ identity: p.identity, audio: audio.track as RemoteTrack, video: video?.track && !video.isMuted ? (video.track as RemoteTrack) : undefined });
    }
    const readings = await Promise.all(mics.map(async ({ identity, audio, video }) => {
      const [a, v] = await Promise.all([this.read(audio), video ? this.read(video) : undefined]);
      if (!a) return {};
      const sound = this.concealedSince(identity, audio.receiver!, a);
      if (!v) return { sound };
      const audioDelay = this.delayMs(audio.receiver!, a, MIN_AUDIO_SAMPLES, false);
      const videoDelay = this.delayMs(video!.receiver!, v, MIN_VIDEO_FRAMES, true);
      const av = audioDelay === undefined || videoDelay === undefined ? undefined : { identity, audioMs: audioDelay, videoMs: videoDelay };
      return { sound, av };
    }));
    return {
      av: readings.map((r) => r.av).filter((x): x is AvReceiveSample => x !== undefined),
      sound: readings.map((r) => r.sound).filter((x): x is SoundReceiveSample => x !== undefined),
    };
  }

  /** The audible sound this microphone's receiver concealed since its last reading. */
  private concealedSince(identity: string, receiver: RTCRtpReceiver, s: Record<string, unknown>): SoundReceiveSample | undefined {
    const audible = Number(s.concealedSamples ?? 0) - Number(s.silentConcealedSamples ?? 0);
    const before = this.concealed.get(receiver);
    this.concealed.set(receiver, audible);
    return before === undefined ? undefined : { identity, concealedMs: Math.max(0, Math.round((audible - before) / AUDIO_SAMPLES_PER_MS)) };
  }

  /** The receiver's inbound-rtp entry. */
  private async read(track: RemoteTrack): Promise<Record<string, unknown> | undefined> {
    if (!track.receiver) return undefined;
    const report = await track.receiver.getStats().catch(() => undefined);
    let found: Record<string, unknown> | undefined;
    report?.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp') found = s;
    });
    return found;
  }

  /** The mean delay since the last reading of this receiver (undefined for too little media). */
  private delayMs(receiver: RTCRtpReceiver, s: Record<string, unknown>, minEmitted: number, withDecode: boolean): number | undefined {
    const now: Counters = {
      delayS: Number(s.jitterBufferDelay ?? 0),
      emitted: Number(s.jitterBufferEmittedCount ?? 0),
      decodeS: Number(s.totalDecodeTime ?? 0),
      decoded: Number(s.framesDecoded ?? 0),
    };
    const before = this.last.get(receiver);
    // too little since the last reading: it waits for the next one
    if (before && now.emitted - before.emitted < minEmitted) return undefined;
    this.last.set(receiver, now);
    if (!before) return undefined;
    const emitted = now.emitted - before.emitted;
    const decodeMs = withDecode && now.decoded > before.decoded ? ((now.decodeS - before.decodeS) / (now.decoded - before.decoded)) * 1000 : 0;
    return Math.round((((now.delayS - before.delayS) / emitted) * 1000 + decodeMs) * 10) / 10;
  }
}

