import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import {
  FileJobStore, InProcessRunner, MemoryJobStore, PostProcessor, PostprocessQueue, makeSyntheticRecording,
  type PostprocessInput, type PostprocessResult,
} from '../../src/postprocess';
import { S3Storage, LocalStorage } from '../../src/storage';
import * as s3 from '../helpers/services/s3';

/**
 * The durable queue (BullMQ on a private redis-server started here) and the in-process
 * runner: retries with backoff while the storage is down, giving up (file kept), final
 * failures without retries, and resuming a job whose worker died mid-processing.
 */
jest.setTimeout(90_000);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-queue-'));
let redis: ChildProcess;
let redisUrl: string;
let source: string;

async function startRedis(): Promise<void> {
  const port = await s3.freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redisUrl = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = new IORedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      c.disconnect();
    }
  }
}

beforeAll(async () => {
  await startRedis();
  source = await makeSyntheticRecording(path.join(tmp, 'source.mkv'), 'h264-opus.mkv', { durationSec: 4, width: 640, height: 360 });
});

afterAll(async () => {
  if (redis.exitCode === null) {
    const exited = new Promise((r) => redis.once('exit', r));
    redis.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
function input(format: PostprocessInput['format'] = 'mp4'): PostprocessInput {
  const id = `rec-${++n}`;
  const inputPath = path.join(tmp, `${id}.mkv`);
  fs.copyFileSync(source, inputPath);
  return { recordingId: id, callId: 'call-q', inputPath, format };
}

function s3Storage(endpoint: string): S3Storage {
  return new S3Storage({ bucket: s3.TEST_S3_BUCKET, region: 'us-east-1', credentials: s3.TEST_S3_CREDENTIALS, endpoint, maxAttempts: 1, connectTimeoutMs: 1000 });
}

function until<T>(register: (resolve: (v: T) => void) => void, ms = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

describe('BullMQ post-processing queue', () => {
  it('retries while the storage is down and completes when it comes back; the file is kept until then', async () => {
    const emu = await s3.start();
    const storage = s3Storage(emu.endpoint);
    const store = new MemoryJobStore();
    const processor = new PostProcessor({ storage, workDir: path.join(tmp, 'w1'), removeInputOnSuccess: true });
    let restarted: Awaited<ReturnType<typeof s3.start>> | undefined;
    const job = input();
    let q!: PostprocessQueue;
    const done = until<PostprocessResult>((resolve) => {
      q = new PostprocessQueue({ redisUrl, processor, store, queueName: 'q-down-up', attempts: 8, backoffMs: 250, onCompleted: (_i, r) => resolve(r) });
    });
    try {
      await emu.stop(); // the destination goes away before the upload
      q.startWorker();
      await q.enqueue(job);
      // wait until an attempt has failed on the upload, then bring the store back on the same port
      await until<void>((resolve) => {
        const poll = setInterval(async () => {
          const j = await store.get(job.recordingId);
          if (j?.error?.code === 'STORAGE_UNAVAILABLE') {
            clearInterval(poll);
            resolve();
          }
        }, 50);
      });
      expect(fs.existsSync(job.inputPath)).toBe(true);
      restarted = await s3.start({ port: emu.port });
      const result = await done;
      const j = await store.get(job.recordingId);
      expect(j).toMatchObject({ state: 'COMPLETED' });
      expect(j!.attempts).toBeGreaterThanOrEqual(2);
      expect(await storage.exists(result.video.key)).toBe(true);
      expect((await storage.list(`call-q/${job.recordingId}/`)).length).toBe(7);
      expect(fs.existsSync(job.inputPath)).toBe(false); // removed only after the upload was confirmed
    } finally {
      await q.close();
      await restarted?.stop();
      await emu.stop();
      await storage.close();
    }
  });

  it('after the last retry calls the failure callback with the reason and keeps the file', async () => {
    const emu = await s3.start();
    await emu.stop(); // never comes back
    const storage = s3Storage(emu.endpoint);
    const store = new MemoryJobStore();
    const processor = new PostProcessor({ storage, workDir: path.join(tmp, 'w2'), removeInputOnSuccess: true });
    const job = input();
    let q!: PostprocessQueue;
    const failed = until<{ code: string; attempts: number }>((resolve) => {
      q = new PostprocessQueue({ redisUrl, processor, store, queueName: 'q-never', attempts: 3, backoffMs: 100, onFailed: (_i, e, attempts) => resolve({ code: e.code, attempts }) });
    });
    try {
      q.startWorker();
      await q.enqueue(job);
      expect(await failed).toEqual({ code: 'STORAGE_UNAVAILABLE', attempts: 3 });
      expect(await store.get(job.recordingId)).toMatchObject({ state: 'FAILED', attempts: 3, error: { code: 'STORAGE_UNAVAILABLE', fault: 'destination' } });
      expect(fs.existsSync(job.inputPath)).toBe(true);
      await until<void>((resolve) => { const t = setInterval(async () => { if ((await q.state(job.recordingId)) === 'failed') { clearInterval(t); resolve(); } }, 50); });
    } finally {
      await q.close();
      await storage.close();
    }
  });

  it('a corrupt recording fails at once, without retries', async () => {
    const store = new MemoryJobStore();
    const processor = new PostProcessor({ storage: new LocalStorage({ dir: path.join(tmp, 'local3') }), workDir: path.join(tmp, 'w3') });
    const job = input();
    fs.writeFileSync(job.inputPath, Buffer.alloc(50_000, 0x41));
    let q!: PostprocessQueue;
    const failed = until<{ code: string; attempts: number }>((resolve) => {
      q = new PostprocessQueue({ redisUrl, processor, store, queueName: 'q-corrupt', attempts: 5, backoffMs: 100, onFailed: (_i, e, attempts) => resolve({ code: e.code, attempts }) });
    });
    try {
      q.startWorker();
      await q.enqueue(job);
      expect(await failed).toEqual({ code: 'RECORDING_CORRUPT', attempts: 1 });
      expect(fs.existsSync(job.inputPath)).toBe(true);
    } finally {
      await q.close();
    }
  });

  it('a job whose worker process dies mid-processing is taken over and completes', async () => {
    const storage = s3Storage(process.env.TEST_S3_ENDPOINT!);
    const store = new MemoryJobStore();
    const job = input('webm'); // H.264 -> VP8: a real encode, long enough to be killed in the middle
    const queueOpts = { redisUrl, queueName: 'q-crash', attempts: 3, backoffMs: 100, lockDurationMs: 1500, stalledIntervalMs: 500 };
    // the first worker lives in its own process group so it dies with its ffmpeg, like a crashed container
    const script = path.join(tmp, 'crash-worker.ts');
    const src = path.resolve(__dirname, '../../src');
    fs.writeFileSync(script, `
      import { PostProcessor, PostprocessQueue } from ${JSON.stringify(path.join(src, 'postprocess'))};
      import { S3Storage } from ${JSON.stringify(path.join(src, 'storage'))};
      const storage = new S3Storage({ bucket: ${JSON.stringify(s3.TEST_S3_BUCKET)}, region: 'us-east-1', credentials: ${JSON.stringify(s3.TEST_S3_CREDENTIALS)}, endpoint: ${JSON.stringify(process.env.TEST_S3_ENDPOINT)} });
      const processor = new PostProcessor({ storage, workDir: ${JSON.stringify(path.join(tmp, 'w4-crashed'))} });
      processor.on('progress', (p) => { if (p.phase === 'convert') process.stdout.write('CONVERTING\\n'); });
      new PostprocessQueue({ ...${JSON.stringify(queueOpts)}, processor }).startWorker();
    `);
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', script], { cwd: path.resolve(__dirname, '../..'), detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => child.once('exit', r));
    const enqueuer = new PostprocessQueue({ ...queueOpts, processor: new PostProcessor({ storage, workDir: path.join(tmp, 'unused') }), store });
    let q: PostprocessQueue | undefined;
    try {
      await enqueuer.enqueue(job);
      await until<void>((resolve) => child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('CONVERTING')) resolve(); }), 30_000);
      expect(await enqueuer.state(job.recordingId)).toBe('active');
      process.kill(-child.pid!, 'SIGKILL'); // the worker and its ffmpeg, nothing else
      await exited;
      expect(fs.existsSync(job.inputPath)).toBe(true);

      const processor = new PostProcessor({ storage, workDir: path.join(tmp, 'w4'), removeInputOnSuccess: true });
      const done = until<PostprocessResult>((resolve) => {
        q = new PostprocessQueue({ ...queueOpts, processor, store, onCompleted: (_i, r) => resolve(r) });
      });
      q!.startWorker();
      const result = await done;
      expect(result.conversion.video).toBe('transcode');
      expect(result.thumbnails).toHaveLength(5);
      expect(await store.get(job.recordingId)).toMatchObject({ state: 'COMPLETED' });
      expect(await storage.exists(result.video.key)).toBe(true);
      expect(fs.existsSync(job.inputPath)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      await q?.close();
      await enqueuer.close();
      await storage.deletePrefix(`call-q/${job.recordingId}/`);
      await storage.close();
    }
  });
});

describe('in-process runner (embedded mode)', () => {
  it('resumes jobs the store lists as unfinished after a restart', async () => {
    const storage = new LocalStorage({ dir: path.join(tmp, 'local5') });
    const storeFile = path.join(tmp, 'jobs.json');
    const job = input('webm');
    const store1 = await FileJobStore.open(storeFile);
    const p1 = new PostProcessor({ storage, workDir: path.join(tmp, 'w5') });
    const runner1 = new InProcessRunner({ processor: p1, store: store1 });
    const converting = until<void>((resolve) => p1.on('progress', (e) => { if (e.phase === 'convert') resolve(); }));
    await runner1.start();
    await runner1.enqueue(job);
    await converting;
    await runner1.stop(); // shutdown in the middle: ffmpeg killed, the job stays unfinished
    expect((await store1.get(job.recordingId))?.state).toBe('PENDING');

    const store2 = await FileJobStore.open(storeFile); // "after restart": state read back from disk
    const completed: string[] = [];
    const runner2 = new InProcessRunner({ processor: new PostProcessor({ storage, workDir: path.join(tmp, 'w5') }), store: store2, onCompleted: (j) => { completed.push(j.recordingId); } });
    expect(await runner2.start()).toBe(1);
    await runner2.idle();
    expect(completed).toEqual([job.recordingId]);
    expect(await store2.get(job.recordingId)).toMatchObject({ state: 'COMPLETED', attempts: 2 });
    expect(await store2.listUnfinished()).toEqual([]);
    expect((await storage.list(`call-q/${job.recordingId}/`)).length).toBe(7);
  });

  it('retries with backoff and reports the final failure', async () => {
    const emu = await s3.start();
    await emu.stop();
    const storage = s3Storage(emu.endpoint);
    const store = new MemoryJobStore();
    const failures: string[] = [];
    const runner = new InProcessRunner({
      processor: new PostProcessor({ storage, workDir: path.join(tmp, 'w6'), removeInputOnSuccess: true }),
      store, attempts: 2, backoffMs: 50,
      onFailed: (_j, e) => { failures.push(e.code); },
    });
    const job = input('mkv');
    await runner.start();
    await runner.enqueue(job);
    await runner.idle();
    expect(failures).toEqual(['STORAGE_UNAVAILABLE']);
    expect(await store.get(job.recordingId)).toMatchObject({ state: 'FAILED', attempts: 2 });
    expect(fs.existsSync(job.inputPath)).toBe(true);
    await storage.close();
  });
});
