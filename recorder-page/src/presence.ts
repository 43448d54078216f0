import { Track, type Room } from 'livekit-client';
import { hasFrame, type RoomTracker } from './room';

/** What a participant present at the join publishes, so we know what to wait for. */
export interface Expected {
  identity: string;
  camera: boolean;
  screen: boolean;
  audio: boolean;
}

export interface Presence {
  /** Identities present at the join. */
  expected: string[];
  /** Those not fully on the canvas (and in the mix) when the wait ended. */
  late: string[];
  waitedMs: number;
}

/** Everyone in the room right after the join, from the server's join response. */
export function expectedAtJoin(room: Room): Expected[] {
  return [...room.remoteParticipants.values()].map((p) => {
    const live = (source: Track.Source) => [...p.trackPublications.values()].some((pub) => pub.source === source && !pub.isMuted);
    return { identity: p.identity, camera: live(Track.Source.Camera), screen: live(Track.Source.ScreenShare), audio: live(Track.Source.Microphone) };
  });
}

function missing(tracker: RoomTracker, e: Expected): boolean {
  const v = tracker.participants.get(e.identity);
  if (!v) return false; // left meanwhile: nothing to wait for
  if (e.camera && !v.cameraMuted && !(v.camera && hasFrame(v.camera))) return true;
  if (e.screen && !(v.screen && hasFrame(v.screen))) return true;
  return e.audio && !v.audio;
}

/**
 * Waits until every participant present at the join has a decoded picture (or is shown
 * as a name tile because their camera is off) and their sound in the mix, at most `maxMs`:
 * the encoder starts after this, so the file opens with them on screen, as LiveKit
 * Egress's templates do before START_RECORDING.
 */
export async function waitForPresence(tracker: RoomTracker, expected: Expected[], maxMs: number): Promise<Presence> {
  const t0 = performance.now();
  for (;;) {
    const late = expected.filter((e) => missing(tracker, e)).map((e) => e.identity);
    const waitedMs = Math.round(performance.now() - t0);
    if (late.length === 0 || waitedMs >= maxMs) return { expected: expected.map((e) => e.identity), late, waitedMs };
    await new Promise((r) => setTimeout(r, 10));
  }
}
