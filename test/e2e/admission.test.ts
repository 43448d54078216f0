import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAll, type RunningService } from '../../src/app';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { createLogger } from '../../src/observability/logger';
import { probe } from '../../src/recorder/probe';
import { firstFrames } from '../helpers/first-frame';
import { audioSamples, tonePower } from '../helpers/media';
import { sleep, userToken } from '../helpers/recorder-process';
import { createTestDatabase } from '../helpers/services/postgres';
import { apiRequest } from '../helpers/api-request';

/**
 * More recordings asked for at once than the worker can take: the ones it refuses get
 * 503 NO_CAPACITY at once, and every one it admits is right from its first frame (every
 * participant, every tone, 30 fps), whatever else the machine is doing.
 */
const SECRET = 'admission-e2e-secret-0123456789';
const livekit = { url: process.env.TEST_LIVEKIT_URL!, apiKey: process.env.TEST_LIVEKIT_API_KEY!, apiSecret: process.env.TEST_LIVEKIT_API_SECRET! };

const HOST = userToken(SECRET, 'host-1');

const ROOMS = [
  { room: 'adm-0', colour: '#ff0000', tone: 500 },
  { room: 'adm-1', colour: '#00ff00', tone: 800 },
  { room: 'adm-2', colour: '#0000ff', tone: 1300 },
  { room: 'adm-3', colour: '#ffff00', tone: 1700 },
];

let dir: string;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let running: RunningService;
let publishers: SyntheticPublishers;
const joined: Publisher[] = [];

const api = (method: string, urlPath: string, body?: unknown) => apiRequest(running.url!, HOST, method, urlPath, body);

async function waitStatus(callId: string, id: string, status: string, timeoutMs = 30000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = (await api('GET', `/api/video-calls/${callId}/recording/${id}`)).body.data;
    if (view.status === status) return view;
    if (view.status === 'FAILED' || Date.now() > deadline) throw new Error(`recording ${id}: ${view.status} ${JSON.stringify(view.error)}`);
    await sleep(200);
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-admission-'));
  db = await createTestDatabase('admission');
  // a worker whose budget takes two 720p30 canvas recordings (0.27 cores each), and that
  // also measures the machine: on a busy one it may take fewer, never more
  const config = loadConfig({
    LIVEKIT_URL: livekit.url,
    LIVEKIT_API_KEY: livekit.apiKey,
    LIVEKIT_API_SECRET: livekit.apiSecret,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    AUTH_JWT_SECRET: SECRET,
    RECORDING_OUTPUT_DIR: dir,
    LIVEKIT_WEBHOOK_ENABLED: 'false',
    RECORDER_CPU_BUDGET: '0.65',
  });
  running = await startAll(config, createLogger('silent'));
  publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit });
  for (const [i, r] of ROOMS.entries()) {
    joined.push(await publishers.add({ room: r.room, identity: `p${i}`, colour: r.colour, tone: r.tone }));
    expect((await api('POST', '/api/video-calls', { id: r.room, roomName: r.room, hostId: 'host-1', participantIds: [] })).status).toBe(201);
  }
  await sleep(3000);
}, 90000);

afterAll(async () => {
  await Promise.allSettled(joined.map((p) => p.leave()));
  await publishers?.close();
  await running?.shutdown();
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('refuses what it cannot record right with 503 NO_CAPACITY at once, and every admitted file is right from its first frame', async () => {
  const answers = await Promise.all(
    ROOMS.map(async (r) => {
      const t0 = Date.now();
      const res = await api('POST', `/api/video-calls/${r.room}/recording/start`, { format: 'mp4', resolution: '720p', fps: 30 });
      return { ...r, res, ms: Date.now() - t0 };
    }),
  );
  const admitted = answers.filter((a) => a.res.status === 201);
  const refused = answers.filter((a) => a.res.status !== 201);
  expect(refused.map((a) => ({ status: a.res.status, code: a.res.body.error.code, retryAfter: a.res.retryAfter }))).toEqual(refused.map(() => ({ status: 503, code: 'NO_CAPACITY', retryAfter: 5 })));
  for (const a of refused) expect(a.ms).toBeLessThan(1000);
  expect(admitted.length).toBeGreaterThanOrEqual(1);
  expect(admitted.length).toBeLessThanOrEqual(2);

  const ids = admitted.map((a) => a.res.body.data.id as string);
  await Promise.all(admitted.map((a, i) => waitStatus(a.room, ids[i]!, 'RECORDING')));
  await sleep(8000);
  for (const a of admitted) expect((await api('POST', `/api/video-calls/${a.room}/recording/stop`)).status).toBe(200);
  for (const [i, a] of admitted.entries()) {
    const done = await waitStatus(a.room, ids[i]!, 'COMPLETED', 60000);
    const res = await fetch(`${running.url}/api/video-calls/${a.room}/recording/${ids[i]}/download`, { headers: { authorization: `Bearer ${HOST}` } });
    const file = path.join(dir, `${a.room}.mp4`);
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));

    const info = await probe('ffprobe', file, { countFrames: true });
    expect(info.streams.find((s) => s.type === 'video')!.fps).toBeGreaterThanOrEqual(29);
    const opening = await firstFrames(file, [a.colour], { seconds: 2 });
    expect({ room: a.room, firstFrame: opening.allVisibleAfter !== null && opening.allVisibleAfter < 0.02 }).toEqual({ room: a.room, firstFrame: true });
    // the tone from the first tenth of a second to the end, second by second
    for (let t = 0.1; t + 1 <= info.durationMs / 1000; t += 1) {
      const samples = await audioSamples(file, t, 1);
      const floor = Math.max(tonePower(samples, a.tone * 0.77), tonePower(samples, a.tone * 1.31));
      expect({ room: a.room, t, tone: tonePower(samples, a.tone) > floor * 30 }).toEqual({ room: a.room, t, tone: true });
    }
    expect(done.quality.warnings).toEqual([]);
  }
}, 150000);
