import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { colourRegion, frameAt } from '../helpers/media';
import { startTestService, testLivekit, type TestService } from '../helpers/in-process-service';
import { sleep, waitFor } from '../helpers/recorder-process';
import { untilAdmitted } from '../helpers/api-request';

/**
 * Overlays on the real recorder, checked on the file: a background colour, an image watermark
 * served by an allowed origin, a text watermark, a clock and name labels, each where it was put
 * from the first frame; a live change that replaces the set within 1 s of its response; and the
 * refusals (an origin not allowed, an image that cannot be fetched) changing nothing.
 */
const RED = { identity: 'red', colour: '#ff0000', tone: 500 };
const BLUE = { identity: 'blue', colour: '#0000ff', tone: 1200 };
const MAGENTA = '#ff00ff';
const YELLOW = '#ffff00';
const GREEN = '#00c000';
// what the translucent black bands (55%) of a label and of the clock leave of what is under them
const RED_UNDER_LABEL = '#6e0000';
const GREEN_UNDER_CLOCK = '#005600';
const config = loadConfig({});

let svc: TestService;
let publishers: SyntheticPublishers;
let assets: http.Server;
let assetOrigin = '';
let logoFetches = 0;
const joined: Publisher[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-overlays-'));

beforeAll(async () => {
  const logo = path.join(tmp, 'logo.png');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `color=c=0xff00ff:s=128x64`, '-frames:v', '1', logo]);
  const png = fs.readFileSync(logo);
  assets = http.createServer((req, res) => {
    if (req.url === '/logo.png') {
      logoFetches++;
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    }
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => assets.listen(0, '127.0.0.1', resolve));
  assetOrigin = `http://127.0.0.1:${(assets.address() as AddressInfo).port}`;
  svc = await startTestService('overlays', { RECORDER_ASSET_ORIGINS: assetOrigin });
  publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit: testLivekit });
}, 60000);
afterAll(async () => {
  await Promise.all(joined.map((p) => p.leave()));
  await publishers?.close();
  await svc?.close();
  await new Promise((resolve) => assets?.close(resolve));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const view = async (callId: string, id: string) => (await svc.api('GET', `/api/video-calls/${callId}/recording/${id}`)).body.data;

async function newCall(callId: string): Promise<void> {
  expect((await svc.api('POST', '/api/video-calls', { id: callId, roomName: `room-${callId}`, hostId: 'host-1', participantIds: [] })).status).toBe(201);
}

const quadrant = (r: { cx: number; cy: number }) => `${r.cy < 0.5 ? 'top' : 'bottom'}-${r.cx < 0.5 ? 'left' : 'right'}`;

test('drawn where placed from the first frame; a live change replaces the set within 1 s', async () => {
  const callId = 'ov-e2e';
  for (const p of [RED, BLUE]) joined.push(await publishers.add({ room: `room-${callId}`, ...p }));
  await sleep(1500);
  await newCall(callId);
  const overlays = {
    background: { colour: GREEN },
    imageWatermark: { url: `${assetOrigin}/logo.png`, position: 'top-right', size: 0.2 },
    textWatermark: { text: 'ACME WATERMARK', position: 'bottom-left', size: 0.1, colour: YELLOW, opacity: 1 },
    clock: { position: 'top-left', timeZone: 'Europe/Berlin' },
    nameLabels: true,
  };
  const start = await untilAdmitted(() => svc.api('POST', `/api/video-calls/${callId}/recording/start`, { layout: 'grid', overlays }));
  expect(start.status).toBe(201);
  const id = start.body.data.id as string;
  const rec = await waitFor(async () => ((await view(callId, id)).status === 'RECORDING' ? view(callId, id) : null), 30000, 'RECORDING');
  expect(rec.options.overlays).toMatchObject(overlays);
  await sleep(2500);
  const moved = { imageWatermark: { url: `${assetOrigin}/logo.png`, position: 'bottom-right', size: 0.2 } };
  const patch = await svc.api('PATCH', `/api/video-calls/${callId}/recording/${id}`, { overlays: moved });
  expect(patch.status).toBe(200);
  const changedAt = (Date.now() - Date.parse(rec.recordingAt)) / 1000;

  // refused changes leave the recording as it is
  const elsewhere = await svc.api('PATCH', `/api/video-calls/${callId}/recording/${id}`, { overlays: { imageWatermark: { url: 'http://127.0.0.1:9/logo.png' } } });
  expect([elsewhere.status, elsewhere.body.error.code]).toEqual([400, 'ASSET_URL_NOT_ALLOWED']);
  const missing = await svc.api('PATCH', `/api/video-calls/${callId}/recording/${id}`, { overlays: { imageWatermark: { url: `${assetOrigin}/gone.png` } } });
  expect([missing.status, missing.body.error.code]).toEqual([502, 'OVERLAY_IMAGE_FAILED']);
  expect((await view(callId, id)).options.overlays).toMatchObject(moved);
  // a change that leaves the overlays as they are fetches no image again
  const fetched = logoFetches;
  expect((await svc.api('PATCH', `/api/video-calls/${callId}/recording/${id}`, { theme: 'dark' })).status).toBe(200);
  expect(logoFetches).toBe(fetched);
  await sleep(2000);
  await svc.api('POST', `/api/video-calls/${callId}/recording/stop`);
  await waitFor(async () => (await view(callId, id)).status === 'COMPLETED', 60000, 'COMPLETED');
  const file = path.join(tmp, `${callId}.mp4`);
  fs.writeFileSync(file, Buffer.from(await (await svc.fetchAsHost(`/api/video-calls/${callId}/recording/${id}/download`)).arrayBuffer()));

  for (const t of [0.05, changedAt - 0.6]) {
    const frame = await frameAt(file, t);
    expect(colourRegion(frame, GREEN, 40).share).toBeGreaterThan(0.1); // the background around the two tiles
    const logo = colourRegion(frame, MAGENTA);
    expect(logo.share).toBeGreaterThan(0.02);
    expect(quadrant(logo)).toBe('top-right');
    const text = colourRegion(frame, YELLOW, 90);
    expect(text.share).toBeGreaterThan(0.002);
    expect(quadrant(text)).toBe('bottom-left');
    const clock = colourRegion(frame, GREEN_UNDER_CLOCK, 40);
    expect(clock.share).toBeGreaterThan(0.002);
    expect(quadrant(clock)).toBe('top-left');
    const label = colourRegion(frame, RED_UNDER_LABEL, 50);
    expect(label.share).toBeGreaterThan(0.001);
    expect(label.cx).toBeLessThan(0.15);
  }
  // the set replaced: the logo moved, everything else gone
  const after = await frameAt(file, changedAt + 1);
  expect(quadrant(colourRegion(after, MAGENTA))).toBe('bottom-right');
  expect(colourRegion(after, GREEN, 40).share).toBeLessThan(0.01);
  expect(colourRegion(after, YELLOW, 90).share).toBeLessThan(0.001);
  expect(colourRegion(after, RED_UNDER_LABEL, 50).share).toBeLessThan(0.0003);
  expect(colourRegion(after, RED.colour).share).toBeGreaterThan(0.05);
  await Promise.all(joined.splice(0).map((p) => p.leave()));
}, 120000);

test('an image from an origin not allowed is refused at the start, and nothing is created', async () => {
  await newCall('ov-refused');
  const res = await svc.api('POST', '/api/video-calls/ov-refused/recording/start', { overlays: { background: { imageUrl: 'https://elsewhere.example.com/bg.png' } } });
  expect([res.status, res.body.error.code]).toEqual([400, 'ASSET_URL_NOT_ALLOWED']);
  const call = (await svc.api('GET', '/api/video-calls/ov-refused')).body.data;
  expect(call.recordingStatus).toBeNull();
});

test('an image the worker cannot fetch fails the start with OVERLAY_IMAGE_FAILED', async () => {
  await newCall('ov-missing');
  const res = await svc.api('POST', '/api/video-calls/ov-missing/recording/start', { overlays: { imageWatermark: { url: `${assetOrigin}/gone.png` } } });
  expect(res.status).toBe(201);
  const failed = await waitFor(async () => {
    const v = await view('ov-missing', res.body.data.id);
    return v.status === 'FAILED' ? v : null;
  }, 30000, 'FAILED');
  expect(failed.error).toMatchObject({ code: 'OVERLAY_IMAGE_FAILED', fault: 'caller' });
  expect(failed.error.message).toContain('404');
});
