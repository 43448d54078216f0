import type { Config } from '../config';
import { startProcess, type ProcessKind, type RunningService } from '../app';
import { weightSession } from '../recorder/session-weight';
import { createLogger } from '../observability/logger';

/**
 * `recorder all | serve | worker`: runs that process until SIGTERM/SIGINT (stop taking
 * work, finish live recordings, close everything, exit 0); a second signal exits at once.
 */
export async function serveCommand(kind: ProcessKind, config: Config): Promise<void> {
  const logger = createLogger(config.api.logLevel);
  let running: RunningService | undefined;
  let stopRequested: ((sig: NodeJS.Signals) => void) | undefined;
  const requested = new Promise<NodeJS.Signals>((resolve) => (stopRequested = resolve));
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`${sig} again: exiting now; spool files hold what was recorded and are salvaged at the next start\n`);
      process.exit(1);
    }
    if (!running) process.stderr.write(`${sig}: stopping as soon as start-up is done\n`);
    stopRequested!(sig);
  };
  // installed before start-up, so a signal during the browser launch is still a clean stop
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // a process that records carries the live media: weighted before its browsers start
  if (kind !== 'serve') weightSession(config.worker.sessionNice, logger);
  try {
    running = await startProcess(kind, config, logger);
    if (running.url) process.stderr.write(`recorder ${kind}: API on ${running.url} (GET /readyz, /api/openapi.json)\n`);
    else process.stderr.write(`recorder ${kind}: worker ${running.svc.workerId} taking recordings from Redis${running.statusUrl ? ` (GET ${running.statusUrl}/readyz, /metrics)` : ''}\n`);
    const sig = await requested;
    await running.shutdown(sig);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
