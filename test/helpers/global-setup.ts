import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/recorder/logger';
import { weightSession } from '../../src/recorder/session-weight';

/**
 * Starts every test service once per jest run. Each module in ./services exports
 * `start(): Promise<StartedService>`; their env entries are published to the test
 * workers through process.env (workers inherit it). If one fails to start, the ones
 * that did are stopped before the error is passed on.
 */
export interface StartedService {
  env: Record<string, string>;
  stop(): Promise<void>;
}

declare global {
  // eslint-disable-next-line no-var
  var __testServices: StartedService[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  // This session holds the test process (and with it an in-process service's worker, which
  // `recorder worker` weights the same way) and the services started below, each on a machine
  // of its own in production (livekit-server, PostgreSQL, Redis, the storage emulators). The
  // recorder's browsers are weighted (WORKER_SESSION_NICE); beside them an unweighted
  // livekit-server was starved on a CI run (a second of picture and sound late in a file).
  weightSession(loadConfig({}).worker.sessionNice, silentLogger);
  const dir = path.join(__dirname, 'services');
  const modules = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
  const outcomes = await Promise.allSettled(
    modules.map(async (file) => {
      const mod = (await import(path.join(dir, file))) as { start(): Promise<StartedService> };
      return mod.start();
    }),
  );
  const started = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${modules[i]}: ${(o.reason as Error).message}`] : []));
  if (failed.length) {
    await Promise.allSettled(started.map((s) => s.stop()));
    throw new Error(`test services failed to start: ${failed.join('; ')}`);
  }
  globalThis.__testServices = started;
  for (const s of started) Object.assign(process.env, s.env);
}
