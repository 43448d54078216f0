import Redis from 'ioredis';
import { AppError } from '../errors';
import type { RecordingEndReason } from '../recorder/types';
import type { RecordingEventBus } from '../recordings/events';
import type { DispatchPort, RecordingJob } from '../recordings/ports';
import { fits, recordingCost, type RecordingCosts, type WorkerLoad } from '../recordings/capacity';
import type { RecordingRunner } from '../recordings/runner';

/**
 * Dispatch across processes through Redis.
 * - `<p>:jobs`: a list of queued jobs; a worker pops one (RPOP, so FIFO) and puts it back
 *   when its capacity does not admit it (see recordings/capacity.ts).
 * - `<p>:owner:<id>`: the owning worker's id, with a TTL its heartbeat keeps renewing;
 *   a missing key means the owner is dead (restart recovery relies on it).
 * - `<p>:workers`: worker id -> its limits, cost model and load, so dispatch fails fast
 *   with NO_CAPACITY when no live worker would admit the job.
 * - `<p>:control`: pub/sub channel for stop requests; `<p>:status`: status changes.
 * A process with a runner is a worker; one without only dispatches.
 */
export interface RedisPoolOptions {
  url: string;
  workerId: string;
  runner?: RecordingRunner;
  prefix?: string;
  /** How long dispatch waits for a worker to claim the job (default 5 s). */
  claimTimeoutMs?: number;
  ownerTtlMs?: number;
  pollMs?: number;
  onError?: (err: unknown) => void;
}

interface WorkerInfo extends WorkerLoad {
  maxConcurrent: number;
  cpuBudget: number;
  costs: RecordingCosts;
  at: number;
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class RedisDispatcher implements DispatchPort {
  readonly redis: Redis;
  private readonly sub: Redis;
  private readonly p: string;
  private readonly ttl: number;
  private readonly owned = new Set<string>();
  private pollTimer?: NodeJS.Timeout;
  private beatTimer?: NodeJS.Timeout;
  private polling = false;
  private closed = false;
  private unsubscribeBus?: () => void;

  constructor(private readonly opts: RedisPoolOptions) {
    const common = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true } as const;
    this.redis = new Redis(opts.url, common);
    this.sub = new Redis(opts.url, common);
    this.redis.on('error', (e) => opts.onError?.(e));
    this.sub.on('error', (e) => opts.onError?.(e));
    this.p = opts.prefix ?? 'lkrec';
    this.ttl = opts.ownerTtlMs ?? 15_000;
  }

  /** The key prefix of this pool (shared by every process of one deployment). */
  get prefix(): string {
    return this.p;
  }

  private k(...parts: string[]): string {
    return [this.p, ...parts].join(':');
  }

  async start(): Promise<void> {
    await Promise.all([this.redis.connect(), this.sub.connect()]);
    await this.sub.subscribe(this.k('control'));
    this.sub.on('message', (_channel: string, message: string) => {
      try {
        const msg = JSON.parse(message) as { type: string; id: string; reason: RecordingEndReason };
        if (msg.type === 'stop' && this.opts.runner?.has(msg.id)) void this.opts.runner.stop(msg.id, msg.reason);
      } catch (err) {
        this.opts.onError?.(err);
      }
    });
    if (this.opts.runner) {
      await this.beat();
      this.beatTimer = setInterval(() => void this.beat().catch((e) => this.opts.onError?.(e)), Math.max(200, this.ttl / 3));
      this.pollTimer = setInterval(() => void this.poll(), this.opts.pollMs ?? 200);
      this.beatTimer.unref();
      this.pollTimer.unref();
    }
  }

  // ---- dispatching side ----------------------------------------------------------------

  async dispatch(job: RecordingJob): Promise<void> {
    if (!(await this.anyWorkerAdmits(job))) throw new AppError('NO_CAPACITY', 'no live recorder worker has room for this recording');
    const payload = JSON.stringify(job);
    await this.redis.lpush(this.k('jobs'), payload);
    const deadline = Date.now() + (this.opts.claimTimeoutMs ?? 5000);
    while (Date.now() < deadline) {
      if (await this.redis.exists(this.k('owner', job.id))) return;
      await sleep(50);
    }
    const removed = await this.redis.lrem(this.k('jobs'), 1, payload);
    if (removed === 1) throw new AppError('NO_CAPACITY', 'no recorder worker claimed the recording in time');
    // Popped at the last moment: give the claimer a moment to write its ownership.
    for (let i = 0; i < 40; i++) {
      if (await this.redis.exists(this.k('owner', job.id))) return;
      await sleep(50);
    }
    throw new AppError('NO_CAPACITY', 'the recording was taken by a worker that did not confirm it');
  }

  async requestStop(recordingId: string, reason: RecordingEndReason): Promise<void> {
    if (this.opts.runner?.has(recordingId)) await this.opts.runner.stop(recordingId, reason);
    else await this.redis.publish(this.k('control'), JSON.stringify({ type: 'stop', id: recordingId, reason }));
  }

  async isOwnerAlive(recordingId: string): Promise<boolean> {
    if (this.opts.runner?.has(recordingId)) return true;
    return (await this.redis.exists(this.k('owner', recordingId))) === 1;
  }

  private async anyWorkerAdmits(job: RecordingJob): Promise<boolean> {
    const all = await this.redis.hgetall(this.k('workers'));
    const now = Date.now();
    return Object.values(all).some((v) => {
      try {
        const w = JSON.parse(v) as WorkerInfo;
        // JSON has no Infinity: an unlimited worker publishes null
        const limits = { maxConcurrent: w.maxConcurrent ?? Infinity, cpuBudget: w.cpuBudget ?? Infinity };
        return now - w.at < this.ttl && fits(w, recordingCost(job.options, w.costs), limits);
      } catch {
        return false;
      }
    });
  }

  // ---- worker side --------------------------------------------------------------------

  private async poll(): Promise<void> {
    const runner = this.opts.runner;
    if (!runner || this.polling || this.closed) return;
    this.polling = true;
    try {
      while (!this.closed) {
        const payload = await this.redis.rpop(this.k('jobs'));
        if (!payload) break;
        const job = JSON.parse(payload) as RecordingJob;
        if (!runner.admits(job).ok) {
          // back where it was, first in line, for a worker with room (or for later)
          await this.redis.rpush(this.k('jobs'), payload);
          break;
        }
        const owner = this.k('owner', job.id);
        const ok = await this.redis.set(owner, this.opts.workerId, 'PX', this.ttl, 'NX');
        if (ok !== 'OK') continue;
        this.owned.add(job.id);
        const { finished } = runner.run(job);
        void finished.finally(() => {
          this.owned.delete(job.id);
          void this.redis.eval(RELEASE, 1, owner, this.opts.workerId).catch(() => undefined);
          void this.beat().catch(() => undefined);
        });
        await this.beat();
      }
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.polling = false;
    }
  }

  private async beat(): Promise<void> {
    if (this.closed || !this.opts.runner) return;
    const { maxConcurrent, cpuBudget, costs } = this.opts.runner.limits;
    const info: WorkerInfo = { maxConcurrent, cpuBudget, costs, ...this.opts.runner.load(), at: Date.now() };
    const multi = this.redis.multi().hset(this.k('workers'), this.opts.workerId, JSON.stringify(info));
    for (const id of this.owned) multi.pexpire(this.k('owner', id), this.ttl);
    await multi.exec();
  }

  // ---- status channel -------------------------------------------------------------------

  /** Publishes every status change (reads are cached by view-cache.ts, invalidated on write). */
  attach(bus: RecordingEventBus): this {
    this.unsubscribeBus = bus.onAny((name, payload) => {
      if (name === 'recordingProgress' || this.closed) return;
      const { recordingId, status } = payload;
      void this.redis
        .publish(this.k('status'), JSON.stringify({ id: recordingId, status, event: name, at: payload.at }))
        .catch((e) => this.opts.onError?.(e));
    });
    return this;
  }

  /** Subscribes to status changes of every recording (for a UI push, say). */
  async onStatus(listener: (msg: { id: string; status: string; event: string; at: string }) => void): Promise<() => Promise<void>> {
    const sub = this.redis.duplicate();
    await sub.subscribe(this.k('status'));
    sub.on('message', (_c: string, m: string) => listener(JSON.parse(m)));
    return async () => {
      await sub.quit().catch(() => sub.disconnect());
    };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** Stops claiming, forgets this worker, closes both connections (live recordings are the runner's to stop). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeBus?.();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.beatTimer) clearInterval(this.beatTimer);
    while (this.polling) await sleep(10);
    if (this.opts.runner) await this.redis.hdel(this.k('workers'), this.opts.workerId).catch(() => undefined);
    await Promise.allSettled([this.redis.quit(), this.sub.quit()]);
    this.redis.disconnect();
    this.sub.disconnect();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
