import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAll, type RunningService } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { probe } from '../../src/recorder/probe';
import { firstFrames } from '../helpers/first-frame';
import { audioSamples, colourRegion, frameAt, processAlive, tonePower } from '../helpers/media';
import { createTestDatabase } from '../helpers/services/postgres';
import { processTree } from '../../src/observability/process-tree';
import { freePort } from '../helpers/ports';
import { sleep, userToken, waitFor } from '../helpers/recorder-process';
import { apiRequest, untilAdmitted } from '../helpers/api-request';

/**
 * The whole service driven over HTTP, as a call app would: the real Recorder (Chromium,
 * ingest, FFmpeg) against the test livekit-server, checked on the file it produced.
 * Then the `recorder all` process itself: start, record, SIGTERM mid-recording, restart.
 */
const LIVEKIT = {
  LIVEKIT_URL: process.env.TEST_LIVEKIT_URL!,
  LIVEKIT_API_KEY: process.env.TEST_LIVEKIT_API_KEY!,
  LIVEKIT_API_SECRET: process.env.TEST_LIVEKIT_API_SECRET!,
};
const livekit = { url: LIVEKIT.LIVEKIT_URL, apiKey: LIVEKIT.LIVEKIT_API_KEY, apiSecret: LIVEKIT.LIVEKIT_API_SECRET };
const SECRET = 'http-e2e-secret-0123456789abcdef';
const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.join(__dirname, '..', '..');


const HOST = userToken(SECRET, 'host-1');

const api = (base: string, method: string, urlPath: string, body?: unknown) => apiRequest(base, HOST, method, urlPath, body);

async function waitStatus(base: string, callId: string, id: string, status: string, timeoutMs = 30000) {
  let last = '';
  return waitFor(
    async () => {
      const r = (await api(base, 'GET', `/api/video-calls/${callId}/recording/${id}`)).body.data;
      last = `${r.status}${r.error ? ` ${JSON.stringify(r.error)}` : ''}`;
      if (r.status === 'FAILED' && status !== 'FAILED') throw new Error(`recording FAILED: ${last}`);
      return r.status === status ? r : null;
    },
    timeoutMs,
    () => `${status} (last: ${last})`,
  );
}

/** GET .../download (the stored file, or a redirect to it) into `dest`. */
async function download(base: string, callId: string, id: string, dest: string): Promise<string> {
  const res = await fetch(`${base}/api/video-calls/${callId}/recording/${id}/download`, { headers: { authorization: `Bearer ${HOST}` } });
  if (!res.ok) throw new Error(`download: HTTP ${res.status} ${await res.text()}`);
  fs.writeFileSync(dest, Buffer.from(await res.arrayBuffer()));
  return dest;
}

async function registerCall(base: string, id: string, roomName: string) {
  const res = await api(base, 'POST', '/api/video-calls', { id, roomName, hostId: 'host-1', participantIds: [] });
  expect(res.status).toBe(201);
}

let publishers: SyntheticPublishers;
const joined: Publisher[] = [];

beforeAll(async () => {
  publishers = await SyntheticPublishers.launch({ chromiumPath: CHROMIUM, livekit });
}, 60000);
afterAll(async () => {
  await Promise.allSettled(joined.map((p) => p.leave()));
  await publishers?.close();
});

describe('recording over HTTP with the real recorder (in-process service)', () => {
  const people = [
    { identity: 'crimson', colour: '#ff0000', tone: 500 },
    { identity: 'azure', colour: '#0000ff', tone: 1300 },
  ];
  let dir: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let running: RunningService;
  let base: string;
  let done: any;
  let filePath: string;
  let ffmpegPid: number | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-http-'));
    db = await createTestDatabase('httpe2e');
    const config = loadConfig({
      ...LIVEKIT,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.url,
      AUTH_JWT_SECRET: SECRET,
      RECORDING_OUTPUT_DIR: dir,
      CHROMIUM_PATH: CHROMIUM,
      LIVEKIT_WEBHOOK_ENABLED: 'false',
    });
    running = await startAll(config, createLogger('silent'));
    base = running.url!;

    await registerCall(base, 'call-http', 'http-room');
    for (const p of people) joined.push(await publishers.add({ room: 'http-room', ...p }));
    await sleep(1500);

    const start = await untilAdmitted(() => api(base, 'POST', '/api/video-calls/call-http/recording/start', { format: 'mp4', resolution: '720p', fps: 30 }));
    expect(start.status).toBe(201);
    const id = start.body.data.id as string;
    await waitStatus(base, 'call-http', id, 'RECORDING');
    ffmpegPid = await waitFor(async () => running.recorder!.get(id)?.ffmpegPid(), 5000, 'FFmpeg');
    await sleep(8000);
    // a copy of the live spool for the salvage case: the spool itself goes once the file is stored
    fs.copyFileSync(path.join(dir, '.spool', `${id}.webm`), path.join(dir, '.spool', 'salvage-source.webm'));
    const stop = await api(base, 'POST', '/api/video-calls/call-http/recording/stop');
    expect(stop.status).toBe(200);
    expect(stop.body.data).toMatchObject({ id, status: 'STOPPING' });
    done = await waitStatus(base, 'call-http', id, 'COMPLETED');
    filePath = await download(base, 'call-http', id, path.join(dir, 'downloaded.mp4'));
  }, 90000);

  afterAll(async () => {
    await Promise.allSettled(joined.splice(0).map((p) => p.leave()));
    await running?.shutdown();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports size, duration and every status timestamp', () => {
    expect(done.fileSize).toBe(fs.statSync(filePath).size);
    expect(done.fileSize).toBeGreaterThan(10000);
    for (const k of ['startedAt', 'recordingAt', 'stoppingAt', 'processingAt', 'completedAt']) expect(done[k]).toEqual(expect.any(String));
    expect(done.failedAt).toBeNull();
    const order = ['startedAt', 'recordingAt', 'stoppingAt', 'processingAt', 'completedAt'].map((k) => Date.parse(done[k]));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(done.durationMs).toBeGreaterThan(7000);
  });

  it('has a manifest.json naming every stored file with its size, the file\'s time 0 and the quality report', async () => {
    // local storage signs URLs the API itself serves (/files/...)
    expect(done.manifest).toEqual({ key: `call-http/${done.id}/manifest.json`, url: expect.stringMatching(/^\/files\/.*signature=/) });
    const manifest: any = await (await fetch(`${base}${done.manifest.url}`)).json();
    expect(manifest).toMatchObject({ version: 1, recordingId: done.id, callId: 'call-http', roomName: 'http-room', format: 'mp4', recordingAt: done.recordingAt, durationMs: done.durationMs, quality: done.quality });
    const stored = [{ key: done.storageKey, size: done.fileSize }, ...[...done.thumbnails, ...done.sidecars].map((t: { key: string }) => ({ key: t.key }))];
    expect(done.sidecars.map((s: { kind: string }) => s.kind)).toEqual(['speakers.vtt', 'speakers.json']);
    expect(manifest.files.map((f: { key: string }) => f.key).sort()).toEqual(stored.map((s) => s.key).sort());
    const video = manifest.files.find((f: { kind: string }) => f.kind === 'recording');
    expect(video).toEqual({ kind: 'recording', key: done.storageKey, size: fs.statSync(filePath).size, contentType: 'video/mp4', offsetMs: 0, durationMs: done.durationMs });
    for (const f of manifest.files) expect(fs.statSync(path.join(dir, f.key)).size).toBe(f.size);
  });

  it('is H.264 1280x720 with audio, as long as the recording', async () => {
    const info = await probe('ffprobe', filePath);
    expect(info.streams.filter((s) => s.type === 'video')).toEqual([expect.objectContaining({ codec: 'h264', width: 1280, height: 720 })]);
    expect(info.streams.filter((s) => s.type === 'audio')).toHaveLength(1);
    expect(Math.abs(info.durationMs - done.durationMs)).toBeLessThan(300);
    // recordingAt is the file's time 0: the file runs from it to the stop request, plus the
    // moment the page takes to flush after it (a few hundred ms, up to 1 s on a loaded machine)
    const wallMs = Date.parse(done.stoppingAt) - Date.parse(done.recordingAt);
    expect({ fileMs: info.durationMs, wallMs, covered: info.durationMs >= wallMs - 300 && info.durationMs <= wallMs + 1000 }).toMatchObject({ covered: true });
  });

  it('shows every publisher from the first frame, each in a tile of its own, and carries every tone', async () => {
    const opening = await firstFrames(filePath, people.map((p) => p.colour), { seconds: 2 });
    expect(opening.allVisibleAfter).not.toBeNull();
    expect(opening.allVisibleAfter!).toBeLessThan(0.02); // the first frame, less than a frame period of rounding
    // the file's time 0 is recordingAt, and it came soon after the start request
    expect(done.quality).toMatchObject({ start: { present: 2, late: [] }, warnings: [] });
    expect(done.quality.start.sinceRequestMs).toBeLessThan(5000);
    // on the file's clock: both there from 0 and on the picture within its first frames, neither gone before the end
    console.log('quality', JSON.stringify({ start: done.quality.start, longestFreezeMs: done.quality.longestFreezeMs, participants: done.quality.participants }));
    expect(done.quality.start.allVisibleMs).toBeLessThan(100);
    expect(done.quality.participants.map((p: { identity: string }) => p.identity).sort()).toEqual(people.map((p) => p.identity).sort());
    for (const p of done.quality.participants) {
      expect(p).toMatchObject({ joinedMs: 0, visibleMs: expect.any(Number) });
      expect(p.leftMs).toBeUndefined();
    }
    expect(done.quality.longestFreezeMs).toBeLessThan(200);
    for (const t of [0.5, 7]) {
      const frame = await frameAt(filePath, t);
      const regions = people.map((p) => colourRegion(frame, p.colour));
      expect({ t, missing: people.filter((_, i) => regions[i].share <= 0.1).map((p) => p.identity) }).toEqual({ t, missing: [] });
      expect(Math.hypot(regions[0].cx - regions[1].cx, regions[0].cy - regions[1].cy)).toBeGreaterThan(0.2);
    }
    const samples = await audioSamples(filePath, 0.1, 5);
    const floor = Math.max(...[650, 1000, 1700].map((hz) => tonePower(samples, hz)));
    for (const p of people) expect(tonePower(samples, p.tone)).toBeGreaterThan(floor * 100);
  });

  it('salvages a spool into a playable file (restart recovery), or says null when there is none', async () => {
    const rec = running.recorder!;
    const req = { id: 'salvage-source', roomName: 'http-room', outputPath: path.join(dir, 'salvaged.mp4'), options: { width: 1280, height: 720, fps: 30, format: 'mp4' as const, layout: 'grid' as const } };
    const file = await rec.salvage(req);
    expect(file).toEqual({ path: req.outputPath, size: fs.statSync(req.outputPath).size, durationMs: expect.any(Number) });
    // the copy was taken before the stop: it lacks the last chunk and the page's flush
    expect(done.durationMs - file!.durationMs!).toBeGreaterThan(-500);
    expect(done.durationMs - file!.durationMs!).toBeLessThan(3000);
    const info = await probe('ffprobe', req.outputPath);
    expect(info.streams.map((s) => `${s.type}:${s.codec}`).sort()).toEqual(['audio:aac', 'video:h264']);
    expect(await rec.salvage({ ...req, id: 'no-such-recording', outputPath: path.join(dir, 'none.mp4') })).toBeNull();
    expect(fs.existsSync(path.join(dir, 'none.mp4'))).toBe(false);
    // a COMPLETED recording's spool is gone: nothing is left to salvage
    expect(await rec.salvage({ ...req, id: done.id, outputPath: path.join(dir, 'again.mp4') })).toBeNull();
  });

  it('leaves no recorder page, ingest socket or FFmpeg behind', async () => {
    const rec = running.recorder!;
    expect(await rec.pool.openPages()).toBe(0);
    expect(rec.ingest.openSockets).toBe(0);
    expect(rec.activeCount).toBe(0);
    expect(ffmpegPid).toBeDefined();
    expect(processAlive(ffmpegPid)).toBe(false);
  });

  it('keeps only the stored objects once COMPLETED (no spool, no recorder output); DELETE leaves no file of the recording', async () => {
    const id = done.id as string;
    const ofRecording = () => filesUnder(dir).filter((f) => f.includes(id));
    const stored = ofRecording();
    expect(stored).toEqual(expect.arrayContaining([path.join('call-http', id, 'recording.mp4'), path.join('call-http', id, 'poster.jpg')]));
    expect(stored.filter((f) => !f.startsWith(path.join('call-http', id) + path.sep))).toEqual([]);
    const del = await api(base, 'DELETE', `/api/video-calls/call-http/recording/${id}`);
    expect({ status: del.status, recording: del.body.data?.status }).toEqual({ status: 200, recording: 'DELETED' });
    expect(ofRecording()).toEqual([]);
  });
});

/** Every file below `root`, relative. */
function filesUnder(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(root, path.join(d.parentPath, d.name)));
}


interface Proc {
  proc: ChildProcess;
  base: string;
  exited: Promise<number | null>;
  stderr(): string;
}
const procs: Proc[] = [];

/** `node bin/recorder <mode>` in a clean environment (only what it needs), ready to use. */
async function launch(mode: 'all' | 'serve' | 'worker', env: Record<string, string>): Promise<Proc> {
  const port = env.PORT ?? '0';
  let err = '';
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin', 'recorder'), mode], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), ...LIVEKIT, HOST: '127.0.0.1', LOG_LEVEL: 'warn', AUTH_JWT_SECRET: SECRET, LIVEKIT_WEBHOOK_ENABLED: 'false', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const p: Proc = {
    proc,
    base: `http://127.0.0.1:${port}`,
    exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))),
    stderr: () => err,
  };
  procs.push(p);
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`recorder ${mode} exited ${proc.exitCode}: ${err}`);
      if (mode === 'worker') return /taking recordings from Redis/.test(err);
      const res = await fetch(`${p.base}/readyz`);
      return res.ok && ((await res.json()) as { ready: boolean }).ready;
    },
    45000,
    () => `recorder ${mode} ready\n${err}`,
  );
  return p;
}

async function terminate(p: Proc): Promise<number | null | 'timeout'> {
  p.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([p.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 30000)))]);
  clearTimeout(timer);
  return code;
}

afterAll(async () => {
  // only if a test failed half-way: nothing of ours may outlive the run
  for (const p of procs) {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null) continue;
    const tree = processTree(p.proc.pid!).slice(1);
    p.proc.kill('SIGKILL');
    for (const pid of tree) processAlive(pid) && process.kill(pid, 'SIGKILL');
  }
});

describe('the `recorder all` process', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-all-'));
    if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'main.js'))) throw new Error('build first: npx tsc -p tsconfig.json (scripts/bootstrap does)');
    // no DATABASE_URL, no REDIS_URL: embedded PGlite (on disk, to survive restarts), in-process dispatch
    env = { PORT: String(await freePort()), PGLITE_DIR: path.join(dir, 'db'), RECORDING_OUTPUT_DIR: path.join(dir, 'out') };
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records over HTTP; SIGTERM finishes a live recording and exits 0; a crash is salvaged at the next start', async () => {
    let p = await launch('all', env);
    joined.push(await publishers.add({ room: 'proc-room', identity: 'lime', colour: '#00ff00', tone: 800 }));
    await registerCall(p.base, 'call-proc', 'proc-room');
    const startRec = async () => {
      const res = await untilAdmitted(() => api(p.base, 'POST', '/api/video-calls/call-proc/recording/start', { format: 'mp4' }));
      expect(res.status).toBe(201);
      await waitStatus(p.base, 'call-proc', res.body.data.id, 'RECORDING');
      return res.body.data.id as string;
    };
    const checkMedia = async (id: string, minMs: number) => {
      const file = await download(p.base, 'call-proc', id, path.join(dir, `${id}.mp4`));
      const info = await probe('ffprobe', file);
      expect(info.streams.map((s) => s.type).sort()).toEqual(['audio', 'video']);
      expect(info.durationMs).toBeGreaterThan(minMs);
      expect(colourRegion(await frameAt(file, info.durationMs / 1000 - 0.5), '#00ff00').share).toBeGreaterThan(0.2);
      return fs.statSync(file).size;
    };

    // 1. start, stop, COMPLETED
    const first = await startRec();
    await sleep(3000);
    expect((await api(p.base, 'POST', '/api/video-calls/call-proc/recording/stop')).status).toBe(200);
    const done = await waitStatus(p.base, 'call-proc', first, 'COMPLETED');
    expect(await checkMedia(first, 2500)).toBe(done.fileSize);

    // 2. SIGTERM while recording: the recording is finished and kept, the process exits 0
    const second = await startRec();
    await sleep(3000);
    const code = await terminate(p);
    expect({ code, stderr: code === 0 ? '' : p.stderr() }).toEqual({ code: 0, stderr: '' });
    p = await launch('all', env);
    const afterTerm = await waitStatus(p.base, 'call-proc', second, 'COMPLETED', 15000);
    expect(afterTerm).toMatchObject({ stopReason: 'shutdown', stoppingAt: expect.any(String) });
    expect(await checkMedia(second, 2500)).toBe(afterTerm.fileSize);

    // 3. a crash (the process and everything it started, SIGKILL) while recording:
    //    the next start remuxes the spool and the recording still completes
    const third = await startRec();
    await sleep(3000);
    const tree = processTree(p.proc.pid!).slice(1);
    p.proc.kill('SIGKILL');
    for (const pid of tree) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    await p.exited;
    p = await launch('all', env);
    const salvaged = await waitStatus(p.base, 'call-proc', third, 'COMPLETED', 15000);
    expect(salvaged.stopReason).toBe('worker_lost');
    expect(await checkMedia(third, 2000)).toBe(salvaged.fileSize);

    expect(await terminate(p)).toBe(0);
  }, 150000);
});

describe('`recorder serve` + `recorder worker` through Redis', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-scale-'));
    db = await createTestDatabase('httpscale');
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serve refuses to start without REDIS_URL', async () => {
    const proc = spawn(process.execPath, [path.join(ROOT, 'bin', 'recorder'), 'serve'], { env: { PATH: process.env.PATH ?? '', HOME: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => proc.once('exit', r));
    expect(code).not.toBe(0);
    expect(err).toMatch(/CONFIG_INVALID.*REDIS_URL/);
  });

  it('the API hands a recording to a worker, which records it to COMPLETED', async () => {
    // shared: database, Redis, storage; the worker's own files (spool) stay in its directory
    const shared = { DATABASE_URL: db.url, REDIS_URL: process.env.TEST_REDIS_URL!, RECORDING_OUTPUT_DIR: path.join(dir, 'out') };
    const [api0, worker] = await Promise.all([launch('serve', { ...shared, PORT: String(await freePort()) }), launch('worker', shared)]);
    joined.push(await publishers.add({ room: 'scale-room', identity: 'teal', colour: '#00ffff', tone: 1100 }));
    await registerCall(api0.base, 'call-scale', 'scale-room');
    const start = await untilAdmitted(() => api(api0.base, 'POST', '/api/video-calls/call-scale/recording/start', { format: 'mp4' }));
    expect(start.status).toBe(201);
    const id = start.body.data.id as string;
    await waitStatus(api0.base, 'call-scale', id, 'RECORDING');
    await sleep(5000);
    expect((await api(api0.base, 'POST', '/api/video-calls/call-scale/recording/stop')).status).toBe(200);
    const done = await waitStatus(api0.base, 'call-scale', id, 'COMPLETED');
    const file = await download(api0.base, 'call-scale', id, path.join(dir, 'scale.mp4'));
    expect(fs.statSync(file).size).toBe(done.fileSize);
    // near the end: the worker joins the room a moment after its recording started
    expect(colourRegion(await frameAt(file, done.durationMs / 1000 - 1), '#00ffff').share).toBeGreaterThan(0.2);
    expect(await terminate(worker)).toBe(0);
    expect(await terminate(api0)).toBe(0);
  }, 90000);
});
