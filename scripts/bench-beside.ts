/**
 * The "beside" part of `npm run bench`: the first second of a recording started while three
 * others are already running on the machine (issue: "at most 1.0 s at the median, 1.5 s at
 * p95, alone and with three other recordings running"), and whether those three stay right
 * while the new ones come and go (admitted recordings are never degraded by later ones).
 * Each run: three recordings started one after the other, then TRIALS starts of a fourth,
 * each recorded a few seconds and stopped, then the three are stopped and checked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { firstFrames } from '../test/helpers/first-frame';
import { median, percentile, sleep } from './bench-lib';
import { SETTLE_MS, completedFile, toneCoverage, type PublisherHost } from './bench-density';
import type { BenchService } from './bench-service';

const COLOURS = ['#ff0000', '#00ff00', '#0000ff', '#ffff00'];
const TONES = [500, 700, 900, 1100];
const RUNNING = 3;
const TRIALS = 4;
const TRIAL_SECONDS = 6;

export interface BesideRun {
  /** Start request -> first frame showing the participant, for each start of the fourth (ms; NaN never). */
  latencyMs: number[];
  /** Starts of the fourth refused with NO_CAPACITY (the product saying it would not record it right). */
  refused: number;
  /** Frame rate and tone coverage of the fourth's files and of the three that ran throughout. */
  fourthFps: number[];
  runningFps: number[];
  runningTone: number[];
  failures: string[];
}

interface Ctx {
  service: BenchService;
  publishers: PublisherHost;
  dir: string;
  tag: string;
}

async function start(ctx: Ctx, call: string): Promise<{ id?: string; refused: boolean; requestedAt: number; error?: string }> {
  const requestedAt = Date.now();
  const res = await ctx.service.api('POST', `/api/video-calls/${call}/recording/start`, { format: 'mp4', resolution: '720p', fps: 30, layout: 'grid' });
  if (res.status === 201) return { id: res.body.data.id as string, refused: false, requestedAt };
  return { refused: res.status === 503 && res.body?.error?.code === 'NO_CAPACITY', requestedAt, error: `HTTP ${res.status} ${res.body?.error?.code}: ${res.body?.error?.message ?? ''}` };
}

export async function besideRun(ctx: Ctx): Promise<BesideRun> {
  const rooms = Array.from({ length: RUNNING + 1 }, (_, i) => ({ i, call: `${ctx.tag}-b${i}` }));
  const pubs = [];
  for (const r of rooms) pubs.push(await ctx.publishers.add({ room: r.call, identity: `p${r.i}`, colour: COLOURS[r.i], tone: TONES[r.i] }));
  for (const r of rooms) await ctx.service.createCall(r.call, r.call);
  await sleep(SETTLE_MS);
  const run: BesideRun = { latencyMs: [], refused: 0, fourthFps: [], runningFps: [], runningTone: [], failures: [] };

  // the three that run throughout, started one after the other as a call app would
  const running: { call: string; i: number; id: string }[] = [];
  for (const r of rooms.slice(0, RUNNING)) {
    const s = await start(ctx, r.call);
    if (!s.id) {
      run.failures.push(`running ${r.call}: ${s.error}`);
      continue;
    }
    running.push({ call: r.call, i: r.i, id: s.id });
    await ctx.service.waitStatus(r.call, s.id, ['RECORDING'], 30_000).catch((e: Error) => run.failures.push(e.message));
    await sleep(2000);
  }
  await sleep(3000); // the standby pages those starts took are loaded again

  const fourth = rooms[RUNNING];
  for (let t = 0; t < TRIALS; t++) {
    const s = await start(ctx, fourth.call);
    if (!s.id) {
      if (s.refused) run.refused++;
      else run.failures.push(`fourth ${t}: ${s.error}`);
      await sleep(TRIAL_SECONDS * 1000);
      continue;
    }
    await sleep(TRIAL_SECONDS * 1000);
    await ctx.service.api('POST', `/api/video-calls/${fourth.call}/recording/stop`);
    const done = await completedFile(ctx.service, fourth.call, s.id, path.join(ctx.dir, `${fourth.call}-${s.id}.mp4`), run.failures);
    if (done) {
      const ff = await firstFrames(done.file, [COLOURS[fourth.i]], { seconds: 4 });
      run.latencyMs.push(ff.allVisibleAfter === null ? NaN : Date.parse(done.view.recordingAt) + ff.allVisibleAfter * 1000 - s.requestedAt);
      run.fourthFps.push(done.fps);
      fs.rmSync(done.file, { force: true });
    }
    await sleep(SETTLE_MS); // the analysis above (FFmpeg decodes) out of admission's 10 s window
  }

  await Promise.all(running.map((r) => ctx.service.api('POST', `/api/video-calls/${r.call}/recording/stop`)));
  for (const r of running) {
    const done = await completedFile(ctx.service, r.call, r.id, path.join(ctx.dir, `${r.call}-${r.id}.mp4`), run.failures);
    if (!done) continue;
    run.runningFps.push(done.fps);
    run.runningTone.push(await toneCoverage(done.file, TONES[r.i], done.info.durationMs / 1000));
    fs.rmSync(done.file, { force: true });
  }
  await Promise.all(pubs.map((p) => p.leave()));
  return run;
}

export function printBeside(runs: BesideRun[]): Record<string, number> {
  const lat = runs.flatMap((r) => r.latencyMs.map((x) => (Number.isNaN(x) ? Infinity : x)));
  const summary = {
    starts: lat.length,
    refused: runs.reduce((a, r) => a + r.refused, 0),
    latencyMedianMs: Math.round(median(lat)),
    latencyP95Ms: Math.round(percentile(lat, 95)),
    fourthFpsMin: Math.min(...runs.flatMap((r) => r.fourthFps)),
    runningFpsMin: Math.min(...runs.flatMap((r) => r.runningFps)),
    runningToneMin: Math.min(...runs.flatMap((r) => r.runningTone)),
    failures: runs.reduce((a, r) => a + r.failures.length, 0),
  };
  process.stdout.write(`\nbeside: a fourth recording started ${TRIALS} times per run while three run (${runs.length} runs)\n`);
  for (const [k, v] of Object.entries(summary)) process.stdout.write(`${k.padEnd(24)} ${String(typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v).padStart(10)}\n`);
  return summary;
}
