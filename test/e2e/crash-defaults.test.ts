import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAll, type RunningService } from '../../src/app';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers } from '../../src/demo/synthetic-publishers';
import { createLogger } from '../../src/observability/logger';
import { processTree } from '../../src/observability/process-tree';
import { probe } from '../../src/recorder/probe';
import { processAlive } from '../helpers/media';
import { freePort } from '../helpers/ports';
import { createTestDatabase } from '../helpers/services/postgres';
import { browserProcesses, browserStateDir, killBrowsers, RecorderProcess, sleep, userToken, waitFor } from '../helpers/recorder-process';
import { apiRequest, untilAdmitted } from '../helpers/api-request';

/**
 * Crashes on the defaults (issue 8): a SIGKILLed `recorder all` with no database settings
 * keeps its call and recording (PGlite on disk), leaves no Chromium in the room, and the
 * next start ends what a dead predecessor left; a browser crash mid-recording keeps the
 * file and says it ended early.
 */
const LIVEKIT = {
  LIVEKIT_URL: process.env.TEST_LIVEKIT_URL!,
  LIVEKIT_API_KEY: process.env.TEST_LIVEKIT_API_KEY!,
  LIVEKIT_API_SECRET: process.env.TEST_LIVEKIT_API_SECRET!,
};
const livekit = { url: LIVEKIT.LIVEKIT_URL, apiKey: LIVEKIT.LIVEKIT_API_KEY, apiSecret: LIVEKIT.LIVEKIT_API_SECRET };
const SECRET = 'crash-e2e-secret-0123456789abcdef';
const CHROMIUM = '/usr/bin/chromium';

let publishers: SyntheticPublishers;
let dir: string;
const started: RecorderProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-crash-'));
  publishers = await SyntheticPublishers.launch({ chromiumPath: CHROMIUM, livekit });
}, 60000);
afterAll(async () => {
  for (const p of started) p.killTree();
  killBrowsers(browserStateDir(path.join(dir, 'tmp')));
  await publishers?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('`recorder all` on the defaults, SIGKILLed mid-recording', () => {
  it('keeps the call and the recording (PGlite on disk), leaves no browser, sweeps a left-over one, completes the file', async () => {
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    const stateDir = browserStateDir(tmp);
    // no DATABASE_URL, no PGLITE_DIR, no REDIS_URL: the defaults; the same settings for each start
    const env = {
      ...LIVEKIT,
      HOME: path.join(dir, 'home'),
      TMPDIR: tmp,
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      AUTH_JWT_SECRET: SECRET,
      LIVEKIT_WEBHOOK_ENABLED: 'false',
      RECORDING_OUTPUT_DIR: path.join(dir, 'out'),
    };
    const launch = async () => {
      const p = await RecorderProcess.launch('all', env, { secret: SECRET });
      started.push(p);
      return p;
    };
    let p = await launch();
    expect(fs.existsSync(path.join(dir, 'out', '.db', 'PG_VERSION'))).toBe(true);

    // a second process on the same database directory is refused, naming it
    const second = spawn(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'recorder'), 'all'], {
      env: { PATH: process.env.PATH!, ...env, PORT: String(await freePort()) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let secondErr = '';
    second.stderr!.on('data', (d: Buffer) => (secondErr += d.toString()));
    const secondCode = await new Promise<number | null>((r) => second.once('exit', r));
    expect({ secondCode, mentions: /CONFIG_INVALID.*\.db.*in use by process/.test(secondErr) }).toEqual({ secondCode: 1, mentions: true });

    await publishers.add({ room: 'crash-room', identity: 'olive', colour: '#808000', tone: 700 });
    expect((await p.api('POST', '/api/video-calls', { id: 'call-crash', roomName: 'crash-room', hostId: 'host-1', participantIds: [] })).status).toBe(201);
    const start = await untilAdmitted(() => p.api('POST', '/api/video-calls/call-crash/recording/start', { format: 'mp4' }));
    expect(start.status).toBe(201);
    const id = start.body.data.id as string;
    const rec = await p.waitStatus('call-crash', id, 'RECORDING');
    const browsers = browserProcesses(stateDir);
    expect(browsers.length).toBeGreaterThan(2);
    const ffmpeg = processTree(p.pid).filter((pid) => !browsers.includes(pid) && pid !== p.pid);
    await sleep(6000);

    // SIGKILL of node alone, as an OOM kill would do: Chromium must not stay in the room
    const killedAt = Date.now();
    process.kill(p.pid, 'SIGKILL');
    await p.exited;
    await waitFor(async () => browserProcesses(stateDir).length === 0 && ffmpeg.every((pid) => !processAlive(pid)), 5000, () => `browsers gone (left: ${browserProcesses(stateDir).join(',')})`);
    const capturedMs = killedAt - Date.parse(rec.recordingAt);

    // what a dead predecessor without a parent-death signal would leave: a running browser and its record
    const leftId = `${p.pid}-leftover`;
    const leftDir = path.join(stateDir, leftId);
    fs.mkdirSync(leftDir);
    const leftover = spawn(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', `--user-data-dir=${leftDir}`, 'about:blank'], { detached: true, stdio: 'ignore' });
    leftover.unref();
    fs.writeFileSync(path.join(stateDir, `${leftId}.json`), JSON.stringify({ owner: { pid: p.pid }, pid: leftover.pid }));
    await waitFor(async () => browserProcesses(stateDir).length > 2, 10000, 'the left-over browser running');

    p = await launch();
    // swept during start-up, before it is ready; only the new worker's own browser remains
    expect({ leftoverAlive: processAlive(leftover.pid), inLeftDir: browserProcesses(leftDir, { exact: true }) }).toEqual({ leftoverAlive: false, inLeftDir: [] });
    expect(fs.existsSync(leftDir)).toBe(false);

    const done = await p.waitStatus('call-crash', id, 'COMPLETED', 30000);
    expect(done).toMatchObject({ stopReason: 'worker_lost', endedEarly: true, error: { code: 'WORKER_LOST', fault: 'service' } });
    const file = await p.download('call-crash', id, path.join(dir, 'crash.mp4'));
    const info = await probe('ffprobe', file);
    expect(info.streams.map((s) => s.type).sort()).toEqual(['audio', 'video']);
    // every second captured before the kill is in the file (the spool holds whole 1 s chunks)
    expect({ fileMs: info.durationMs, capturedMs, close: Math.abs(info.durationMs - capturedMs) < 1500 }).toMatchObject({ close: true });
    // the timeline events written before the kill reach post-processing too: olive's tone is on throughout
    expect(done.sidecars.map((c: { kind: string }) => c.kind)).toEqual(['speakers.vtt', 'speakers.json']);
    const turns = (await (await fetch(`${p.base}${done.sidecars[1].url}`)).json()) as { startMs: number }[];
    expect(turns).toEqual([{ identity: 'olive', name: 'olive', startMs: expect.any(Number), endMs: done.durationMs }]);
    expect(turns[0].startMs).toBeLessThan(500);

    expect(await p.terminate()).toBe(0);
    expect(browserProcesses(stateDir)).toEqual([]);
  }, 150000);
});

describe('a browser crash mid-recording (in-process service)', () => {
  let running: RunningService;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  afterAll(async () => {
    await running?.shutdown();
    await db?.drop();
  });

  it('keeps the file, and the COMPLETED view says it ended early and why', async () => {
    const config = loadConfig({
      ...LIVEKIT,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      // PGlite cannot load inside jest's module sandbox; the `recorder all` case above runs it for real
      DATABASE_URL: (db = await createTestDatabase('bcrash')).url,
      AUTH_JWT_SECRET: SECRET,
      RECORDING_OUTPUT_DIR: path.join(dir, 'inproc'),
      CHROMIUM_PATH: CHROMIUM,
      LIVEKIT_WEBHOOK_ENABLED: 'false',
    });
    running = await startAll(config, createLogger('silent'));
    const api = (method: string, p: string, body?: unknown) => apiRequest(running.url!, userToken(SECRET, 'host-1'), method, p, body);
    await publishers.add({ room: 'bcrash-room', identity: 'navy', colour: '#000080', tone: 900 });
    expect((await api('POST', '/api/video-calls', { id: 'call-bcrash', roomName: 'bcrash-room', hostId: 'host-1', participantIds: [] })).status).toBe(201);
    const start = await untilAdmitted(() => api('POST', '/api/video-calls/call-bcrash/recording/start', { format: 'mp4' }));
    expect(start.status).toBe(201);
    const id = start.body.data.id as string;
    const view = async () => (await api('GET', `/api/video-calls/call-bcrash/recording/${id}`)).body.data;
    const rec = await waitFor(async () => ((await view()).status === 'RECORDING' ? view() : null), 30000, 'RECORDING');
    await sleep(4000);

    const [browserPid] = running.recorder!.pool.pids();
    const profile = fs.readFileSync(`/proc/${browserPid}/cmdline`, 'utf8').split('\0').find((a) => a.startsWith('--user-data-dir='))!;
    const withProfile = () => browserProcesses(profile.slice('--user-data-dir='.length), { exact: true });
    expect(withProfile().length).toBeGreaterThan(2);
    const killedAt = Date.now();
    process.kill(browserPid, 'SIGKILL');
    const done = await waitFor(async () => {
      const v = await view();
      if (v.status === 'FAILED') throw new Error(`FAILED: ${JSON.stringify(v.error)}`);
      return v.status === 'COMPLETED' ? v : null;
    }, 30000, 'COMPLETED');
    expect(done).toMatchObject({ stopReason: 'failed', endedEarly: true, error: { code: 'BROWSER_CRASHED', fault: 'service', message: expect.stringContaining('browser') } });
    const info = await probe('ffprobe', path.join(dir, 'inproc', done.storageKey));
    const capturedMs = killedAt - Date.parse(rec.recordingAt);
    expect({ fileMs: info.durationMs, capturedMs, close: Math.abs(info.durationMs - capturedMs) < 1500 }).toMatchObject({ close: true });
    // the crashed browser's helpers went with it
    await waitFor(async () => withProfile().length === 0, 5000, () => `crashed browser's processes gone (left: ${withProfile().join(',')})`);
  }, 90000);
});
