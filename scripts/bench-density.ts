/**
 * The density part of `npm run bench`: N = 1..MAX recordings started at once through the
 * REST API of `recorder all` (one room and one synthetic publisher each), and what their
 * files show: admitted count, frame rate, the time from the start request to the first
 * frame showing the participant, the tone throughout, and the CPU of the whole service
 * tree per recording beside the publishers' and livekit-server's cores in the same window.
 */
import fs from 'node:fs';
import path from 'node:path';
import { processTree } from '../src/observability/process-tree';
import { probe } from '../src/recorder/probe';
import { audioSamples, tonePower } from '../test/helpers/media';
import { firstFrames } from '../test/helpers/first-frame';
import { cpuByKind, cpuByPid, cpuSeconds, machineTimes, median, percentile, sleep } from './bench-lib';
import type { BenchService } from './bench-service';

const PALETTE = ['#ff0000', '#00ff00', '#0000ff', '#ffff00', '#ff00ff', '#00ffff'];
const TONES = [500, 700, 900, 1100, 1300, 1500];
const STEADY_AFTER_MS = 4000;
export const SETTLE_MS = 11_000;

export interface PublisherHost {
  add(spec: { room: string; identity: string; colour: string; tone: number }): Promise<{ leave(): Promise<void> }>;
  /** Root pids of the publishers' processes, for their CPU. */
  pids(): number[];
}

export interface DensityRun {
  n: number;
  admitted: number;
  refused: number;
  failures: string[];
  fps: number[];
  /** Start request -> first frame of the file showing the participant (ms); NaN when never. */
  latencyMs: number[];
  /** Share of half-second windows of each file in which its tone is present. */
  toneCoverage: number[];
  durationErrorMs: number[];
  stopMs: number[];
  refusalMs: number[];
  /** What each refusal said (the NO_CAPACITY message names the shortfall). */
  refusals: string[];
  cpuPerRecording: number;
  serviceCores: number;
  publisherCores: number;
  livekitCores: number;
  machineIdleCores: number;
  byKind: Record<string, number>;
}

interface Ctx {
  service: BenchService;
  publishers: PublisherHost;
  livekitPid: number;
  dir: string;
  seconds: number;
  tag: string;
  format?: 'mp4' | 'webm' | 'mkv';
}

/** One round: n rooms, n publishers, n starts at once, SECONDS of recording, n stops at once. */
export async function densityRun(ctx: Ctx, n: number): Promise<DensityRun> {
  const { service, seconds } = ctx;
  const rooms = Array.from({ length: n }, (_, i) => ({ i, room: `${ctx.tag}-n${n}-${i}`, call: `${ctx.tag}-n${n}-${i}` }));
  const pubs = [];
  for (const r of rooms) pubs.push(await ctx.publishers.add({ room: r.room, identity: `p${r.i}`, colour: PALETTE[r.i % 6], tone: TONES[r.i % 6] }));
  for (const r of rooms) await service.createCall(r.call, r.room);
  // the publishers settled in their rooms, and the analysis of the previous run (FFmpeg
  // decodes) out of the 10 s over which the worker measures the machine: admission sees
  // the steady load of a call in progress, as it would in production
  await sleep(SETTLE_MS);

  const requested = new Map<string, number>();
  const answers = await Promise.all(
    rooms.map(async (r) => {
      const t = Date.now();
      requested.set(r.call, t);
      const res = await service.api('POST', `/api/video-calls/${r.call}/recording/start`, { format: ctx.format ?? 'mp4', resolution: '720p', fps: 30, layout: 'grid' });
      return { r, res, ms: Date.now() - t };
    }),
  );
  const admitted = answers.filter((a) => a.res.status === 201).map((a) => ({ ...a.r, id: a.res.body.data.id as string }));
  const refused = answers.filter((a) => a.res.status === 503 && a.res.body?.error?.code === 'NO_CAPACITY');
  const failures = answers.filter((a) => a.res.status !== 201 && !refused.includes(a)).map((a) => `start ${a.r.call}: HTTP ${a.res.status} ${a.res.body?.error?.code}`);

  await Promise.all(admitted.map((a) => service.waitStatus(a.call, a.id, ['RECORDING', 'STOPPING', 'PROCESSING', 'COMPLETED'], 30_000).catch((e: Error) => failures.push(e.message))));
  // the CPU window: every admitted recording is live, and the standby pages their starts
  // took have been loaded again (a one-off cost of each start, not of a recorded second)
  await sleep(STEADY_AFTER_MS);
  const tree0 = service.tree();
  const svc0 = cpuByPid(tree0);
  const pubPids = ctx.publishers.pids().flatMap((p) => processTree(p));
  const pub0 = cpuSeconds(pubPids);
  const lk0 = cpuSeconds([ctx.livekitPid]);
  const m0 = machineTimes();
  const w0 = Date.now();
  const firstRequest = Math.min(...requested.values());
  await sleep(Math.max(3000, seconds * 1000 - (Date.now() - firstRequest)));
  const windowS = (Date.now() - w0) / 1000;
  const svc1 = cpuByPid(service.tree());
  const m1 = machineTimes();
  const byKind = cpuByKind(svc0, svc1);
  const serviceCpu = Object.values(byKind).reduce((a, b) => a + b, 0);
  const publisherCores = (cpuSeconds(pubPids) - pub0) / windowS;
  const livekitCores = (cpuSeconds([ctx.livekitPid]) - lk0) / windowS;
  const machineIdleCores = ((m1.idle - m0.idle) / (m1.total - m0.total)) * 2;

  const stopAt = new Map<string, number>();
  await Promise.all(
    admitted.map(async (a) => {
      stopAt.set(a.id, Date.now());
      await service.api('POST', `/api/video-calls/${a.call}/recording/stop`);
    }),
  );
  const stopMs: number[] = [];
  await Promise.all(
    admitted.map(async (a) => {
      const v = await service.waitStatus(a.call, a.id, ['PROCESSING', 'UPLOADING', 'COMPLETED'], 60_000).catch(() => null);
      if (v && v.status !== 'FAILED') stopMs.push(Date.now() - stopAt.get(a.id)!);
    }),
  );

  const run: DensityRun = {
    n,
    admitted: admitted.length,
    refused: refused.length,
    failures,
    fps: [],
    latencyMs: [],
    toneCoverage: [],
    durationErrorMs: [],
    stopMs,
    refusalMs: refused.map((a) => a.ms),
    refusals: refused.map((a) => String(a.res.body?.error?.message ?? '')),
    cpuPerRecording: admitted.length ? serviceCpu / windowS / admitted.length : NaN,
    serviceCores: serviceCpu / windowS,
    publisherCores,
    livekitCores,
    machineIdleCores,
    byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, v / windowS / Math.max(1, admitted.length)])),
  };
  for (const a of admitted) {
    const done = await completedFile(service, a.call, a.id, path.join(ctx.dir, `${a.call}.${ctx.format ?? 'mp4'}`), failures);
    if (!done) continue;
    const { view, file, info } = done;
    run.fps.push(done.fps);
    const ff = await firstFrames(file, [PALETTE[a.i % 6]], { seconds: 6 });
    const t0 = Date.parse(view.recordingAt);
    run.latencyMs.push(ff.allVisibleAfter === null ? NaN : t0 + ff.allVisibleAfter * 1000 - requested.get(a.call)!);
    run.durationErrorMs.push(info.durationMs - (Date.parse(view.stoppingAt) - t0));
    run.toneCoverage.push(await toneCoverage(file, TONES[a.i % 6], info.durationMs / 1000));
    fs.rmSync(file, { force: true });
  }
  await Promise.all(pubs.map((p) => p.leave()));
  return run;
}

/**
 * Waits for COMPLETED, downloads the file to `dest` and probes it (frames counted); a status
 * other than COMPLETED, or an error kept with the file, is pushed to `failures`, and
 * without a COMPLETED file the answer is undefined.
 */
export async function completedFile(service: BenchService, call: string, id: string, dest: string, failures: string[]) {
  const view = await service.waitStatus(call, id, ['COMPLETED'], 120_000).catch((e: Error) => ({ status: 'TIMEOUT', error: { code: e.message } }));
  if (view.status !== 'COMPLETED' || view.error) failures.push(`${call}: ${view.status} ${view.error?.code ?? ''}`);
  if (view.status !== 'COMPLETED') return undefined;
  const file = await service.download(call, id, dest);
  const info = await probe('ffprobe', file, { countFrames: true });
  return { view, file, info, fps: info.streams.find((s) => s.type === 'video')?.fps ?? 0 };
}

/** Share of the half-second windows (from 0.1 s to the end) in which `hz` stands 30x over its neighbours. */
export async function toneCoverage(file: string, hz: number, seconds: number): Promise<number> {
  const samples = await audioSamples(file, 0, seconds);
  const win = 8000;
  let ok = 0;
  let all = 0;
  for (let start = 1600; start + win <= samples.length; start += win) {
    const part = samples.subarray(start, start + win);
    const floor = Math.max(tonePower(part, hz * 0.77), tonePower(part, hz * 1.31));
    all++;
    if (tonePower(part, hz) > floor * 30) ok++;
  }
  return all ? ok / all : 0;
}

export interface DensityRow {
  n: number;
  admitted: number;
  fpsMin: number;
  latencyMedianMs: number;
  latencyP95Ms: number;
  toneCoverageMin: number;
  cpuPerRecording: number;
  serviceCores: number;
  publisherCores: number;
  livekitCores: number;
  stopMaxMs: number;
  refusalMaxMs: number;
  failures: number;
}

/** Medians over runs of each N's figures (latency percentiles over every recording of every run). */
export function summarize(runs: DensityRun[]): DensityRow[] {
  const byN = new Map<number, DensityRun[]>();
  for (const r of runs) byN.set(r.n, [...(byN.get(r.n) ?? []), r]);
  return [...byN.entries()].map(([n, rs]) => {
    const lat = rs.flatMap((r) => r.latencyMs.map((x) => (Number.isNaN(x) ? Infinity : x)));
    return {
      n,
      admitted: median(rs.map((r) => r.admitted)),
      fpsMin: median(rs.map((r) => Math.min(...r.fps))),
      latencyMedianMs: Math.round(median(lat)),
      latencyP95Ms: Math.round(percentile(lat, 95)),
      toneCoverageMin: median(rs.map((r) => Math.min(...r.toneCoverage))),
      cpuPerRecording: median(rs.map((r) => r.cpuPerRecording)),
      serviceCores: median(rs.map((r) => r.serviceCores)),
      publisherCores: median(rs.map((r) => r.publisherCores)),
      livekitCores: median(rs.map((r) => r.livekitCores)),
      stopMaxMs: median(rs.map((r) => Math.max(0, ...r.stopMs))),
      refusalMaxMs: median(rs.map((r) => Math.max(0, ...r.refusalMs))),
      failures: rs.reduce((a, r) => a + r.failures.length, 0),
    };
  });
}

export function printDensity(rows: DensityRow[], runs: number): void {
  const head = ['N', 'admitted', 'fps min', 'visible p50', 'visible p95', 'tone min', 'CPU/rec', 'service', 'publishers', 'livekit', 'stop max', 'refuse max', 'failures'];
  process.stdout.write(`\ndensity: medians of ${runs} runs (latency: start request -> first frame showing the participant, ms)\n`);
  process.stdout.write(`${head.map((h) => h.padStart(11)).join('')}\n`);
  for (const r of rows) {
    const cells = [r.n, r.admitted, r.fpsMin.toFixed(1), r.latencyMedianMs, r.latencyP95Ms, r.toneCoverageMin.toFixed(2), r.cpuPerRecording.toFixed(3), r.serviceCores.toFixed(2), r.publisherCores.toFixed(2), r.livekitCores.toFixed(2), r.stopMaxMs, r.refusalMaxMs, r.failures];
    process.stdout.write(`${cells.map((c) => String(c).padStart(11)).join('')}\n`);
  }
}
