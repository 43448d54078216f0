import fs from 'node:fs';
import path from 'node:path';

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
