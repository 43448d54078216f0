/**
 * What an HLS output costs and how far behind it is (issue 12 item 1's figures): recordings of
 * BENCH_SECONDS at 1280x720 30 fps with 3 synthetic publishers, alternately the file alone and
 * the file with HLS (BENCH_HLS_SEGMENT seconds, live, to local storage), BENCH_RUNS of each.
 * Prints, as medians: the recorder's CPU seconds per recorded second (its browser tree, its
 * FFmpeg, this process) and FFmpeg's alone; the keyframe spacing in the file; and for HLS the
 * time from a segment's first and last frame to it being readable in the storage.
 * Run: node dist/scripts/bench-hls.js (after npm run build).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RecordingRequest } from '../src/recordings/contract';
import { LocalStorage } from '../src/storage/local';
import { measuredRecording, median, sleep } from './bench-lib';
import { syntheticPublishers, threeColourPublishers, withBenchRig } from './bench-rig';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const SEGMENT = Number(process.env.BENCH_HLS_SEGMENT ?? 4);

/** Seconds between the keyframes of the file's video. */
async function keyframeGaps(file: string): Promise<number[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file], { maxBuffer: 1 << 26 });
  const keys = stdout.trim().split('\n').filter((l) => l.split(',')[1]?.startsWith('K')).map((l) => Number(l.split(',')[0]));
  return keys.slice(1).map((t, i) => Math.round((t - keys[i]) * 1000) / 1000);
}

async function main(): Promise<void> {
  const rows: Record<'file' | 'hls', { cpuPerSecond: number; ffmpegCpuPerSecond: number; keyframeGapMedian: number; readableAfterFirst?: number; readableAfterLast?: number }[]> = { file: [], hls: [] };
  await withBenchRig({ name: 'bench-hls', publishers: syntheticPublishers, join: threeColourPublishers('bench-hls'), settleMs: 3000, hls: (dir) => ({ storage: new LocalStorage({ dir: path.join(dir, 'store') }), prefix: '' }) }, async ({ dir, recorder }) => {
    for (let r = 0; r < RUNS * 2; r++) {
      const kind = r % 2 === 0 ? 'file' : 'hls';
      const id = `run${r}`;
      const req: RecordingRequest = {
        id,
        callId: 'bench',
        roomName: 'bench-hls',
        outputPath: path.join(dir, `${id}.mp4`),
        options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid', ...(kind === 'hls' ? { outputs: [{ type: 'hls', segmentSeconds: SEGMENT, live: true }] } : {}) },
      };
      const { result, cpuPerSecond, ffmpegCpuPerSecond } = await measuredRecording(recorder, req, SECONDS);
      const gaps = await keyframeGaps(result.path);
      const hls = result.quality?.hls;
      rows[kind].push({
        cpuPerSecond,
        ffmpegCpuPerSecond,
        keyframeGapMedian: median(gaps),
        ...(hls?.readableAfterMs ? { readableAfterFirst: hls.readableAfterMs.firstFrame, readableAfterLast: hls.readableAfterMs.lastFrame } : {}),
      });
      process.stdout.write(`${kind} ${id}: ${JSON.stringify({ ...rows[kind].at(-1), fileMs: result.durationMs, gaps, hls })}\n`);
      await sleep(2000);
    }
  });
  const med = (kind: 'file' | 'hls', k: keyof (typeof rows)['file'][number]) => median(rows[kind].map((x) => x[k] ?? NaN));
  const summary = {
    runs: RUNS,
    seconds: SECONDS,
    segmentSeconds: SEGMENT,
    cpuPerSecond: { file: med('file', 'cpuPerSecond'), hls: med('hls', 'cpuPerSecond') },
    ffmpegCpuPerSecond: { file: med('file', 'ffmpegCpuPerSecond'), hls: med('hls', 'ffmpegCpuPerSecond') },
    keyframeGapSeconds: { file: med('file', 'keyframeGapMedian'), hls: med('hls', 'keyframeGapMedian') },
    readableAfterMs: { firstFrame: med('hls', 'readableAfterFirst'), lastFrame: med('hls', 'readableAfterLast') },
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
