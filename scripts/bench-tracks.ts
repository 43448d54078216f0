/**
 * What per-participant tracks cost (issue 11 item 5's figure): recordings of BENCH_SECONDS at
 * 1280x720 30 fps with 3 synthetic publishers, in turn without tracks, with `tracks: "audio"`
 * and with `tracks: "audio+video"`, BENCH_RUNS of each. Prints, as medians, the recorder's CPU
 * seconds per recorded second (its browser tree, its FFmpeg, this process) and the bytes of the
 * track spools per recorded second, after one recording not counted (a fresh browser's first).
 * The publishers' pictures are solid colours, which cost a camera track's encoder next to
 * nothing: a real camera's costs more. Post-processing's remux of the tracks (a stream copy) is not
 * in it. Run: node dist/scripts/bench-tracks.js (after npm run build), under the CPU lock.
 */
import fs from 'node:fs';
import path from 'node:path';
import { trackDirOf } from '../src/recorder/track-spools';
import type { RecordingRequest } from '../src/recordings/contract';
import { TRACKS_MODES } from '../src/recordings/tracks-option';
import { measuredRecording, median, sleep } from './bench-lib';
import { syntheticPublishers, threeColourPublishers, withBenchRig } from './bench-rig';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const KINDS = ['none', ...TRACKS_MODES] as const;
type Kind = (typeof KINDS)[number];

function dirBytes(dir: string): number {
  return fs.existsSync(dir) ? fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0) : 0;
}

async function main(): Promise<void> {
  const rows: Record<Kind, { cpuPerSecond: number; trackBytesPerSecond: number }[]> = { none: [], audio: [], 'audio+video': [] };
  await withBenchRig({ name: 'bench-tracks', publishers: syntheticPublishers, join: threeColourPublishers('bench-tracks'), settleMs: 3000 }, async ({ dir, settings, recorder }) => {
    // the first recording of a fresh browser costs more (seen: 0.29 cores, 0.14 after): not counted
    await measuredRecording(recorder, { id: 'warmup', roomName: 'bench-tracks', outputPath: path.join(dir, 'warmup.mp4'), options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid' } }, 5);
    for (let r = 0; r < RUNS * KINDS.length; r++) {
      const kind = KINDS[r % KINDS.length];
      const id = `run${r}`;
      const req: RecordingRequest = {
        id,
        roomName: 'bench-tracks',
        outputPath: path.join(dir, `${id}.mp4`),
        options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid', ...(kind === 'none' ? {} : { tracks: kind }) },
      };
      const { result, cpuPerSecond } = await measuredRecording(recorder, req, SECONDS);
      rows[kind].push({ cpuPerSecond, trackBytesPerSecond: dirBytes(trackDirOf(settings.spoolDir, id)) / (result.durationMs / 1000) });
      process.stdout.write(`${kind} ${id}: ${JSON.stringify({ ...rows[kind].at(-1), fileMs: result.durationMs })}\n`);
      await sleep(2000);
    }
  });
  const med = (kind: Kind, k: 'cpuPerSecond' | 'trackBytesPerSecond') => Math.round(median(rows[kind].map((x) => x[k])) * 1000) / 1000;
  const summary = {
    runs: RUNS,
    seconds: SECONDS,
    cpuPerSecond: Object.fromEntries(KINDS.map((k) => [k, med(k, 'cpuPerSecond')])),
    addedCoresPerRecording: Object.fromEntries(TRACKS_MODES.map((k) => [k, Math.round((med(k, 'cpuPerSecond') - med('none', 'cpuPerSecond')) * 1000) / 1000])),
    trackBytesPerSecond: Object.fromEntries(TRACKS_MODES.map((k) => [k, Math.round(med(k, 'trackBytesPerSecond'))])),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
