import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { AppError } from '../errors';

/**
 * A local livekit-server in development mode (keys devkey/secret), bound to 127.0.0.1
 * only. Used by `recorder demo`, the benchmarks and the tests; the owner calls stop().
 */
export interface DevServerOptions {
  binary?: string;
  /** Signal port; RTC uses port+1 (TCP) and port+2 (UDP, one muxed port). */
  port?: number;
  webhookUrls?: string[];
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface DevServer {
  url: string;
  apiKey: string;
  apiSecret: string;
  pid: number;
  stop(): Promise<void>;
}

export const DEV_API_KEY = 'devkey';
export const DEV_API_SECRET = 'secret';

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const port = opts.port ?? 7880;
  const binary = opts.binary ?? 'livekit-server';
  if (!(await isPortFree(port))) {
    throw new AppError('CONFIG_INVALID', `port ${port} on 127.0.0.1 is in use; is another livekit-server running?`);
  }
  const yaml = [
    'development: true',
    `port: ${port}`,
    'bind_addresses: ["127.0.0.1"]',
    'rtc:',
    `  tcp_port: ${port + 1}`,
    `  udp_port: ${port + 2}`,
    '  node_ip: 127.0.0.1',
    '  use_external_ip: false',
    '  enable_loopback_candidate: true',
    // Without STUN servers of its own the server hands clients a public STUN server;
    // point them at our own UDP port so no client ever sends traffic off this machine.
    `  stun_servers: ["127.0.0.1:${port + 2}"]`,
    `logging:\n  level: ${opts.logLevel ?? 'warn'}`,
  ];
  if (opts.webhookUrls?.length) {
    yaml.push('webhook:', `  api_key: ${DEV_API_KEY}`, '  urls:', ...opts.webhookUrls.map((u) => `    - ${u}`));
  }
  const child: ChildProcess = spawn(binary, ['--config-body', yaml.join('\n')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const url = `ws://127.0.0.1:${port}`;
  const ready = waitForHttp(`http://127.0.0.1:${port}/`, 15000);
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then((code) => new Error(`livekit-server exited with code ${code}: ${stderr.trim()}`)),
    spawnError.then((e) => new Error(`cannot run ${binary}: ${e.message} (run scripts/bootstrap)`)),
  ]);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    throw new AppError('LIVEKIT_UNREACHABLE', outcome.message);
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    apiKey: DEV_API_KEY,
    apiSecret: DEV_API_SECRET,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`livekit-server did not answer on ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first port from `start` (in steps of 10) whose signal and RTC ports are all free. */
export async function findFreeDevServerPort(start: number, tries = 100): Promise<number> {
  for (let port = start, i = 0; i < tries; i++, port += 10) {
    if ((await isPortFree(port)) && (await isPortFree(port + 1)) && (await isPortFree(port + 2))) return port;
  }
  throw new AppError('CONFIG_INVALID', `no free ports for livekit-server from ${start} on`);
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
