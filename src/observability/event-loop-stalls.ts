export interface EventLoopStallOptions {
  /** A stall longer than this is reported to onStall (default 1 s). */
  stallMs?: number;
  /** At most one onStall call per this long (default 10 s), so a struggling process does not flood its log. */
  reportEveryMs?: number;
  /** Called when the loop was blocked longer than stallMs, with how long (ms, to within 50 ms). */
  onStall: (stallMs: number) => void;
}

const TICK_MS = 50;

/**
 * Finds the event loop's stalls, which hold up the worker's ingest acks and dispatch
 * heartbeats, so that the log shows one beside its cause. How late the loop runs is in
 * /metrics already, from prom-client's default metrics (nodejs_eventloop_lag_p50/p99/max_seconds,
 * read and reset by each scrape); a timer of our own finds the stalls, since a scrape does
 * not come when one happens.
 */
export class EventLoopStalls {
  private timer?: NodeJS.Timeout;
  private lastTick = 0;
  private lastReportAt = -Infinity;
  private readonly stallMs: number;
  private readonly reportEveryMs: number;

  constructor(private readonly opts: EventLoopStallOptions) {
    this.stallMs = opts.stallMs ?? 1000;
    this.reportEveryMs = opts.reportEveryMs ?? 10_000;
  }

  start(): this {
    this.lastTick = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    const lateMs = now - this.lastTick - TICK_MS;
    this.lastTick = now;
    if (lateMs <= this.stallMs || now - this.lastReportAt < this.reportEveryMs) return;
    this.lastReportAt = now;
    this.opts.onStall(lateMs);
  }
}
