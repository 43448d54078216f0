/**
 * The file's A/V offset (issue 11's drift), quiet and under a CPU hog: BENCH_RUNS pairs of
 * recordings of BENCH_SECONDS (720p30, one publisher that flashes white and beeps together;
 * BENCH_PUBLISHER, below), one quiet and one with BENCH_HOG busy loops (test/helpers/cpu-hog.ts)
 * from 2 s until 3 s before the stop, in turn. For each file, every flash is paired with its
 * beep (test/helpers/av-sync.ts: positive, the sound late) after the recorder's own correction
 * (RECORDER_AV_OFFSET_MS); prints each run's offsets and, per kind, the median over the runs
 * of each file's median, of its first flash's and of its largest offset either way, beside the offset the page
 * measured (the quality report's avOffset). Run: node dist/scripts/bench-avsync.js (after
 * npm run build), under the CPU lock.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../src/config';
import type { LivekitCredentials } from '../src/livekit/tokens';
import { FilePublishers } from '../src/demo/file-publishers';
import { SyntheticPublishers } from '../src/demo/synthetic-publishers';
import { flashBeepOffsets } from '../test/helpers/av-sync';
import { CpuHog } from '../test/helpers/cpu-hog';
import { median, sleep } from './bench-lib';
import { syntheticPublishers, withBenchRig } from './bench-rig';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 16);
const HOG_LOOPS = Number(process.env.BENCH_HOG ?? 4);
/**
 * The hog sessions' nice: at the quality e2e's -8 they starve livekit-server and the publisher
 * too, so the file holds no flash to measure while the hog runs; at 0 each loop weighs as much
 * as the recorder's browser, a busy machine that still forwards media.
 */
const HOG_NICE = Number(process.env.BENCH_HOG_NICE ?? 0);
/** file: a pre-encoded publisher (tools/file-publisher, flashes every 2 s) that a hog cannot put out of sync; chromium: the synthetic page the e2e tests use (every 1 s), itself starved by the hog. */
const PUBLISHER = process.env.BENCH_PUBLISHER ?? 'file';
const KINDS = (process.env.BENCH_KINDS ?? 'quiet,hog').split(',') as ('quiet' | 'hog')[];

interface Row {
  /** The first flash's offset (its first second): the sound's receive buffer still grows then. */
  firstMs: number;
  offsetsMs: number[];
  medianMs: number;
  maxLateMs: number;
  maxEarlyMs: number;
  pageMedianMs?: number;
  pageMaxBehindMs?: number;
  fps?: number;
}

/** The pre-encoded file publisher (in sync whatever the load), or the e2e's Chromium page (BENCH_PUBLISHER=chromium). */
const launchPublishers = (livekit: LivekitCredentials, config: Config) =>
  PUBLISHER === 'chromium' ? syntheticPublishers(livekit, config) : FilePublishers.launch({ livekit, ffmpegPath: config.recorder.ffmpegPath });

async function main(): Promise<void> {
  const rows: Record<string, Row[]> = Object.fromEntries(KINDS.map((k) => [k, []]));
  const join = async (p: SyntheticPublishers | FilePublishers) => void (await p.add({ room: 'bench-avsync', identity: 'flash', colour: '#000000', tone: 1000, flash: true }));
  // the offset the recorder applied, as configured
  const appliedMs = await withBenchRig({ name: 'bench-avsync', publishers: launchPublishers, join, settleMs: 2000 }, async ({ dir, config, recorder }) => {
    // a fresh browser's first recording is not counted (bench-tracks: it costs more)
    const warmup = await recorder.start({ id: 'warmup', roomName: 'bench-avsync', outputPath: path.join(dir, 'warmup.mp4'), options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid' } });
    await sleep(4000);
    await warmup.stop();
    await sleep(2000);
    for (let r = 0; r < RUNS * KINDS.length; r++) {
      const kind = KINDS[r % KINDS.length];
      const id = `run${r}`;
      const live = await recorder.start({ id, roomName: 'bench-avsync', outputPath: path.join(dir, `${id}.mp4`), options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid' } });
      const hog = new CpuHog(kind === 'hog' ? HOG_LOOPS : 0, HOG_NICE);
      await sleep(2000);
      hog.start();
      try {
        await sleep((SECONDS - 5) * 1000);
      } finally {
        hog.stop();
      }
      await sleep(3000);
      const result = await live.stop();
      const { offsets } = await flashBeepOffsets(result.path, result.durationMs / 1000 + 1);
      const ms = offsets.map((o) => Math.round(o.d * 1000));
      const page = result.quality?.avOffset?.participants[0];
      const row: Row = { firstMs: ms[0]!, offsetsMs: ms, medianMs: median(ms), maxLateMs: Math.max(...ms), maxEarlyMs: Math.min(...ms), pageMedianMs: page?.medianMs, pageMaxBehindMs: page?.maxBehindMs, fps: result.quality?.fps };
      rows[kind].push(row);
      process.stdout.write(`${kind} ${id}: ${JSON.stringify({ ...row, at: offsets.map((o) => Number(o.t.toFixed(1))), hogCpuS: hog.cpuSeconds })}\n`);
      fs.rmSync(result.path, { force: true });
      fs.rmSync(result.spoolPath, { force: true });
      await sleep(2000);
    }
    return config.recorder.avOffsetMs;
  });
  const med = (xs: (number | undefined)[]) => median(xs.filter((x): x is number => x !== undefined));
  const summary = Object.fromEntries(
    KINDS.map((k) => [
      k,
      {
        fileMedianMs: med(rows[k].map((x) => x.medianMs)),
        firstFlashMs: med(rows[k].map((x) => x.firstMs)),
        fileMaxLateMs: med(rows[k].map((x) => x.maxLateMs)),
        fileMaxEarlyMs: med(rows[k].map((x) => x.maxEarlyMs)),
        worstLateMs: Math.max(...rows[k].map((x) => x.maxLateMs)),
        worstEarlyMs: Math.min(...rows[k].map((x) => x.maxEarlyMs)),
        pageMedianMs: med(rows[k].map((x) => x.pageMedianMs)),
        pageMaxBehindMs: med(rows[k].map((x) => x.pageMaxBehindMs)),
        fps: med(rows[k].map((x) => x.fps)),
      },
    ]),
  );
  process.stdout.write(`${JSON.stringify({ publisher: PUBLISHER, runs: RUNS, seconds: SECONDS, hogLoops: HOG_LOOPS, hogNice: HOG_NICE, avOffsetAppliedMs: appliedMs, ...summary }, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
