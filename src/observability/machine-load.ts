import fs from 'node:fs';
import os from 'node:os';
import { processTree } from './process-tree';

/** CPU over the last few seconds: the machine's cores, and how many of them are busy with this process tree and with everything else. */
export interface MeasuredCpu {
  cores: number;
  /** Cores used by this process and its descendants (its Chromium, its FFmpeg). */
  own: number;
  /** Cores used by every other process of the machine. */
  others: number;
  /** How far back the measurement reaches (ms). */
  spanMs: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * The machine's CPU, measured: /proc/stat and this process tree's /proc/<pid>/stat read
 * twice a second, over the last 10 s. Admission compares what other
 * programs leave free with what recordings cost, so a worker whose machine is busy says
 * NO_CAPACITY instead of recording badly. Off Linux it reports nothing and admission uses
 * estimates alone.
 */
export class MachineLoad {
  private readonly samples: { at: number; idle: number; total: number; own: number; ownYielding: number }[] = [];
  private timer?: NodeJS.Timeout;
  private lastTicks = new Map<number, { ticks: number; yielding: boolean }>();
  private ownTotal = 0;
  private ownYieldingTotal = 0;
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
      const seconds = (b.at - a.at) / 1000;
      const yielding = (b.ownYielding - a.ownYielding) / TICKS_PER_SECOND / seconds;
      const busy = ((total - (b.idle - a.idle)) / total) * this.cores - yielding;
      const own = (b.own - a.own) / TICKS_PER_SECOND / seconds;
      owns.push(own);
      others.push(Math.max(0, busy - own));
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
    const ticks = treeTicks();
    for (const [pid, t] of ticks) {
      const grown = t.ticks - (this.lastTicks.get(pid)?.ticks ?? 0);
      if (t.yielding) this.ownYieldingTotal += grown;
      else this.ownTotal += grown;
    }
    this.lastTicks = ticks;
    // idle + iowait: time no task wanted the CPU
    const idle = fields[3] + (fields[4] ?? 0);
    this.samples.push({ at: now, idle, total: fields.reduce((a, b) => a + b, 0), own: this.ownTotal, ownYielding: this.ownYieldingTotal });
    while (this.samples.length > 2 && now - this.samples[1].at >= this.windowMs) this.samples.shift();
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * A process of ours niced this far (post-processing's passes, child.ts BACKGROUND) yields
 * the CPU: the kernel gives a nice-10 task a tenth of a nice-0 one's share, so its time is
 * neither the recordings' nor a load that keeps them from the CPU. Other programs count
 * whatever their nice value: /proc/stat does not say how far they are niced (Chromium runs
 * pages it thinks hidden at nice 5, which still takes a quarter share).
 */
const YIELDING_NICE = 10;

/** User + system ticks of this process and each of its living descendants, and whether it yields. */
function treeTicks(): Map<number, { ticks: number; yielding: boolean }> {
  const out = new Map<number, { ticks: number; yielding: boolean }>();
  for (const pid of processTree(process.pid)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields 14, 15 and 19 of proc(5): utime, stime, nice
      out.set(pid, { ticks: Number(f[11]) + Number(f[12]), yielding: Number(f[16]) >= YIELDING_NICE });
    } catch {
      /* exited */
    }
  }
  return out;
}
