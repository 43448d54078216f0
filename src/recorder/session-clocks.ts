import type { PausedSpan } from '../recordings/timeline';

/**
 * The clocks that end a live recording by themselves: the stall watchdog (chunks must keep
 * arriving), the maximum duration and the longest pause. Both count recorded time: the maximum is the file's
 * length (from its time 0, less the pauses), and a paused encoder sends nothing, so the
 * watchdog waits while paused and counts its silence from the resume. All stop with clear().
 */
export class SessionClocks {
  private readonly timers: NodeJS.Timeout[] = [];
  private maxTimer?: NodeJS.Timeout;
  private pauseTimer?: NodeJS.Timeout;
  private pauseLimit?: { maxMs: number; onReached: () => void };
  private limit?: { recordingAt: number; maxMs: number; onReached: () => void };
  private pausedSince?: number;
  /** The pauses as this worker applied them to the page's encoder: the file's own cuts. */
  readonly pauses: PausedSpan[] = [];
  private pausedTotalMs = 0;
  private resumedAt = 0;

  get paused(): boolean {
    return this.pausedSince !== undefined;
  }

  /** Calls `onStall` with the silence so far once the page gave no sign of life (a chunk: stall-watch.ts) for `stallMs` of recording. */
  watchStall(lastSignOfLife: () => number, stallMs: number, onStall: (silentMs: number) => void): void {
    this.timers.push(
      setInterval(() => {
        if (this.paused) return;
        const silentMs = Date.now() - Math.max(lastSignOfLife(), this.resumedAt);
        if (silentMs > stallMs) onStall(silentMs);
      }, 500),
    );
  }

  /** Calls `onReached` once the file starting at `recordingAt` is `maxDurationSeconds` long. */
  endAfter(recordingAt: Date, maxDurationSeconds: number, onReached: () => void): void {
    this.limit = { recordingAt: recordingAt.getTime(), maxMs: maxDurationSeconds * 1000, onReached };
    this.armLimit();
  }

  /** Calls `onReached` once one pause has lasted `maxPauseSeconds` (a paused recording holds its slot). */
  endPausesAfter(maxPauseSeconds: number, onReached: () => void): void {
    this.pauseLimit = { maxMs: maxPauseSeconds * 1000, onReached };
  }

  /** Ms recorded since `recordingAt` (wall time less the pauses, the open one too). */
  recordedMs(recordingAt: Date, now = Date.now()): number {
    const openPause = this.pausedSince === undefined ? 0 : now - this.pausedSince;
    return Math.max(0, now - recordingAt.getTime() - this.pausedTotalMs - openPause);
  }

  pause(now = Date.now()): void {
    if (this.paused) return;
    this.pausedSince = now;
    this.pauses.push({ pausedAt: new Date(now), resumedAt: null });
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.maxTimer = undefined;
    if (this.pauseLimit) this.pauseTimer = setTimeout(this.pauseLimit.onReached, this.pauseLimit.maxMs);
  }

  /** The open pause began at `at` (when the page's encoder paused, after pause() stopped the clocks), not before. */
  pausedAtPage(at: number): void {
    if (this.pausedSince === undefined || at <= this.pausedSince) return;
    this.pausedSince = at;
    this.pauses[this.pauses.length - 1].pausedAt = new Date(at);
  }

  resume(now = Date.now()): void {
    if (this.pausedSince === undefined) return;
    this.pausedTotalMs += now - this.pausedSince;
    this.pauses[this.pauses.length - 1].resumedAt = new Date(now);
    this.pausedSince = undefined;
    this.resumedAt = now;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.armLimit();
  }

  clear(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.maxTimer = undefined;
    this.limit = undefined;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.pauseLimit = undefined;
  }

  private armLimit(): void {
    if (!this.limit) return;
    const { recordingAt, maxMs, onReached } = this.limit;
    const left = maxMs - this.recordedMs(new Date(recordingAt));
    this.maxTimer = setTimeout(onReached, Math.max(0, left));
  }
}
