import { Track, type Room } from 'livekit-client';
import { Capture } from './capture';
import type { PageMessage } from './protocol';
import { hasFrame } from './room';

/** The launch query's `tracks`: each recorded participant's audio, or audio and camera, as files of their own. */
export type TracksMode = 'audio' | 'audio+video';

const AUDIO_TYPES = ['audio/webm;codecs=opus'];
const H264_VIDEO = ['video/webm;codecs=h264', 'video/webm;codecs=avc1'];
const VP8_VIDEO = ['video/webm;codecs=vp8'];
/** How often a camera with no decoded picture yet is looked at again. */
const FIRST_FRAME_POLL_MS = 40;
/** How long the stop waits for the tracks' last acks: the composite's flush must not wait on them past the worker's deadline. */
const STOP_WAIT_MS = 5000;

interface Wanted {
  identity: string;
  name: string;
  media: 'audio' | 'video';
  source: string;
  /** The camera's track; an audio track is tapped from the mix when it starts. */
  video?: MediaStreamTrack;
}

/**
 * One MediaRecorder per subscribed track of a recorded participant (their microphone, and with
 * "audio+video" their camera), each streamed by its own Capture on its own ingest socket
 * (`&track=<n>`): numbered, acknowledged and resent after a reconnect like the composite, so
 * nothing captured is lost. The worker spools each (recorder/track-spools.ts) and post-processing
 * makes the files (postprocess/tracks.ts). Audio is taken from the mixer's graph (Mixer.tap), so
 * it has the composite audio's latency; a camera is recorded as it arrives.
 *
 * Each track says, on its socket, where it starts on the composite's file clock (`fileMs`),
 * measured here, on the page's clock, from the composite encoder's start less the time paused
 * since: the same instants the composite's MediaRecorder paused and resumed at. A track is one
 * segment of recording: from its subscription (or the participant becoming recorded) to its
 * unsubscription (or their exclusion), and a pause ends every segment: the resume starts new
 * ones at the seam (a MediaRecorder paused with the composite's was seen to come back up to
 * 100 ms off it), so each file is continuous and its one offset holds for all of it. Someone who
 * leaves and comes back gets a new segment too.
 */
export class TrackRecorders {
  /** By track sid: its recorder, and what closes its tap of the mix. */
  private readonly running = new Map<string, { capture: Capture; untap?: () => void }>();
  private readonly stopping = new Set<Promise<void>>();
  /** Tracks MediaRecorder could not record. */
  private readonly refused = new Set<string>();
  private framePoll?: ReturnType<typeof setTimeout>;
  private next = 1;
  private startedAt?: number;
  private pausedAt?: number;
  private pausedMs = 0;

  constructor(
    private readonly room: Room,
    private readonly mode: TracksMode,
    private readonly opts: { ingestUrl: string; codec: string | null; audioBitsPerSecond?: number },
    private readonly recorded: (identity: string) => boolean,
    private readonly tapAudio: (trackSid: string) => { track: MediaStreamTrack; close: () => void } | undefined,
  ) {}

  /** At the composite encoder's start (`at`, ms on performance.now()'s clock): the tracks there now start at its time 0. */
  start(at: number): void {
    this.startedAt = at;
    this.sync();
  }

  /** Starts a recorder for each wanted track not yet recorded, stops those no longer wanted. Called on every change of the room or of who is recorded. */
  sync(): void {
    if (this.startedAt === undefined) return;
    const wanted = this.pausedAt === undefined ? this.wanted() : new Map<string, Wanted>();
    for (const [sid, r] of this.running) {
      if (wanted.has(sid)) continue;
      this.running.delete(sid);
      this.finish(r);
    }
    for (const [sid, w] of wanted) {
      if (this.running.has(sid) || this.refused.has(sid)) continue;
      try {
        this.begin(sid, w);
      } catch (err) {
        // no encoder for it: the composite goes on (this runs inside the room's event handlers), and it is not tried again
        this.refused.add(sid);
        console.error(`track ${sid} of ${w.identity} not recorded: ${(err as Error).message}`);
      }
    }
  }

  /** With the composite's: every segment ends here. */
  pause(): void {
    if (this.startedAt === undefined || this.pausedAt !== undefined) return;
    this.pausedAt = performance.now();
    this.sync();
  }

  /** With the composite's: new segments begin at the seam. */
  resume(): void {
    if (this.pausedAt === undefined) return;
    this.pausedMs += performance.now() - this.pausedAt;
    this.pausedAt = undefined;
    this.sync();
  }

  /** Flushes every track and waits (bounded) for the worker's last acks. */
  async stop(): Promise<void> {
    this.startedAt = undefined;
    clearTimeout(this.framePoll);
    for (const r of this.running.values()) this.finish(r);
    this.running.clear();
    await Promise.race([Promise.allSettled([...this.stopping]), new Promise((r) => setTimeout(r, STOP_WAIT_MS))]);
  }

  private wanted(): Map<string, Wanted> {
    const out = new Map<string, Wanted>();
    for (const p of this.room.remoteParticipants.values()) {
      if (!this.recorded(p.identity)) continue;
      for (const pub of p.trackPublications.values()) {
        const track = pub.track?.mediaStreamTrack;
        if (!track || track.readyState === 'ended') continue;
        const who = { identity: p.identity, name: p.name || p.identity, source: pub.source };
        if (pub.kind === Track.Kind.Audio) out.set(pub.trackSid, { ...who, media: 'audio' });
        else if (pub.source === Track.Source.Camera && this.mode === 'audio+video') {
          // A camera's file begins at its first frame, whenever that comes after its MediaRecorder
          // started (a new subscription waits for a keyframe): it starts once frames flow, so
          // its start is its first frame's, within a frame.
          const el = pub.track?.attachedElements[0] as HTMLVideoElement | undefined;
          if (this.running.has(pub.trackSid) || (el && hasFrame(el))) out.set(pub.trackSid, { ...who, media: 'video', video: track });
          else this.framePoll ??= setTimeout(() => ((this.framePoll = undefined), this.sync()), FIRST_FRAME_POLL_MS);
        }
      }
    }
    return out;
  }

  private begin(sid: string, w: Wanted): void {
    const tap = w.media === 'audio' ? this.tapAudio(sid) : undefined;
    const track = w.video ?? tap?.track;
    if (!track) return; // not in the mix (yet): the next sync
    const n = this.next++;
    const at = performance.now();
    const fileMs = at - this.startedAt! - this.pausedMs;
    const video = this.opts.codec === 'vp8' ? [...VP8_VIDEO, ...H264_VIDEO] : [...H264_VIDEO, ...VP8_VIDEO];
    let capture: Capture;
    try {
      capture = new Capture(
        new MediaStream([track]),
        { ingestUrl: `${this.opts.ingestUrl}&track=${n}`, mimeTypes: w.media === 'audio' ? AUDIO_TYPES : video, timesliceMs: 1000, audioBitsPerSecond: this.opts.audioBitsPerSecond },
        (): PageMessage => ({ type: 'track', identity: w.identity, name: w.name, media: w.media, source: w.source, mimeType: capture.mimeType, at: performance.timeOrigin + at, fileMs }),
      );
    } catch (err) {
      tap?.close();
      throw err;
    }
    this.running.set(sid, { capture, untap: tap?.close });
    capture.start();
  }

  private finish(r: { capture: Capture; untap?: () => void }): void {
    const done = r.capture.stop().finally(() => {
      r.untap?.();
      this.stopping.delete(done);
    });
    this.stopping.add(done);
  }
}

/** The launch query's `tracks`, or null. */
export function tracksModeFromQuery(raw: string | null): TracksMode | null {
  return raw === 'audio' || raw === 'audio+video' ? raw : null;
}
