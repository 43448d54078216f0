import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { LOCK_FILE, lockDir } from '../../src/db/dir-lock';
import { selfIdentity } from '../../src/observability/process-identity';

/** The embedded database is on disk by default (beside the recordings) and one process owns its directory. */
describe('PGLITE_DIR', () => {
  it('defaults to <RECORDING_OUTPUT_DIR>/.db; `memory` keeps it in memory; an explicit directory is used as given', () => {
    expect(loadConfig({ RECORDING_OUTPUT_DIR: '/srv/rec' }).database).toEqual({ url: undefined, pgliteDir: '/srv/rec/.db' });
    expect(loadConfig({}).database.pgliteDir).toBe(path.join(os.homedir(), '.livekit-recorder', 'recordings', '.db'));
    expect(loadConfig({ PGLITE_DIR: 'memory' }).database.pgliteDir).toBeUndefined();
    expect(loadConfig({ PGLITE_DIR: '/var/lib/recorder/db' }).database.pgliteDir).toBe('/var/lib/recorder/db');
  });
});

describe('lockDir: one process per embedded database directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dir-lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a second owner with CONFIG_INVALID naming the directory and the owner, until released', () => {
    const lock = lockDir(dir);
    expect(() => lockDir(dir)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(`${dir} is in use by process ${process.pid}`) }));
    lock.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    lockDir(dir).release();
  });

  it('takes over the lock of a dead process, and of a reused pid (another start time)', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: Number(dead.stdout) }));
    const a = lockDir(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'))).toEqual(selfIdentity());
    a.release();

    // our own pid, but a start time that is not ours: the process that wrote it is gone
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, startTicks: (selfIdentity().startTicks ?? 0) + 1 }));
    lockDir(dir).release();

    // a torn or foreign file is no owner
    fs.writeFileSync(path.join(dir, LOCK_FILE), 'garbage');
    lockDir(dir).release();
  });

  it('release leaves a lock another process took over alone', () => {
    const lock = lockDir(dir);
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 1 }));
    lock.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(true);
  });
});
