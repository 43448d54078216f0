import { AppError } from '../errors';
import type { LiveRecording, RecordingEndReason, RecordingOptions, RecordingResult } from './contract';
import { committedCores, describeRefusal, fits, recordingCost, type CapacityLimits, type OwnMeasurement, type WorkerLoad } from './capacity';
import { liveRecordingEnd, nothingRecorded, stoppedBeforeStart } from './failure-policy';
import type { RecordingLifecycle } from './lifecycle';
import type { PostprocessQueue } from './postprocess-queue';
import { IdleRoomStop } from './idle-stop';
import { assessQuality } from './quality';
import { reportStreams } from './streams-report';
import type { RecorderPort, RecordingJob, RoomPresencePort } from './ports';

/**
 * The worker side of a recording: claims the STARTING row, drives the recorder, writes
 * RECORDING on the first chunk, STOPPING/PROCESSING when it ends (or FAILED), stops it
 * after the room stayed empty (idle-stop.ts), and hands the file to post-processing. The maximum duration
 * is the recorder's to keep (RecordingRequest.maxDurationSeconds): its result then says
 * 'max_duration'.
 */
export interface RunnerOptions {
  workerId: string;
  /** Stop after the room has had nobody in it for this long (0 disables). */
  idleTimeoutSeconds: number;
  /** What this worker takes on (default: no limit). */
  capacity?: CapacityLimits;
  /** The machine's CPU, measured (observability/machine-load.ts); absent: estimates only. */
  measureCpu?: () => ({ cores: number; others: number } & OwnMeasurement) | undefined;
  /** Why this worker's disk cannot take a recording now (observability/disk-watch.ts); undefined: it can. */
  diskShort?: () => string | undefined;
  /** Progress events at most this often (default 5 s). */
  progressIntervalMs?: number;
  onError?: (err: unknown, recordingId: string) => void;
}

interface Entry {
  job: RecordingJob;
  admittedAt: number;
  live?: LiveRecording;
  stopReason?: RecordingEndReason;
  recording: boolean;
  finished: Promise<void>;
}

export class RecordingRunner {
  private readonly entries = new Map<string, Entry>();
  private readonly idleStop: IdleRoomStop;
  private closed = false;

  constructor(
    private readonly lifecycle: RecordingLifecycle,
    private readonly recorder: RecorderPort,
    private readonly postprocess: PostprocessQueue,
    presence: RoomPresencePort | undefined,
    private readonly opts: RunnerOptions,
  ) {
    this.idleStop = new IdleRoomStop(
      presence,
      opts.idleTimeoutSeconds,
      () => ({
        watched: [...this.entries.values()].filter((e) => e.recording && !e.stopReason).map((e) => ({ id: e.job.id, roomName: e.job.roomName })),
        any: this.entries.size > 0,
      }),
      (id) => void this.stopLocal(id, 'room_ended'),
    );
  }

  get workerId(): string {
    return this.opts.workerId;
  }

  activeCount(): number {
    return this.entries.size;
  }

  get limits(): CapacityLimits {
    return this.opts.capacity ?? { maxConcurrent: Infinity, cpuBudget: Infinity, costs: { canvas: 0, customLayout: 0 }, reserve: 0 };
  }

  cost(job: RecordingJob): number {
    return recordingCost(job.options, this.limits.costs);
  }

  load(): WorkerLoad {
    const m = this.opts.measureCpu?.();
    const now = Date.now();
    const committed = committedCores(
      [...this.entries.values()].map((e) => ({ cost: this.cost(e.job), ageMs: now - e.admittedAt })),
      m,
    );
    const diskShort = this.opts.diskShort?.();
    return { active: this.entries.size, committed, ...(m ? { machine: { cores: m.cores, others: m.others } } : {}), ...(diskShort ? { diskShort } : {}) };
  }

  /** Whether this worker takes `job` now; otherwise the reason, for NO_CAPACITY. */
  admits(job: RecordingJob): { ok: true } | { ok: false; reason: string } {
    const load = this.load();
    const cost = this.cost(job);
    const reason = describeRefusal(load, cost, this.limits);
    return reason === null ? { ok: true } : { ok: false, reason };
  }

  /** Whether a recording of the default kind (canvas, 1280x720 at 30 fps) would be admitted now. */
  hasRoomForAnother(): boolean {
    return fits(this.load(), this.limits.costs.canvas, this.limits);
  }

  has(recordingId: string): boolean {
    return this.entries.has(recordingId);
  }

  /**
   * Runs one recording. Resolves when the worker is done with it (handed to post-processing
   * or failed); never rejects. `accepted` resolves once the row is claimed (false: not ours).
   */
  run(job: RecordingJob): { accepted: Promise<boolean>; finished: Promise<void> } {
    if (this.closed) return { accepted: Promise.resolve(false), finished: Promise.resolve() };
    let accept!: (v: boolean) => void;
    const accepted = new Promise<boolean>((r) => (accept = r));
    const entry: Entry = { job, admittedAt: Date.now(), recording: false, finished: Promise.resolve() };
    this.entries.set(job.id, entry);
    entry.finished = this.drive(entry, accept)
      .catch((err) => this.opts.onError?.(err, job.id))
      .finally(() => {
        this.entries.delete(job.id);
        this.idleStop.forget(job.id);
        accept(false);
      });
    this.idleStop.started();
    return { accepted, finished: entry.finished };
  }

  /** Stops a recording this worker runs; the status is written by the caller or by stopLocal(). */
  async stop(recordingId: string, reason: RecordingEndReason): Promise<void> {
    const entry = this.entries.get(recordingId);
    if (!entry) return;
    entry.stopReason ??= reason;
    if (entry.live) await entry.live.stop(entry.stopReason).catch(() => undefined);
  }

  /** A live change of a recording this worker runs: the page shows it before this resolves. */
  async update(recordingId: string, options: RecordingOptions): Promise<void> {
    const entry = this.entries.get(recordingId);
    if (!entry) return;
    entry.job = { ...entry.job, options };
    await entry.live?.update(options);
  }

  /** Pauses or resumes a recording this worker runs (the row's status was written by the caller). */
  async setPaused(recordingId: string, paused: boolean): Promise<void> {
    const entry = this.entries.get(recordingId);
    if (!entry) return;
    this.idleStop.setPaused(recordingId, paused);
    await entry.live?.setPaused(paused);
  }

  /** A stop decided here (empty room, shutdown): STOPPING first, then the recorder. */
  async stopLocal(recordingId: string, reason: RecordingEndReason): Promise<void> {
    if (!this.entries.has(recordingId)) return;
    await this.lifecycle.stopping(recordingId, reason).catch((err) => this.opts.onError?.(err, recordingId));
    await this.stop(recordingId, reason);
  }

  /** RECORDING in the database, tried again while the database fails (the row would stay STARTING while media flows). */
  private async markRecording(id: string, recordingAt: Date): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.lifecycle.recording(id, recordingAt);
        return;
      } catch (err) {
        this.opts.onError?.(err, id);
        if (attempt >= 3 || (err instanceof AppError && err.code !== 'INTERNAL')) return;
        await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
      }
    }
  }

  /** A participant left the room (LiveKit webhook): check emptiness soon. */
  nudge(roomName: string): void {
    this.idleStop.nudge(roomName);
  }

  private async drive(entry: Entry, accept: (v: boolean) => void): Promise<void> {
    const { job } = entry;
    const { repo } = this.lifecycle;
    const claimed = await repo.updateIf(job.id, { status: 'STARTING', workerId: null }, { workerId: this.opts.workerId });
    if (!claimed) {
      accept(false);
      const rec = await repo.getRecording(job.id);
      if (rec?.status === 'STOPPING' && rec.workerId === null) await this.lifecycle.failed(job.id, stoppedBeforeStart(), ['STOPPING']);
      return;
    }
    accept(true);

    let live: LiveRecording;
    try {
      live = await this.recorder.open(job);
    } catch (err) {
      await this.lifecycle.failed(job.id, nothingRecorded(err));
      return;
    }
    entry.live = live;
    if (entry.stopReason) void live.stop(entry.stopReason).catch(() => undefined);

    const streams = reportStreams(repo, job.id, live, (err) => this.opts.onError?.(err, job.id));
    let lastProgress = 0;
    const every = this.opts.progressIntervalMs ?? 5000;
    const unsubscribe = live.onProgress((p) => {
      const now = Date.now();
      if (now - lastProgress < every) return;
      lastProgress = now;
      this.lifecycle.progress({ id: job.id, callId: job.callId, roomName: job.roomName }, p);
    });
    // handled here, not only after `done`: a database error while media flows must not end the process
    const marked = live.firstChunk.then(
      async (start) => {
        entry.recording = true;
        await this.markRecording(job.id, start.recordingAt);
      },
      () => undefined,
    );

    let result: RecordingResult | undefined;
    let failure: unknown;
    try {
      result = await live.done;
    } catch (err) {
      failure = err;
    } finally {
      unsubscribe();
    }
    await marked.catch(() => undefined);
    // the streams' last states (ENDED) are on the row before the recording moves on
    streams.stop();
    await streams.flushed();

    const end = liveRecordingEnd(result, failure);
    if (end.to === 'FAILED') {
      await this.lifecycle.failed(job.id, end.error);
      return;
    }
    const reason = end.result.endReason ?? entry.stopReason ?? 'stopped';
    await this.lifecycle.stopping(job.id, reason);
    const extra = {
      ...end.extra,
      ...(end.result.quality ? { quality: assessQuality(end.result.quality, job.options.fps) } : {}),
      // the API stamped each pause when it was asked for, the page made it a moment later: the
      // chapters, sidecars and track cuts follow the file's own seams
      ...(end.result.pauses?.length ? { pauses: end.result.pauses, pausedAt: end.result.pauses[end.result.pauses.length - 1].pausedAt } : {}),
    };
    const { path, size, durationMs } = end.result;
    let rec;
    try {
      rec = await this.lifecycle.processing(job.id, { path, size, durationMs }, this.postprocess.leaseUntil(), extra);
    } catch (err) {
      // Deleted or failed meanwhile (e.g. recovery by another worker): nothing more to do here.
      if (err instanceof AppError && err.code === 'INVALID_TRANSITION') return;
      throw err;
    }
    await this.postprocess.handOff(rec);
  }

  /** Stops every live recording ('shutdown'); their files still go to post-processing. */
  async close(): Promise<void> {
    this.closed = true;
    this.idleStop.close();
    const entries = [...this.entries.values()];
    await Promise.allSettled(entries.map((e) => this.stopLocal(e.job.id, 'shutdown')));
    await Promise.allSettled(entries.map((e) => e.finished));
  }
}

