import { spawn } from 'node:child_process';
import net from 'node:net';
import type { StartedService } from '../global-setup';
import { freePort } from '../ports';

/**
 * A throwaway redis-server on a free 127.0.0.1 port, no persistence. If TEST_REDIS_URL is
 * already set, that server is used and nothing is started. Publishes TEST_REDIS_URL.
 */
export async function start(): Promise<StartedService> {
  if (process.env.TEST_REDIS_URL) return { env: {}, stop: async () => undefined };
  const port = await freePort();
  const child = spawn(
    process.env.TEST_REDIS_BIN ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<Error>((resolve) => {
    child.once('error', (e) => resolve(new Error(`cannot run redis-server: ${e.message} (apt-get install redis-server)`)));
    child.once('exit', (code) => resolve(new Error(`redis-server exited with ${code}: ${stderr}`)));
  });
  const outcome = await Promise.race([waitForPing(port, 10000).then(() => 'ready' as const), failed]);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    throw outcome;
  }
  return {
    env: { TEST_REDIS_URL: `redis://127.0.0.1:${port}` },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, '127.0.0.1');
      let buf = '';
      sock.setTimeout(500);
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('PONG')) {
          sock.destroy();
          resolve();
        }
      });
      const retry = () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not answer on port ${port}`));
        else setTimeout(attempt, 50);
      };
      sock.on('error', retry);
      sock.on('timeout', retry);
    };
    attempt();
  });
}

