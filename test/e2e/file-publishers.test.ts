import { execFile } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config';
import { FilePublishers } from '../../src/demo/file-publishers';
import { roomService } from '../../src/livekit/tokens';
import { processTree } from '../../src/observability/process-tree';
import { Recorder } from '../../src/recorder/recorder';
import type { RecordingResult } from '../../src/recordings/contract';
import { audioSamples, colourRegion, frameAt, processAlive, tonePower } from '../helpers/media';

/**
 * The cheap publishers (tools/file-publisher, pre-encoded files looped) against the real
 * recorder and livekit-server: what they publish is what the recording shows and plays.
 */
const livekit = {
  url: process.env.TEST_LIVEKIT_URL!,
  apiKey: process.env.TEST_LIVEKIT_API_KEY!,
  apiSecret: process.env.TEST_LIVEKIT_API_SECRET!,
};
const config = loadConfig({});
const run = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const people = [
  { identity: 'red', colour: '#ff0000', tone: 500 },
  { identity: 'blue', colour: '#0000ff', tone: 1300 },
];

let dir: string;
let publishers: FilePublishers;
let recorder: Recorder;
let result: RecordingResult;
let pids: number[];

/**
 * File times (s) where the picture turns from dark to bright. One decoded picture per
 * stored frame (passthrough): FFmpeg would otherwise fill the frame rate it guesses from
 * the timestamps (for some files 59.94), and picture k would no longer be frame k.
 */
async function whiteOnsets(file: string): Promise<number[]> {
  const [{ stdout: luma }, { stdout: times }] = await Promise.all([
    run('ffmpeg', ['-v', 'error', '-i', file, '-vf', 'scale=16:9,format=gray', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-'], { encoding: 'buffer', maxBuffer: 1 << 26 }),
    run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file]),
  ]);
  const bright = (k: number) => luma.subarray(k * 144, (k + 1) * 144).reduce((a, b) => a + b, 0) / 144 > 128;
  return times
    .trim()
    .split('\n')
    .map(Number)
    .filter((_, i) => bright(i) && (i === 0 || !bright(i - 1)));
}

/** File times (s) where the sound starts after silence, in 10 ms steps. */
async function beepOnsets(file: string): Promise<number[]> {
  const samples = await audioSamples(file, 0, 60);
  const onsets: number[] = [];
  for (let i = 0, on = false; i + 160 <= samples.length; i += 160) {
    const power = samples.subarray(i, i + 160).reduce((a, x) => a + x * x, 0) / 160;
    if (power > 0.01 && !on) onsets.push(i / 16000);
    on = power > 0.01;
  }
  return onsets;
}

/** Publisher processes under this one (a detached child keeps its parent). */
function publisherProcesses(): number[] {
  return processTree(process.pid).filter((pid) => {
    try {
      return fsSync.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('lkrec-file-pub');
    } catch {
      return false;
    }
  });
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-filepub-'));
  // a media dir of its own: the run makes the files with FFmpeg, as on a new machine
  publishers = await FilePublishers.launch({ livekit, ffmpegPath: config.recorder.ffmpegPath, mediaDir: path.join(dir, 'media') });
  recorder = await Recorder.create({ ...config.recorder, warmBrowsers: 1, spoolDir: path.join(dir, 'spool') }, livekit);
  await Promise.all(people.map((p) => publishers.add({ room: 'files', ...p })));
  pids = publishers.pids();
  const live = await recorder.start({
    id: `files-${Date.now()}`,
    roomName: 'files',
    outputPath: path.join(dir, 'files.mp4'),
    options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid' },
  });
  await sleep(5000);
  result = await live.stop();
}, 90000);

afterAll(async () => {
  await recorder?.close();
  await publishers?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

it('runs one process per publisher, each in a group of its own', async () => {
  expect(pids).toHaveLength(2);
  for (const pid of pids) {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(pgrp).toBe(pid);
  }
});

it('shows both publishers’ colours from 1 s on', async () => {
  const end = (result.endedAt.getTime() - result.startedAt.getTime()) / 1000;
  for (const t of [1, 2, 3, end - 0.5]) {
    const frame = await frameAt(result.path, t);
    const missing = people.filter((p) => colourRegion(frame, p.colour).share <= 0.08).map((p) => p.identity);
    expect({ t, missing }).toEqual({ t, missing: [] });
  }
});

it('carries both publishers’ tones in the audio', async () => {
  const samples = await audioSamples(result.path, 1, 3.5);
  const floor = Math.max(...[700, 1000, 1700].map((hz) => tonePower(samples, hz)));
  for (const p of people) expect(tonePower(samples, p.tone)).toBeGreaterThan(floor * 100);
});

it('leaves the room and ends every publisher process on close()', async () => {
  expect(pids.every((pid) => processAlive(pid))).toBe(true);
  await publishers.close();
  expect(pids.filter((pid) => processAlive(pid))).toEqual([]);
  expect(publishers.pids()).toEqual([]);
  // they said goodbye: the server drops them within moments, not after its ~20 s timeout
  let still: string[] = [];
  for (const deadline = Date.now() + 3000; Date.now() < deadline; await sleep(100)) {
    const inRoom = await roomService(livekit).listParticipants('files').catch(() => []);
    still = inRoom.map((p) => p.identity).filter((id) => people.some((p) => p.identity === id));
    if (!still.length) break;
  }
  expect(still).toEqual([]);
  expect(publisherProcesses()).toEqual([]);
});

it('flashes white and beeps together every 2 s, at wall-clock instants of 2 s from the epoch (flash)', async () => {
  const flashers = await FilePublishers.launch({ livekit, mediaDir: path.join(dir, 'media') });
  let flashed: RecordingResult;
  try {
    await flashers.add({ room: 'flash', identity: 'flash', colour: '#000000', tone: 0, flash: true });
    const live = await recorder.start({
      id: `flash-${Date.now()}`,
      roomName: 'flash',
      outputPath: path.join(dir, 'flash.mkv'),
      options: { width: 640, height: 360, fps: 30, format: 'mkv', layout: 'grid' },
    });
    await sleep(7000);
    flashed = await live.stop();
  } finally {
    await flashers.close();
  }
  const white = await whiteOnsets(flashed.path);
  const beeps = await beepOnsets(flashed.path);
  // one line, so that a failure's diff prints it whole
  const seen = JSON.stringify({ white, beeps, startMod2s: flashed.startedAt.getTime() % 2000, ms: flashed.durationMs });
  expect({ seen, flashes: white.length >= 2 }).toEqual({ seen, flashes: true });
  // 2 s apart, but for a flash in the file's first 3 s: the sound's receive buffer still grows
  // then, towards its 150 ms floor, and the picture's grows with it (the page's lip sync), so
  // the next flash may come up to that much late (measured 2.03 to 2.10 s on, the beeps 2.01 to 2.09)
  const intervals = white.slice(1).map((t, i) => ({ from: white[i], d: Math.round((t - white[i]) * 1000) / 1000 }));
  const every2s = intervals.every(({ from, d }) => (from < 3 ? d > 1.9 && d < 2.2 : Math.abs(d - 2) < 0.1));
  expect({ seen, every2s }).toEqual({ seen, every2s: true });
  // in phase with the wall clock: a flash at whole 2 s from the epoch, plus the way to the
  // file (the file's first seconds may miss one, before the picture arrives)
  const phase = (((white[0] + flashed.startedAt.getTime() / 1000) % 2) + 2.1) % 2 - 0.1;
  expect({ seen, phase, inPhase: phase < 0.5 }).toEqual({ seen, phase, inPhase: true });
  // A beep with every flash. Not at zero distance in the file: this publisher has no capture
  // or encoder delay, which RECORDER_AV_OFFSET_MS cancels for browser publishers, so its beeps
  // land 0-0.25 s before the white frame (measured; the first one of a file may differ by
  // 0.1 s while the receiver's jitter buffers settle). The recorder's own A/V offset is
  // measured with browser publishers by `npm run bench`.
  const offsets = white.map((t) => beeps.reduce((best, b) => (Math.abs(b - t) < Math.abs(best - t) ? b : best), Infinity) - t);
  expect({ seen, paired: offsets.every((o) => Math.abs(o) < 0.4) }).toEqual({ seen, paired: true });
}, 60000);

it('rejects a publisher that cannot join, and leaves no process behind', async () => {
  const other = await FilePublishers.launch({ livekit: { ...livekit, apiSecret: 'not-the-secret' }, mediaDir: path.join(dir, 'media') });
  await expect(other.add({ room: 'files', identity: 'refused', colour: '#00ff00', tone: 800 })).rejects.toThrow(/file publisher refused/);
  expect(other.pids()).toEqual([]);
  expect(publisherProcesses()).toEqual([]);
});
