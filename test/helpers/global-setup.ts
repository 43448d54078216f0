import fs from 'node:fs';
import path from 'node:path';

/**
 * Starts every test service once per jest run. Each module in ./services exports
 * `start(): Promise<StartedService>`; their env entries are published to the test
 * workers through process.env (workers inherit it).
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
  const started = await Promise.all(
    modules.map(async (file) => {
      const mod = (await import(path.join(dir, file))) as { start(): Promise<StartedService> };
      return mod.start();
    }),
  );
  globalThis.__testServices = started;
  for (const s of started) Object.assign(process.env, s.env);
}
