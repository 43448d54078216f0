import { z } from 'zod';
import { fits, headroom, recordingCost, type CapacityLimits, type WorkerLoad } from '../recordings/capacity';
import type { RecordingJob } from '../recordings/ports';

/**
 * Which worker a recording goes to. Every worker publishes a WorkerRecord in `<p>:workers`
 * (its heartbeat); the dispatcher keeps the live workers whose limits admit the job and
 * prefers one with a standby page ready (no page load at the start), then the one with the
 * most headroom. Headroom is computed by the worker itself, by the admission rules'
 * headroom() (recordings/capacity.ts), and published in its record.
 */
const WorkerRecordSchema = z.object({
  active: z.number(),
  /** Cores committed to the recordings running. */
  committed: z.number(),
  /** Measured: the machine's cores and those other programs use. */
  machine: z.object({ cores: z.number(), others: z.number() }).optional(),
  /** Its disk is short of free space: it takes no recording (capacity.ts describeRefusal). */
  diskShort: z.string().optional(),
  reserve: z.number().default(0),
  /** JSON has no Infinity: an unlimited worker publishes null. */
  maxConcurrent: z.number().nullable(),
  cpuBudget: z.number().nullable(),
  costs: z.object({ canvas: z.number(), customLayout: z.number(), stream: z.number().optional(), tracksAudio: z.number().optional(), tracksVideo: z.number().optional() }),
  /** Cores this worker can still commit (0 when every slot is busy); null: unlimited. */
  headroom: z.number().nullable(),
  /** Standby recorder pages loaded and waiting. */
  warmPages: z.number(),
  at: z.number(),
});
export type WorkerRecord = z.infer<typeof WorkerRecordSchema>;

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);

export function workerRecord(limits: CapacityLimits, load: WorkerLoad, warmPages: number, at = Date.now()): WorkerRecord {
  return {
    maxConcurrent: finite(limits.maxConcurrent),
    cpuBudget: finite(limits.cpuBudget),
    costs: limits.costs,
    reserve: limits.reserve,
    ...load,
    headroom: finite(headroom(load, limits)),
    warmPages,
    at,
  };
}

/** The record a worker will have once it runs `job` too (published atomically with its claim). */
export function withJob(limits: CapacityLimits, load: WorkerLoad, warmPages: number, job: RecordingJob): WorkerRecord {
  const taken = job.options.customLayoutUrl ? 0 : 1; // a layout page is opened fresh, not from the standby
  const cost = recordingCost(job.options, limits.costs);
  const after = { ...load, active: load.active + 1, committed: load.committed + cost };
  return workerRecord(limits, after, Math.max(0, warmPages - taken));
}

/** Jobs a dispatcher sent to a worker that the worker's record may not show yet. */
export type InFlight = Map<string, number[]>;

/**
 * The live workers whose record admits `job`, best first: a warm page first, then the most
 * headroom (ties: by id, so the order is stable). `inFlight` costs count as committed.
 */
export function rankWorkers(records: Record<string, string>, job: RecordingJob, opts: { now: number; ttlMs: number; inFlight?: InFlight }): { id: string; cost: number }[] {
  const ranked: { id: string; cost: number; warm: boolean; headroom: number }[] = [];
  for (const [id, raw] of Object.entries(records)) {
    const w = parseRecord(raw);
    if (!w) continue;
    if (!(opts.now - w.at < opts.ttlMs)) continue;
    const limits = { maxConcurrent: w.maxConcurrent ?? Infinity, cpuBudget: w.cpuBudget ?? Infinity, reserve: w.reserve };
    const pending = opts.inFlight?.get(id) ?? [];
    const pendingCost = pending.reduce((s, c) => s + c, 0);
    const cost = recordingCost(job.options, w.costs);
    const load = { ...w, active: w.active + pending.length, committed: w.committed + pendingCost };
    if (!fits(load, cost, limits)) continue;
    ranked.push({ id, cost, warm: w.warmPages - pending.length > 0, headroom: (w.headroom ?? Infinity) - pendingCost });
  }
  ranked.sort((a, b) => Number(b.warm) - Number(a.warm) || b.headroom - a.headroom || (a.id < b.id ? -1 : 1));
  return ranked.map(({ id, cost }) => ({ id, cost }));
}

/** A record as another process wrote it; null when it is not one (a foreign or older format). */
export function parseRecord(raw: string): WorkerRecord | null {
  try {
    const parsed = WorkerRecordSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
