/**
 * The clocks that end a live recording by themselves: the stall watchdog (chunks must keep
 * arriving) and the maximum duration, counted from the file's time 0 so that the file is
 * as long as asked. Both stop with clear().
 */
export class SessionClocks {
  private readonly timers: NodeJS.Timeout[] = [];

  /** Calls `onStall` with the silence so far once no chunk arrived for `stallMs`. */
  watchStall(lastChunkAt: () => number, stallMs: number, onStall: (silentMs: number) => void): void {
    this.timers.push(
      setInterval(() => {
        const silentMs = Date.now() - lastChunkAt();
        if (silentMs > stallMs) onStall(silentMs);
      }, 500),
    );
  }

  /** Calls `onReached` once the file starting at `recordingAt` is `maxDurationSeconds` long. */
  endAfter(recordingAt: Date, maxDurationSeconds: number, onReached: () => void): void {
    const left = maxDurationSeconds * 1000 - (Date.now() - recordingAt.getTime());
    this.timers.push(setTimeout(onReached, Math.max(0, left)));
  }

  clear(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }
}
