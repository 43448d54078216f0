import type { ChunkQuality } from '../recordings/contract';
import { toFileMs, type PausedSpan } from '../recordings/timeline';

/**
 * A chunk is late when it comes more than this many timeslices behind its turn: its turn is a
 * timeslice of recorded time after the chunk before it came (a paused encoder sends nothing,
 * so paused time does not count).
 */
export const LATE_CHUNK_TIMESLICES = 2;
/** Arrival instants kept at most (a 1 s timeslice makes this more than a day). */
const MAX_ARRIVALS = 100_000;

/**
 * What the ingest socket delivered of one recording, for the quality report: chunks sent
 * again after a reconnect, chunks that came before a missing one, chunks that never came,
 * and chunks late against the page's timeslice.
 */
export class ChunkStats {
  private connections = 0;
  private resent = 0;
  private outOfOrder = 0;
  /** Wall-clock instant at which each chunk was put in order, oldest first. */
  private readonly arrivals: number[] = [];

  constructor(private readonly timesliceMs: number) {}

  /** The page's socket said hello: a connection (the first, or a reconnect). */
  connected(): void {
    this.connections++;
  }

  /** A chunk came: `duplicate` it was had before; `held` it waits for an earlier one; `inOrder` chunks were put in order by it. */
  arrived(o: { duplicate: boolean; held: boolean; inOrder: number }, at = Date.now()): void {
    if (o.duplicate) this.resent++;
    else if (o.held) this.outOfOrder++;
    for (let i = 0; i < o.inOrder && this.arrivals.length < MAX_ARRIVALS; i++) this.arrivals.push(at);
  }

  /**
   * `delivered`: chunks put in order; `lastSeq`: the page's last chunk, when it said (a page
   * that failed did not); `gaps`: numbers missing before the highest chunk still held.
   */
  report(recordingAt: Date, pauses: readonly PausedSpan[], o: { delivered: number; lastSeq?: number; gaps: number }): ChunkQuality {
    let late = 0;
    let longestGapMs = 0;
    let before: number | undefined;
    for (const at of this.arrivals) {
      const fileMs = toFileMs(new Date(at), recordingAt, pauses);
      if (before !== undefined) {
        const gap = fileMs - before;
        longestGapMs = Math.max(longestGapMs, gap);
        if (gap - this.timesliceMs > LATE_CHUNK_TIMESLICES * this.timesliceMs) late++;
      }
      before = fileMs;
    }
    return {
      received: o.delivered,
      resent: this.resent,
      reconnects: Math.max(0, this.connections - 1),
      outOfOrder: this.outOfOrder,
      missing: o.lastSeq !== undefined ? Math.max(0, o.lastSeq + 1 - o.delivered) : o.gaps,
      late,
      longestGapMs: Math.round(longestGapMs),
    };
  }
}
