import { Queue, UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { AppError, toAppError, type Fault } from '../errors';
import type { PostprocessJobStore } from './job-store';
import type { PostProcessor, PostprocessInput, PostprocessResult, PostprocessStatus } from './processor';
import { isRetryable } from './retry';

export interface PostprocessQueueOptions {
  /** redis://[user:password@]host:port[/db] */
  redisUrl: string;
  processor: PostProcessor;
  /** Mirrors job state for the rest of the service (optional with the durable queue). */
  store?: PostprocessJobStore;
  queueName?: string;
  /** Redis key prefix of BullMQ. */
  prefix?: string;
  /** Attempts per job, the first included. */
  attempts?: number;
  /** First retry delay; doubles each attempt (BullMQ exponential backoff). */
  backoffMs?: number;
  concurrency?: number;
  /** How long a worker's claim on a job lives without renewal: a crashed worker's job is taken over after about this. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  onCompleted?: (input: PostprocessInput, result: PostprocessResult) => void | Promise<void>;
  /** After the last attempt, or at once for failures no retry can fix. The input file is kept. */
  onFailed?: (input: PostprocessInput, error: { code: string; message: string; fault: Fault }, attempts: number) => void | Promise<void>;
}

export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new AppError('CONFIG_INVALID', `REDIS_URL must start with redis:// or rediss:// (got ${u.protocol})`);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isFinite(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null, // required by BullMQ workers
  };
}

/**
 * The durable post-processing queue on Redis (BullMQ). One job per recording (job id =
 * recordingId). Failed attempts are retried with exponential backoff; the input file stays
 * on disk until its upload is confirmed and is kept after the last failure. A worker that
 * dies mid-job loses its lock, and another worker (or the same after restart) takes the
 * job over from the beginning.
 */
export class PostprocessQueue {
  readonly queue: Queue<PostprocessInput, PostprocessResult>;
  private worker?: Worker<PostprocessInput, PostprocessResult>;
  private readonly running = new Map<string, AbortController>();
  private closing = false;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly connection: ConnectionOptions;
  private readonly name: string;

  constructor(private readonly opts: PostprocessQueueOptions) {
    this.attempts = Math.max(1, opts.attempts ?? 5);
    this.backoffMs = opts.backoffMs ?? 2000;
    this.connection = redisConnection(opts.redisUrl);
    this.name = opts.queueName ?? 'postprocess';
    this.queue = new Queue(this.name, { connection: this.connection, prefix: opts.prefix ?? 'lkrec' });
  }

  /** Adds a job (idempotent per recordingId while it is waiting or running). */
  async enqueue(input: PostprocessInput): Promise<string> {
    const existing = await this.queue.getJob(input.recordingId);
    if (existing && ((await existing.isCompleted()) || (await existing.isFailed()))) await existing.remove();
    await this.opts.store?.create(input);
    const job = await this.queue.add('postprocess', input, {
      jobId: input.recordingId,
      attempts: this.attempts,
      backoff: { type: 'exponential', delay: this.backoffMs },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    });
    return job.id!;
  }

  /** State of a job in the queue: waiting, active, delayed (retry pending), completed, failed, or unknown. */
  async state(recordingId: string): Promise<string> {
    const job = await this.queue.getJob(recordingId);
    return job ? await job.getState() : 'unknown';
  }

  startWorker(): Worker<PostprocessInput, PostprocessResult> {
    if (this.worker) return this.worker;
    this.closing = false;
    this.worker = new Worker<PostprocessInput, PostprocessResult>(this.name, (job, token) => this.handle(job, token), {
      connection: this.connection,
      prefix: this.opts.prefix ?? 'lkrec',
      concurrency: Math.max(1, this.opts.concurrency ?? 1),
      lockDuration: this.opts.lockDurationMs ?? 30000,
      stalledInterval: this.opts.stalledIntervalMs ?? 30000,
      maxStalledCount: 2,
      autorun: true,
    });
    this.worker.on('error', () => undefined); // connection trouble: BullMQ reconnects by itself
    return this.worker;
  }

  private async handle(job: Job<PostprocessInput, PostprocessResult>, token?: string): Promise<PostprocessResult> {
    const input = job.data;
    const store = this.opts.store;
    const attempt = job.attemptsMade + 1;
    const ctl = new AbortController();
    this.running.set(input.recordingId, ctl);
    await store?.update(input.recordingId, { state: 'PROCESSING', attempts: attempt });
    let lastProgress = -1;
    const onProgress = (p: { recordingId: string; percent: number }) => {
      if (p.recordingId !== input.recordingId || p.percent < lastProgress + 5) return;
      lastProgress = p.percent;
      void job.updateProgress(p.percent).catch(() => undefined);
    };
    const onStatus = (e: { recordingId: string; status: PostprocessStatus }) => {
      if (e.recordingId === input.recordingId) void store?.update(input.recordingId, { state: e.status });
    };
    const { processor } = this.opts;
    processor.on('progress', onProgress);
    processor.on('status', onStatus);
    try {
      const result = await processor.process(input, { signal: ctl.signal });
      await store?.update(input.recordingId, { state: 'COMPLETED', result });
      await this.opts.onCompleted?.(input, result);
      return result;
    } catch (e) {
      const err = toAppError(e, 'POSTPROCESS_FAILED');
      if (this.closing && ctl.signal.aborted) {
        // shutting down: hand the job back untouched (no attempt used)
        await store?.update(input.recordingId, { state: 'PENDING' });
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const info = { code: err.code, message: err.message, fault: err.fault };
      if (attempt >= this.attempts || !isRetryable(err)) {
        await store?.update(input.recordingId, { state: 'FAILED', error: info });
        await Promise.resolve(this.opts.onFailed?.(input, info, attempt)).catch(() => undefined);
        throw new UnrecoverableError(`${err.code}: ${err.message}`);
      }
      await store?.update(input.recordingId, { state: 'PENDING', error: info });
      throw new Error(`${err.code}: ${err.message}`);
    } finally {
      processor.off('progress', onProgress);
      processor.off('status', onStatus);
      this.running.delete(input.recordingId);
    }
  }

  /** Stops the worker: running jobs are aborted (ffmpeg killed) and go back to waiting. */
  async close(): Promise<void> {
    this.closing = true;
    for (const c of this.running.values()) c.abort();
    await this.worker?.close();
    await this.queue.close();
  }
}
