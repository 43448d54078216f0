import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { probe } from '../../src/recorder/probe';
import { colourRegion, frameAt } from '../helpers/media';
import { startTestService, testLivekit, type TestService } from '../helpers/in-process-service';
import { sleep, waitFor } from '../helpers/recorder-process';
import { untilAdmitted } from '../helpers/api-request';

/**
 * A start that names a layout preset, on the real recorder: the file has the preset's size
 * and frame rate (ffprobe), its layout draws the one publisher over the whole tall canvas, its
 * image watermark is the preset's uploaded asset (read by the worker from storage) where
 * placed, and the recording's options say which preset.
 */
const SERVICE_KEY = 'presets-e2e-service-key-0123456789';
const RED = { identity: 'red', colour: '#ff0000', tone: 500 };
const CYAN = '#00ffff';
const config = loadConfig({});

let svc: TestService;
let publishers: SyntheticPublishers;
let red: Publisher | undefined;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-presets-'));

beforeAll(async () => {
  svc = await startTestService('presets', { AUTH_SERVICE_API_KEY_HASHES: createHash('sha256').update(SERVICE_KEY).digest('hex') });
  publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit: testLivekit });
}, 60000);
afterAll(async () => {
  await red?.leave();
  await publishers?.close();
  await svc?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("a start with a preset records the preset's size, rate and layout", async () => {
  const created = await fetch(`${svc.base}/api/layout-presets`, {
    method: 'POST',
    headers: { 'x-api-key': SERVICE_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'portrait', layout: 'single-speaker-light', resolution: '720p-portrait', fps: 25 }),
  });
  expect(created.status).toBe(201);
  // an image uploaded to the preset, then named by its overlays
  const logo = path.join(tmp, 'logo.png');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=0x00ffff:s=128x64', '-frames:v', '1', logo]);
  const service = { 'x-api-key': SERVICE_KEY };
  const uploaded = await fetch(`${svc.base}/api/layout-presets/portrait/assets/logo.png`, { method: 'PUT', headers: { ...service, 'content-type': 'image/png' }, body: fs.readFileSync(logo) });
  expect(uploaded.status).toBe(201);
  const overlays = { imageWatermark: { url: 'asset://portrait/logo.png', position: 'bottom-left', size: 0.3 } };
  const withLogo = await fetch(`${svc.base}/api/layout-presets/portrait`, {
    method: 'PUT',
    headers: { ...service, 'content-type': 'application/json' },
    body: JSON.stringify({ layout: 'single-speaker-light', resolution: '720p-portrait', fps: 25, overlays }),
  });
  expect(withLogo.status).toBe(200);

  red = await publishers.add({ room: 'room-preset-e2e', ...RED });
  await sleep(1500);
  expect((await svc.api('POST', '/api/video-calls', { id: 'preset-e2e', roomName: 'room-preset-e2e', hostId: 'host-1', participantIds: [] })).status).toBe(201);
  const start = await untilAdmitted(() => svc.api('POST', '/api/video-calls/preset-e2e/recording/start', { preset: 'portrait' }));
  expect(start.status).toBe(201);
  const id = start.body.data.id as string;
  const recPath = `/api/video-calls/preset-e2e/recording/${id}`;
  await waitFor(async () => (await svc.api('GET', recPath)).body.data.status === 'RECORDING', 30000, 'RECORDING');
  await sleep(4000);
  await svc.api('POST', '/api/video-calls/preset-e2e/recording/stop');
  const done = await waitFor(async () => {
    const r = (await svc.api('GET', recPath)).body.data;
    return r.status === 'COMPLETED' ? r : null;
  }, 60000, 'COMPLETED');
  expect(done.options).toMatchObject({ layout: 'single-speaker', theme: 'light', width: 720, height: 1280, fps: 25, preset: 'portrait', overlays });

  const res = await svc.fetchAsHost(`${recPath}/download`);
  const file = path.join(tmp, 'preset.mp4');
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const video = (await probe('ffprobe', file, { countFrames: true })).streams.find((s) => s.type === 'video')!;
  expect({ width: video.width, height: video.height }).toEqual({ width: 720, height: 1280 });
  expect(video.fps).toBeGreaterThan(23.5);
  expect(video.fps).toBeLessThan(26.5);
  // single-speaker: the one camera fills the tall canvas, the preset's logo at the bottom left
  for (const t of [0.05, 2]) {
    const frame = await frameAt(file, t);
    expect(colourRegion(frame, RED.colour).share).toBeGreaterThan(0.5);
    const watermark = colourRegion(frame, CYAN);
    expect(watermark.share).toBeGreaterThan(0.015);
    expect([watermark.cx < 0.5, watermark.cy > 0.5]).toEqual([true, true]);
  }
}, 120000);
