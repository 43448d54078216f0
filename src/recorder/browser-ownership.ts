import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { AppError } from '../errors';
import { isRunning, processHasArg, selfIdentity } from '../observability/process-identity';
import type { Logger } from './logger';

/**
 * Chromium must not outlive the worker that started it: puppeteer starts it in a process
 * group of its own, so a SIGKILL of node leaves it in the room as the hidden recorder.
 * Two guards:
 *  - it is started through `setpriv --pdeathsig KILL` (util-linux), so the kernel kills
 *    the browser process when node dies (its helpers quit with it); the pid puppeteer
 *    sees is Chromium's, since setpriv execs it;
 *  - every browser has a record in the state directory (its user-data-dir, pid and the
 *    owning process), and a worker that starts ends what a dead owner left: by process
 *    group, once /proc shows that it really is a Chromium with that user-data-dir.
 * The state directory is per machine and user (under the temp dir): pids mean nothing on
 * another machine, and its lifetime matches the processes it names.
 */
export function defaultBrowserStateDir(tmpDir = os.tmpdir()): string {
  return path.join(tmpDir, `livekit-recorder-${process.getuid?.() ?? 'user'}`, 'browsers');
}

const SETPRIV_CANDIDATES = ['/usr/bin/setpriv', '/bin/setpriv'];

const BrowserRecord = z.object({
  owner: z.object({ pid: z.number().int().positive(), startTicks: z.number().optional() }),
  pid: z.number().int().positive().optional(),
});
type BrowserRecord = z.infer<typeof BrowserRecord>;

/** One browser this process launches: its own user-data-dir and the record that names it. */
export interface BrowserClaim {
  id: string;
  userDataDir: string;
}

export interface SweepReport {
  /** Browser process trees of dead owners that were ended. */
  killed: number[];
  /** Records of dead owners removed (with their user-data-dirs). */
  cleared: number;
}

const run = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class BrowserOwnership {
  private wrapper?: string | null;

  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  /**
   * `setpriv` when it can set a parent-death signal here, else null (then only the sweep
   * guards). Checked once by running it.
   */
  async deathSignalWrapper(): Promise<string | null> {
    if (this.wrapper !== undefined) return this.wrapper;
    this.wrapper = null;
    for (const bin of SETPRIV_CANDIDATES) {
      try {
        await run(bin, ['--pdeathsig', 'KILL', '--', 'true']);
        this.wrapper = bin;
        break;
      } catch {
        /* not there or too old */
      }
    }
    if (!this.wrapper) this.log.warn({}, 'setpriv --pdeathsig is not available: a browser could outlive a killed worker until the next start sweeps it');
    return this.wrapper;
  }

  /** Executable and argv that start Chromium with `chromeArgs` (and die with this process when possible). */
  async command(chromiumPath: string, chromeArgs: string[]): Promise<{ executablePath: string; args: string[] }> {
    const wrapper = await this.deathSignalWrapper();
    return wrapper ? { executablePath: wrapper, args: ['--pdeathsig', 'KILL', '--', chromiumPath, ...chromeArgs] } : { executablePath: chromiumPath, args: chromeArgs };
  }

  /** A new browser's user-data-dir, recorded as ours before it is launched. */
  claim(): BrowserClaim {
    this.ensureDir();
    const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const claim = { id, userDataDir: path.join(this.dir, id) };
    this.write(claim, { owner: selfIdentity() });
    fs.mkdirSync(claim.userDataDir, { mode: 0o700 });
    return claim;
  }

  /** The launched browser's pid, so a successor can end its process group. */
  adopt(claim: BrowserClaim, pid: number | undefined): void {
    this.write(claim, { owner: selfIdentity(), ...(pid ? { pid } : {}) });
  }

  /** Ends whatever is left of the claimed browser and removes its record and profile. */
  async release(claim: BrowserClaim): Promise<void> {
    const record = this.read(claim.id);
    await this.end(claim, record?.pid);
    this.remove(claim);
  }

  /** Ends the browsers of owners that are no longer running; the live ones (other workers) are left alone. */
  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { killed: [], cleared: 0 };
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return report;
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      const record = this.read(id);
      if (record && isRunning(record.owner)) continue;
      const claim = { id, userDataDir: path.join(this.dir, id) };
      report.killed.push(...(await this.end(claim, record?.pid)));
      this.remove(claim);
      report.cleared++;
    }
    if (report.killed.length) this.log.warn({ pids: report.killed, dir: this.dir }, 'ended browsers a dead worker left running');
    return report;
  }

  /**
   * SIGKILLs the claimed browser's process group (when its leader really is that browser)
   * and any other process started with its user-data-dir; resolves once they are gone.
   */
  private async end(claim: BrowserClaim, pid: number | undefined): Promise<number[]> {
    const flag = `--user-data-dir=${claim.userDataDir}`;
    const isOurs = (p: number) => processHasArg(p, flag);
    const members = processesWith(flag);
    if (pid && isOurs(pid)) signal(-pid);
    for (const p of members) if (isOurs(p)) signal(p);
    for (let i = 0; i < 30 && members.some(isOurs); i++) await sleep(100);
    return members;
  }

  private ensureDir(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(this.dir);
    if (process.getuid && st.uid !== process.getuid()) {
      throw new AppError('CONFIG_INVALID', `the browser state directory ${this.dir} belongs to another user`);
    }
  }

  private write(claim: BrowserClaim, record: BrowserRecord): void {
    const file = path.join(this.dir, `${claim.id}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(record));
    fs.renameSync(`${file}.tmp`, file);
  }

  private read(id: string): BrowserRecord | undefined {
    try {
      const parsed = BrowserRecord.safeParse(JSON.parse(fs.readFileSync(path.join(this.dir, `${id}.json`), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private remove(claim: BrowserClaim): void {
    fs.rmSync(claim.userDataDir, { recursive: true, force: true });
    fs.rmSync(path.join(this.dir, `${claim.id}.json`), { force: true });
    fs.rmSync(path.join(this.dir, `${claim.id}.json.tmp`), { force: true });
  }
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Pids of every process whose command line holds `arg` exactly. */
function processesWith(arg: string): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e) && processHasArg(Number(e), arg)).map(Number);
}
