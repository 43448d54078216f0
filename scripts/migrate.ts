/**
 * Applies the SQL migrations of prisma/migrations to the configured database:
 * DATABASE_URL (PostgreSQL) or else PGLITE_DIR (embedded). Usage: `tsx scripts/migrate.ts`
 * or, built, `node dist/scripts/migrate.js`.
 */
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.database.url && !config.database.pgliteDir) {
    throw new Error('set DATABASE_URL or PGLITE_DIR: migrating an in-memory database is pointless');
  }
  const db = await openDatabase(config.database);
  try {
    const r = db.migrations;
    for (const name of r.applied) console.log(`applied ${name}`);
    console.log(`${r.applied.length} applied, ${r.alreadyApplied.length} already applied (${db.kind})`);
    for (const name of r.checksumMismatches) console.warn(`warning: ${name} changed after it was applied`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
