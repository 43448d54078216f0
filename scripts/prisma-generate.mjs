#!/usr/bin/env node
// Generates the Prisma client into generated/prisma without network access.
// The Prisma CLI insists on locating its native schema engine before any command, and
// downloading it fails offline; `generate` never runs it, so any existing file will do.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const args = process.argv.slice(2);
const res = spawnSync(process.execPath, [cli, 'generate', ...(args.length ? args : [])], { cwd: root, env, stdio: 'inherit' });
process.exit(res.status ?? 1);
