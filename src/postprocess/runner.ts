import { AppError, toAppError } from '../errors';
import { isRetryable, backoffDelay } from './retry';
import type { PostprocessJob, PostprocessJobStore } from './job-store';
import type { PostProcessor, PostprocessInput, PostprocessResult } from './processor';

export interface RunnerOptions {
  processor: PostProcessor;
  store: PostprocessJobStore;
  /** Jobs processed at the same time. */
  concurrency?: number;
  /** Attempts per job before it is FAILED. */
  attempts?: number;
  /** First retry delay; doubles each attempt. */
  backoffMs?: number;
  onCompleted?: (job: PostprocessJob, result: PostprocessResult) => void | Promise<void>;
  /** After the last attempt; the input file is kept. */
  onFailed?: (job: PostprocessJob, error: AppError) => void | Promise<void>;
}

/**
 * The embedded-mode queue: jobs run in this process, their state is written to a
 * PostprocessJobStore, and `start()` picks up every job the store lists as unfinished
 * (a restart resumes them from the beginning). `stop()` aborts running jobs (their ffmpeg
 * processes are killed) and leaves them unfinished in the store.
 */
export class InProcessRunner {
  private readonly queue: string[] = [];
  private readonly running = new Map<string, { ctl: AbortController; done: Promise<void> }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters: Array<() => void> = [];
  private stopped = false;
  private started = false;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly concurrency: number;

  constructor(private readonly opts: RunnerOptions) {
    this.attempts = Math.max(1, opts.attempts ?? 3);
    this.backoffMs = opts.backoffMs ?? 2000;
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
  }

  /** Resumes unfinished jobs from the store; returns how many. */
  async start(): Promise<number> {
    this.started = true;
    this.stopped = false;
    const pending = await this.opts.store.listUnfinished();
    for (const j of pending) {
      if (j.state !== 'PENDING') await this.opts.store.update(j.recordingId, { state: 'PENDING' });
      this.schedule(j.recordingId);
    }
    return pending.length;
  }

  /** Records the job as PENDING and runs it when a slot is free. */
  async enqueue(input: PostprocessInput): Promise<void> {
    if (this.stopped) throw new AppError('JOB_ABORTED', 'post-processing runner is stopped');
    await this.opts.store.create(input);
    if (this.started) this.schedule(input.recordingId);
  }

  /** Resolves when nothing is queued, waiting for retry or running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    for (const r of this.running.values()) r.ctl.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.running.size === 0 && this.timers.size === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private schedule(recordingId: string): void {
    if (this.stopped || this.queue.includes(recordingId) || this.running.has(recordingId)) return;
    this.queue.push(recordingId);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.queue.length) {
      const id = this.queue.shift()!;
      const ctl = new AbortController();
      const done = this.runOne(id, ctl).finally(() => {
        this.running.delete(id);
        this.pump();
        this.notifyIdle();
      });
      this.running.set(id, { ctl, done });
    }
  }

  private async runOne(recordingId: string, ctl: AbortController): Promise<void> {
    const { store, processor } = this.opts;
    const job = await store.get(recordingId);
    if (!job || !['PENDING', 'PROCESSING', 'UPLOADING'].includes(job.state)) return;
    const attempt = job.attempts + 1;
    await store.update(recordingId, { attempts: attempt, state: 'PROCESSING' });
    const onStatus = (e: { recordingId: string; status: 'PROCESSING' | 'UPLOADING' }) => {
      if (e.recordingId === recordingId) void store.update(recordingId, { state: e.status });
    };
    processor.on('status', onStatus);
    try {
      const result = await processor.process({ recordingId, callId: job.callId, inputPath: job.inputPath, format: job.format }, { signal: ctl.signal });
      await store.update(recordingId, { state: 'COMPLETED', result });
      await this.opts.onCompleted?.({ ...job, state: 'COMPLETED', attempts: attempt, result }, result);
    } catch (e) {
      const err = toAppError(e, 'POSTPROCESS_FAILED');
      if (ctl.signal.aborted || this.stopped) {
        await store.update(recordingId, { state: 'PENDING' }); // resumed by the next start()
        return;
      }
      const errorInfo = { code: err.code, message: err.message, fault: err.fault };
      if (attempt < this.attempts && isRetryable(err)) {
        await store.update(recordingId, { state: 'PENDING', error: errorInfo });
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.schedule(recordingId);
          this.notifyIdle();
        }, backoffDelay(this.backoffMs, attempt));
        this.timers.add(t);
        return;
      }
      await store.update(recordingId, { state: 'FAILED', error: errorInfo });
      await this.opts.onFailed?.({ ...job, state: 'FAILED', attempts: attempt, error: errorInfo }, err);
    } finally {
      processor.off('status', onStatus);
    }
  }
}
