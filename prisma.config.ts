import path from 'node:path';
import { defineConfig } from 'prisma/config';

/**
 * Prisma CLI configuration (generate, validate, and `migrate deploy` where the native
 * engine can be downloaded). The service itself applies migrations with scripts/migrate.ts.
 * This is tooling, not the service: the CLI reads DATABASE_URL itself.
 */
export default defineConfig({
  schema: path.join(__dirname, 'prisma', 'schema.prisma'),
  migrations: { path: path.join(__dirname, 'prisma', 'migrations') },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://127.0.0.1:5432/recorder' },
});
