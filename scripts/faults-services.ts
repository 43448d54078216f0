/**
 * What the fault suite (scripts/faults.ts) runs the service against, each startable,
 * restartable on the same port and stoppable: livekit-server, a throwaway PostgreSQL
 * cluster, redis-server, moto (S3), and a small tmpfs that can fill. Everything lives
 * under one temporary directory and is removed by stop().
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { findFreeDevServerPort, startDevServer, type DevServer } from '../src/demo/dev-server';
import { freePort } from '../test/helpers/ports';
import * as s3 from '../test/helpers/services/s3';

const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';

/** livekit-server on a fixed port, so a restart keeps the URL the recorder knows. */
export class Livekit {
  private server?: DevServer;
  private constructor(readonly port: number) {}
  static async start(): Promise<Livekit> {
    const lk = new Livekit(await findFreeDevServerPort(7950));
    await lk.up();
    return lk;
  }
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }
  get pid(): number | undefined {
    return this.server?.pid;
  }
  async up(): Promise<void> {
    this.server = await startDevServer({ port: this.port });
  }
  async down(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}

/** A PostgreSQL 15 cluster of our own (as the postgres user when we are root), fsync off. */
export class Postgres {
  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(root: string): Promise<Postgres> {
    const dir = path.join(root, 'pg');
    fs.mkdirSync(dir, { recursive: true });
    // the postgres user must reach its directory
    fs.chmodSync(root, 0o755);
    if (process.getuid?.() === 0) {
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      fs.chownSync(dir, uid, gid);
    }
    const pg = new Postgres(dir, await freePort());
    await pg.as('initdb', ['-D', pg.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    await pg.ctl('start');
    return pg;
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  private as(cmd: string, args: string[]) {
    const bin = path.join(PG_BIN, cmd);
    return process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', bin, ...args], { cwd: this.dir }) : run(bin, args, { cwd: this.dir });
  }

  private ctl(action: 'start' | 'restart' | 'stop', mode = 'fast') {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200`;
    return this.as('pg_ctl', ['-D', this.data, '-o', opts, '-l', path.join(this.dir, 'log'), '-m', mode, '-w', '-t', '30', action]);
  }

  /** A fresh database; its URL. */
  async createDatabase(name: string): Promise<string> {
    const { Client } = await import('pg');
    const c = new Client({ connectionString: this.url });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE "${name}"`);
    } finally {
      await c.end();
    }
    return this.url.replace(/\/postgres$/, `/${name}`);
  }

  /** Fast shutdown (open sessions are ended), then start again on the same port. */
  async restart(): Promise<void> {
    await this.ctl('restart');
  }

  async stop(): Promise<void> {
    await this.ctl('stop', 'immediate').catch(() => undefined);
  }
}

/** redis-server on a fixed port, no persistence: a restart loses every key, as a real one without AOF does. */
export class RedisServer {
  private proc?: ReturnType<typeof s3.spawnOwned>;
  private constructor(readonly port: number) {}
  static async start(): Promise<RedisServer> {
    const r = new RedisServer(await freePort());
    await r.up();
    return r;
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async up(): Promise<void> {
    this.proc = s3.spawnOwned('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], 'redis-server');
    await waitForPort(this.port, 10000);
  }
  async down(): Promise<void> {
    await this.proc?.stop();
  }
}

/** moto's S3 on a fixed port; down() and up() make an outage (its objects are lost, the bucket is made again). */
export class S3 {
  private emu?: s3.StartedEmulator;
  readonly bucket = 'fault-recordings';
  private constructor(readonly port: number) {}
  static async start(): Promise<S3> {
    const s = new S3(await freePort());
    await s.up();
    return s;
  }
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  async up(): Promise<void> {
    this.emu = await s3.start({ port: this.port, buckets: [this.bucket] });
  }
  async down(): Promise<void> {
    await this.emu?.stop();
    this.emu = undefined;
  }
}

/** A tmpfs of `mb` MiB at `dir` (root only); unmounted by remove(). */
export class SmallDisk {
  private constructor(readonly dir: string) {}
  static async mount(dir: string, mb: number): Promise<SmallDisk> {
    fs.mkdirSync(dir, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', `size=${mb}m,mode=0755`, 'tmpfs', dir]);
    return new SmallDisk(dir);
  }
  freeBytes(): number {
    const s = fs.statfsSync(this.dir);
    return s.bavail * s.bsize;
  }
  /** Writes a file that leaves about `leaveBytes` free. */
  fill(leaveBytes: number): void {
    const size = Math.max(0, this.freeBytes() - leaveBytes);
    const fd = fs.openSync(path.join(this.dir, 'filler'), 'w');
    const block = Buffer.alloc(1 << 20, 1);
    try {
      for (let left = size; left > 0; left -= block.length) fs.writeSync(fd, block, 0, Math.min(block.length, left));
    } finally {
      fs.closeSync(fd);
    }
  }
  /** Removes what fill() wrote, as an operator making room would. */
  free(): void {
    fs.rmSync(path.join(this.dir, 'filler'), { force: true });
  }
  async remove(): Promise<void> {
    await run('umount', ['-l', this.dir]).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}
