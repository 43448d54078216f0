import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopDelaySummary {
  p50: number;
  p99: number;
  max: number;
}

export interface EventLoopDelayOptions {
  /** A stall longer than this is reported to onStall (default 1 s). */
  stallMs?: number;
  /** At most one onStall call per this long (default 10 s), so a struggling process does not flood its log. */
  reportEveryMs?: number;
  /** Called when the loop was blocked longer than stallMs, with how long (ms, to within 50 ms). */
  onStall?: (stallMs: number) => void;
}

const RESOLUTION_MS = 10;
const STALL_TICK_MS = 50;

/**
 * How late the event loop ran timers: what the worker's ingest acks and dispatch heartbeats
 * wait on. The histogram is read and reset by each scrape, so its max covers every stall
 * between two scrapes whatever the scrape interval (resetting on a timer of ours would lose
 * the stalls of a window nobody scraped). Stalls are found by a timer of their own: the
 * histogram skips its first sample after a reset, so a check that reset it could miss the
 * very stall that came just before.
 */
export class EventLoopDelay {
  private readonly window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private timer?: NodeJS.Timeout;
  private lastTick = 0;
  private lastReportAt = -Infinity;
  private readonly stallMs: number;
  private readonly reportEveryMs: number;

  constructor(private readonly opts: EventLoopDelayOptions = {}) {
    this.stallMs = opts.stallMs ?? 1000;
    this.reportEveryMs = opts.reportEveryMs ?? 10_000;
  }

  start(): this {
    this.window.enable();
    if (this.opts.onStall) {
      this.lastTick = performance.now();
      this.timer = setInterval(() => this.tick(), STALL_TICK_MS);
      this.timer.unref();
    }
    return this;
  }

  /** p50, p99 and max in seconds since the last call (0 when nothing was sampled), and starts a new window. */
  takeWindow(): EventLoopDelaySummary {
    const h = this.window;
    // the histogram holds the time between its ticks; the delay is what exceeds the resolution
    const late = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1000;
    const summary = h.count > 0 ? { p50: late(h.percentile(50)), p99: late(h.percentile(99)), max: late(h.max) } : { p50: 0, p99: 0, max: 0 };
    h.reset();
    return summary;
  }

  stop(): void {
    clearInterval(this.timer);
    this.window.disable();
  }

  private tick(): void {
    const now = performance.now();
    const lateMs = now - this.lastTick - STALL_TICK_MS;
    this.lastTick = now;
    if (lateMs <= this.stallMs || now - this.lastReportAt < this.reportEveryMs) return;
    this.lastReportAt = now;
    this.opts.onStall?.(lateMs);
  }
}
