import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Applies prisma/migrations/<name>/migration.sql in name order, each once, and keeps
 * Prisma's own `_prisma_migrations` bookkeeping (checksum = sha256 hex of the file) so an
 * online `prisma migrate deploy` later sees them as applied. Runs under Prisma's advisory
 * lock so concurrent starters wait for each other. Works on PostgreSQL and PGlite.
 */

/** One SQL session: the lock, the bookkeeping and the migrations must share it. */
export interface SqlSession {
  /** A parameterized single statement. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters. */
  exec(sql: string): Promise<void>;
}

export const PRISMA_ADVISORY_LOCK = 72707369;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
  /** Applied migrations whose file changed since: reported, never re-run. */
  checksumMismatches: string[];
}

const BOOKKEEPING_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** The migrations folder of this package, found from here in both src/ and dist/src/. */
export function defaultMigrationsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`prisma/migrations not found above ${__dirname}`);
}

export function readMigrations(dir: string = defaultMigrationsDir()): MigrationFile[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const buf = fs.readFileSync(path.join(dir, name, 'migration.sql'));
      return { name, sql: buf.toString('utf8'), checksum: createHash('sha256').update(buf).digest('hex') };
    });
}

export async function applyMigrations(session: SqlSession, migrations: MigrationFile[] = readMigrations()): Promise<MigrationReport> {
  const report: MigrationReport = { applied: [], alreadyApplied: [], checksumMismatches: [] };
  await session.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
  try {
    await session.exec(BOOKKEEPING_DDL);
    const rows = await session.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const done = new Map(rows.map((r) => [r.migration_name, r.checksum]));
    for (const m of migrations) {
      const previous = done.get(m.name);
      if (previous !== undefined) {
        report.alreadyApplied.push(m.name);
        if (previous !== m.checksum) report.checksumMismatches.push(m.name);
        continue;
      }
      // One transaction per migration: a failed migration leaves neither schema nor row behind.
      await session.exec('BEGIN');
      try {
        const id = randomUUID();
        await session.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
          [id, m.checksum, m.name],
        );
        await session.exec(m.sql);
        await session.query(`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [id]);
        await session.exec('COMMIT');
      } catch (err) {
        await session.exec('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${m.name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      report.applied.push(m.name);
    }
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]).catch(() => undefined);
  }
  return report;
}

/** A session on a node-postgres client (a single connection, not a pool). */
export function pgSession(client: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> }): SqlSession {
  return {
    async query<T>(sql: string, params?: unknown[]) {
      return (await client.query(sql, params)).rows as T[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

/** A session on PGlite (one connection by nature). */
export function pgliteSession(db: {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(sql: string): Promise<unknown>;
}): SqlSession {
  return {
    async query<T>(sql: string, params?: unknown[]) {
      return (await db.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}
