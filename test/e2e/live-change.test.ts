import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { audioSamples, colourRegion, frameAt, tonePower } from '../helpers/media';
import { startTestService, testLivekit, type TestService } from '../helpers/in-process-service';
import { sleep, waitFor } from '../helpers/recorder-process';
import { untilAdmitted } from '../helpers/api-request';

/**
 * Live changes on the real recorder, checked on the file: grid -> speaker, then one excluded
 * (gone from picture and sound), each within 1 s of the PATCH response; and a consent list
 * at the start (someone unlisted is never seen or heard).
 */
const RED = { identity: 'red', colour: '#ff0000', tone: 500 };
const BLUE = { identity: 'blue', colour: '#0000ff', tone: 1200 };
const config = loadConfig({});
const run = promisify(execFile);

let svc: TestService;
let publishers: SyntheticPublishers;
const joined: Publisher[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-live-change-'));

beforeAll(async () => {
  svc = await startTestService('live-change');
  publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit: testLivekit });
}, 60000);
afterAll(async () => {
  await Promise.all(joined.map((p) => p.leave()));
  await publishers?.close();
  await svc?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function record(
  callId: string,
  body: Record<string, unknown>,
  during: (id: string, recordingAt: number) => Promise<void>,
  people: { identity: string; colour: string; tone: number; agent?: boolean }[] = [RED, BLUE],
): Promise<string> {
  const room = `room-${callId}`;
  for (const p of people) joined.push(await publishers.add({ room, ...p }));
  await sleep(1500);
  expect((await svc.api('POST', '/api/video-calls', { id: callId, roomName: room, hostId: 'host-1', participantIds: [] })).status).toBe(201);
  const start = await untilAdmitted(() => svc.api('POST', `/api/video-calls/${callId}/recording/start`, body));
  expect(start.status).toBe(201);
  const id = start.body.data.id as string;
  const rec = await waitFor(async () => {
    const r = (await svc.api('GET', `/api/video-calls/${callId}/recording/${id}`)).body.data;
    return r.status === 'RECORDING' ? r : null;
  }, 30000, 'RECORDING');
  await during(id, Date.parse(rec.recordingAt));
  await svc.api('POST', `/api/video-calls/${callId}/recording/stop`);
  await waitFor(async () => (await svc.api('GET', `/api/video-calls/${callId}/recording/${id}`)).body.data.status === 'COMPLETED', 60000, 'COMPLETED');
  const res = await svc.fetchAsHost(`/api/video-calls/${callId}/recording/${id}/download`);
  const file = path.join(tmp, `${callId}.mp4`);
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

const tone = async (file: string, from: number, hz: number) => tonePower(await audioSamples(file, from, 0.8), hz);

test('grid -> speaker -> blue excluded: each in the file within 1 s of the response', async () => {
  const marks: Record<string, number> = {};
  const file = await record('lc-e2e', { layout: 'grid' }, async (id, recordingAt) => {
    await sleep(2500);
    const speaker = await svc.api('PATCH', `/api/video-calls/lc-e2e/recording/${id}`, { layout: 'speaker' });
    expect(speaker.status).toBe(200);
    expect(speaker.body.data.options.layout).toBe('speaker');
    marks.speaker = (Date.now() - recordingAt) / 1000;
    await sleep(2500);
    const exclude = await svc.api('PATCH', `/api/video-calls/lc-e2e/recording/${id}`, { participants: { exclude: ['blue'] } });
    expect(exclude.status).toBe(200);
    expect(exclude.body.data.options.participants).toEqual({ exclude: ['blue'] });
    marks.exclude = (Date.now() - recordingAt) / 1000;
    await sleep(2500);
  });
  const at = async (t: number) => {
    const frame = await frameAt(file, t);
    return { red: colourRegion(frame, RED.colour), blue: colourRegion(frame, BLUE.colour) };
  };
  // grid: two tiles of one size; speaker: one on the stage, the other small
  const grid = await at(marks.speaker - 0.5);
  expect(grid.red.share).toBeGreaterThan(0.05);
  expect(grid.blue.share).toBeGreaterThan(0.05);
  expect(Math.abs(grid.red.share - grid.blue.share)).toBeLessThan(0.05);
  const speaker = await at(marks.speaker + 1);
  expect(speaker.red.share).toBeGreaterThan(0.01);
  expect(speaker.blue.share).toBeGreaterThan(0.01);
  expect(Math.max(speaker.red.share, speaker.blue.share) / Math.min(speaker.red.share, speaker.blue.share)).toBeGreaterThan(2);
  // excluded: blue is gone from the picture and its tone from the sound; red stays in both
  const before = await tone(file, marks.exclude - 1.2, BLUE.tone);
  const excluded = await at(marks.exclude + 1);
  expect(excluded.blue.share).toBeLessThan(0.002);
  expect(excluded.red.share).toBeGreaterThan(0.05);
  const after = await tone(file, marks.exclude + 1, BLUE.tone);
  expect(after).toBeLessThan(before / 20);
  expect(await tone(file, marks.exclude + 1, RED.tone)).toBeGreaterThan(after * 20);
  await Promise.all(joined.splice(0).map((p) => p.leave()));
}, 120000);

test('a consent list at the start: someone unlisted is never seen or heard', async () => {
  const file = await record('lc-consent', { participants: { include: ['red'] } }, () => sleep(3000));
  for (const t of [0.2, 1.5, 2.5]) {
    const frame = await frameAt(file, t);
    expect(colourRegion(frame, BLUE.colour).share).toBeLessThan(0.002);
    expect(colourRegion(frame, RED.colour).share).toBeGreaterThan(0.05);
  }
  const blue = await tone(file, 0.5, BLUE.tone);
  const red = await tone(file, 0.5, RED.tone);
  expect(red).toBeGreaterThan(blue * 20);
}, 120000);

describe('dual-channel audio', () => {
  const power = async (file: string, channel: 0 | 1, hz: number) => tonePower(await audioSamples(file, 1, 1.5, channel), hz);
  afterEach(async () => void (await Promise.all(joined.splice(0).map((p) => p.leave()))));

  test('"dual-channel": the agent on the left, everyone else on the right', async () => {
    const file = await record('lc-dual-agent', { audio: 'dual-channel' }, () => sleep(3000), [{ ...RED, agent: true }, BLUE]);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=channels', '-of', 'csv=p=0', file]);
    expect(stdout.trim()).toBe('2');
    expect(await power(file, 0, RED.tone)).toBeGreaterThan((await power(file, 0, BLUE.tone)) * 20);
    expect(await power(file, 1, BLUE.tone)).toBeGreaterThan((await power(file, 1, RED.tone)) * 20);
  }, 120000);

  test('left by identity; the mix (default) has both on both sides', async () => {
    const dual = await record('lc-dual-named', { audio: { mode: 'dual-channel', left: { identities: ['blue'] } } }, () => sleep(3000));
    expect(await power(dual, 0, BLUE.tone)).toBeGreaterThan((await power(dual, 0, RED.tone)) * 20);
    expect(await power(dual, 1, RED.tone)).toBeGreaterThan((await power(dual, 1, BLUE.tone)) * 20);
    await Promise.all(joined.splice(0).map((p) => p.leave()));
    const mixed = await record('lc-mixed', {}, () => sleep(3000));
    for (const channel of [0, 1] as const) {
      const red = await power(mixed, channel, RED.tone);
      const blue = await power(mixed, channel, BLUE.tone);
      expect(Math.min(red, blue) / Math.max(red, blue)).toBeGreaterThan(0.1);
    }
  }, 180000);
});
