import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RecordingEventBus } from '../recordings/events';
import { RECORDING_STATUSES } from '../recordings/status';

/**
 * Prometheus metrics of one process, in their own registry (no global state, so tests can
 * build several apps). Recordings by status come from the database at scrape time.
 */
export interface MetricsSources {
  /** Count of recordings per status (the database). */
  statusCounts?: () => Promise<Record<string, number>>;
  /** Live recordings this process runs. */
  activeRecordings?: () => number;
  /**
   * This worker's CPU budget, the cores its recordings committed and the cores it can still
   * commit (headroom, recordings/capacity.ts: 0 when it would not admit another recording).
   */
  cpu?: () => { budget: number; committed: number; headroom: number; others?: number };
}

/** committed / (committed + headroom), in [0, 1]; a worker with no headroom is full (1), even an idle one on a machine other programs fill. */
export function loadRatio(committed: number, headroom: number): number {
  if (headroom <= 0) return 1;
  return Math.min(1, Math.max(0, committed) / (Math.max(0, committed) + headroom));
}

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly failures: Counter<'code' | 'fault'>;
  readonly recordingDuration: Histogram;
  readonly events: Counter<'event'>;
  private sources: MetricsSources = {};

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const self = this;
    new Gauge({
      name: 'recorder_recordings',
      help: 'Recordings in the database by status',
      labelNames: ['status'],
      registers,
      async collect() {
        if (!self.sources.statusCounts) return;
        const counts = await self.sources.statusCounts().catch(() => null);
        if (!counts) return;
        for (const s of RECORDING_STATUSES) this.set({ status: s }, counts[s] ?? 0);
      },
    });
    new Gauge({
      name: 'recorder_active_recordings',
      help: 'Live recordings run by this process',
      registers,
      collect() {
        this.set(self.sources.activeRecordings?.() ?? 0);
      },
    });
    new Gauge({
      name: 'recorder_cpu_budget_cores',
      help: 'Cores this worker commits to recordings at most (RECORDER_CPU_BUDGET)',
      registers,
      collect() {
        const cpu = self.sources.cpu?.();
        if (cpu && Number.isFinite(cpu.budget)) this.set(cpu.budget);
      },
    });
    new Gauge({
      name: 'recorder_cpu_committed_cores',
      help: 'Cores committed to the recordings this worker runs (their estimated cost)',
      registers,
      collect() {
        const cpu = self.sources.cpu?.();
        if (cpu) this.set(cpu.committed);
      },
    });
    new Gauge({
      // what autoscaling follows, like Egress's livekit_load_ratio: the average over the
      // workers says how full the pool is, whatever limits each one (slots, budget, machine)
      name: 'recorder_load_ratio',
      help: 'Share of what this worker can take that is in use: committed cores / (committed + headroom); 1 when it cannot take another recording',
      registers,
      collect() {
        const cpu = self.sources.cpu?.();
        if (cpu) this.set(loadRatio(cpu.committed, cpu.headroom));
      },
    });
    new Gauge({
      name: 'recorder_machine_other_cores',
      help: "Cores of the worker's machine used by other programs, measured over 10 s (admission counts them)",
      registers,
      collect() {
        const others = self.sources.cpu?.().others;
        if (others !== undefined) this.set(others);
      },
    });
    this.failures = new Counter({ name: 'recorder_recording_failures_total', help: 'Recordings that ended FAILED, by error code', labelNames: ['code', 'fault'], registers });
    this.recordingDuration = new Histogram({
      name: 'recorder_recording_duration_seconds',
      help: 'Duration of completed recordings',
      buckets: [10, 60, 300, 900, 1800, 3600, 7200, 14400],
      registers,
    });
    this.events = new Counter({ name: 'recorder_events_total', help: 'Recording events emitted', labelNames: ['event'], registers });
    this.httpDuration = new Histogram({
      name: 'recorder_http_request_duration_seconds',
      help: 'API request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }

  setSources(sources: MetricsSources): this {
    this.sources = { ...this.sources, ...sources };
    return this;
  }

  attach(bus: RecordingEventBus): () => void {
    return bus.onAny((name, payload) => {
      this.events.inc({ event: name });
      if (name === 'recordingFailed') {
        const p = payload as { error: { code: string; fault: string } };
        this.failures.inc({ code: p.error.code, fault: p.error.fault });
      } else if (name === 'recordingCompleted') {
        const p = payload as { durationMs: number | null };
        if (p.durationMs !== null) this.recordingDuration.observe(p.durationMs / 1000);
      }
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
