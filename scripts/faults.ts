/**
 * `npm run faults`: injects each fault into a real recording - real livekit-server, a real
 * Chromium publisher, the real service processes (`recorder all` on the embedded defaults,
 * or `recorder serve` + `recorder worker` on PostgreSQL and Redis) - and reports per fault:
 * the seconds of the call kept in the file against the seconds recorded, how long until
 * the API told the truth and until the recording's final status, the status (and code), and
 * what of the service's processes was left running. Starts and removes everything it uses
 * (root: it mounts a small tmpfs for the full-disk case). Prints a table, then JSON.
 * FAULTS=name,name runs only some.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SyntheticPublishers } from '../src/demo/synthetic-publishers';
import { sleep } from '../test/helpers/recorder-process';
import { Deployment, finalStatus, keptSeconds, requestStop, spoolSeconds, startRecording, type Kind, type Recording, type Suite } from './faults-lib';
import { Livekit, Postgres, RedisServer, S3, SmallDisk } from './faults-services';

const RECORD_MS = 8000;

/** When the fault hit, when capture should have ended, and from when the final status is timed. */
interface Timing {
  faultAt: number;
  captureEndAt: number;
  refAt: number;
  ref: string;
  /** The fault ends the recording (else it must stay RECORDING until we stop it). */
  ends: boolean;
}

interface Case {
  name: string;
  fault: string;
  kind: Kind;
  prepare?(suite: Suite, dir: string): Promise<{ outputDir?: string; env?: Record<string, string>; cleanup?: () => Promise<void>; disk?: SmallDisk }>;
  inject(suite: Suite, dep: Deployment, rec: Recording, ctx: { disk?: SmallDisk }): Promise<Timing>;
}

const stopNow = async (dep: Deployment, rec: Recording, t: Omit<Timing, 'captureEndAt' | 'refAt' | 'ref'>): Promise<Timing> => {
  const at = await requestStop(dep, rec);
  return { ...t, captureEndAt: at, refAt: at, ref: 'stop' };
};

const CASES: Case[] = [
  {
    name: 'chromium',
    fault: 'Chromium killed (SIGKILL of the browser process)',
    kind: 'embedded',
    async inject(_s, dep) {
      const pid = dep.chromiumPid();
      if (!pid) throw new Error('no browser record');
      const at = Date.now();
      process.kill(pid, 'SIGKILL');
      return { faultAt: at, captureEndAt: at, refAt: at, ref: 'fault', ends: true };
    },
  },
  {
    name: 'ffmpeg',
    fault: 'FFmpeg killed (SIGKILL), stopped 5 s later',
    kind: 'embedded',
    async inject(_s, dep, rec) {
      const pid = dep.ffmpegPid();
      if (!pid) throw new Error('no ffmpeg');
      const at = Date.now();
      process.kill(pid, 'SIGKILL');
      await sleep(5000);
      return stopNow(dep, rec, { faultAt: at, ends: false });
    },
  },
  ...(['embedded', 'pg+redis'] as const).map(
    (kind): Case => ({
      name: kind === 'embedded' ? 'worker-embedded' : 'worker-pg-redis',
      fault: `worker SIGKILL (node alone), restarted at once (${kind === 'embedded' ? 'embedded defaults' : 'PostgreSQL + Redis'})`,
      kind,
      async inject(_s, dep) {
        const at = Date.now();
        process.kill(dep.recorder.pid, 'SIGKILL');
        await dep.recorder.exited;
        await dep.restartRecorder();
        return { faultAt: at, captureEndAt: at, refAt: at, ref: 'fault', ends: true };
      },
    }),
  ),
  {
    name: 'storage',
    fault: 'storage (S3) down for 60 s from the stop, during upload',
    kind: 'embedded',
    async prepare(suite) {
      const s3 = suite.s3;
      return { env: { RECORDING_STORAGE_PROVIDER: 'aws', RECORDING_STORAGE_BUCKET: s3.bucket, RECORDING_STORAGE_ENDPOINT: s3.endpoint, RECORDING_STORAGE_CREDENTIALS: 'test:test', RECORDING_STORAGE_REGION: 'us-east-1' } };
    },
    async inject(suite, dep, rec) {
      const at = Date.now();
      await suite.s3.down();
      const stopAt = await requestStop(dep, rec);
      await sleep(Math.max(0, at + 60_000 - Date.now()));
      await suite.s3.up();
      return { faultAt: at, captureEndAt: stopAt, refAt: Date.now(), ref: 'storage back', ends: false };
    },
  },
  {
    name: 'redis',
    fault: 'Redis restarted (keys lost), recording 65 s on (past a recovery run)',
    kind: 'pg+redis',
    async inject(suite, dep, rec) {
      const at = Date.now();
      await suite.redis.down();
      await sleep(1000);
      await suite.redis.up();
      await sleep(65_000);
      return stopNow(dep, rec, { faultAt: at, ends: false });
    },
  },
  {
    name: 'postgres',
    fault: 'PostgreSQL restarted (fast shutdown), stopped 6 s later',
    kind: 'pg+redis',
    async inject(suite, dep, rec) {
      const at = Date.now();
      await suite.pg.restart();
      await sleep(6000);
      return stopNow(dep, rec, { faultAt: at, ends: false });
    },
  },
  {
    name: 'disk',
    fault: 'disk full (a 128 MiB tmpfs holding recordings, spool and database fills), room made 10 s later',
    kind: 'embedded',
    async prepare(_s, dir) {
      const disk = await SmallDisk.mount(path.join(dir, 'disk'), 128);
      return { outputDir: disk.dir, env: { RECORDING_MIN_FREE_DISK_MB: '1' }, disk, cleanup: () => disk.remove() };
    },
    async inject(_s, dep, rec, { disk }) {
      // leave about 5 s of what the recording writes (spool + FFmpeg's output), measured
      const spool = path.join(dep.outputDir, '.spool', `${rec.id}.webm`);
      const s0 = fs.statSync(spool).size;
      await sleep(2000);
      const rate = Math.max(20_000, (fs.statSync(spool).size - s0) / 2);
      disk!.fill(Math.round(rate * 2 * 5));
      for (let i = 0; i < 200 && disk!.freeBytes() > 64 * 1024 && rec.log.firstChangeAfter(0) === undefined; i++) await sleep(100);
      const at = Date.now();
      // an operator makes room 10 s after the status said so; the file is due from then
      for (let i = 0; i < 300 && rec.log.firstChangeAfter(0) === undefined; i++) await sleep(100);
      await sleep(10_000);
      disk!.free();
      return { faultAt: at, captureEndAt: at, refAt: Date.now(), ref: 'room made 10 s after the status', ends: true };
    },
  },
  {
    name: 'livekit',
    fault: 'LiveKit server restarted, stopped 10 s later',
    kind: 'embedded',
    async inject(suite, dep, rec) {
      const at = Date.now();
      await suite.livekit.down();
      await suite.livekit.up();
      await sleep(10_000);
      const change = rec.log.firstChangeAfter(at);
      if (change) return { faultAt: at, captureEndAt: change.at, refAt: at, ref: 'fault', ends: false };
      return stopNow(dep, rec, { faultAt: at, ends: false });
    },
  },
];

interface Result {
  name: string;
  fault: string;
  deployment: Kind;
  status: string;
  code: string | null;
  endedEarly: boolean | null;
  recordedS: number;
  keptS: number | null;
  /** The publisher's picture in the file's last second. */
  publisherAtEnd: boolean | null;
  /** A recording that did not complete: the seconds its spool still holds on the worker's disk. */
  spoolS: number | null;
  trueStatusS: number | null;
  finalS: number | null;
  finalFrom: string;
  statuses: string;
  leftBehind: string[];
  error?: string;
}

async function runCase(suite: Suite, c: Case): Promise<Result> {
  const dir = path.join(suite.root, c.name);
  fs.mkdirSync(dir, { recursive: true });
  const prep = (await c.prepare?.(suite, dir)) ?? {};
  if (prep.cleanup) cleanups.push(prep.cleanup);
  let dep: Deployment | undefined;
  let leave: (() => Promise<void>) | undefined;
  const base = { name: c.name, fault: c.fault, deployment: c.kind };
  try {
    dep = await Deployment.start(suite, c.name, c.kind, { ...(prep.outputDir ? { outputDir: prep.outputDir } : {}), ...(prep.env ? { env: prep.env } : {}) });
    const running = dep;
    cleanups.push(async () => void (await running.stop()));
    const rec = await startRecording(suite, dep, c.name);
    leave = rec.leave;
    await sleep(RECORD_MS);
    const t = await c.inject(suite, dep, rec, { ...(prep.disk ? { disk: prep.disk } : {}) });
    const final = await finalStatus(dep, rec, 120_000);
    rec.log.stop();
    if (final) rec.log.note(final.view.status, final.at, final.view.error?.code);
    const change = rec.log.firstChangeAfter(t.faultAt);
    // a fault that must not end the recording: the status is true while it stays RECORDING until our stop
    const wrong = !t.ends && change !== undefined && change.at < t.captureEndAt;
    const trueStatusS = t.ends ? (change ? (change.at - t.faultAt) / 1000 : null) : wrong ? null : 0;
    const kept = final?.view.status === 'COMPLETED' ? await keptSeconds(dep, rec) : null;
    const spoolS = final?.view.status === 'COMPLETED' ? null : await spoolSeconds(dep, rec);
    const left = await dep.stop();
    dep = undefined;
    return {
      ...base,
      status: final?.view.status ?? 'not final after 120 s',
      code: final?.view.error?.code ?? null,
      endedEarly: final?.view.endedEarly ?? null,
      recordedS: (t.captureEndAt - rec.recordingAt) / 1000,
      keptS: kept?.seconds ?? null,
      publisherAtEnd: kept?.publisherAtEnd ?? null,
      spoolS,
      trueStatusS,
      finalS: final ? (final.at - t.refAt) / 1000 : null,
      finalFrom: t.ref,
      statuses: rec.log.entries.map((e) => `${e.status}${e.code ? `(${e.code})` : ''}@${((e.at - t.faultAt) / 1000).toFixed(1)}`).join(' '),
      leftBehind: left,
    };
  } catch (err) {
    const left = dep ? await dep.stop().catch(() => []) : [];
    return { ...base, status: 'suite error', code: null, endedEarly: null, recordedS: 0, keptS: null, publisherAtEnd: null, spoolS: null, trueStatusS: null, finalS: null, finalFrom: '', statuses: '', leftBehind: left, error: (err as Error).message.slice(0, 500) };
  } finally {
    await leave?.().catch(() => undefined);
    await prep.cleanup?.().catch(() => undefined);
  }
}

const f1 = (v: number | null) => (v === null ? '-' : v.toFixed(1));

function table(results: Result[]): string {
  const rows = results.map((r) => [
    r.fault,
    `${r.status}${r.code ? ` ${r.code}` : ''}${r.endedEarly ? ' (ended early)' : ''}`,
    `${f1(r.keptS)} / ${f1(r.recordedS)}${r.publisherAtEnd === false ? ' (no picture at the end)' : ''}${r.spoolS !== null ? ` (${f1(r.spoolS)} s left in the spool)` : ''}`,
    r.trueStatusS === null ? 'wrong/none' : f1(r.trueStatusS),
    `${f1(r.finalS)} (from ${r.finalFrom || '-'})`,
    r.leftBehind.length ? r.leftBehind.join(', ') : 'nothing',
  ]);
  const head = ['fault', 'final status', 'kept / recorded s', 'true status after s', 'final status after s', 'left behind'];
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Run on the way out whatever happens, also on Ctrl-C: a mounted tmpfs and servers must not stay. */
const cleanups: (() => Promise<void>)[] = [];
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`${sig}: cleaning up\n`);
    void (async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
      process.exit(130);
    })();
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the fault suite mounts a tmpfs for the full-disk case: run it as root');
  const only = process.env.FAULTS?.split(',').filter(Boolean);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'recorder-faults-'));
  const started = Date.now();
  const parts: { stop(): Promise<void> }[] = [];
  cleanups.push(async () => {
    for (const p of parts) await p.stop().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  });
  let suite: Suite | undefined;
  try {
    const livekit = await Livekit.start();
    parts.push({ stop: () => livekit.down() });
    const pg = await Postgres.start(root);
    parts.push({ stop: () => pg.stop() });
    const redis = await RedisServer.start();
    parts.push({ stop: () => redis.down() });
    const s3 = await S3.start();
    parts.push({ stop: () => s3.down() });
    const publishers = await SyntheticPublishers.launch({ chromiumPath: '/usr/bin/chromium', livekit: { url: livekit.url, apiKey: 'devkey', apiSecret: 'secret' } });
    parts.unshift({ stop: () => publishers.close() });
    suite = { root, livekit, pg, redis, s3, publishers };
    const results: Result[] = [];
    for (const c of CASES.filter((x) => !only || only.includes(x.name))) {
      process.stderr.write(`fault: ${c.fault} ...\n`);
      const r = await runCase(suite, c);
      process.stderr.write(`  ${r.status}${r.code ? ` ${r.code}` : ''}, kept ${f1(r.keptS)} of ${f1(r.recordedS)} s, final after ${f1(r.finalS)} s; ${r.statuses}${r.error ? `; ERROR ${r.error}` : ''}\n`);
      results.push(r);
    }
    process.stdout.write(`${table(results)}\n\n(${((Date.now() - started) / 60000).toFixed(1)} min)\n`);
    process.stdout.write(`${JSON.stringify({ results })}\n`);
  } finally {
    for (const p of parts) await p.stop().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
