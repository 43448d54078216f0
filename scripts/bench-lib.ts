/**
 * What the benchmarks share: CPU and memory of process trees read from /proc, and the
 * order statistics they quote.
 */
import fs from 'node:fs';
import { processTree } from '../src/observability/process-tree';
import type { Recorder } from '../src/recorder/recorder';
import type { RecordingRequest, RecordingResult } from '../src/recordings/contract';

const TICK = 100; // USER_HZ on Linux

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile; NaN for no samples. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  if (p === 50) return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** User + system CPU seconds these processes have used so far (exited ones count 0). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* exited */
    }
  }
  return ticks / TICK;
}

export function pssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      kb += m ? Number(m[1]) : 0;
    } catch {
      /* exited */
    }
  }
  return kb / 1024;
}

/** What a process of the service tree is: node, ffmpeg, or one of Chromium's process types. */
export function processKind(pid: number): string {
  try {
    // Chromium rewrites its process title: the arguments may come as one space-separated string
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    const exe = argv[0] ?? '';
    if (/ffmpeg$/.test(exe)) return 'ffmpeg';
    if (/node$/.test(exe)) return 'node';
    if (/chrom/.test(exe)) {
      const type = argv.find((a) => a.startsWith('--type='))?.slice(7);
      if (!type) return 'chromium-browser';
      if (type === 'utility') {
        const sub = argv.find((a) => a.startsWith('--utility-sub-type='))?.slice(19) ?? '';
        return `chromium-utility(${sub.split('.')[0]})`;
      }
      return `chromium-${type}`;
    }
    return exe.split('/').pop() ?? 'other';
  } catch {
    return 'exited';
  }
}

/** CPU seconds so far of each process of a set, to diff over a window by process. */
export function cpuByPid(pids: number[]): Map<number, number> {
  return new Map(pids.map((p) => [p, cpuSeconds([p])]));
}

/** CPU used between two cpuByPid readings, summed by processKind. */
export function cpuByKind(before: Map<number, number>, after: Map<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, end] of after) {
    const kind = processKind(pid);
    out[kind] = (out[kind] ?? 0) + end - (before.get(pid) ?? 0);
  }
  return out;
}

/** Idle cores of the whole machine between two /proc/stat readings. */
export function machineTimes(): { idle: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  return { idle, total: line.reduce((a, b) => a + b, 0) };
}

/**
 * One recording of `seconds` by `recorder`, with what the recorder spent on it: its browser
 * tree, its FFmpeg (up to the stop: the trailer is not counted) and this process, in CPU
 * seconds per recorded second, and FFmpeg's alone.
 */
export async function measuredRecording(recorder: Recorder, req: RecordingRequest, seconds: number): Promise<{ result: RecordingResult; cpuPerSecond: number; ffmpegCpuPerSecond: number }> {
  const browserPid = recorder.pool.pids()[0];
  const cpu0 = cpuSeconds(processTree(browserPid));
  const self0 = process.cpuUsage();
  const live = await recorder.start(req);
  await sleep(seconds * 1000);
  // asked late: FFmpeg's pid is known only once its process is spawned (its CPU is cumulative)
  const ffmpegPid = live.ffmpegPid();
  const ffCpu = ffmpegPid ? cpuSeconds([ffmpegPid]) : 0;
  const result = await live.stop();
  const self = process.cpuUsage(self0);
  const browserCpu = cpuSeconds(processTree(browserPid)) - cpu0;
  const recorded = result.durationMs / 1000;
  return { result, cpuPerSecond: (browserCpu + ffCpu + (self.user + self.system) / 1e6) / recorded, ffmpegCpuPerSecond: ffCpu / recorded };
}
