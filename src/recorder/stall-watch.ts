import { withDeadline } from './deadline';
import type { Logger } from './logger';

/** Times in a row a silent page may answer that it is still recording before it ends anyway. */
const MAX_EXCUSES = 2;
/** The longest wait for the page's answer. */
const MAX_PROBE_MS = 5000;

/**
 * What the stall watchdog does once no chunk came for the stall limit: it asks the page. A page
 * that answers within the wait that it is still recording is slow, not stuck (a machine so busy
 * that the browser got a few percent of the CPU held a page's chunks back for 10 s, and it sent
 * them all once it had the CPU again): the watchdog counts again from the answer, twice at most
 * in a row. A page that does not answer (its browser frozen or hung), or is no longer recording,
 * is stalled.
 */
export class StallWatch {
  /** When the page last answered that it was still recording. */
  private excusedAt = 0;
  private excuses = 0;
  private asking = false;

  constructor(
    private readonly o: {
      stallMs: number;
      log: Logger;
      lastChunkAt: () => number;
      /** The page's window.recorderState.phase. */
      askPhase: () => Promise<unknown>;
      onStalled: (silentMs: number) => void;
    },
  ) {}

  /** Where the watchdog counts the page's silence from: its last chunk, or its last answer after that. */
  lastSignOfLife(): number {
    return Math.max(this.o.lastChunkAt(), this.excusedAt);
  }

  /** The watchdog found the silence too long: asks the page, once at a time. */
  async silent(): Promise<void> {
    if (this.asking) return;
    if (this.o.lastChunkAt() > this.excusedAt) this.excuses = 0;
    this.asking = true;
    try {
      const waitMs = Math.min(this.o.stallMs, MAX_PROBE_MS);
      const phase = this.excuses < MAX_EXCUSES ? await withDeadline(this.o.askPhase(), waitMs, () => new Error('no answer')).catch(() => undefined) : undefined;
      const silentMs = Date.now() - this.o.lastChunkAt();
      if (phase === 'recording') {
        this.excuses++;
        this.excusedAt = Date.now();
        this.o.log.warn({ silentMs, excuses: this.excuses }, 'no media from the recorder page for a while, but it answered that it is still recording: waiting for it (the machine is busy)');
        return;
      }
      this.o.onStalled(silentMs);
    } finally {
      this.asking = false;
    }
  }
}
