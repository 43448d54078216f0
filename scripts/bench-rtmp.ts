/**
 * What an RTMP stream output costs and how far behind it is (issue 12 item 2's figures):
 * recordings of BENCH_SECONDS at 1280x720 30 fps with 3 synthetic publishers, alternately the
 * file alone and the file with one RTMP stream to a local nginx (test/helpers/rtmp-server.ts),
 * BENCH_RUNS of each. Prints, as medians: the recorder's CPU seconds per recorded second (its
 * browser tree, its FFmpeg processes, this process), the stream's FFmpeg alone, and how far
 * behind the recording the stream's video packets reach a reader (arrival less recordingAt
 * plus the packet's timestamp, over the last 5 s).
 * Run: node dist/scripts/bench-rtmp.js (after npm run build).
 */
import fs from 'node:fs';
import path from 'node:path';
import { processTree } from '../src/observability/process-tree';
import type { RecordingRequest } from '../src/recordings/contract';
import { packetLagMs, RtmpServer } from '../test/helpers/rtmp-server';
import { cpuSeconds, median, sleep } from './bench-lib';
import { syntheticPublishers, threeColourPublishers, withBenchRig } from './bench-rig';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);

/** This process's FFmpeg children (the file's and the streams'). */
function ffmpegChildren(): number[] {
  return processTree(process.pid).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg';
    } catch {
      return false;
    }
  });
}

async function main(): Promise<void> {
  const rows: Record<'file' | 'rtmp', { cpuPerSecond: number; streamCpuPerSecond: number; lagMs?: number }[]> = { file: [], rtmp: [] };
  const rtmp = await RtmpServer.start();
  await withBenchRig({ name: 'bench-rtmp', publishers: syntheticPublishers, join: threeColourPublishers('bench-rtmp'), settleMs: 3000 }, async ({ dir, recorder }) => {
    for (let r = 0; r < RUNS * 2; r++) {
      const kind = r % 2 === 0 ? 'file' : 'rtmp';
      const id = `run${r}`;
      const req: RecordingRequest = {
        id,
        roomName: 'bench-rtmp',
        outputPath: path.join(dir, `${id}.mp4`),
        options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid', ...(kind === 'rtmp' ? { outputs: [{ type: 'rtmp', url: rtmp.url(id) }] } : {}) },
      };
      const browserPid = recorder.pool.pids()[0];
      const cpu0 = cpuSeconds(processTree(browserPid));
      const self0 = process.cpuUsage();
      const live = await recorder.start(req);
      const start = await live.firstChunk;
      await sleep((SECONDS - 5) * 1000);
      const lagMs = kind === 'rtmp' ? await packetLagMs(rtmp.url(id), start.recordingAt.getTime(), 5000) : (await sleep(5000), undefined);
      // asked late: the FFmpeg processes are known once spawned (their CPU is cumulative)
      const fileFfmpeg = live.ffmpegPid();
      const all = ffmpegChildren();
      const ffCpu = cpuSeconds(all);
      const streamCpu = cpuSeconds(all.filter((p) => p !== fileFfmpeg));
      const result = await live.stop();
      const self = process.cpuUsage(self0);
      const browserCpu = cpuSeconds(processTree(browserPid)) - cpu0;
      const seconds = result.durationMs / 1000;
      rows[kind].push({ cpuPerSecond: (browserCpu + ffCpu + (self.user + self.system) / 1e6) / seconds, streamCpuPerSecond: streamCpu / seconds, ...(lagMs !== undefined ? { lagMs } : {}) });
      process.stdout.write(`${kind} ${id}: ${JSON.stringify({ ...rows[kind].at(-1), fileMs: result.durationMs })}\n`);
      await sleep(2000);
    }
  }).finally(() => rtmp.close());
  const med = (kind: 'file' | 'rtmp', k: keyof (typeof rows)['file'][number]) => median(rows[kind].map((x) => x[k] ?? NaN));
  const summary = {
    runs: RUNS,
    seconds: SECONDS,
    cpuPerSecond: { file: med('file', 'cpuPerSecond'), rtmp: med('rtmp', 'cpuPerSecond') },
    streamFfmpegCpuPerSecond: med('rtmp', 'streamCpuPerSecond'),
    readerLagMs: med('rtmp', 'lagMs'),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
