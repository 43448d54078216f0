import { toAppError } from '../errors';
import { afterFailedAttempt, exhausted, type RetryPolicy } from './failure-policy';
import type { RecordingLifecycle } from './lifecycle';
import type { PostprocessJob, PostprocessPort, PostprocessResult, PostprocessSink, RecordingThumbnail } from './ports';
import type { RecordingWithRoom } from './repository';

/**
 * The durable post-processing job. Its state is on the recording row: status PROCESSING or
 * UPLOADING, `attempts`, `nextAttemptAt` (a lease while an attempt runs, the retry time after
 * a retryable failure) and `lastError`. A job whose lease ran out (its worker died) becomes
 * due again and any worker polling claims it, as every durable job is claimed
 * (RecordingRepository.claimDuePostprocess; the database's way: db/leases.ts).
 */
export interface PostprocessQueueOptions {
  /**
   * The lease of a running attempt: renewed every third of it while the worker lives, so a
   * job whose worker died is taken over (by a peer, or by the restarted process) within
   * this time (default 60 s).
   */
  leaseMs?: number;
  /** Attempts and backoff (config.postprocess.retry); what is retried is decided in failure-policy.ts. */
  retry: RetryPolicy;
  /**
   * While a job waits after its destination failed, the destination's health is checked this
   * often; once a check passes after one that failed, the job is due at once. 0: backoff only.
   */
  storageProbeMs: number;
  /** Poll period for due jobs; 0 disables polling (default 10 s). */
  pollMs?: number;
  onError?: (err: unknown) => void;
}

/** A job of this process waiting for its retry after its destination failed. */
interface AwaitingDestination {
  status: 'PROCESSING' | 'UPLOADING';
  attempts: number;
  /** The retry time written on the row. */
  at: Date;
  /** A health check failed since: a later one that passes means the destination is back. */
  downSeen: boolean;
}

export class PostprocessQueue implements PostprocessSink {
  private timer?: NodeJS.Timeout;
  private renewTimer?: NodeJS.Timeout;
  private probeTimer?: NodeJS.Timeout;
  private renewal: Promise<void> = Promise.resolve();
  private polling?: Promise<void>;
  private probing?: Promise<void>;
  private closed = false;
  readonly leaseMs: number;
  /** Jobs handed off by this process: what progress events need to name them. */
  private readonly running = new Map<string, { id: string; callId: string; roomName: string; status: 'PROCESSING' | 'UPLOADING' }>();
  private readonly awaitingDestination = new Map<string, AwaitingDestination>();

  constructor(
    private readonly lifecycle: RecordingLifecycle,
    private readonly port: PostprocessPort,
    private readonly opts: PostprocessQueueOptions,
  ) {
    this.leaseMs = opts.leaseMs ?? 60_000;
  }

  leaseUntil(now = Date.now()): Date {
    return new Date(now + this.leaseMs);
  }

  /** Whether an attempt for `recordingId` runs in this process now. */
  isRunning(recordingId: string): boolean {
    return this.running.has(recordingId);
  }

  /** Hands a claimed job (status PROCESSING/UPLOADING, lease held) to the post-processor. */
  async handOff(rec: RecordingWithRoom): Promise<void> {
    const job: PostprocessJob = {
      recordingId: rec.id,
      callId: rec.callId,
      roomName: rec.call.roomName,
      filePath: rec.filePath ?? '',
      format: rec.outputFormat,
      fileSize: rec.fileSize === null ? 0 : Number(rec.fileSize),
      options: rec.options,
      quality: rec.quality,
      pauses: rec.pauses,
      markers: rec.markers,
      attempt: rec.attempts,
    };
    if (rec.recordingAt) job.recordingAt = rec.recordingAt;
    if (rec.durationMs !== null) job.durationMs = rec.durationMs;
    this.running.set(rec.id, { id: rec.id, callId: rec.callId, roomName: rec.call.roomName, status: rec.status === 'UPLOADING' ? 'UPLOADING' : 'PROCESSING' });
    try {
      await this.port.enqueue(job, this);
    } catch (err) {
      await this.failed(rec.id, err);
    }
  }

  start(): void {
    if (!this.renewTimer) {
      this.renewTimer = setInterval(() => void this.renewLeases().catch((err) => this.opts.onError?.(err)), Math.max(100, this.leaseMs / 3));
      this.renewTimer.unref();
    }
    const every = this.opts.pollMs ?? 10_000;
    if (every <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.pollOnce(), every);
    this.timer.unref();
  }

  /**
   * Keeps the leases of the attempts running in this process. An attempt that ends leaves
   * `running` first and then waits for a renewal in flight (see settle), so a renewal can
   * never overwrite the retry time its failure wrote.
   */
  private renewLeases(): Promise<void> {
    this.renewal = (async () => {
      for (const [id, job] of [...this.running]) {
        if (this.running.has(id)) await this.lifecycle.repo.updateIf(id, { status: job.status }, { nextAttemptAt: this.leaseUntil() });
      }
    })();
    return this.renewal;
  }

  /** Ends this process's hold on an attempt before its outcome is written. */
  private async settle(recordingId: string): Promise<void> {
    this.running.delete(recordingId);
    await this.renewal.catch(() => undefined);
  }

  /** Claims and hands off every due job; returns how many were claimed. */
  async pollOnce(limit = 10): Promise<number> {
    if (this.closed) return 0;
    if (this.polling) {
      await this.polling;
      return 0;
    }
    let claimed = 0;
    this.polling = (async () => {
      const jobs = await this.lifecycle.repo.claimDuePostprocess(new Date(), this.leaseUntil(), limit);
      claimed = jobs.length;
      for (const rec of jobs) {
        const gaveUp = exhausted(rec.attempts, this.opts.retry, rec.lastError);
        if (gaveUp) await this.lifecycle.failed(rec.id, gaveUp);
        // closing: the lease runs out and the next process takes the job
        else if (!this.closed) await this.handOff(rec);
      }
    })()
      .catch((err) => this.opts.onError?.(err))
      .finally(() => (this.polling = undefined));
    await this.polling;
    return claimed;
  }

  // ---- PostprocessSink -------------------------------------------------------------

  async uploading(recordingId: string): Promise<void> {
    await this.lifecycle.uploading(recordingId);
    const r = this.running.get(recordingId);
    if (r) r.status = 'UPLOADING';
  }

  progress(recordingId: string, percent: number): void {
    const r = this.running.get(recordingId);
    if (r) this.lifecycle.postprocessProgress(r, percent);
  }

  thumbnailsGenerated(recordingId: string, thumbnails: RecordingThumbnail[]): Promise<void> {
    return this.lifecycle.thumbnails(recordingId, thumbnails);
  }

  async completed(recordingId: string, result: PostprocessResult): Promise<void> {
    await this.settle(recordingId);
    await this.lifecycle.completed(recordingId, result);
  }

  async failed(recordingId: string, error: unknown): Promise<void> {
    const e = toAppError(error);
    await this.settle(recordingId);
    // The write is conditional on what was read; a status that moved on (PROCESSING ->
    // UPLOADING) is read again, an attempt claimed since then is left to its own worker.
    let attempt: number | undefined;
    for (let tries = 0; tries < 3; tries++) {
      const rec = await this.lifecycle.repo.getRecording(recordingId);
      if (!rec || (rec.status !== 'PROCESSING' && rec.status !== 'UPLOADING')) return;
      if (attempt !== undefined && rec.attempts !== attempt) return;
      attempt = rec.attempts;
      const next = afterFailedAttempt(e, rec.attempts, this.opts.retry);
      if (!next.retry) {
        await this.lifecycle.failed(recordingId, next.error, ['PROCESSING', 'UPLOADING']);
        return;
      }
      const at = new Date(Date.now() + next.delayMs);
      const written = await this.lifecycle.repo.updateIf(
        recordingId,
        { status: rec.status, attempts: rec.attempts },
        { nextAttemptAt: at, lastError: `${e.code}: ${e.message}`.slice(0, 2000) },
      );
      if (!written) continue;
      if (e.fault === 'destination') this.awaitDestination(recordingId, { status: rec.status, attempts: rec.attempts, at, downSeen: false });
      return;
    }
  }

  // ---- a retry as soon as the destination is back ------------------------------------

  private awaitDestination(recordingId: string, job: AwaitingDestination): void {
    if (!this.port.destinationHealthy || this.opts.storageProbeMs <= 0 || this.closed) return;
    this.awaitingDestination.set(recordingId, job);
    if (this.probeTimer) return;
    this.probeTimer = setInterval(() => {
      this.probing ??= this.probeDestination()
        .catch((err) => this.opts.onError?.(err))
        .finally(() => (this.probing = undefined));
    }, this.opts.storageProbeMs);
    this.probeTimer.unref();
  }

  /**
   * One health check for every job waiting on the destination. A job is made due at once only
   * when a check failed while it waited and this one passes: a destination that answered all
   * along failed the attempt some other way, and the backoff stays in charge of it.
   */
  private async probeDestination(): Promise<void> {
    const now = Date.now();
    for (const [id, job] of this.awaitingDestination) if (job.at.getTime() <= now) this.awaitingDestination.delete(id);
    if (this.awaitingDestination.size === 0 || this.closed) {
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
      return;
    }
    const healthy = await this.port.destinationHealthy!().catch(() => false);
    const waiting = [...this.awaitingDestination];
    if (!healthy) {
      for (const [, job] of waiting) job.downSeen = true;
      return;
    }
    let due = 0;
    for (const [id, job] of waiting) {
      if (!job.downSeen || this.closed) continue;
      this.awaitingDestination.delete(id);
      // only the retry this process wrote: a job another worker claimed since is left alone
      if (await this.lifecycle.repo.updateIf(id, { status: job.status, attempts: job.attempts, nextAttemptAt: job.at }, { nextAttemptAt: new Date() })) due++;
    }
    if (!due) return;
    // a poll already running read the due jobs before these: the next one sees them
    await this.polling;
    await this.pollOnce();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    await this.probing;
    await this.polling;
  }
}
