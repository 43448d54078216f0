/**
 * The fault suite's harness (scripts/faults.ts): deploys the real service (`recorder all` on
 * the embedded defaults, or `recorder serve` + `recorder worker` on PostgreSQL and Redis),
 * records a room with a Chromium publisher, watches the recording's status and every process
 * the service starts, and measures what a fault cost.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SyntheticPublishers } from '../src/demo/synthetic-publishers';
import { isRunning, processStartTicks, type ProcessIdentity } from '../src/observability/process-identity';
import { processTree } from '../src/observability/process-tree';
import { probe } from '../src/recorder/probe';
import { colourRegion, frameAt } from '../test/helpers/media';
import { freePort } from '../test/helpers/ports';
import { browserProcesses, browserStateDir, RecorderProcess, sleep, waitFor } from '../test/helpers/recorder-process';
import type { Livekit, Postgres, RedisServer, S3 } from './faults-services';

export const SECRET = 'fault-suite-secret-0123456789abcdef';
const run = promisify(execFile);
const PUBLISHER_COLOUR = '#20a050';

export interface Suite {
  root: string;
  livekit: Livekit;
  pg: Postgres;
  redis: RedisServer;
  s3: S3;
  publishers: SyntheticPublishers;
}

export type Kind = 'embedded' | 'pg+redis';

/** One deployment of the service for one fault: its processes, settings and directories. */
export class Deployment {
  api!: RecorderProcess;
  worker?: RecorderProcess;
  readonly seen = new Map<number, ProcessIdentity>();
  /** Processes of this deployment that ended by themselves (or were killed by a fault) and were replaced. */
  readonly exitedEarly: RecorderProcess[] = [];
  private sampler?: NodeJS.Timeout;

  private constructor(
    readonly kind: Kind,
    readonly dir: string,
    readonly apiEnv: Record<string, string>,
    readonly workerEnv: Record<string, string>,
  ) {}

  static async start(suite: Suite, name: string, kind: Kind, opts: { outputDir?: string; env?: Record<string, string> } = {}): Promise<Deployment> {
    const dir = path.join(suite.root, name);
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    const common = {
      HOME: path.join(dir, 'home'),
      TMPDIR: tmp,
      LOG_LEVEL: 'warn',
      AUTH_JWT_SECRET: SECRET,
      LIVEKIT_URL: suite.livekit.url,
      LIVEKIT_API_KEY: 'devkey',
      LIVEKIT_API_SECRET: 'secret',
      LIVEKIT_WEBHOOK_ENABLED: 'false',
      RECORDING_OUTPUT_DIR: opts.outputDir ?? path.join(dir, 'out'),
      ...opts.env,
    };
    const port = String(await freePort());
    let d: Deployment;
    if (kind === 'embedded') {
      d = new Deployment(kind, dir, { ...common, HOST: '127.0.0.1', PORT: port }, {});
    } else {
      const shared = { ...common, DATABASE_URL: await suite.pg.createDatabase(`fault_${name.replace(/\W/g, '_')}`), REDIS_URL: suite.redis.url };
      d = new Deployment(kind, dir, { ...shared, HOST: '127.0.0.1', PORT: port }, shared);
    }
    await d.launch();
    d.sampler = setInterval(() => d.sample(), 500);
    return d;
  }

  private async launch(): Promise<void> {
    if (this.kind === 'embedded') this.api = await RecorderProcess.launch('all', this.apiEnv, { secret: SECRET });
    else [this.api, this.worker] = await Promise.all([RecorderProcess.launch('serve', this.apiEnv, { secret: SECRET }), RecorderProcess.launch('worker', this.workerEnv, { secret: SECRET })]);
    this.sample();
  }

  /** The process that records (and owns Chromium and FFmpeg). */
  get recorder(): RecorderProcess {
    return this.worker ?? this.api;
  }

  get stateDir(): string {
    return browserStateDir(this.workerEnv.TMPDIR ?? this.apiEnv.TMPDIR);
  }

  get outputDir(): string {
    return this.apiEnv.RECORDING_OUTPUT_DIR;
  }

  /** Starts the recording process again with the same settings (a supervisor's restart). */
  async restartRecorder(): Promise<void> {
    this.exitedEarly.push(this.recorder);
    if (this.kind === 'embedded') this.api = await RecorderProcess.launch('all', this.apiEnv, { secret: SECRET });
    else this.worker = await RecorderProcess.launch('worker', this.workerEnv, { secret: SECRET });
    this.sample();
  }

  /** Every process of the deployment seen so far, with its start time (a reused pid is not ours). */
  sample(): void {
    for (const p of [this.api, this.worker]) {
      if (!p?.running) continue;
      for (const pid of processTree(p.pid)) {
        const startTicks = processStartTicks(pid);
        if (startTicks !== undefined && !this.seen.has(pid)) this.seen.set(pid, { pid, startTicks });
      }
    }
    for (const pid of browserProcesses(this.stateDir)) {
      const startTicks = processStartTicks(pid);
      if (startTicks !== undefined && !this.seen.has(pid)) this.seen.set(pid, { pid, startTicks });
    }
  }

  ffmpegPid(): number | undefined {
    return processTree(this.recorder.pid).find((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg';
      } catch {
        return false;
      }
    });
  }

  /** The browser process (group leader) the recorder runs, from its ownership record. */
  chromiumPid(): number | undefined {
    for (const f of fs.readdirSync(this.stateDir).filter((n) => n.endsWith('.json'))) {
      const rec = JSON.parse(fs.readFileSync(path.join(this.stateDir, f), 'utf8')) as { owner: { pid: number }; pid?: number };
      if (rec.owner.pid === this.recorder.pid && rec.pid) return rec.pid;
    }
    return undefined;
  }

  /** SIGTERM to every process, then what of ours still runs (pids, with their command). */
  async stop(): Promise<string[]> {
    this.sample();
    if (this.sampler) clearInterval(this.sampler);
    // a process that died by itself is reported as crashed, not as a clean stop
    for (const p of [this.worker, this.api]) if (p && !p.running && p.proc.signalCode !== 'SIGKILL') this.exitedEarly.push(p);
    const codes = await Promise.all([this.worker, this.api].map((p) => (p?.running ? p.terminate(30000) : 0)));
    for (const p of [this.worker, this.api]) p?.killTree();
    await sleep(1500);
    const left = [...this.seen.values()].filter((id) => isRunning(id)).map((id) => id.pid);
    for (const pid of browserProcesses(this.stateDir)) if (!left.includes(pid)) left.push(pid);
    const described = left.map((pid) => `${pid} ${commOf(pid)}`);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    // a clean stop exits 0 within 30 s; one the fault killed (SIGKILL) was meant to die
    [this.worker, this.api].forEach((p, i) => {
      if (p && codes[i] !== 0) described.push(`${p === this.api ? 'API' : 'worker'} process: ${codes[i] === 'timeout' ? 'no exit 30 s after SIGTERM' : `exit ${codes[i]}`}`);
    });
    for (const p of this.exitedEarly) {
      if (p.proc.signalCode !== 'SIGKILL') described.push(`crashed (exit ${p.proc.exitCode ?? p.proc.signalCode}): ${lastLines(p.stderr())}`);
    }
    return described;
  }
}

/** What a crashed process said: its first error line (an uncaught exception's), else its last line. */
function lastLines(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /^(\w*Error\b|error \[)/.test(l)) ?? lines[lines.length - 1] ?? '').slice(0, 300);
}

function commOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** The recording's status over time, polled through the API (an error counts as "unreachable"). */
export class StatusLog {
  readonly entries: { at: number; status: string; code?: string }[] = [];
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly dep: Deployment,
    private readonly callId: string,
    private readonly id: string,
  ) {
    this.timer = setInterval(() => void this.poll(), 250);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const r = await this.dep.api.recording(this.callId, this.id).catch(() => null);
      const status = r ? r.status : 'unreachable';
      const last = this.entries[this.entries.length - 1];
      if (!last || last.status !== status) this.entries.push({ at: Date.now(), status, ...(r?.error ? { code: r.error.code } : {}) });
    } finally {
      this.busy = false;
    }
  }

  /** A status seen elsewhere (the final one), so the log has it even between two polls. */
  note(status: string, at: number, code?: string): void {
    const last = this.entries[this.entries.length - 1];
    if (!last || last.status !== status) this.entries.push({ at, status, ...(code ? { code } : {}) });
  }

  /** First status other than RECORDING (and reachable) at or after `t`. */
  firstChangeAfter(t: number): { at: number; status: string } | undefined {
    return this.entries.find((e) => e.at >= t && e.status !== 'RECORDING' && e.status !== 'unreachable');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

export interface Recording {
  callId: string;
  id: string;
  recordingAt: number;
  log: StatusLog;
}

/** A call with one publisher in its room, and a recording of it that is RECORDING. */
export async function startRecording(suite: Suite, dep: Deployment, name: string): Promise<Recording & { leave(): Promise<void> }> {
  const room = `fault-${name}`;
  const publisher = await suite.publishers.add({ room, identity: `pub-${name}`, colour: PUBLISHER_COLOUR, tone: 600 });
  const callId = `call-${name}`;
  const created = await dep.api.api('POST', '/api/video-calls', { id: callId, roomName: room, hostId: 'host-1', participantIds: [] });
  if (created.status !== 201) throw new Error(`create call: HTTP ${created.status} ${JSON.stringify(created.body)}`);
  // admission measures the machine: right after a deployment starts (or the last one stopped) it may be busy for a moment
  let start = await dep.api.api('POST', `/api/video-calls/${callId}/recording/start`, { format: 'mp4' });
  for (let i = 0; i < 30 && start.status === 503 && start.body?.error?.code === 'NO_CAPACITY'; i++) {
    await sleep(2000);
    start = await dep.api.api('POST', `/api/video-calls/${callId}/recording/start`, { format: 'mp4' });
  }
  if (start.status !== 201) throw new Error(`start: HTTP ${start.status} ${JSON.stringify(start.body)}`);
  const id = start.body.data.id as string;
  const rec = await dep.api.waitStatus(callId, id, 'RECORDING', 30000);
  return { callId, id, recordingAt: Date.parse(rec.recordingAt), log: new StatusLog(dep, callId, id), leave: () => publisher.leave() };
}

/** POST .../stop until it is answered (a 409: it had ended by itself); when it was first sent. */
export async function requestStop(dep: Deployment, rec: Recording): Promise<number> {
  const at = Date.now();
  await waitFor(async () => {
    const r = await dep.api.api('POST', `/api/video-calls/${rec.callId}/recording/stop`);
    return r.status === 200 || r.status === 409;
  }, 30000, 'stop answered');
  return at;
}

/** Waits for COMPLETED or FAILED; the view and when it was first seen. */
export async function finalStatus(dep: Deployment, rec: Recording, timeoutMs: number): Promise<{ view: any; at: number } | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const view = await dep.api.recording(rec.callId, rec.id).catch(() => null);
    if (view && (view.status === 'COMPLETED' || view.status === 'FAILED')) return { view, at: Date.now() };
    await sleep(250);
  }
  return null;
}

/**
 * Seconds of media in the COMPLETED recording's file (downloaded through the API), and whether
 * the publisher's picture is still on the canvas in its last second (the call still recorded).
 */
export async function keptSeconds(dep: Deployment, rec: Recording): Promise<{ seconds: number; publisherAtEnd: boolean } | null> {
  const dest = path.join(dep.dir, `${rec.id}.mp4`);
  try {
    await dep.api.download(rec.callId, rec.id, dest);
    const seconds = (await probe('ffprobe', dest)).durationMs / 1000;
    const frame = await frameAt(dest, Math.max(0, seconds - 1));
    return { seconds, publisherAtEnd: colourRegion(frame, PUBLISHER_COLOUR).share > 0.05 };
  } catch (err) {
    process.stderr.write(`  cannot read the kept file: ${(err as Error).message}\n`);
    return null;
  }
}

/**
 * Seconds of media left in the recording's spool (what a FAILED recording still holds on the
 * worker's disk), counted on a copy remuxed beside the deployment: MediaRecorder's WebM names no duration.
 */
export async function spoolSeconds(dep: Deployment, rec: Recording): Promise<number | null> {
  const spool = path.join(dep.outputDir, '.spool', `${rec.id}.webm`);
  const copy = path.join(dep.dir, `${rec.id}.spool.mkv`);
  try {
    if (!fs.existsSync(spool)) return 0;
    await run('ffmpeg', ['-v', 'error', '-y', '-i', spool, '-c', 'copy', copy]);
    return (await probe('ffprobe', copy)).durationMs / 1000;
  } catch {
    return null;
  }
}
