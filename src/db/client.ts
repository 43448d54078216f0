import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Config } from '../config';
import { AppError } from '../errors';
import { lockDir } from './dir-lock';
import { applyMigrations, pgliteSession, pgSession, readMigrations, type MigrationReport } from './migrate';
import { PrismaClient } from './prisma';

/**
 * A transaction is a few statements, but on a loaded 2-core machine one took 5.6 s (the worker's
 * event loop was busy starting recordings) and Prisma's default 5 s limit rolled it back.
 */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 20_000 };

/**
 * The database of the service: PostgreSQL through @prisma/adapter-pg when a URL is
 * configured, else embedded PGlite (a directory, locked to this process; or in memory).
 * Migrations are applied before the client is handed out. The owner calls close(), which
 * closes everything.
 */
export interface Database {
  readonly prisma: PrismaClient;
  readonly kind: 'postgres' | 'pglite';
  readonly migrations: MigrationReport;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
  migrationsDir?: string;
  /** Connections of the PostgreSQL pool (default 10). */
  poolSize?: number;
}

export async function openDatabase(config: Config['database'], opts: OpenDatabaseOptions = {}): Promise<Database> {
  const migrations = readMigrations(opts.migrationsDir);
  const emptyReport: MigrationReport = { applied: [], alreadyApplied: [], checksumMismatches: [] };

  if (config.url) {
    const url = config.url;
    let report = emptyReport;
    if (opts.migrate !== false) {
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        report = await applyMigrations(pgSession(client), migrations);
      } catch (err) {
        throw new AppError('INTERNAL', `database unavailable or migration failed: ${(err as Error).message}`, { cause: err });
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
    // An idle client erroring (server restart) must not crash the process.
    pool.on('error', () => undefined);
    return wrap(new PrismaClient({ adapter: new PrismaPg(pool), transactionOptions: TRANSACTION_OPTIONS }), 'postgres', report, () => pool.end());
  }

  const lock = config.pgliteDir ? lockDir(config.pgliteDir) : undefined;
  const lite = config.pgliteDir ? new PGlite(config.pgliteDir) : new PGlite();
  let report = emptyReport;
  try {
    await lite.waitReady;
    if (opts.migrate !== false) report = await applyMigrations(pgliteSession(lite), migrations);
  } catch (err) {
    await lite.close().catch(() => undefined);
    lock?.release();
    throw new AppError('INTERNAL', `embedded database${config.pgliteDir ? ` in ${config.pgliteDir}` : ''} failed: ${(err as Error).message}`, { cause: err });
  }
  return wrap(new PrismaClient({ adapter: new PrismaPGlite(lite), transactionOptions: TRANSACTION_OPTIONS }), 'pglite', report, async () => {
    try {
      if (!lite.closed) await lite.close();
    } finally {
      lock?.release();
    }
  });
}

/** A Database over a Prisma client; close() disconnects Prisma, then releases the driver. */
function wrap(prisma: PrismaClient, kind: Database['kind'], migrations: MigrationReport, release: () => Promise<void>): Database {
  let closing: Promise<void> | undefined;
  return {
    prisma,
    kind,
    migrations,
    async ping() {
      await prisma.$queryRawUnsafe('SELECT 1');
    },
    close() {
      closing ??= (async () => {
        await prisma.$disconnect().catch(() => undefined);
        await release().catch(() => undefined);
      })();
      return closing;
    },
  };
}
