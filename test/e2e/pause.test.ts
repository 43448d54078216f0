import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config';
import { FilePublishers } from '../../src/demo/file-publishers';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { probe } from '../../src/recorder/probe';
import { flashBeepOffsets, framesByColour } from '../helpers/av-sync';
import { audioSamples } from '../helpers/media';
import { startTestService, testLivekit, type TestService } from '../helpers/in-process-service';
import { sleep, waitFor } from '../helpers/recorder-process';
import { untilAdmitted } from '../helpers/api-request';

/**
 * Pause and resume on the real recorder, judged by the file: 6 s recorded, 4 s paused while
 * the publisher turns green then blue, 6 s recorded. The file lasts 12 s, no frame is green,
 * red turns to blue at the seam, and the tone goes on through it without a silent gap; a
 * chapter at the resume. Markers become chapters where they were set; a publisher that flashes
 * and beeps together keeps its A/V offset across the seam. A pause that outlasts
 * RECORDING_MAX_PAUSE_SECONDS ends the recording with what was recorded before it.
 */
const RED = '#ff0000';
const GREEN = '#00ff00';
const BLUE = '#0000ff';
const config = loadConfig({});
const MAX_PAUSE_S = 7;
const run = promisify(execFile);

let svc: TestService;
let publishers: SyntheticPublishers;
const joined: Publisher[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-pause-'));

beforeAll(async () => {
  // longer than the 4 s pause below, short enough for the case that waits it out
  svc = await startTestService('pause', { RECORDING_MAX_PAUSE_SECONDS: String(MAX_PAUSE_S) });
  publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit: testLivekit });
}, 60000);
afterAll(async () => {
  await Promise.all(joined.map((p) => p.leave()));
  await publishers?.close();
  await svc?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The file's chapters as ffprobe reads them: title and start (s). */
async function chaptersIn(file: string): Promise<{ title: string; start: number }[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_chapters', '-of', 'json', file]);
  return (JSON.parse(stdout).chapters as { start_time: string; tags?: { title?: string } }[]).map((c) => ({ title: c.tags?.title ?? '', start: Number(c.start_time) }));
}

/** A call with one publisher, recorded (grid, mp4) while `during` runs; the view once COMPLETED and the downloaded file. */
async function record(callId: string, during: (recordingAt: number) => Promise<void>) {
  const room = `room-${callId}`;
  expect((await svc.api('POST', '/api/video-calls', { id: callId, roomName: room, hostId: 'host-1', participantIds: [] })).status).toBe(201);
  const start = await untilAdmitted(() => svc.api('POST', `/api/video-calls/${callId}/recording/start`, { layout: 'grid' }));
  expect(start.status).toBe(201);
  const viewPath = `/api/video-calls/${callId}/recording/${start.body.data.id}`;
  const rec = await waitFor(async () => {
    const r = (await svc.api('GET', viewPath)).body.data;
    return r.status === 'RECORDING' ? r : null;
  }, 30000, 'RECORDING');
  await during(Date.parse(rec.recordingAt));
  await svc.api('POST', `/api/video-calls/${callId}/recording/stop`);
  const done = await waitFor(async () => {
    const r = (await svc.api('GET', viewPath)).body.data;
    return r.status === 'COMPLETED' ? r : null;
  }, 60000, 'COMPLETED');
  const res = await svc.fetchAsHost(`${viewPath}/download`);
  const file = path.join(tmp, `${callId}.mp4`);
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return { done, file };
}

/** The longest run (ms) of 5 ms windows whose level is under a tenth of the median one, between `from` and `to` s of the file. */
async function longestSilenceMs(file: string, from: number, to: number): Promise<number> {
  const samples = await audioSamples(file, from, to - from);
  const rms: number[] = [];
  for (let i = 0; i + 80 <= samples.length; i += 80) rms.push(Math.sqrt(samples.subarray(i, i + 80).reduce((a, x) => a + x * x, 0) / 80));
  const median = [...rms].sort((a, b) => a - b)[Math.floor(rms.length / 2)]!;
  let longest = 0;
  for (let i = 0, n = 0; i < rms.length; i++) {
    n = rms[i]! < median / 10 ? n + 1 : 0;
    longest = Math.max(longest, n * 5);
  }
  return longest;
}

test('6 s, a 4 s pause, 6 s: a 12 s file with the pause cut out, never its colour, the tone unbroken at the seam', async () => {
  const publisher = await publishers.add({ room: 'room-pause-e2e', identity: 'red', colour: RED, tone: 500 });
  joined.push(publisher);
  await sleep(1500);
  let paused!: { pausedAt: string };
  let recordingAt = 0;
  const { done, file } = await record('pause-e2e', async (t0) => {
    recordingAt = t0;
    await sleep(recordingAt + 6000 - Date.now());
    const pause = await svc.api('POST', '/api/video-calls/pause-e2e/recording/pause');
    expect([pause.status, pause.body.data.status]).toEqual([200, 'PAUSED']);
    paused = pause.body.data;
    await publisher.setColour(GREEN);
    await sleep(3000);
    // blue well before the resume, so the first frame after it is blue whatever the SFU's delay
    await publisher.setColour(BLUE);
    await sleep(Date.parse(paused.pausedAt) + 4000 - Date.now());
    const resumed = await svc.api('POST', '/api/video-calls/pause-e2e/recording/resume');
    expect([resumed.status, resumed.body.data.status]).toEqual([200, 'RECORDING']);
    expect(Math.abs(resumed.body.data.pausedMs - 4000)).toBeLessThan(200);
    await sleep(6000);
  });

  // the stored pause is where the page's encoder paused: a moment after the API's stamp (a
  // loaded CI run's page paused 0.25 s after it, and its chapter was that much early before)
  const seam = (Date.parse(done.pausedAt) - recordingAt) / 1000;
  const pageLagMs = Date.parse(done.pausedAt) - Date.parse(paused.pausedAt);
  const info = await probe('ffprobe', file);
  const frames = await framesByColour(file, [RED, GREEN, BLUE]);
  const firstBlue = frames.find((f) => f.colour === BLUE)?.t ?? -1;
  const lastRed = [...frames].reverse().find((f) => f.colour === RED)?.t ?? -1;
  const gaps = frames.slice(1).map((f, i) => f.t - frames[i]!.t);
  const longGaps = frames.slice(1).flatMap((f, i) => (gaps[i]! > 0.06 ? [[f.t, Number(gaps[i]!.toFixed(3))]] : []));
  // frames either side of the seam: nothing frozen there (a gap elsewhere is the machine's load, not the pause)
  const seamGap = Math.max(...frames.slice(1).flatMap((f, i) => (Math.abs(f.t - seam) < 0.5 ? [gaps[i]!] : [])));
  const silenceMs = await longestSilenceMs(file, seam - 1, seam + 1);
  const chapters = await chaptersIn(file);
  // one line, so that a failure's diff prints it whole
  const seen = JSON.stringify({ durationMs: info.durationMs, seam, firstBlue, lastRed, maxFrameGap: Math.max(...gaps), seamGap, longGaps, silenceMs, greens: frames.filter((f) => f.colour === GREEN).length, pausedMs: done.pausedMs, pageLagMs, chapters });
  console.log(`pause e2e: ${seen}`);
  // the time recorded: 6 s and 6 s as the test timed them, or what the service took them to be
  // when a request was handled late on a loaded machine (a seam at 6.226 s was seen in CI)
  const recordedMs = Date.parse(done.stoppingAt) - recordingAt - done.pausedMs;
  expect({ seen, recordedMs, duration: Math.abs(info.durationMs - recordedMs) <= 300 }).toEqual({ seen, recordedMs, duration: true });
  expect({ seen, recordedMs, asTimed: Math.abs(recordedMs - 12000) <= 600 }).toEqual({ seen, recordedMs, asTimed: true });
  expect({ seen, green: frames.some((f) => f.colour === GREEN) }).toEqual({ seen, green: false });
  // red up to the seam, blue from it: nothing frozen or black in between
  expect({ seen, seamAt: Math.abs(firstBlue - seam) < 0.25 && firstBlue > lastRed && firstBlue - lastRed < 0.1 }).toEqual({ seen, seamAt: true });
  expect({ seen, noGap: seamGap < 0.1 }).toEqual({ seen, noGap: true });
  expect({ seen, sound: silenceMs <= 50 }).toEqual({ seen, sound: true });
  expect(Math.abs(done.pausedMs - 4000)).toBeLessThan(200);
  // a chapter at the resume: where the picture turns blue
  expect({ seen, chapters: chapters.map((c) => c.title) }).toEqual({ seen, chapters: ['Start', 'Resumed'] });
  expect({ seen, resumeChapter: Math.abs(chapters[1]!.start - firstBlue) < 0.2 }).toEqual({ seen, resumeChapter: true });
  // the manifest has them too, with the pause and its seam
  const manifest = (await (await fetch(`${svc.base}${done.manifest.url}`)).json()) as { chapters: { title: string; startMs: number }[]; pauses: unknown[] };
  expect(manifest.chapters.map((c: { title: string; startMs: number }) => [c.title, c.startMs / 1000])).toEqual(chapters.map((c) => [c.title, c.start]));
  expect({ seen, pageLag: pageLagMs >= 0 && pageLagMs < 5000 }).toEqual({ seen, pageLag: true });
  expect(manifest.pauses).toEqual([{ pausedAt: done.pausedAt, resumedAt: expect.any(String), atMs: Math.round(seam * 1000) }]);
  // and chapters.json, a sidecar of the recording's view
  const sidecar = (done.sidecars as { kind: string; url: string }[]).find((x) => x.kind === 'chapters.json')!;
  const listed = (await (await fetch(`${svc.base}${sidecar.url}`)).json()) as { title: string; startMs: number }[];
  expect(listed.map((c) => [c.title, c.startMs / 1000])).toEqual(chapters.map((c) => [c.title, c.start]));
}, 120000);

test('three markers: three chapters where they were set, on the file clock', async () => {
  const publisher = await publishers.add({ room: 'room-markers-e2e', identity: 'red2', colour: RED, tone: 500 });
  joined.push(publisher);
  await sleep(1500);
  const wanted: { label: string; fileS: number }[] = [];
  let turnedBlueAt = 0;
  const { file } = await record('markers-e2e', async (recordingAt) => {
    const mark = async (label: string, at?: number) => {
      const res = await svc.api('POST', '/api/video-calls/markers-e2e/recording/markers', { label, ...(at ? { at: new Date(at).toISOString() } : {}) });
      expect(res.status).toBe(201);
      wanted.push({ label, fileS: ((at ?? Date.parse(res.body.data.at)) - recordingAt) / 1000 });
      return res.body.data;
    };
    await sleep(recordingAt + 3000 - Date.now());
    await mark('one', recordingAt + 1500); // set afterwards for an earlier instant
    // the second marks a colour change: the file turns blue right after its chapter
    await publisher.setColour(BLUE);
    turnedBlueAt = Date.now();
    await mark('two');
    await sleep(2000);
    await mark('three');
    await sleep(2000);
  });
  const chapters = await chaptersIn(file);
  const firstBlue = (await framesByColour(file, [RED, BLUE])).find((f) => f.colour === BLUE)?.t ?? -1;
  const seen = JSON.stringify({ chapters, wanted, firstBlue, turnedBlueAt });
  console.log(`markers e2e: ${seen}`);
  expect({ seen, titles: chapters.map((c) => c.title) }).toEqual({ seen, titles: ['Start', 'one', 'two', 'three'] });
  for (const w of wanted) expect({ seen, w, near: Math.abs(chapters.find((c) => c.title === w.label)!.start - w.fileS) <= 0.2 }).toEqual({ seen, w, near: true });
  // What was marked is in the file right there, after the publisher's change has made its way
  // through its encoder, the SFU and the recorder's page: ~0.1 s on a quiet machine, 0.55 s seen
  // in a loaded CI run. Under a second tells a marker on the file's clock from one off by a
  // clock's error (seconds); where the chapter lands is held to 0.2 s above.
  const two = chapters.find((c) => c.title === 'two')!.start;
  expect({ seen, blueAfterTwo: firstBlue >= two - 0.05 && firstBlue - two < 1 }).toEqual({ seen, blueAfterTwo: true });
}, 120000);

test('the seam adds no A/V offset: after it, sound and picture are as before it, or in sync (a publisher that flashes and beeps together)', async () => {
  // the pre-encoded publisher: a starved Chromium publisher's own flashes and beeps drift apart
  // (a suite run's file had beeps 0.6 to 1.2 s apart where it beeps every 1 s), so its file
  // says nothing of the seam. It flashes every 2 s, on the wall clock.
  const flashers = await FilePublishers.launch({ livekit: testLivekit, ffmpegPath: config.recorder.ffmpegPath });
  let seam = 0;
  let file: string;
  let done: { pausedMs: number; quality?: { avOffset?: unknown } };
  try {
    await flashers.add({ room: 'room-av-e2e', identity: 'flash', colour: '#000000', tone: 0, flash: true });
    await sleep(1500);
    ({ file, done } = await record('av-e2e', async (recordingAt) => {
      await sleep(recordingAt + 7000 - Date.now());
      const pause = await svc.api('POST', '/api/video-calls/av-e2e/recording/pause');
      seam = (Date.parse(pause.body.data.pausedAt) - recordingAt) / 1000;
      // 2.5 s: the flashes after the resume fall half a second off those before it
      await sleep(2500);
      await svc.api('POST', '/api/video-calls/av-e2e/recording/resume');
      await sleep(7000);
    }));
  } finally {
    await flashers.close();
  }
  const { white, beeps, offsets } = await flashBeepOffsets(file, 20);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const before = offsets.filter((o) => o.t > 1 && o.t < seam - 0.3).map((o) => o.d);
  const after = offsets.filter((o) => o.t > seam + 0.3).map((o) => o.d);
  // with what the page measured of the receive side (lip sync evens out a lasting difference)
  const seen = JSON.stringify({ seam, pausedMs: done.pausedMs, white, beeps, before, after, receive: done.quality?.avOffset });
  console.log(`a/v e2e: ${seen}`);
  expect({ seen, counted: before.length >= 2 && after.length >= 3 }).toEqual({ seen, counted: true });
  // The receive side can drift on its own under load (audio ~100 ms late for a few seconds was
  // seen once in a full suite run, before any pause): a resume that brings the file back in sync
  // adds no error. What must not happen is an offset the seam itself brings. (This publisher
  // has no capture delay for RECORDER_AV_OFFSET_MS to cancel: its sound is early by the same
  // 0.1 to 0.15 s before the seam and after it.)
  // A drift before the seam is not the seam's either: a CI run's file went from -67 ms at 4.2 s
  // to +86 ms at 6.2 s, the page's receive readings in sync all along, then held +77 to +80 ms
  // from the seam on. So the seam's own step (the last flash before it to the first after it)
  // counts too, when what follows holds steady.
  const kept = Math.abs(mean(after) - mean(before)) < 0.04;
  const inSync = Math.abs(mean(after)) < 0.04;
  const seamStep = Math.abs(after[0] - before[before.length - 1]) < 0.04 && Math.max(...after) - Math.min(...after) < 0.04;
  // Nor is a change the receive side made itself, as the page's own readings show it: quiet runs
  // here saw the sound's jitter buffer grow 260 to 560 ms around the pause (readings out of sync
  // for 8 to 12 s) and the file's offset move by less than that. The quality report holds it.
  const receive = (done.quality?.avOffset as { participants?: { outOfSyncMs: number; maxBehindMs: number; maxAheadMs: number }[] } | undefined)?.participants?.[0];
  const moved = Math.abs(mean(after) - mean(before)) * 1000;
  const receiveDrift = !!receive && receive.outOfSyncMs > 0 && moved <= Math.max(receive.maxBehindMs, receive.maxAheadMs) + 40;
  expect({ seen, kept, inSync, seamStep, receiveDrift, noNewOffset: kept || inSync || seamStep || receiveDrift }).toMatchObject({ seen, noNewOffset: true });
}, 120000);

test('a pause longer than RECORDING_MAX_PAUSE_SECONDS ends the recording (pause_limit), keeping what was recorded', async () => {
  const publisher = await publishers.add({ room: 'room-pause-limit-e2e', identity: 'red3', colour: RED, tone: 500 });
  joined.push(publisher);
  await sleep(1500);
  const callId = 'pause-limit-e2e';
  expect((await svc.api('POST', '/api/video-calls', { id: callId, roomName: 'room-pause-limit-e2e', hostId: 'host-1', participantIds: [] })).status).toBe(201);
  const start = await untilAdmitted(() => svc.api('POST', `/api/video-calls/${callId}/recording/start`, { layout: 'grid' }));
  expect(start.status).toBe(201);
  const viewPath = `/api/video-calls/${callId}/recording/${start.body.data.id}`;
  const live = await waitFor(async () => {
    const r = (await svc.api('GET', viewPath)).body.data;
    return r.status === 'RECORDING' ? r : null;
  }, 30000, 'RECORDING');
  await sleep(Date.parse(live.recordingAt) + 2000 - Date.now());
  const pause = await svc.api('POST', `/api/video-calls/${callId}/recording/pause`);
  expect(pause.status).toBe(200);
  const pausedAt = Date.parse(pause.body.data.pausedAt);
  const done = await waitFor(async () => {
    const r = (await svc.api('GET', viewPath)).body.data;
    return r.status === 'COMPLETED' ? r : null;
  }, 60000, 'COMPLETED');
  expect(done.stopReason).toBe('pause_limit');
  // stopped by the limit, not sooner
  expect(Date.parse(done.stoppingAt) - pausedAt).toBeGreaterThanOrEqual(MAX_PAUSE_S * 1000 - 100);
  const res = await svc.fetchAsHost(`${viewPath}/download`);
  const file = path.join(tmp, `${callId}.mp4`);
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const { durationMs } = await probe('ffprobe', file);
  // what was recorded: from time 0 to where the page's encoder paused (the stored pause). The
  // test asks at 2 s, as late as its poll saw RECORDING and the page took the command (a CI
  // run's file was 2.51 s); the file holds that span, and it is not cut short of the 2 s
  const recordedMs = Date.parse(done.pausedAt) - Date.parse(live.recordingAt);
  const seen = { durationMs, recordedMs, askedAtMs: pausedAt - Date.parse(live.recordingAt) };
  expect({ seen, kept: Math.abs(durationMs - recordedMs) < 300 && recordedMs >= 1900 && recordedMs < 3000 }).toEqual({ seen, kept: true });
}, 60000);
