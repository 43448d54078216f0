export { openDatabase, type Database, type OpenDatabaseOptions } from './client';
export { applyMigrations, readMigrations, defaultMigrationsDir, type MigrationReport, type SqlSession } from './migrate';
export * from './prisma';
