import type { SoundConcealed } from '../recordings/contract';
import { fileSpan, type PausedSpan } from '../recordings/timeline';

/** Participants followed at most (a page cannot make us keep more). */
const MAX_PARTICIPANTS = 200;
/** Readings with concealed sound kept at most per participant (a long bad call still fits). */
const MAX_READINGS = 3600;

interface Reading {
  at: number;
  ms: number;
}

/**
 * Each participant's sound that the recorder page's WebRTC made up (late or lost packets),
 * one reading a second, kept with its time so that what fell inside a pause (not in the file)
 * is left out at the end.
 */
export class SoundStats {
  private readonly readings = new Map<string, Reading[]>();

  add(identity: string, concealedMs: number, at: number): void {
    if (!Number.isFinite(concealedMs) || concealedMs < 0) return;
    let list = this.readings.get(identity);
    if (!list) {
      if (this.readings.size >= MAX_PARTICIPANTS) return;
      this.readings.set(identity, (list = []));
    }
    if (concealedMs > 0 && list.length < MAX_READINGS) list.push({ at, ms: Math.round(concealedMs) });
  }

  /** `readingMs`: the time one reading stands for (it ends at its `at`). */
  summary(recordingAt: Date, pauses: readonly PausedSpan[], readingMs: number): SoundConcealed[] {
    return [...this.readings].map(([identity, list]) => {
      const recorded = list.filter((r) => fileSpan(new Date(r.at - readingMs), new Date(r.at), recordingAt, pauses) !== null);
      return { identity, concealedMs: recorded.reduce((n, r) => n + r.ms, 0), worstSecondMs: Math.max(0, ...recorded.map((r) => r.ms)) };
    });
  }
}
