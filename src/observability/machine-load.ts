import fs from 'node:fs';
import os from 'node:os';
import { processTable, processTree } from './process-tree';

/** CPU over the last few seconds: the machine's cores, and how many of them are busy with this process tree and with everything else. */
export interface MeasuredCpu {
  cores: number;
  /** Cores used by this process and its descendants (its Chromium, its FFmpeg). */
  own: number;
  /** Cores used by every other process of the machine. */
  others: number;
  // Both count a niced process by the share it would keep against a recording (see yieldShare).
  /** How far back the measurement reaches (ms). */
  spanMs: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * The machine's CPU, measured: /proc/stat and the process table read twice a second, over
 * the last 10 s. Admission compares what other
 * programs leave free with what recordings cost, so a worker whose machine is busy says
 * NO_CAPACITY instead of recording badly. Off Linux it reports nothing and admission uses
 * estimates alone.
 */
export class MachineLoad {
  private readonly samples: { at: number; idle: number; total: number; own: number; ownRaw: number; yielded: number }[] = [];
  private timer?: NodeJS.Timeout;
  private lastTicks?: Map<number, number>;
  /** Ticks of our processes, as they count (niced ones by their share), and as they were. */
  private ownTotal = 0;
  private ownRawTotal = 0;
  /** Ticks of other niced programs that they would yield to a recording. */
  private yieldedTotal = 0;
  private readonly cores = os.availableParallelism();

  constructor(private readonly windowMs = 10_000) {}

  start(): this {
    if (this.timer || !fs.existsSync('/proc/stat')) return this;
    this.sample();
    this.timer = setInterval(() => this.sample(), 500);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Over the last 10 s, each the median of the half-second slices: a burst of a few seconds
   * (a program starting, a page loading, a finished recording's thumbnails) does not count,
   * and a load that lasts does. Undefined before two samples exist (or off Linux).
   */
  measure(): MeasuredCpu | undefined {
    if (this.samples.length < 2) return undefined;
    const others: number[] = [];
    const owns: number[] = [];
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1];
      const b = this.samples[i];
      const total = b.total - a.total;
      if (total <= 0 || b.at <= a.at) continue;
      const cores = (ticks: number) => ticks / TICKS_PER_SECOND / ((b.at - a.at) / 1000);
      const busy = ((total - (b.idle - a.idle)) / total) * this.cores;
      owns.push(cores(b.own - a.own));
      others.push(Math.max(0, busy - cores(b.ownRaw - a.ownRaw) - cores(b.yielded - a.yielded)));
    }
    if (others.length === 0) return undefined;
    const span = this.samples[this.samples.length - 1].at - this.samples[0].at;
    return { cores: this.cores, own: median(owns), others: median(others), spanMs: span };
  }

  private sample(): void {
    let fields: number[];
    try {
      fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    } catch {
      return;
    }
    const now = Date.now();
    // per process: a child that exits must not take its past with it (a long recording's page)
    const table = processTable();
    const ours = new Set(processTree(process.pid, table));
    const ticks = new Map<number, number>();
    for (const p of table) {
      ticks.set(p.pid, p.ticks);
      if (!this.lastTicks) continue; // the first sample only sets the baseline
      const grown = p.ticks - (this.lastTicks.get(p.pid) ?? 0);
      if (ours.has(p.pid)) {
        this.ownRawTotal += grown;
        this.ownTotal += grown * yieldShare(p.nice);
      } else {
        this.yieldedTotal += grown * (1 - yieldShare(p.nice));
      }
    }
    this.lastTicks = ticks;
    // idle + iowait: time no task wanted the CPU
    const idle = fields[3] + (fields[4] ?? 0);
    this.samples.push({ at: now, idle, total: fields.reduce((a, b) => a + b, 0), own: this.ownTotal, ownRaw: this.ownRawTotal, yielded: this.yieldedTotal });
    while (this.samples.length > 2 && now - this.samples[1].at >= this.windowMs) this.samples.shift();
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * The share of a core a process of this nice value keeps against a nice-0 recording that
 * wants it. From nice 10 the kernel's weights (about 1.25 per step) leave it a tenth or
 * less: a nice-19 pass (post-processing, child.ts BACKGROUND) or batch job keeps 1.4 %.
 * Below that it counts whole: Chromium runs pages it thinks hidden at nice 5, and beside
 * three recordings a fourth admitted while such pages counted a third ran at 14.7 fps.
 */
function yieldShare(nice: number): number {
  return nice >= 10 ? 1.25 ** -nice : 1;
}
