import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { audioSamples, tonePowerWindows } from '../helpers/media';
import { startTestService, testLivekit, type TestService } from '../helpers/in-process-service';
import { sleep, waitFor } from '../helpers/recorder-process';
import { untilAdmitted } from '../helpers/api-request';

/**
 * A hole in one participant's sound, as the listener hears it and as the quality report says
 * it: two publishers with a steady tone each, in browsers of their own; one browser is stopped
 * (SIGSTOP to its process group) for STALL_MS in the middle of the call, so its packets come
 * late, as over a network that froze. The file has a hole in that tone only, and the report
 * counts that participant's concealed sound and warns (SOUND_CONCEALED), the other's not.
 */
const config = loadConfig({});
const CALL_MS = 8000;
const STALL_AT_MS = 3000;
const STALL_MS = 600;
const STEADY = { identity: 'steady', colour: '#00ff00', tone: 600 };
const STALLED = { identity: 'stalled', colour: '#ff00ff', tone: 1300 };

let svc: TestService;
const browsers: SyntheticPublishers[] = [];
const joined: Publisher[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-sound-'));
let done: any;
let file: string;
let stalledAtFileMs = 0;

beforeAll(async () => {
  svc = await startTestService('sound');
  for (const spec of [STEADY, STALLED]) {
    const b = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit: testLivekit });
    browsers.push(b);
    joined.push(await b.add({ room: 'room-sound-e2e', ...spec }));
  }
  await sleep(1000);
  expect((await svc.api('POST', '/api/video-calls', { id: 'sound-e2e', roomName: 'room-sound-e2e', hostId: 'host-1', participantIds: [] })).status).toBe(201);
  const start = await untilAdmitted(() => svc.api('POST', '/api/video-calls/sound-e2e/recording/start', { layout: 'grid' }));
  expect(start.status).toBe(201);
  const viewPath = `/api/video-calls/sound-e2e/recording/${start.body.data.id}`;
  const live = await waitFor(async () => {
    const r = (await svc.api('GET', viewPath)).body.data;
    return r.status === 'RECORDING' ? r : null;
  }, 30000, 'RECORDING');
  await sleep(STALL_AT_MS);
  const pid = browsers[1].pid()!;
  stalledAtFileMs = Date.now() - Date.parse(live.recordingAt);
  process.kill(-pid, 'SIGSTOP');
  try {
    await sleep(STALL_MS);
  } finally {
    process.kill(-pid, 'SIGCONT');
  }
  await sleep(CALL_MS - STALL_AT_MS - STALL_MS);
  await svc.api('POST', '/api/video-calls/sound-e2e/recording/stop');
  done = await waitFor(async () => {
    const r = (await svc.api('GET', viewPath)).body.data;
    return r.status === 'COMPLETED' ? r : null;
  }, 60000, 'COMPLETED');
  file = path.join(tmp, 'sound.mp4');
  fs.writeFileSync(file, Buffer.from(await (await svc.fetchAsHost(`${viewPath}/download`)).arrayBuffer()));
}, 90000);

afterAll(async () => {
  await Promise.allSettled(joined.map((p) => p.leave()));
  await Promise.allSettled(browsers.map((b) => b.close()));
  await svc?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The longest run (ms) of 20 ms windows without a tenth of the tone's median power, between the file's first and last second. */
async function longestHoleMs(hz: number, durationMs: number): Promise<{ ms: number; atMs: number }> {
  const power = tonePowerWindows(await audioSamples(file, 0, durationMs / 1000, undefined, true), hz);
  const median = [...power].sort((a, b) => a - b)[Math.floor(power.length / 2)];
  let best = { ms: 0, atMs: 0 };
  let run = 0;
  for (let k = 50; k < power.length - 50; k++) {
    run = power[k] < median / 10 ? run + 1 : 0;
    if (run * 20 > best.ms) best = { ms: run * 20, atMs: (k - run + 1) * 20 };
  }
  return best;
}

test('a publisher stalled for 600 ms: a hole in its tone only, counted in the report with a SOUND_CONCEALED warning naming it', async () => {
  const q = done.quality;
  const holes = { stalled: await longestHoleMs(STALLED.tone, done.durationMs), steady: await longestHoleMs(STEADY.tone, done.durationMs) };
  console.log(`sound e2e: stalled at ${stalledAtFileMs} ms of the file for ${STALL_MS} ms; holes in the file ${JSON.stringify(holes)}; report ${JSON.stringify(q.sound)}; warnings ${JSON.stringify(q.warnings)}`);
  const sound = Object.fromEntries((q.sound as { identity: string; concealedMs: number; worstSecondMs: number }[]).map((s) => [s.identity, s]));
  // the file: the stalled tone has a hole where the stall was, the steady one none a listener hears
  expect(holes.stalled.ms).toBeGreaterThanOrEqual(100);
  expect(Math.abs(holes.stalled.atMs - stalledAtFileMs)).toBeLessThan(1500);
  expect(holes.steady.ms).toBeLessThan(100);
  // the report: the same, from the page's WebRTC
  expect(sound.stalled.worstSecondMs).toBeGreaterThanOrEqual(100);
  expect(sound.steady.worstSecondMs).toBeLessThan(100);
  const concealed = q.warnings.filter((w: { code: string }) => w.code === 'SOUND_CONCEALED');
  expect(concealed).toHaveLength(1);
  expect(concealed[0].message).toContain('stalled (');
  expect(concealed[0].message).not.toContain('steady');
});
