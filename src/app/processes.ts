import type { SignedFiles } from '../api/files';
import type { Config } from '../config';
import { AppError } from '../errors';
import { createLogger, type Logger } from '../observability/logger';
import { buildCore } from './core';
import { withDevAuth } from './dev-auth';
import { closeOnFailure, coreDeps, openParts, runProcess, type ProcessKind, type ProcessParts, type RunningService } from './process';
import { createService } from './http';

/**
 * One function per process kind, each building only what it runs:
 *   all     API + recorder + post-processing in one process (the default deployment;
 *           without REDIS_URL dispatch is in-process, without DATABASE_URL the database
 *           is embedded PGlite)
 *   serve   API only, no recorder; recordings go to workers through Redis
 *   worker  recorder + post-processing, no HTTP app (its listeners: the recorder's ingest
 *           server, and its status for probes with WORKER_STATUS_PORT); takes jobs from Redis
 */
export async function startAll(config: Config, logger: Logger = createLogger(config.api.logLevel)): Promise<RunningService> {
  return startWithApi('all', config, logger, { recorder: true });
}

export async function startServe(config: Config, logger: Logger = createLogger(config.api.logLevel)): Promise<RunningService> {
  requireRedis('serve', config);
  return startWithApi('serve', config, logger, { recorder: false });
}

export async function startWorker(config: Config, logger: Logger = createLogger(config.api.logLevel)): Promise<RunningService> {
  requireRedis('worker', config);
  const parts = await openParts(config, logger, { recorder: true });
  const core = await closeOnFailure(parts, buildCore(config, coreDeps(config, logger, parts)));
  return runProcess('worker', config, logger, parts, core);
}

async function startWithApi(kind: 'all' | 'serve', config: Config, logger: Logger, opts: { recorder: boolean }): Promise<RunningService> {
  config = withDevAuth(config, logger);
  const parts = await openParts(config, logger, opts);
  const svc = await closeOnFailure(parts, createService(config, { ...coreDeps(config, logger, parts), ...signedFilesOf(parts) }));
  return runProcess(kind, config, logger, parts, svc, svc.app);
}

const starters: Record<ProcessKind, (config: Config, logger?: Logger) => Promise<RunningService>> = { all: startAll, serve: startServe, worker: startWorker };

export function startProcess(kind: ProcessKind, config: Config, logger?: Logger): Promise<RunningService> {
  return starters[kind](config, logger);
}

function signedFilesOf(parts: ProcessParts): { signedFiles?: SignedFiles } {
  return parts.pp.signedFiles ? { signedFiles: parts.pp.signedFiles } : {};
}

function requireRedis(kind: 'serve' | 'worker', config: Config): void {
  if (config.redis.url) return;
  throw new AppError(
    'CONFIG_INVALID',
    `invalid configuration: \`recorder ${kind}\` needs REDIS_URL (${kind === 'serve' ? 'the API hands recordings to workers through Redis' : 'workers take their jobs from Redis'}); for a single process use \`recorder all\``,
  );
}
