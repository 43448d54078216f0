import type { RecordingOptions } from '../recorder/types';

/**
 * A worker's capacity as a number it knows: each recording commits a CPU cost (cores) that
 * depends on its picture source and size, and a worker takes a recording only while the
 * costs it has committed fit its budget. The costs at 1280x720 30 fps come from
 * `npm run bench` (canvas 0.25-0.30, custom layout page 0.65 CPU-s per recorded second);
 * other sizes scale with the pixel rate.
 */
export interface RecordingCosts {
  /** Built-in layouts drawn on the canvas. */
  canvas: number;
  /** A custom layout page recorded by tab capture. */
  customLayout: number;
}

export interface CapacityLimits {
  /** Recordings at once, whatever they cost. */
  maxConcurrent: number;
  /** Cores this worker may commit to recordings. */
  cpuBudget: number;
  costs: RecordingCosts;
}

export interface WorkerLoad {
  active: number;
  /** Cores committed to the recordings running. */
  committed: number;
}

const REFERENCE_PIXEL_RATE = 1280 * 720 * 30;

export function recordingCost(o: Pick<RecordingOptions, 'width' | 'height' | 'fps' | 'customLayoutUrl'>, costs: RecordingCosts): number {
  const base = o.customLayoutUrl ? costs.customLayout : costs.canvas;
  // a smaller picture still pays for the browser and the room's decoding
  return base * Math.max(0.5, (o.width * o.height * o.fps) / REFERENCE_PIXEL_RATE);
}

/**
 * Whether a worker with `load` takes a recording costing `cost`. An idle worker takes
 * anything: a recording bigger than every budget would otherwise never run.
 */
export function fits(load: WorkerLoad, cost: number, limits: Pick<CapacityLimits, 'maxConcurrent' | 'cpuBudget'>): boolean {
  if (load.active >= limits.maxConcurrent) return false;
  return load.active === 0 || load.committed + cost <= limits.cpuBudget + 1e-9;
}

/** Why a worker said no, for the NO_CAPACITY message. */
export function describeRefusal(load: WorkerLoad, cost: number, limits: Pick<CapacityLimits, 'maxConcurrent' | 'cpuBudget'>): string {
  if (load.active >= limits.maxConcurrent) return `all ${limits.maxConcurrent} recording slots are busy (RECORDER_MAX_CONCURRENT)`;
  return `this recording needs ${cost.toFixed(2)} cores and ${(limits.cpuBudget - load.committed).toFixed(2)} of ${limits.cpuBudget} are free (RECORDER_CPU_BUDGET)`;
}
