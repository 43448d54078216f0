/**
 * The recording's one clock (DESIGN "One clock per recording"): time 0 is `recordingAt`, and
 * the spans during which the recording was paused are cut out. The file, its chapters, the
 * speaker timeline, the chat sidecar and the quality report all place wall-clock instants on
 * it through these functions, so a pause moves them all the same way.
 */

/** A span during which nothing was recorded, on the wall clock; `resumedAt` is null while still paused. */
export interface PausedSpan {
  pausedAt: Date;
  resumedAt: Date | null;
}

/** Ms paused before `at` (a pause still open at `at` counts up to `at`). */
export function pausedMsUntil(pauses: readonly PausedSpan[], at: Date): number {
  const t = at.getTime();
  let paused = 0;
  for (const p of pauses) {
    const from = p.pausedAt.getTime();
    if (from >= t) continue;
    const to = p.resumedAt ? Math.min(p.resumedAt.getTime(), t) : t;
    if (to > from) paused += to - from;
  }
  return paused;
}

/**
 * Where `at` lands on the file's clock, in ms: its distance from `recordingAt` less the paused
 * time before it. An instant inside a pause lands at that pause's seam; one before time 0 at 0.
 */
export function toFileMs(at: Date, recordingAt: Date, pauses: readonly PausedSpan[]): number {
  const elapsed = at.getTime() - recordingAt.getTime();
  if (elapsed <= 0) return 0;
  return Math.max(0, elapsed - pausedMsUntil(pauses, at));
}

/** A wall-clock span on the file's clock; null when none of it was recorded (before time 0 or inside one pause). */
export function fileSpan(start: Date, end: Date, recordingAt: Date, pauses: readonly PausedSpan[]): { startMs: number; endMs: number } | null {
  const startMs = toFileMs(start, recordingAt, pauses);
  const endMs = toFileMs(end, recordingAt, pauses);
  return endMs > startMs ? { startMs, endMs } : null;
}

/** The file-clock offsets at which the recording resumed: each pause's seam, in order. */
export function resumeOffsetsMs(recordingAt: Date, pauses: readonly PausedSpan[]): number[] {
  return pauses
    .filter((p): p is PausedSpan & { resumedAt: Date } => p.resumedAt !== null)
    .map((p) => toFileMs(p.resumedAt, recordingAt, pauses))
    .sort((a, b) => a - b);
}
