import Redis from 'ioredis';
import { AppError } from '../errors';
import type { RecordingEndReason, RecordingOptions } from '../recordings/contract';
import type { RecordingEventBus } from '../recordings/events';
import type { DispatchPort, RecordingJob } from '../recordings/ports';
import type { RecordingRunner } from '../recordings/runner';
import type { StreamSecrets } from '../recordings/secrets';
import { applyControl, ControlReplies, deliverControl, type ControlMessage } from './control-messages';
import { rankWorkers, type InFlight } from './placement';
import { RedisJobQueue } from './redis-job-queue';
import { OWNER_LEASE } from './redis-scripts';

/**
 * Dispatch across processes through Redis.
 * - `<p>:workers`: worker id -> its WorkerRecord (limits, load, headroom, warm pages; see
 *   placement.ts), renewed by its heartbeat. Dispatch ranks the live workers that admit the
 *   job and fails fast with NO_CAPACITY when none does.
 * - `<p>:jobs:<workerId>`: the jobs handed to one worker. The dispatcher gives the chosen
 *   worker `handoffMs` to claim the job, then takes it back and offers it to the next one,
 *   so a worker that died after its last heartbeat strands nothing; the last one with room
 *   keeps it until the claim deadline (a live worker may be slow to pop on a busy machine).
 * - `<p>:jobs`: jobs for any worker: one a worker was handed but could not admit (its load
 *   changed meanwhile) goes here, first in line, for whichever worker has room.
 * - `<p>:owner:<id>`: the owning worker's id, with a TTL its heartbeat keeps renewing;
 *   a missing key means the owner is dead (restart recovery relies on it). It is written
 *   in one step with the worker's record counting the job, so the next dispatch sees it.
 *   The heartbeat writes it again when it is gone (Redis restarted without persistence).
 * - `<p>:epoch`: exists since the first write after Redis last lost its keys (or ever), and
 *   `<p>:epoch:settling` for one owner TTL after that: meanwhile a missing owner key proves
 *   nothing, since its live owner may not have beaten yet.
 * - `<p>:control`: pub/sub channel for stop requests, live changes, pauses and resumes (control-messages.ts); `<p>:status`: status changes.
 * - `<p>:wake:<workerId>`: a job was handed to that worker (it pops at once rather than at its
 *   next poll); `<p>:claimed`: a worker claimed the recording named (dispatch waits on that,
 *   checking the owner key now and then in case a message was missed).
 * A process with a runner is a worker; one without only dispatches.
 */
export interface RedisPoolOptions {
  url: string;
  workerId: string;
  runner?: RecordingRunner;
  prefix?: string;
  /** How long dispatch waits for a worker to claim the job (default 5 s). */
  claimTimeoutMs?: number;
  /** How long the chosen worker has to claim the job before the next one is offered it (default 1 s; the last one: claimTimeoutMs). */
  handoffMs?: number;
  /** Standby recorder pages ready on this worker (the recorder's BrowserPool); default none. */
  warmPages?: () => number | Promise<number>;
  ownerTtlMs?: number;
  pollMs?: number;
  /** How long a live change or a pause waits for the owning worker's answer (default 10 s). */
  controlReplyMs?: number;
  /** Seals the stream URLs of the jobs and live changes that go through Redis, and opens them on the worker. */
  secrets: StreamSecrets;
  onError?: (err: unknown) => void;
}

export class RedisDispatcher implements DispatchPort {
  readonly redis: Redis;
  private readonly sub: Redis;
  private readonly p: string;
  private readonly ttl: number;
  /** The worker side, when this process runs recordings. */
  private readonly queue?: RedisJobQueue;
  private closed = false;
  /** Jobs this process handed to a worker and not yet seen claimed: worker id -> their costs. */
  private readonly inFlight: InFlight = new Map();
  private unsubscribeBus?: () => void;
  /** Dispatches in this process waiting for a worker to claim the recording: id -> wake-ups. */
  private readonly claimWaiters = new Map<string, Set<() => void>>();
  private readonly replies = new ControlReplies();

  constructor(private readonly opts: RedisPoolOptions) {
    const common = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true } as const;
    this.redis = new Redis(opts.url, common);
    this.sub = new Redis(opts.url, common);
    this.redis.on('error', (e) => opts.onError?.(e));
    this.sub.on('error', (e) => opts.onError?.(e));
    this.p = opts.prefix ?? 'lkrec';
    this.ttl = opts.ownerTtlMs ?? 15_000;
    if (opts.runner) {
      const { workerId, runner, warmPages, pollMs, onError, secrets } = opts;
      this.queue = new RedisJobQueue(this.redis, (...parts) => this.k(...parts), {
        workerId,
        runner,
        secrets,
        ownerTtlMs: this.ttl,
        ...(warmPages ? { warmPages } : {}),
        ...(pollMs ? { pollMs } : {}),
        ...(onError ? { onError } : {}),
      });
    }
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
    const wake = this.k('wake', this.opts.workerId);
    await this.sub.subscribe(this.k('control'), this.k('control-reply'), this.k('claimed'), ...(this.opts.runner ? [wake] : []));
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.k('claimed')) return this.claimWaiters.get(message)?.forEach((wakeUp) => wakeUp());
      if (channel === wake) return void this.queue?.poll();
      if (channel === this.k('control-reply')) return this.replies.settle(message);
      deliverControl(message, this.opts.runner, this.opts.secrets)
        .then((answer) => (answer ? this.redis.publish(this.k('control-reply'), answer) : undefined))
        .catch((err) => this.opts.onError?.(err));
    });
    await this.queue?.start();
  }

  // ---- dispatching side ----------------------------------------------------------------

  async dispatch(job: RecordingJob): Promise<void> {
    const candidates = rankWorkers(await this.redis.hgetall(this.k('workers')), job, { now: Date.now(), ttlMs: this.ttl, inFlight: this.inFlight });
    if (candidates.length === 0) throw new AppError('NO_CAPACITY', 'no live recorder worker has room for this recording');
    const payload = JSON.stringify(this.opts.secrets.sealJob(job));
    const claimTimeout = this.opts.claimTimeoutMs ?? 5000;
    const deadline = Date.now() + claimTimeout;
    for (const [i, { id: worker, cost }] of candidates.entries()) {
      if (Date.now() >= deadline) break;
      // The last worker with room keeps the job until the deadline: one that is alive but slow
      // to pop (its event loop busy starting recordings on a loaded machine: 1 to 2.5 s seen)
      // would otherwise lose it to nobody, and its room would be answered with NO_CAPACITY.
      const last = i === candidates.length - 1;
      const handoffUntil = last ? deadline : Math.min(deadline, Date.now() + (this.opts.handoffMs ?? 1000));
      // counted against this worker until it claims the job or it is taken back
      const release = this.hold(worker, cost);
      try {
        const list = this.k('jobs', worker);
        // a list nobody pops any more (its worker died) must not outlive its jobs
        await this.redis.multi().lpush(list, payload).pexpire(list, Math.max(60_000, 2 * claimTimeout)).publish(this.k('wake', worker), '').exec();
        if (await this.claimed(job.id, handoffUntil)) return;
        if ((await this.redis.lrem(list, 1, payload)) === 1) continue; // never taken: offer it to the next
        // Taken from the list: claimed any moment now, or passed on to <p>:jobs for a worker with room.
        if (await this.claimed(job.id, deadline)) return;
        if ((await this.redis.lrem(this.k('jobs'), 1, payload)) === 1) throw new AppError('NO_CAPACITY', 'no recorder worker claimed the recording in time');
        if (await this.claimed(job.id, Date.now() + 2000)) return;
        throw new AppError('NO_CAPACITY', 'the recording was taken by a worker that did not confirm it');
      } finally {
        release();
      }
    }
    throw new AppError('NO_CAPACITY', 'no recorder worker claimed the recording in time');
  }

  /** Counts `cost` against `worker` in this process's ranking until the returned release is called. */
  private hold(worker: string, cost: number): () => void {
    const costs = this.inFlight.get(worker) ?? [];
    costs.push(cost);
    this.inFlight.set(worker, costs);
    return () => {
      costs.splice(costs.indexOf(cost), 1);
      if (costs.length === 0) this.inFlight.delete(worker);
    };
  }

  /** Whether a worker owns the recording by `until` (checked at least once). */
  private async claimed(recordingId: string, until: number): Promise<boolean> {
    for (;;) {
      if (await this.redis.exists(this.k('owner', recordingId))) return true;
      const left = until - Date.now();
      if (left <= 0) return false;
      await this.claimNews(recordingId, Math.min(250, left));
    }
  }

  /** Resolves when a worker says it claimed `recordingId`, or after `ms`. */
  private claimNews(recordingId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.claimWaiters.get(recordingId) ?? new Set();
      this.claimWaiters.set(recordingId, waiters);
      const wakeUp = () => {
        clearTimeout(timer);
        waiters.delete(wakeUp);
        if (waiters.size === 0) this.claimWaiters.delete(recordingId);
        resolve();
      };
      const timer = setTimeout(wakeUp, ms);
      waiters.add(wakeUp);
    });
  }

  requestStop(recordingId: string, reason: RecordingEndReason): Promise<void> {
    return this.control({ type: 'stop', id: recordingId, reason });
  }

  requestUpdate(recordingId: string, options: RecordingOptions): Promise<void> {
    return this.control({ type: 'update', id: recordingId, options });
  }

  requestPause(recordingId: string, paused: boolean): Promise<void> {
    return this.control({ type: 'pause', id: recordingId, paused });
  }

  /**
   * Applied here when this process runs the recording, else published for the worker that does;
   * a change or a pause waits for that worker's answer (ControlReplies).
   */
  private async control(msg: ControlMessage): Promise<void> {
    if (this.opts.runner?.has(msg.id)) return applyControl(msg, this.opts.runner);
    if (msg.type === 'stop') return void (await this.redis.publish(this.k('control'), JSON.stringify(msg)));
    const { reply, answered } = this.replies.expect(this.opts.controlReplyMs ?? 10_000);
    const sealed = msg.type === 'update' ? { ...msg, options: this.opts.secrets.sealOptions(msg.options) } : msg;
    await this.redis.publish(this.k('control'), JSON.stringify({ ...sealed, reply }));
    await answered;
  }

  async ownerLeaseMs(recordingId: string): Promise<number> {
    if (this.opts.runner?.has(recordingId)) return Infinity;
    return Number(await this.redis.eval(OWNER_LEASE, 3, this.k('epoch'), this.k('epoch', 'settling'), this.k('owner', recordingId), String(this.ttl)));
  }

  // ---- status channel -------------------------------------------------------------------

  /** Publishes every status change on `<p>:status`, for whoever listens (a UI push, say). */
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

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** Stops claiming, forgets this worker, closes both connections (live recordings are the runner's to stop). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeBus?.();
    await this.queue?.close();
    await Promise.allSettled([this.redis.quit(), this.sub.quit()]);
    this.redis.disconnect();
    this.sub.disconnect();
  }
}
