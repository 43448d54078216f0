import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { processTree } from '../../src/observability/process-tree';
import { call, tmpDir, userToken, waitFor } from './recordings-harness';

/**
 * The embedded-database path: the same API on PGlite with a data directory, in a child
 * process (see recordings-pglite-server.ts). Also a hard kill mid-recording and a restart
 * on the same directory: restart recovery gives the recording a true status.
 */
const ROOT = path.resolve(__dirname, '..', '..');

interface Child {
  proc: ChildProcess;
  url: string;
  kind: string;
  recovery: { failed: string[]; salvaged: string[]; skipped: string[] };
}

async function startServer(dataDir: string, outDir: string, env: Record<string, string> = {}): Promise<Child> {
  // node itself (tsx as a loader), so the pid we signal is the server, not a wrapper
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'recordings-pglite-server.ts'), dataDir, outDir], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = readline.createInterface({ input: proc.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`pglite server exited ${code}: ${stderr}`)));
  });
  return { proc, ...(JSON.parse(first) as Omit<Child, 'proc'>) };
}

function stopServer(c: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return Promise.resolve(c.proc.exitCode);
  const children = signal === 'SIGKILL' ? processTree(c.proc.pid!).slice(1) : [];
  return new Promise((resolve) => {
    c.proc.once('exit', (code) => {
      // a crash takes the server's ffmpeg with it, as a dying container would
      for (const pid of children) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      resolve(code);
    });
    c.proc.kill(signal);
  });
}

describe('API on embedded PGlite', () => {
  const dataDir = tmpDir('rec-pglite-');
  const outDir = tmpDir('rec-pglite-out-');
  let server: Child;
  let host: string;

  beforeAll(async () => {
    host = await userToken('host-1', { rooms: ['room-p1', 'room-p2', 'room-p3'] });
    server = await startServer(dataDir, outDir);
  });
  afterAll(async () => {
    if (server) await stopServer(server);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  const rec = async (callId: string, id: string) => (await call(server.url, 'GET', `/api/video-calls/${callId}/recording/${id}`, { token: host })).body.data;

  test('create, race, record, stop, complete', async () => {
    expect(server.kind).toBe('pglite');
    expect((await call(server.url, 'POST', '/api/video-calls', { token: host, body: { id: 'p1', roomName: 'room-p1', hostId: 'host-1' } })).status).toBe(201);
    const starts = await Promise.all([1, 2, 3].map(() => call(server.url, 'POST', '/api/video-calls/p1/recording/start', { token: host, body: { format: 'mp4' } })));
    expect(starts.map((s) => s.status).sort()).toEqual([201, 409, 409]);
    const id = starts.find((s) => s.status === 201)!.body.data.id;
    await waitFor(async () => (await rec('p1', id)).status === 'RECORDING', 15000, 'RECORDING');
    expect((await call(server.url, 'POST', '/api/video-calls/p1/recording/stop', { token: host })).status).toBe(200);
    const done = await waitFor(async () => {
      const r = await rec('p1', id);
      return r.status === 'COMPLETED' ? r : null;
    }, 15000, 'COMPLETED');
    expect(done.fileSize).toBeGreaterThan(0);
    const bad = await call(server.url, 'POST', '/api/video-calls/p1/recording/start', { token: host, body: { format: 'avi' } });
    expect(bad.body.error.code).toBe('UNSUPPORTED_OPTION');
    const rows = (await call(server.url, 'GET', '/__test/recordings')).body as unknown[];
    expect(rows).toHaveLength(1);
  });

  test('killed mid-recording, restarted on the same directory: the recording is salvaged', async () => {
    expect((await call(server.url, 'POST', '/api/video-calls', { token: host, body: { id: 'p2', roomName: 'room-p2', hostId: 'host-1' } })).status).toBe(201);
    const start = await call(server.url, 'POST', '/api/video-calls/p2/recording/start', { token: host });
    const id = start.body.data.id;
    await waitFor(async () => (await rec('p2', id)).status === 'RECORDING', 15000, 'RECORDING');
    await new Promise((r) => setTimeout(r, 1200)); // some media on disk
    await stopServer(server, 'SIGKILL');
    server = await startServer(dataDir, outDir);
    expect(server.recovery.salvaged).toEqual([id]);
    const done = await waitFor(async () => {
      const r = await rec('p2', id);
      return r.status === 'COMPLETED' ? r : null;
    }, 15000, 'COMPLETED');
    expect(done.stopReason).toBe('worker_lost');
    expect(done.fileSize).toBeGreaterThan(0);
    // the earlier recording is untouched, and the call is free to record again
    const again = await call(server.url, 'POST', '/api/video-calls/p2/recording/start', { token: host });
    expect(again.status).toBe(201);
    await waitFor(async () => (await rec('p2', again.body.data.id)).status === 'RECORDING', 15000, 'RECORDING');
    await call(server.url, 'POST', '/api/video-calls/p2/recording/stop', { token: host });
    await waitFor(async () => (await rec('p2', again.body.data.id)).status === 'COMPLETED', 15000, 'COMPLETED');
  });

  test('a process killed during post-processing: the restarted one takes the job over', async () => {
    await stopServer(server);
    const lease = { LEASE_MS: '1500' };
    server = await startServer(dataDir, outDir, { ...lease, POSTPROCESS: 'hang' });
    expect((await call(server.url, 'POST', '/api/video-calls', { token: host, body: { id: 'p3', roomName: 'room-p3', hostId: 'host-1' } })).status).toBe(201);
    const id = (await call(server.url, 'POST', '/api/video-calls/p3/recording/start', { token: host })).body.data.id;
    await waitFor(async () => (await rec('p3', id)).status === 'RECORDING', 15000, 'RECORDING');
    await new Promise((r) => setTimeout(r, 1000));
    await call(server.url, 'POST', '/api/video-calls/p3/recording/stop', { token: host });
    await waitFor(async () => (await rec('p3', id)).status === 'PROCESSING', 15000, 'PROCESSING');
    // stays PROCESSING while this process lives: its lease is renewed
    await new Promise((r) => setTimeout(r, 3000));
    expect((await rec('p3', id)).status).toBe('PROCESSING');
    await stopServer(server, 'SIGKILL');

    server = await startServer(dataDir, outDir, lease);
    const done = await waitFor(async () => {
      const r = await rec('p3', id);
      return r.status === 'COMPLETED' ? r : null;
    }, 15000, 'COMPLETED after takeover');
    expect(done.fileSize).toBeGreaterThan(0);
    const rows = (await call(server.url, 'GET', '/__test/recordings')).body as Array<{ id: string; attempts: number }>;
    expect(rows.find((r) => r.id === id)?.attempts).toBe(2);
  });
});
