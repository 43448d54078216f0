import {
  ParticipantKind,
  Room,
  RoomEvent,
  Track,
  type RemoteParticipant,
  type RemoteTrack,
  type RemoteTrackPublication,
  type Participant,
} from 'livekit-client';
import type { VideoInput } from './protocol';

/** What the compositor and the mixer need to know of one remote participant. */
export interface ParticipantView {
  identity: string;
  name: string;
  /** When the server says they joined (ms since the epoch): tiles keep the call's join order. */
  joinedAt: number;
  camera?: HTMLVideoElement;
  cameraPublication?: RemoteTrackPublication;
  /** No camera published, or it is muted. */
  cameraMuted: boolean;
  screen?: HTMLVideoElement;
  screenPublication?: RemoteTrackPublication;
  /** Their microphone is subscribed (in the mix). */
  audio: boolean;
  speaking: boolean;
  /** performance.now() when LiveKit last named them an active speaker. */
  spokeAt?: number;
}

/** Loudness (RMS of the samples) above which the page's own meter counts someone as speaking: -40 dBFS. */
export const SPEAKING_RMS = 0.01;

/**
 * The receive buffer a subscribed sound or screen share is held at (ms; RTCRtpReceiver
 * jitterBufferTarget, a floor under WebRTC's own adaptive delay). LiveKit gives each track a
 * MediaStream of its own, so WebRTC never lip-syncs a participant's sound to their picture:
 * each jitter buffer adapts alone, and a publisher whose packets come in bursts (a busy sender)
 * grew the audio one by up to 110 ms more than the video one for seconds, the sound late in the
 * file by as much (scripts/bench-avsync.ts). Held at this floor the sound absorbs such bursts,
 * and a camera follows its participant's sound (lip-sync.ts).
 */
export const RECEIVE_BUFFER_MS = 150;

/** A <video> that has decoded a picture the canvas can draw. */
export function hasFrame(v: HTMLVideoElement): boolean {
  return v.readyState >= 2 && v.videoWidth > 0;
}

/**
 * The join time the server gave: the join response lists those already in the room in no
 * set order, so the order this page hears of them would shuffle the tiles between recordings.
 */
function serverJoinedAtMs(p: Participant): number {
  // ParticipantInfo is protected in livekit-client; joinedAtMs is in the protocol, joinedAt (s) is the fallback
  const info = (p as unknown as { participantInfo?: { joinedAtMs?: bigint; joinedAt?: bigint } }).participantInfo;
  return Number(info?.joinedAtMs ?? 0n) || Number(info?.joinedAt ?? 0n) * 1000 || Date.now();
}

export interface RoomCallbacks {
  /** `agent`: the participant is of LiveKit kind agent. */
  onAudioTrack(id: string, track: MediaStreamTrack, identity: string, agent: boolean): void;
  onAudioTrackGone(id: string): void;
  onChange(): void;
  onDisconnected(reason: string): void;
}

/**
 * The LiveKit side of the page: joins hidden and subscribe-only (the token says so),
 * and keeps one ParticipantView per remote participant that publishes anything.
 */
export class RoomTracker {
  readonly room: Room;
  readonly participants = new Map<string, ParticipantView>();
  /** The order this page learnt of each participant: ties of the server's join time. */
  private readonly seen = new Map<string, number>();
  private readonly requestedSizes = new Map<string, { width: number; height: number }>();
  private serverNamedSpeakers = false;

  constructor(private readonly callbacks: RoomCallbacks) {
    // We choose layers ourselves from each tile's size (see setTileSize), so the SDK's
    // element-visibility based adaptive stream is off: our <video> elements are never shown.
    this.room = new Room({ adaptiveStream: false, dynacast: false });
    const r = this.room;
    r.on(RoomEvent.ParticipantConnected, (p) => this.ensure(p));
    r.on(RoomEvent.ParticipantDisconnected, (p) => this.remove(p.identity));
    r.on(RoomEvent.TrackSubscribed, (track, pub, p) => this.subscribed(track, pub, p));
    r.on(RoomEvent.TrackUnsubscribed, (track, pub, p) => this.unsubscribed(track, pub, p));
    // unpublished before it was ever subscribed: nothing of it to wait for
    r.on(RoomEvent.TrackUnpublished, (pub, p) => this.muteChanged(pub.source, p, true));
    r.on(RoomEvent.TrackMuted, (pub, p) => this.muteChanged(pub.source, p, true));
    r.on(RoomEvent.TrackUnmuted, (pub, p) => this.muteChanged(pub.source, p, false));
    r.on(RoomEvent.ParticipantNameChanged, (_name, p) => {
      const v = this.participants.get(p.identity);
      if (v) v.name = p.name || p.identity;
      callbacks.onChange();
    });
    r.on(RoomEvent.ActiveSpeakersChanged, (speakers) => {
      this.serverNamedSpeakers = true;
      this.setSpeakers(new Set(speakers.map((s) => s.identity)));
    });
    r.on(RoomEvent.Disconnected, (reason) => callbacks.onDisconnected(String(reason ?? 'unknown')));
  }

  /**
   * Who speaks, from the mix's own meters, until the server first names the active
   * speakers: it does so only when that set changes, so someone already talking when the
   * recorder joined would otherwise wait off the stage. `loudness` is by identity (RecordedSet:
   * only those recorded). False once the server has spoken.
   */
  seedSpeakers(loudness: Map<string, number>): boolean {
    if (this.serverNamedSpeakers) return false;
    const ids = new Set<string>();
    for (const [identity, level] of loudness) if (level > SPEAKING_RMS) ids.add(identity);
    const speakingNow = [...this.participants.values()].filter((v) => v.speaking).map((v) => v.identity);
    if (speakingNow.length !== ids.size || speakingNow.some((id) => !ids.has(id))) this.setSpeakers(ids);
    return true;
  }

  private setSpeakers(ids: Set<string>): void {
    const now = performance.now();
    for (const v of this.participants.values()) {
      v.speaking = ids.has(v.identity);
      if (v.speaking) v.spokeAt = now;
    }
    this.callbacks.onChange();
  }

  async connect(url: string, token: string): Promise<void> {
    await this.room.connect(url, token, { autoSubscribe: true });
    for (const p of this.room.remoteParticipants.values()) this.ensure(p);
    this.callbacks.onChange();
  }

  async disconnect(): Promise<void> {
    await this.room.disconnect();
  }

  /** Participants in the order they joined, which keeps tiles from jumping around. */
  ordered(): ParticipantView[] {
    return [...this.participants.values()].sort((a, b) => a.joinedAt - b.joinedAt || (this.seen.get(a.identity) ?? 0) - (this.seen.get(b.identity) ?? 0));
  }

  /** Ask for the simulcast layer that fits the tile, not always the top one. */
  setTileSize(identity: string, kind: 'camera' | 'screen', width: number, height: number): void {
    const v = this.participants.get(identity);
    const pub = kind === 'camera' ? v?.cameraPublication : v?.screenPublication;
    if (!pub) return;
    const size = { width: Math.round(width), height: Math.round(height) };
    const last = this.requestedSizes.get(pub.trackSid);
    if (last?.width === size.width && last.height === size.height) return;
    this.requestedSizes.set(pub.trackSid, size);
    pub.setVideoDimensions(size);
  }

  /** What each subscribed video is asked for and what arrives, for stats and tests. */
  videoInputs(): VideoInput[] {
    const out: VideoInput[] = [];
    for (const v of this.participants.values()) {
      for (const [source, el, pub] of [
        ['camera', v.camera, v.cameraPublication],
        ['screen', v.screen, v.screenPublication],
      ] as const) {
        if (!el || !pub) continue;
        const tile = this.requestedSizes.get(pub.trackSid);
        out.push({ identity: v.identity, source, tileWidth: tile?.width ?? 0, tileHeight: tile?.height ?? 0, width: el.videoWidth, height: el.videoHeight });
      }
    }
    return out;
  }

  private ensure(p: Participant): ParticipantView {
    let v = this.participants.get(p.identity);
    if (!v) {
      // A camera that is published but not yet subscribed counts as on: the start waits for
      // its picture (presence.ts) instead of opening the file on a name tile.
      const camera = p.getTrackPublication(Track.Source.Camera);
      const cameraMuted = !camera || camera.isMuted;
      v = { identity: p.identity, name: p.name || p.identity, joinedAt: serverJoinedAtMs(p), cameraMuted, audio: false, speaking: false };
      if (!this.seen.has(p.identity)) this.seen.set(p.identity, this.seen.size);
      this.participants.set(p.identity, v);
      this.callbacks.onChange();
    }
    return v;
  }

  private remove(identity: string): void {
    const v = this.participants.get(identity);
    if (!v) return;
    v.camera?.remove();
    v.screen?.remove();
    this.participants.delete(identity);
    this.callbacks.onChange();
  }

  private subscribed(track: RemoteTrack, pub: RemoteTrackPublication, p: RemoteParticipant): void {
    const v = this.ensure(p);
    // a camera's buffer follows its participant's sound (lip-sync.ts)
    if (pub.source !== Track.Source.Camera) holdReceiveBuffer(track.receiver);
    if (track.kind === Track.Kind.Audio) {
      this.callbacks.onAudioTrack(track.sid ?? pub.trackSid, track.mediaStreamTrack, p.identity, p.kind === ParticipantKind.AGENT);
      v.audio = true;
      return;
    }
    const el = track.attach() as HTMLVideoElement;
    el.muted = true;
    el.playsInline = true;
    // kept in the DOM but out of sight: a detached <video> may stop decoding frames
    el.style.cssText = 'position:absolute;left:-10000px;top:0;width:2px;height:2px;';
    document.body.appendChild(el);
    void el.play().catch(() => undefined);
    if (pub.source === Track.Source.ScreenShare) {
      v.screen = el;
      v.screenPublication = pub;
    } else {
      v.camera = el;
      v.cameraPublication = pub;
      v.cameraMuted = pub.isMuted;
    }
    this.callbacks.onChange();
  }

  private unsubscribed(track: RemoteTrack, pub: RemoteTrackPublication, p: RemoteParticipant): void {
    const v = this.participants.get(p.identity);
    if (track.kind === Track.Kind.Audio) {
      this.callbacks.onAudioTrackGone(track.sid ?? pub.trackSid);
      if (v) v.audio = false;
      return;
    }
    track.detach().forEach((el) => el.remove());
    this.requestedSizes.delete(pub.trackSid); // a later subscription asks again
    if (!v) return;
    if (pub.source === Track.Source.ScreenShare) {
      v.screen = undefined;
      v.screenPublication = undefined;
    } else {
      v.camera = undefined;
      v.cameraPublication = undefined;
      v.cameraMuted = true;
    }
    this.callbacks.onChange();
  }

  private muteChanged(source: Track.Source, p: Participant, muted: boolean): void {
    const v = this.participants.get(p.identity);
    if (!v) return;
    if (source === Track.Source.Camera) v.cameraMuted = muted;
    this.callbacks.onChange();
  }
}

/** Where the browser has it (Chromium does); elsewhere the buffers adapt alone. */
function holdReceiveBuffer(receiver: RTCRtpReceiver | undefined): void {
  if (receiver && 'jitterBufferTarget' in receiver) (receiver as RTCRtpReceiver & { jitterBufferTarget: number | null }).jitterBufferTarget = RECEIVE_BUFFER_MS;
}
