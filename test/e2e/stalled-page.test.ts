import path from 'node:path';
import { probe } from '../../src/recorder/probe';
import type { RecordingResult } from '../../src/recordings/contract';
import { colourRegion, frameAt } from '../helpers/media';
import { type RecorderRig, useRecorderRig } from '../helpers/recorder-rig';
import { sleep } from '../helpers/recorder-process';

/**
 * A recorder page that sends no media for longer than the stall limit (RECORDER_INGEST_STALL_SECONDS,
 * 3 s here): its browser is stopped (SIGSTOP to its process group), as a machine too busy to run
 * it or a hung browser would leave it. A page that answers once it runs again is kept recording;
 * one that does not ends with INGEST_STALLED; either way nothing the page captured is lost.
 * The watchdog asks the page when the silence passes 3 s and waits 3 s for its answer.
 */
const STALL_SECONDS = 3;

let dir: string;
let publishers: RecorderRig['publishers'];
let recorder: RecorderRig['recorder'];
useRecorderRig((r) => ({ dir, publishers, recorder } = r), { settings: { ingestStallSeconds: STALL_SECONDS } });

/**
 * The recorder's browser stopped `forMs` (for good without it) half a timeslice after the first
 * chunk that came `atMs` into a recording of `room`, so the page holds half a chunk; the
 * recording stopped at `stopAtMs` if it still runs. `frozenAt`: the freeze's place in the file (s).
 */
async function recordFrozen(room: string, colour: string, o: { atMs: number; forMs?: number; stopAtMs?: number }): Promise<RecordingResult & { frozenAt: number }> {
  const pub = await publishers.add({ room, identity: room, colour, tone: 640 });
  const browser = recorder.pool.pids()[0]!;
  let frozen = false;
  try {
    await sleep(1000);
    const live = await recorder.start({ id: `${room}-${Date.now()}`, roomName: room, outputPath: path.join(dir, `${room}.mp4`), options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid' } });
    const t0 = Date.now();
    await sleep(o.atMs);
    const chunks = live.progress().chunks;
    while (live.progress().chunks === chunks) await sleep(10);
    await sleep(500);
    // the browser leads a process group of its own (browser-launch.ts)
    process.kill(-browser, 'SIGSTOP');
    const frozenAtMs = Date.now();
    frozen = true;
    if (o.forMs !== undefined) {
      await sleep(o.forMs);
      process.kill(-browser, 'SIGCONT');
      frozen = false;
    }
    if (o.stopAtMs !== undefined) {
      await sleep(Math.max(0, o.stopAtMs - (Date.now() - t0)));
      void live.stop().catch(() => undefined);
    }
    const result = await live.done;
    return { ...result, frozenAt: (frozenAtMs - result.startedAt.getTime()) / 1000 };
  } finally {
    // the recorder may have killed the frozen browser by now
    if (frozen) process.kill(-browser, 'SIGCONT');
    await pub.leave();
  }
}

test('a page silent past the stall limit that answers once it runs again goes on recording: the file runs to the stop', async () => {
  // frozen 4 s: the watchdog asks 2 to 3.5 s into the freeze (the last chunk came up to a
  // timeslice before it), and the page answers within the 3 s it waits
  const result = await recordFrozen('thawed', '#3cb371', { atMs: 3000, forMs: 4000, stopAtMs: 11000 });
  const info = await probe('ffprobe', result.path);
  console.log(`thawed page: ${JSON.stringify({ endReason: result.endReason, durationMs: info.durationMs, chunks: result.quality?.chunks })}`);
  expect(result.error).toBeUndefined();
  expect(result.endReason).toBe('stopped');
  expect(result.quality?.chunks?.longestGapMs).toBeGreaterThan(STALL_SECONDS * 1000);
  expect(info.durationMs).toBeGreaterThan(10000);
  expect(colourRegion(await frameAt(result.path, 10), '#3cb371').share).toBeGreaterThan(0.2);
}, 90000);

test('a page that answers too late ends with INGEST_STALLED, and its file still holds what the page held when it ran again', async () => {
  // frozen 9 s from 4 s: the wait for an answer ends 5 to 6.5 s into the freeze; the stop that
  // follows asks the page for what it holds, and it answers once it runs again
  const result = await recordFrozen('late-answer', '#4169e1', { atMs: 4000, forMs: 9000 });
  const info = await probe('ffprobe', result.path);
  console.log(`late answer: ${JSON.stringify({ endReason: result.endReason, error: result.error?.code, durationMs: info.durationMs, frozenAt: result.frozenAt })}`);
  expect(result.endReason).toBe('failed');
  expect(result.error?.code).toBe('INGEST_STALLED');
  // the half chunk the page held at the freeze reached the file too: without the flush the file
  // ended at the last chunk before the freeze, half a timeslice earlier
  expect(info.durationMs / 1000).toBeGreaterThan(result.frozenAt - 0.15);
  expect(colourRegion(await frameAt(result.path, result.frozenAt - 0.2), '#4169e1').share).toBeGreaterThan(0.2);
}, 90000);

test('a page frozen for good ends with INGEST_STALLED and keeps what came before', async () => {
  const result = await recordFrozen('frozen', '#ff7f50', { atMs: 5000 });
  const info = await probe('ffprobe', result.path);
  console.log(`frozen page: ${JSON.stringify({ endReason: result.endReason, error: result.error?.code, durationMs: info.durationMs, frozenAt: result.frozenAt })}`);
  expect(result.endReason).toBe('failed');
  expect(result.error?.code).toBe('INGEST_STALLED');
  // what the page held at the freeze is lost with the browser: at most a timeslice (and a frame)
  expect(info.durationMs / 1000).toBeGreaterThan(result.frozenAt - 1.1);
  expect(colourRegion(await frameAt(result.path, info.durationMs / 1000 - 0.3), '#ff7f50').share).toBeGreaterThan(0.2);
}, 90000);
