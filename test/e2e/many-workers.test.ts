import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { processTree } from '../../src/observability/process-tree';
import { probe } from '../../src/recorder/probe';
import { createStorage } from '../../src/storage';
import { audioSamples, colourRegion, frameAt, meanColour, tonePower } from '../helpers/media';
import { freePort } from '../helpers/ports';
import { RecorderProcess, sleep } from '../helpers/recorder-process';
import { createTestDatabase } from '../helpers/services/postgres';

/**
 * One API process and two worker processes on PostgreSQL and Redis, the spool stored in
 * S3 (moto): six recordings, three per worker (each takes at most three); one worker is
 * SIGKILLed with its browsers mid-recording, as when its machine is lost. The other finishes
 * its recordings from the stored spool: every row ends COMPLETED, and each file of a killed
 * recording holds what was recorded before the kill, less at most one timeslice and the
 * chunk in flight (the target: under 1.5 s).
 */
const SECRET = 'many-workers-secret-0123456789abcdef';
const CHROMIUM = '/usr/bin/chromium';
const livekit = { url: process.env.TEST_LIVEKIT_URL!, apiKey: process.env.TEST_LIVEKIT_API_KEY!, apiSecret: process.env.TEST_LIVEKIT_API_SECRET! };
const ROOMS = ['#ff0000', '#00ff00', '#0000ff', '#ffff00', '#ff00ff', '#00ffff'].map((colour, i) => ({ room: `mw-room-${i}`, call: `mw-call-${i}`, colour, tone: 500 + 150 * i }));

const PREFIX = `many-workers-${Date.now()}`;

interface Outcome {
  call: string;
  id: string;
  killed: boolean;
  workerId: string;
  view: any;
  file: string;
  recordedBeforeKillMs?: number;
  fileMs: number;
}

let dir: string;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let publishers: SyntheticPublishers | undefined;
const joined: Publisher[] = [];
const procs: RecorderProcess[] = [];
const outcomes: Outcome[] = [];

/** Process group of `pid` (field 5 of /proc/<pid>/stat). */
function groupOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

/** A lost machine: SIGKILL to the worker's process group and to each group below it (its Chromium has its own). */
function killMachine(worker: RecorderProcess): void {
  const groups = new Set(processTree(worker.pid).map(groupOf).filter((g): g is number => g !== null && g > 1));
  for (const g of groups) process.kill(-g, 'SIGKILL');
}

/** A wait that failed, with each recording's status and worker (none: never claimed) and what the processes said and logged (info: a page's join, its encoder's start). */
async function withLogs(err: Error): Promise<never> {
  const views = await Promise.all(ROOMS.map((r) => procs[0].api('GET', `/api/video-calls/${r.call}/recordings`).then((x) => JSON.stringify(x.body?.data?.map?.((v: any) => [v.status, v.workerId]) ?? x.body), (e: Error) => e.message)));
  throw new Error(`${err.message}\nrecordings: ${views.join(' ')}\n${procs.map((p, i) => `--- process ${i} (pid ${p.pid})\n${p.stderr().slice(-1500)}\n${p.logs().slice(-6000)}`).join('\n')}`);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-many-workers-'));
  db = await createTestDatabase('manyworkers');
  const port = String(await freePort());
  const shared = {
    HOME: dir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: SECRET,
    LIVEKIT_URL: livekit.url,
    LIVEKIT_API_KEY: livekit.apiKey,
    LIVEKIT_API_SECRET: livekit.apiSecret,
    LIVEKIT_WEBHOOK_ENABLED: 'false',
    DATABASE_URL: db.url,
    REDIS_URL: process.env.TEST_REDIS_URL!,
    RECORDING_OUTPUT_DIR: path.join(dir, 'out'),
    RECORDING_STORAGE_PROVIDER: 'aws',
    RECORDING_STORAGE_BUCKET: process.env.TEST_S3_BUCKET!,
    RECORDING_STORAGE_ENDPOINT: process.env.TEST_S3_ENDPOINT!,
    RECORDING_STORAGE_CREDENTIALS: process.env.TEST_S3_CREDENTIALS!,
    RECORDING_STORAGE_PREFIX: PREFIX,
    // a lost worker's claims run out after 4 s, and every process looks for such recordings each second
    REDIS_OWNER_TTL_SECONDS: '4',
    RECORDING_RECOVERY_INTERVAL_SECONDS: '1',
  };
  // each worker its own spool directory: the other "machine" sees only the stored spool
  const worker = (n: number) => ({ ...shared, RECORDING_SPOOL_DIR: path.join(dir, `spool-${n}`), RECORDER_MAX_CONCURRENT: '3', RECORDER_ADMISSION_MEASURED: 'false', RECORDER_STANDBY_PAGES: '2' });
  const launched = await Promise.all([
    RecorderProcess.launch('serve', { ...shared, PORT: port }, { secret: SECRET }),
    RecorderProcess.launch('worker', worker(1), { secret: SECRET }),
    RecorderProcess.launch('worker', worker(2), { secret: SECRET }),
    SyntheticPublishers.launch({ chromiumPath: CHROMIUM, livekit }).then((p) => (publishers = p)),
  ]);
  const [api, w1, w2] = launched as [RecorderProcess, RecorderProcess, RecorderProcess, unknown];
  procs.push(api, w1, w2);
  for (const r of ROOMS) joined.push(await publishers!.add({ room: r.room, identity: `p-${r.call}`, colour: r.colour, tone: r.tone, width: 160, height: 90, fps: 10 }));
  for (const r of ROOMS) expect((await api.api('POST', '/api/video-calls', { id: r.call, roomName: r.room, hostId: 'host-1', participantIds: [] })).status).toBe(201);

  const ids: string[] = [];
  for (const r of ROOMS) {
    const res = await api.api('POST', `/api/video-calls/${r.call}/recording/start`, { format: 'mp4', width: 320, height: 180, fps: 15 });
    // a refusal says why (NO_CAPACITY: which of the dispatch's reasons)
    expect({ call: r.call, status: res.status, ...(res.status === 201 ? {} : { body: res.body }) }).toEqual({ call: r.call, status: 201 });
    ids.push(res.body.data.id);
  }
  // Six starts at once on two cores, beside six publishers: before the workers' sessions were
  // weighted the last was once seen RECORDING 19.5 s after its request; since, 0.8 to 4.2 s to
  // the file's time 0 (printed by the spread case). This wait is about the salvage, not that.
  const live = await Promise.all(ROOMS.map((r, i) => api.waitStatus(r.call, ids[i], 'RECORDING', 45000))).catch(withLogs);
  // mid-recording: the starts' page loads and standby pages reloading have settled
  await sleep(8000);

  // the worker's id names its pid: the worker of the first recording is lost with its machine
  const lost = [w1, w2].find((w) => String(live[0].workerId).includes(`-${w.pid}-`))!;
  const killAt = Date.now();
  killMachine(lost);
  await lost.exited;
  const killed = live.map((v) => String(v.workerId).includes(`-${lost.pid}-`));
  // the survivor's recordings are stopped as usual
  await Promise.all(ROOMS.map((r, i) => (killed[i] ? undefined : api.api('POST', `/api/video-calls/${r.call}/recording/stop`))));
  const done = await Promise.all(ROOMS.map((r, i) => api.waitStatus(r.call, ids[i], 'COMPLETED', 30000))).catch(withLogs);
  for (const [i, r] of ROOMS.entries()) {
    const file = await api.download(r.call, ids[i], path.join(dir, `${r.call}.mp4`));
    const fileMs = (await probe('ffprobe', file)).durationMs ?? 0;
    const recordedBeforeKillMs = killed[i] ? killAt - new Date(done[i].recordingAt).getTime() : undefined;
    outcomes.push({ call: r.call, id: ids[i], killed: killed[i], workerId: live[i].workerId, view: done[i], file, fileMs, ...(recordedBeforeKillMs !== undefined ? { recordedBeforeKillMs } : {}) });
  }
}, 110000);

afterAll(async () => {
  await Promise.allSettled(joined.map((p) => p.leave()));
  await publishers?.close();
  for (const p of procs.slice(1)) if (p.running) await p.terminate(10000);
  if (procs[0]?.running) await procs[0].terminate(10000);
  for (const p of procs) p.killTree();
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 40000);

describe('two workers, one lost mid-recording', () => {
  it("weights the worker's session and its browsers' where it may (root: nice -8), and leaves them where it may not", () => {
    const running = procs.slice(1).filter((w) => w.running);
    expect(running).toHaveLength(1);
    const niceOf = (pid: number) => Number(/nice (-?\d+)/.exec(fs.readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1]);
    const weighted = process.getuid?.() === 0 ? -8 : 0;
    expect(niceOf(running[0]!.pid)).toBe(weighted);
    // and its browsers, each leading a session of its own: they are the recordings
    const browsers = processTree(running[0]!.pid).filter((pid) => {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return /\(chromium\)/.test(stat) && Number(stat.split(') ')[1]!.split(' ')[3]) === pid;
    });
    expect(browsers.length).toBeGreaterThan(0);
    expect(browsers.map(niceOf)).toEqual(browsers.map(() => weighted));
  });

  it('spread the six recordings three and three', () => {
    const byWorker = new Map<string, number>();
    for (const o of outcomes) byWorker.set(o.workerId, (byWorker.get(o.workerId) ?? 0) + 1);
    // each start's request to its file's time 0: six at once on two cores beside six publishers
    const startMs = outcomes.map((o) => Date.parse(o.view.recordingAt) - Date.parse(o.view.startedAt));
    process.stdout.write(`many workers: request to file time 0, six starts at once: ${startMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s\n`);
    expect([...byWorker.values()]).toEqual([3, 3]);
    expect(outcomes.filter((o) => o.killed)).toHaveLength(3);
    expect(outcomes.every((o) => o.view.status === 'COMPLETED')).toBe(true);
  });

  // The aim is under 1.5 s (a timeslice and the chunk in flight). Here the machine also runs the
  // six publishers' browsers and the S3 emulator on two cores: with the worker one session among
  // a dozen, its thread waited 1 to 2.4 s for a core at a time and 3.3 to 6.8 s were lost; with
  // its session weighted (WORKER_SESSION_NICE, recorder/session-weight.ts) 0.14 to 1.41 s, median 0.7.
  it("finished the lost worker's recordings from the stored spool, under 1.5 s short (median) on a saturated machine", () => {
    const lostMs = outcomes.filter((o) => o.killed).map((o) => o.recordedBeforeKillMs! - o.fileMs);
    const median = [...lostMs].sort((a, b) => a - b)[1];
    process.stdout.write(`many workers: seconds lost per killed recording ${lostMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} (median ${(median / 1000).toFixed(2)})\n`);
    for (const o of outcomes.filter((x) => x.killed)) {
      expect(o.view).toMatchObject({ stopReason: 'worker_lost', endedEarly: true });
      expect(o.fileMs).toBeGreaterThan(2500);
    }
    for (const ms of lostMs) expect(ms).toBeGreaterThan(-300);
    expect(median).toBeLessThan(1500);
    for (const ms of lostMs) expect(ms).toBeLessThan(2500);
  });

  it('has each publisher in its file: its colour and its tone', async () => {
    for (const o of outcomes) {
      const r = ROOMS.find((x) => x.call === o.call)!;
      // its colour in a frame of the file's second half (one frame may be a starved page's
      // stall on its tile's placeholder), each frame's share and mean colour printed on a miss
      const looks: { at: number; share: number; mean: string }[] = [];
      for (const at of [0.5, 0.65, 0.8].map((f) => Math.max(0.5, (o.fileMs / 1000) * f))) {
        const frame = await frameAt(o.file, at);
        looks.push({ at, share: Number(colourRegion(frame, r.colour).share.toFixed(2)), mean: meanColour(frame) });
      }
      expect({ call: o.call, looks, share: looks.some((l) => l.share > 0.2) }).toEqual({ call: o.call, looks, share: true });
      // the salvage is what this case is about: the tone anywhere in what was recorded. Six
      // Chromium publishers starved beside six recordings on two cores sent silence for the
      // first 2.5 s of a file (a CI run, its whole mix silent); the first second is the
      // quality and first-second cases' to judge, with publishers that are not starved.
      const samples = await audioSamples(o.file, 0.5, o.fileMs / 1000 - 1);
      const others = ROOMS.filter((x) => x !== r).map((x) => tonePower(samples, x.tone));
      const own = tonePower(samples, r.tone);
      const seen = { call: o.call, killed: o.killed, fileMs: o.fileMs, own: own.toExponential(1), others: Math.max(...others).toExponential(1) };
      expect({ ...seen, tone: own > Math.max(...others) * 20 }).toEqual({ ...seen, tone: true });
    }
  });

  it('removed the stored spool of every recording after COMPLETED', async () => {
    const storage = createStorage({
      provider: 'aws',
      prefix: '',
      bucket: process.env.TEST_S3_BUCKET!,
      endpoint: process.env.TEST_S3_ENDPOINT!,
      credentials: process.env.TEST_S3_CREDENTIALS!,
      region: 'us-east-1',
      signedUrlSeconds: 60,
      localDir: dir,
    });
    for (const o of outcomes) expect(await storage.list(`${PREFIX}/${o.call}/${o.id}/spool/`)).toEqual([]);
    await storage.close();
  });
});
