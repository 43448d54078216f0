import type { AvOffsetMeasured } from '../recordings/contract';
import { AV_SYNC_WINDOW_MS } from '../recordings/quality';

/** Readings are clamped to this (ms either way): a histogram of 1 ms bins stays small however long the call. */
const CLAMP_MS = 2000;
/** Participants followed at most (a page cannot make us keep more). */
const MAX_PARTICIPANTS = 200;

interface Tally {
  bins: Map<number, number>;
  samples: number;
  maxBehindMs: number;
  maxAheadMs: number;
  outside: number;
}

/**
 * The measured A/V offset of each participant, one reading a second (positive: the sound
 * behind the picture), kept as a histogram so a call of hours costs a few kilobytes.
 */
export class AvOffsetStats {
  private readonly tallies = new Map<string, Tally>();

  add(identity: string, offsetMs: number): void {
    if (!Number.isFinite(offsetMs)) return;
    let t = this.tallies.get(identity);
    if (!t) {
      if (this.tallies.size >= MAX_PARTICIPANTS) return;
      t = { bins: new Map(), samples: 0, maxBehindMs: 0, maxAheadMs: 0, outside: 0 };
      this.tallies.set(identity, t);
    }
    const ms = Math.max(-CLAMP_MS, Math.min(CLAMP_MS, Math.round(offsetMs)));
    t.bins.set(ms, (t.bins.get(ms) ?? 0) + 1);
    t.samples++;
    t.maxBehindMs = Math.max(t.maxBehindMs, ms);
    t.maxAheadMs = Math.max(t.maxAheadMs, -ms);
    if (ms > AV_SYNC_WINDOW_MS.behind || -ms > AV_SYNC_WINDOW_MS.ahead) t.outside++;
  }

  /** `readingMs`: the time one reading stands for. */
  summary(readingMs: number): AvOffsetMeasured[] {
    return [...this.tallies].map(([identity, t]) => ({
      identity,
      samples: t.samples,
      medianMs: median(t.bins, t.samples),
      maxBehindMs: t.maxBehindMs,
      maxAheadMs: t.maxAheadMs,
      outOfSyncMs: t.outside * readingMs,
    }));
  }
}

function median(bins: Map<number, number>, n: number): number {
  let seen = 0;
  for (const [ms, count] of [...bins].sort((a, b) => a[0] - b[0])) {
    seen += count;
    if (seen * 2 >= n) return ms;
  }
  return 0;
}
