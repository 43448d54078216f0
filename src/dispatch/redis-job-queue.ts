import type Redis from 'ioredis';
import type { RecordingJob } from '../recordings/ports';
import type { RecordingRunner } from '../recordings/runner';
import type { StreamSecrets } from '../recordings/secrets';
import { parseRecordingJob } from '../recordings/stored-data';
import { withJob, workerRecord } from './placement';
import { BEAT, CLAIM, RELEASE } from './redis-scripts';

export interface RedisJobQueueOptions {
  workerId: string;
  runner: RecordingRunner;
  /** Opens the stream URLs the dispatcher sealed. */
  secrets: StreamSecrets;
  ownerTtlMs: number;
  warmPages?: () => number | Promise<number>;
  pollMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * A worker's side of Redis dispatch (redis.ts has the keys): pops the jobs handed to it (then
 * those for anyone), claims the ones it admits by writing the owner key and its record in one
 * step, runs them, and keeps its record and its owner keys alive with a heartbeat.
 */
export class RedisJobQueue {
  private readonly owned = new Set<string>();
  private pollTimer?: NodeJS.Timeout;
  private beatTimer?: NodeJS.Timeout;
  private polling = false;
  /** A wake-up came while polling: the poll may have looked before that job arrived. */
  private pollAgain = false;
  private closed = false;
  private publishedWarm = -1;
  /** This worker's record is written by one claim or beat at a time (writingRecord). */
  private recordWrites: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly k: (...parts: string[]) => string,
    private readonly opts: RedisJobQueueOptions,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.beatTimer = setInterval(() => void this.beat().catch((e) => this.opts.onError?.(e)), Math.max(200, this.opts.ownerTtlMs / 3));
    this.pollTimer = setInterval(() => void this.poll(), this.opts.pollMs ?? 200);
    this.beatTimer.unref();
    this.pollTimer.unref();
  }

  /** Stops claiming and forgets this worker (its live recordings are the runner's to stop). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.beatTimer) clearInterval(this.beatTimer);
    while (this.polling) await sleep(10);
    await this.redis.hdel(this.k('workers'), this.opts.workerId).catch(() => undefined);
  }

  async poll(): Promise<void> {
    const runner = this.opts.runner;
    if (this.closed) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    this.pollAgain = false;
    try {
      // a standby page became ready (or was taken): dispatch should know now, not at the next beat
      if ((await this.warmPages()) !== this.publishedWarm) await this.beat();
      while (!this.closed) {
        // the jobs handed to this worker first, then those for anyone
        let forMe = true;
        let payload = await this.redis.rpop(this.k('jobs', this.opts.workerId));
        if (!payload) {
          forMe = false;
          payload = await this.redis.rpop(this.k('jobs'));
        }
        if (!payload) break;
        let job: RecordingJob;
        try {
          job = this.opts.secrets.openJob(parseRecordingJob(payload));
        } catch (err) {
          // not a job this version (or this key: SECRET_UNREADABLE) can run: dropped (recovery fails its recording), the queue goes on
          this.opts.onError?.(err);
          continue;
        }
        if (!runner.admits(job).ok) {
          // first in line for a worker with room (or for later)
          await this.redis.rpush(this.k('jobs'), payload);
          if (forMe) continue;
          break;
        }
        const owner = this.k('owner', job.id);
        const running = await this.writingRecord(async () => {
          const record = withJob(runner.limits, runner.load(), await this.warmPages(), job);
          const ok = await this.redis.eval(CLAIM, 2, owner, this.k('workers'), this.opts.workerId, String(this.opts.ownerTtlMs), JSON.stringify(record));
          if (ok !== 1) return null;
          this.publishedWarm = record.warmPages;
          this.owned.add(job.id);
          return runner.run(job);
        });
        if (!running) continue;
        void this.redis.publish(this.k('claimed'), job.id).catch((e) => this.opts.onError?.(e));
        void running.finished.finally(() => {
          this.owned.delete(job.id);
          void this.redis.eval(RELEASE, 1, owner, this.opts.workerId).catch(() => undefined);
          void this.beat().catch(() => undefined);
        });
      }
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.polling = false;
    }
    if (this.pollAgain) void this.poll();
  }

  private async warmPages(): Promise<number> {
    return (await this.opts.warmPages?.()) ?? 0;
  }

  private beat(): Promise<void> {
    return this.writingRecord(async () => {
      if (this.closed) return;
      const warm = await this.warmPages();
      const record = workerRecord(this.opts.runner.limits, this.opts.runner.load(), warm);
      const owners = [...this.owned].map((id) => this.k('owner', id));
      const keys = [this.k('epoch'), this.k('epoch', 'settling'), this.k('workers'), ...owners];
      await this.redis.eval(BEAT, keys.length, ...keys, String(this.opts.ownerTtlMs), this.opts.workerId, JSON.stringify(record));
      this.publishedWarm = warm;
    });
  }

  /**
   * One claim or beat at a time: a beat that read the load before a claim and wrote after it
   * would publish the record without the job just claimed, and dispatch would send the next
   * one here as if it had that room (seen under load: a fourth recording on the fuller worker).
   */
  private writingRecord<T>(write: () => Promise<T>): Promise<T> {
    const next = this.recordWrites.then(write, write);
    this.recordWrites = next.catch(() => undefined);
    return next;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
