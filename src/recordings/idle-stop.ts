import type { RoomPresencePort } from './ports';

/** A recording the idle stop watches: recording, not being stopped. */
export interface WatchedRecording {
  id: string;
  roomName: string;
}

/**
 * Stops a recording whose room stayed empty for the timeout, counting recorded time only:
 * while it is paused the empty room does not count, the empty time before the pause does.
 * A room LiveKit does not answer for is never taken as empty.
 */
export class IdleRoomStop {
  private readonly emptySince = new Map<string, number>();
  private readonly pausedSince = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly presence: RoomPresencePort | undefined,
    /** Stop after the room has had nobody in it for this long (0 disables). */
    private readonly timeoutSeconds: number,
    /** What to watch now, and whether anything is still running (else the timer stops). */
    private readonly running: () => { watched: WatchedRecording[]; any: boolean },
    private readonly stop: (recordingId: string) => void,
  ) {}

  /** A recording began running: checks start if they were not running. */
  started(): void {
    if (this.timer || !this.presence || this.timeoutSeconds <= 0) return;
    const every = Math.min(15_000, Math.max(250, (this.timeoutSeconds * 1000) / 4));
    this.timer = setInterval(() => void this.check(), every);
    this.timer.unref();
  }

  setPaused(recordingId: string, paused: boolean, now = Date.now()): void {
    const since = this.pausedSince.get(recordingId);
    if (paused) {
      if (since === undefined) this.pausedSince.set(recordingId, now);
      return;
    }
    if (since === undefined) return;
    const empty = this.emptySince.get(recordingId);
    if (empty !== undefined) this.emptySince.set(recordingId, empty + now - since);
    this.pausedSince.delete(recordingId);
  }

  forget(recordingId: string): void {
    this.emptySince.delete(recordingId);
    this.pausedSince.delete(recordingId);
  }

  /** A participant left the room (LiveKit webhook): check emptiness soon. */
  nudge(roomName: string): void {
    if (this.running().watched.some((r) => r.roomName === roomName)) void this.check();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (!this.presence || this.checking) return;
    this.checking = true;
    try {
      const byRoom = new Map<string, string[]>();
      for (const r of this.running().watched) {
        if (this.pausedSince.has(r.id)) continue;
        byRoom.set(r.roomName, [...(byRoom.get(r.roomName) ?? []), r.id]);
      }
      const now = Date.now();
      for (const [room, ids] of byRoom) {
        let count: number;
        try {
          count = await this.presence.countParticipants(room);
        } catch {
          continue; // LiveKit unreachable: never stop a recording on a guess
        }
        for (const id of ids) {
          if (count > 0) {
            this.emptySince.delete(id);
            continue;
          }
          const since = this.emptySince.get(id) ?? now;
          this.emptySince.set(id, since);
          if (now - since >= this.timeoutSeconds * 1000) this.stop(id);
        }
      }
    } finally {
      this.checking = false;
      if (!this.running().any) this.close();
    }
  }
}
