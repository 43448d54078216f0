import type http from 'node:http';
import type express from 'express';
import type { Config } from '../config';
import { openDatabase, type Database } from '../db';
import type { Logger } from '../observability/logger';
import { createPostprocessing, type Postprocessing } from '../postprocess/service-adapter';
import { Recorder } from '../recorder/recorder';
import { StoragePresetAssets } from '../storage/preset-assets';
import type { Core, CoreDeps } from './core';
import { PostprocessDrain } from './drain';
import { listen } from './http';
import { startWorkerStatus, type WorkerStatus } from './worker-status';

export type ProcessKind = 'all' | 'serve' | 'worker';

export interface RunningService {
  svc: Core;
  recorder?: Recorder;
  /** http://host:port of the API (all, serve). */
  url?: string;
  /** http://host:port of a worker's status listener (WORKER_STATUS_PORT). */
  statusUrl?: string;
  /** Idempotent graceful shutdown. */
  shutdown(reason?: string): Promise<void>;
}

/** What a process opens before its core; close() closes it in reverse. */
export interface ProcessParts {
  database: Database;
  /** Probe, thumbnails, upload to the configured storage (local | S3 | GCS). */
  pp: Postprocessing;
  recorder?: Recorder;
  close(): Promise<void>;
}

export async function openParts(config: Config, logger: Logger, opts: { recorder: boolean }): Promise<ProcessParts> {
  // the database first: a process that may not have it (its embedded directory is another
  // process's) is refused before it starts a browser
  const database = await openDatabase(config.database);
  const pp = createPostprocessing(config, logger);
  let recorder: Recorder | undefined;
  if (opts.recorder) {
    const hls = { storage: pp.storage, prefix: config.storage.prefix };
    recorder = await Recorder.create(config.recorder, config.livekit, logger.child({ component: 'recorder' }), hls).catch(async (err: unknown) => {
      await pp.close();
      await database.close();
      throw err;
    });
  }
  return {
    database,
    pp,
    ...(recorder ? { recorder } : {}),
    async close() {
      await pp.close();
      await recorder?.close();
      await database.close();
    },
  };
}

/** The core's dependencies on the opened parts (and, for a worker, its recorder's health). */
export function coreDeps(config: Config, logger: Logger, parts: ProcessParts): CoreDeps {
  const rec = parts.recorder;
  return {
    logger,
    database: parts.database,
    postprocess: parts.pp.postprocess,
    storage: parts.pp.recordingStorage,
    presetAssets: new StoragePresetAssets(parts.pp.storage, config.storage.prefix),
    ...(rec
      ? {
          recorder: rec,
          recorderReady: () => {
            if (config.recorder.warmBrowsers > 0 && rec.pool.pids().length === 0) throw new Error('no warm browser');
          },
          recorderWarmPages: () => rec.pool.warmPages(),
        }
      : {}),
  };
}

/** Closes the parts when building the core failed. */
export async function closeOnFailure<T>(parts: ProcessParts, build: Promise<T>): Promise<T> {
  try {
    return await build;
  } catch (err) {
    await parts.close();
    throw err;
  }
}

/**
 * Starts a built process: recovery and pollers, then the API listener when it has an app, or
 * a worker's status listener when one is configured.
 * Its shutdown stops taking work, finishes live recordings (their media is kept and handed
 * to post-processing, which gets a bounded moment), then closes everything in reverse.
 */
export async function runProcess(kind: ProcessKind, config: Config, logger: Logger, parts: ProcessParts, core: Core, app?: express.Express): Promise<RunningService> {
  const recorder = parts.recorder;
  const runner = core.runner;
  // a standby page is loaded only for a recording this worker could still take
  if (recorder && runner) recorder.pool.gateStandby(() => runner.hasRoomForAnother());
  const drain = recorder ? new PostprocessDrain(core.bus, (id) => Boolean(recorder.get(id)), core.lifecycle.repo, (id) => core.postprocess.isRunning(id), logger) : undefined;
  let server: http.Server | undefined;
  let url: string | undefined;
  let status: WorkerStatus | undefined;
  try {
    const report = await core.start();
    if (app) ({ server, url } = await listen(app, config));
    else if (runner) {
      status = await startWorkerStatus(config, {
        readiness: core.readiness,
        hasRoom: () => runner.hasRoomForAnother(),
        metrics: core.metrics,
        ...(config.api.metricsToken ? { metricsToken: config.api.metricsToken } : {}),
      });
    }
    logger.info({ mode: kind, workerId: core.workerId, database: core.db.kind, redis: Boolean(config.redis.url), recovery: report, ...(status ? { status: status.url } : {}) }, 'service started');
  } catch (err) {
    await status?.close();
    await core.close();
    await parts.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    svc: core,
    ...(recorder ? { recorder } : {}),
    ...(url ? { url } : {}),
    ...(status ? { statusUrl: status.url } : {}),
    shutdown(reason = 'shutdown') {
      closing ??= (async () => {
        logger.info({ reason, live: recorder?.activeCount ?? 0 }, 'shutting down: finishing live recordings');
        // not ready from now on, but alive and scraped until it exits
        status?.markStopping();
        // no new HTTP requests; requests in flight may finish
        const serverClosed = server ? new Promise<void>((r) => server!.close(() => r())) : Promise.resolve();
        server?.closeIdleConnections();
        // live recordings are stopped ('shutdown'), their files handed to post-processing,
        // which gets a moment to finish; then the dispatcher, pollers, webhooks, Redis, database
        await core.runner?.close();
        await drain?.wait(config.shutdown.postprocessGraceMs);
        await core.close();
        await parts.close();
        server?.closeAllConnections();
        await serverClosed;
        await status?.close();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}
