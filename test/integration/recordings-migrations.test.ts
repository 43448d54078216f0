import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { applyMigrations, defaultMigrationsDir, readMigrations } from '../../src/db/migrate';
import { pgSession } from '../../src/db/migrate';
import { createTestDatabase } from '../helpers/services/postgres';

/** scripts/migrate.ts and Prisma's bookkeeping, on PostgreSQL. */
describe('migrations', () => {
  test('concurrent runs apply each migration once, with Prisma-compatible bookkeeping', async () => {
    const db = await createTestDatabase('mig');
    const clients = [new pg.Client({ connectionString: db.url }), new pg.Client({ connectionString: db.url })];
    try {
      await Promise.all(clients.map((c) => c.connect()));
      const reports = await Promise.all(clients.map((c) => applyMigrations(pgSession(c))));
      const names = readMigrations().map((m) => m.name);
      expect(reports.map((r) => r.applied.length).sort()).toEqual([0, names.length]);
      const rows = (await clients[0]!.query('SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name')).rows;
      expect(rows.map((r) => r.migration_name)).toEqual(names);
      for (const r of rows) {
        const file = fs.readFileSync(path.join(defaultMigrationsDir(), r.migration_name, 'migration.sql'));
        expect(r.checksum).toBe(createHash('sha256').update(file).digest('hex'));
        expect(r.finished_at).toBeInstanceOf(Date);
        expect(r.applied_steps_count).toBe(1);
        expect(r.rolled_back_at).toBeNull();
      }
      const idx = await clients[0]!.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'CallRecording_one_active_per_call'`);
      expect(idx.rows[0].indexdef).toMatch(/UNIQUE INDEX .* WHERE .*STARTING.*RECORDING.*PAUSED.*STOPPING/);
      // a failing migration leaves nothing behind
      const broken = [...readMigrations(), { name: '99999999999999_broken', sql: 'CREATE TABLE ok_table (id int); SELECT nope FROM missing;', checksum: 'x'.repeat(64) }];
      await expect(applyMigrations(pgSession(clients[0]!), broken)).rejects.toThrow(/99999999999999_broken/);
      expect((await clients[0]!.query(`SELECT to_regclass('ok_table') AS t`)).rows[0].t).toBeNull();
      expect((await clients[0]!.query(`SELECT count(*)::int AS n FROM "_prisma_migrations"`)).rows[0].n).toBe(names.length);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await db.drop();
    }
  });

  test('scripts/migrate.ts against DATABASE_URL', async () => {
    const db = await createTestDatabase('migcli');
    try {
      const root = path.resolve(__dirname, '..', '..');
      const run = () => promisify(execFile)(path.join(root, 'node_modules', '.bin', 'tsx'), ['scripts/migrate.ts'], { cwd: root, env: { ...process.env, DATABASE_URL: db.url, PGLITE_DIR: '' } });
      const n = readMigrations().length;
      expect((await run()).stdout).toMatch(new RegExp(`${n} applied, 0 already applied \\(postgres\\)`));
      expect((await run()).stdout).toMatch(new RegExp(`0 applied, ${n} already applied`));
    } finally {
      await db.drop();
    }
  });
});
