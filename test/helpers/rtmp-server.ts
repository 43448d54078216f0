import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

/**
 * A real RTMP server for the stream tests: Debian's nginx (nginx-light) with its RTMP module
 * (libnginx-mod-rtmp, installed by scripts/bootstrap), in the foreground on a free 127.0.0.1
 * port, with its own config, pid and log files in a temporary directory; an application
 * `live` that relays whatever is published to each of its keys to any reader
 * (rtmp://127.0.0.1:<port>/live/<key>). stop() ends it by its pid; start() again serves the
 * same port (a destination that dropped and came back).
 */
export const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export class RtmpServer {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RtmpServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtmp-server-'));
    const server = new RtmpServer(await freePort(), dir);
    await server.start();
    return server;
  }

  url(key: string): string {
    return `rtmp://127.0.0.1:${this.port}/live/${key}`;
  }

  async start(): Promise<void> {
    const conf = path.join(this.dir, 'nginx.conf');
    fs.writeFileSync(
      conf,
      [
        `load_module ${RTMP_MODULE};`,
        'daemon off;',
        'master_process off;',
        `pid ${path.join(this.dir, 'nginx.pid')};`,
        `error_log ${path.join(this.dir, 'error.log')} warn;`,
        'events { worker_connections 64; }',
        `rtmp { server { listen 127.0.0.1:${this.port}; chunk_size 4096; application live { live on; record off; } } }`,
        '',
      ].join('\n'),
    );
    const child = spawn('/usr/sbin/nginx', ['-p', this.dir, '-c', conf, '-e', path.join(this.dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    this.child = child;
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const failed = new Promise<Error>((resolve) => {
      child.once('error', (e) => resolve(new Error(`cannot run nginx: ${e.message} (apt-get install nginx-light libnginx-mod-rtmp)`)));
      child.once('exit', (code) => resolve(new Error(`nginx exited with ${code}: ${stderr}`)));
    });
    const outcome = await Promise.race([listening(this.port, 5000).then(() => 'ready' as const), failed]);
    if (outcome !== 'ready') {
      child.kill('SIGKILL');
      throw outcome;
    }
  }

  /** Ends nginx (its connections drop), by its pid. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function listening(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`);
}

/**
 * How far behind the recording the stream's video packets reach a reader of `url`: arrival
 * less the frame's wall time (recordingAt plus its timestamp), over `ms`; the median of the
 * second half (the first packets a reader gets are the latest keyframe's, older).
 */
export async function packetLagMs(url: string, recordingAt: number, ms: number): Promise<number> {
  const child = spawn('ffprobe', ['-v', 'error', '-fflags', 'nobuffer', '-select_streams', 'v', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', url]);
  const lags: number[] = [];
  let text = '';
  child.stdout.on('data', (d: Buffer) => {
    text += d.toString();
    const lines = text.split('\n');
    text = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) lags.push(Date.now() - (recordingAt + Number(l) * 1000));
  });
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGKILL');
  const late = lags.slice(Math.floor(lags.length / 2)).sort((x, y) => x - y);
  return late[Math.floor(late.length / 2)];
}
