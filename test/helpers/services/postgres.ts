import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StartedService } from '../global-setup';
import { freePort } from '../ports';

/**
 * A throwaway PostgreSQL 15 cluster for the test run: initdb under a temp dir, run as the
 * `postgres` user when we are root (postgres refuses root), trust auth, bound to 127.0.0.1
 * on a free port, fsync off. Nothing of the system cluster is touched. If TEST_DATABASE_URL
 * is already set, that server is used and nothing is started.
 * Publishes TEST_DATABASE_URL (a superuser URL; tests create their own databases in it).
 */
const run = promisify(execFile);
const BIN = process.env.TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export async function start(): Promise<StartedService> {
  ensurePrismaClient();
  if (process.env.TEST_DATABASE_URL) return { env: {}, stop: async () => undefined };
  if (!fs.existsSync(path.join(BIN, 'initdb'))) {
    throw new Error(`PostgreSQL not found in ${BIN}: run scripts/bootstrap (apt-get install postgresql)`);
  }
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recorder-pg-'));
  const data = path.join(dir, 'data');
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) throw new Error('no postgres user on this machine: install the postgresql package');
    fs.chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }
  const as = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(BIN, cmd), ...args]] : [path.join(BIN, cmd), args];

  const port = await freePort();
  await run(...as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']), { cwd: dir });
  const pgOpts = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  await run(...as('pg_ctl', ['-D', data, '-o', pgOpts, '-l', path.join(dir, 'postgres.log'), '-w', '-t', '30', 'start']), { cwd: dir });

  let stopped = false;
  return {
    env: { TEST_DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres` },
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(...as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']), { cwd: dir }).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The generated Prisma client is a build product (generated/ is git-ignored). */
function ensurePrismaClient(): void {
  const root = path.resolve(__dirname, '..', '..', '..');
  if (fs.existsSync(path.join(root, 'generated', 'prisma', 'client.ts'))) return;
  const res = spawnSync(process.execPath, [path.join(root, 'scripts', 'prisma-generate.mjs')], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) throw new Error('prisma generate failed');
}


/** For tests: a fresh, empty database on the test server; drop() removes it. */
export async function createTestDatabase(prefix = 't'): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set (globalSetup starts PostgreSQL)');
  const { Client } = await import('pg');
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
  const admin = new Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
