import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { probe } from '../../src/recorder/probe';
import { LATE_CHUNK_TIMESLICES } from '../../src/recorder/chunk-stats';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { flashBeepOffsets } from '../helpers/av-sync';
import { CpuHog } from '../helpers/cpu-hog';
import { startTestService, testLivekit, type TestService } from '../helpers/in-process-service';
import { sleep, waitFor } from '../helpers/recorder-process';
import { untilAdmitted } from '../helpers/api-request';

/**
 * The quality report of a recording starved by a CPU hog: the test starts the hog itself once
 * the recording has begun (admission would refuse a recording on a machine already busy), so
 * the file falls short of 30 fps and the report says so, in the view and in the manifest, with
 * the frames it lacks, the chunks as they came and the A/V offset applied and measured. The
 * publisher flashes and beeps together, so the file's own A/V offset is printed beside the
 * measured one. (A quiet recording's report without warnings: http-recording.test.ts.)
 */
const config = loadConfig({});
/** The hog (test/helpers/cpu-hog.ts): its loops, and their sessions' nice. */
const HOG_LOOPS = Number(process.env.QUALITY_E2E_HOG ?? 4);
/**
 * The recorder's browser is weighted (WORKER_SESSION_NICE, -8 by default), and 4 loops at -8 left
 * it at 30 fps: the hog's sessions weigh 6 times the browser's, as -8 did against a browser at 0.
 */
const HOG_SESSION_NICE = Number(process.env.QUALITY_E2E_HOG_NICE ?? Math.max(-20, config.recorder.browserSessionNice - 8));
const CALL_MS = 10_000;
/** The hog runs from 2 s to 8 s of the call, shorter than the ingest's stall limit (10 s); QUALITY_E2E_HOG_MS=12000 runs it past the limit. */
const HOG_MS = Number(process.env.QUALITY_E2E_HOG_MS ?? 6000);

let svc: TestService;
let publishers: SyntheticPublishers;
let publisher: Publisher | undefined;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-quality-'));
let done: any;
let manifest: any;
let file: string;

const hog = new CpuHog(HOG_LOOPS, HOG_SESSION_NICE);

beforeAll(async () => {
  svc = await startTestService('quality');
  publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit: testLivekit });
  publisher = await publishers.add({ room: 'room-quality-e2e', identity: 'flash', colour: '#000000', tone: 1000, flash: true });
  await sleep(1000);
  expect((await svc.api('POST', '/api/video-calls', { id: 'quality-e2e', roomName: 'room-quality-e2e', hostId: 'host-1', participantIds: [] })).status).toBe(201);
  const start = await untilAdmitted(() => svc.api('POST', '/api/video-calls/quality-e2e/recording/start', { layout: 'grid' }));
  expect(start.status).toBe(201);
  const viewPath = `/api/video-calls/quality-e2e/recording/${start.body.data.id}`;
  await waitFor(async () => (await svc.api('GET', viewPath)).body.data.status === 'RECORDING', 30000, 'RECORDING');
  await sleep(2000);
  const hogFrom = Date.now();
  hog.start(HOG_MS);
  try {
    await sleep(HOG_MS);
  } finally {
    hog.stop();
  }
  await sleep(Math.max(0, CALL_MS - 2000 - (Date.now() - hogFrom)));
  await svc.api('POST', '/api/video-calls/quality-e2e/recording/stop');
  // a run that never saw COMPLETED (once in 11 local runs with a 12 s hog) says where it stood
  let last: any;
  done = await waitFor(async () => {
    last = (await svc.api('GET', viewPath)).body.data;
    return last.status === 'COMPLETED' ? last : null;
  }, 60000, () => `COMPLETED, the view last: ${JSON.stringify({ status: last?.status, error: last?.error, endedEarly: last?.endedEarly })}; the service's log:\n${svc.recentLog().join('\n')}`);
  manifest = await (await fetch(`${svc.base}${done.manifest.url}`)).json();
  file = path.join(tmp, 'quality.mp4');
  fs.writeFileSync(file, Buffer.from(await (await svc.fetchAsHost(`${viewPath}/download`)).arrayBuffer()));
}, 90000);

afterAll(async () => {
  hog.stop();
  await publisher?.leave();
  await publishers?.close();
  await svc?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a CPU hog during the call: a frame rate below 29 and LOW_FPS, in the view and the manifest, with the frames the file lacks', async () => {
  const { offsets } = await flashBeepOffsets(file, CALL_MS / 1000 + 2);
  console.log(`quality e2e (hog ${HOG_LOOPS}, ${hog.cpuSeconds.toFixed(1)} CPU-s): ${JSON.stringify({ quality: done.quality, fileAv: offsets.map((o) => [Number(o.t.toFixed(2)), Math.round(o.d * 1000)]) })}`);
  const q = done.quality;
  // a page the hog starves past the stall limit is waited for (stall-watch.ts): the file is the whole call
  expect(done.endedEarly).toBe(false);
  expect((await probe('ffprobe', file)).durationMs).toBeGreaterThan(CALL_MS - 1000);
  // the file's rate, or, where the page's frame clock caught up the frames it owed (bunched,
  // after the picture held), the rate it drew over its worst 2 s
  expect(Math.min(q.fps, q.minDrawnFps)).toBeLessThan(29);
  expect(q.warnings.map((w: { code: string }) => w.code)).toContain('LOW_FPS');
  expect(q.frames.late).toBeGreaterThan(0);
  expect(q.frames.dropped).toBe(Math.max(0, q.frames.expected - q.frames.inFile));
  if (q.fps < 29) expect(q.frames.dropped).toBeGreaterThan(0);
  expect(manifest.quality).toEqual(q);
});

test('the chunks as they came, and the A/V offset applied and measured per participant', () => {
  const q = done.quality;
  expect(q.chunks).toMatchObject({ resent: 0, reconnects: 0, missing: 0, outOfOrder: 0 });
  // one a timeslice (1 s) when the page keeps up; a page the hog starves sends fewer, each
  // holding more (3 in a CI run, 7 locally), and the report says it waited for them
  expect(q.chunks.received).toBeGreaterThanOrEqual(2);
  if (q.chunks.received < CALL_MS / 1000 - 2) {
    expect(q.chunks.longestGapMs).toBeGreaterThan((LATE_CHUNK_TIMESLICES + 1) * 1000);
    expect(q.chunks.late).toBeGreaterThan(0);
  }
  expect(q.avOffset.appliedMs).toBe(config.recorder.avOffsetMs);
  expect(q.avOffset.participants).toEqual([expect.objectContaining({ identity: 'flash', samples: expect.any(Number), medianMs: expect.any(Number) })]);
  expect(q.avOffset.participants[0].samples).toBeGreaterThan(0);
});
