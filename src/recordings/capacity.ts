import type { RecordingOptions } from './contract';
import { streamOutputsOf } from './outputs';
import type { TracksMode } from './tracks-option';

/**
 * A worker's capacity, decided in one place. Each recording costs CPU (cores) that depends
 * on its picture source and size (every format is recorded live as H.264; the costs at 1280x720 30 fps come from
 * `npm run bench`; other sizes scale with the pixel rate), plus its stream outputs and
 * per-participant tracks. A worker takes a recording only
 * when (1) the costs it committed stay within its budget and (2) the machine, measured,
 * has room for it: its cores, less what other programs use, less what this worker's
 * recordings take (committedCores: measured, with estimates only for those too young to
 * be measured), must cover the new one's cost and a reserve. Load from outside counts, so
 * an admitted recording is not starved by a later one.
 */
export interface RecordingCosts {
  /** Built-in layouts drawn on the canvas. */
  canvas: number;
  /** A custom layout page recorded by tab capture. */
  customLayout: number;
  /** Each stream output (rtmp, srt) on top: its FFmpeg (the page's H.264 copied, audio made AAC), whatever the picture's size. */
  stream?: number;
  /** With `tracks: "audio"` (and "audio+video") on top: a MediaRecorder per participant's audio in the page, their spools in the worker. */
  tracksAudio?: number;
  /** With `tracks: "audio+video"`, on top of tracksAudio: a MediaRecorder per participant's camera (it encodes the decoded picture again). */
  tracksVideo?: number;
}

export interface CapacityLimits {
  /** Recordings at once, whatever they cost. */
  maxConcurrent: number;
  /** Cores this worker may commit to recordings. */
  cpuBudget: number;
  costs: RecordingCosts;
  /** Idle cores that must remain after a new recording's cost (bursts, the page's start-up). */
  reserve: number;
}

export interface WorkerLoad {
  active: number;
  /** Cores committed to the recordings running (their estimated costs). */
  committed: number;
  /** Measured over the last seconds: the machine's cores and those used by other programs; absent when not measured. */
  machine?: { cores: number; others: number };
  /** Why this worker's disk cannot take a recording now (too little free space); absent when it can. */
  diskShort?: string;
}

const REFERENCE_PIXEL_RATE = 1280 * 720 * 30;

export function recordingCost(o: Pick<RecordingOptions, 'width' | 'height' | 'fps' | 'customLayoutUrl' | 'outputs' | 'tracks'>, costs: RecordingCosts): number {
  const base = o.customLayoutUrl ? costs.customLayout : costs.canvas;
  // a smaller picture still pays for the browser and the room's decoding
  const picture = base * Math.max(0.5, (o.width * o.height * o.fps) / REFERENCE_PIXEL_RATE);
  return picture + (costs.stream ?? 0) * streamOutputsOf(o.outputs).length + tracksCost(o.tracks, costs);
}

/**
 * What per-participant tracks add, whatever the picture's size (the tracks are the participants'
 * own, not the canvas). Measured with 3 publishers (scripts/bench-tracks.ts); more participants
 * record more tracks, which the measured admission (committedCores) sees once they run.
 */
function tracksCost(tracks: TracksMode | undefined, costs: RecordingCosts): number {
  if (!tracks) return 0;
  return (costs.tracksAudio ?? 0) + (tracks === 'audio+video' ? costs.tracksVideo ?? 0 : 0);
}

/** What the worker measured of its own process tree: `own` cores, the median of slices over the last `spanMs`. */
export interface OwnMeasurement {
  own: number;
  spanMs: number;
}

/**
 * Cores this worker's recordings take. Measured when the worker measures itself: its
 * process tree (pages, encoders, FFmpeg, standby pages), the median of slices over the
 * window, plus the estimated cost of each recording admitted too recently for that median
 * to hold it (half the window and SETTLE_MS). A recording
 * that costs less than its estimate (a still picture) leaves room for more; one that costs
 * more (motion, many tiles) leaves less. Unmeasured: the estimates.
 */
export function committedCores(recordings: { cost: number; ageMs: number }[], measured?: OwnMeasurement): number {
  const estimated = recordings.reduce((sum, r) => sum + r.cost, 0);
  // an idle worker's own load is its start-up and its standby pages loading: no recording's
  if (!measured || recordings.length === 0) return estimated;
  // a median holds a load once it has lasted over half the window
  const young = recordings.filter((r) => r.ageMs < measured.spanMs / 2 + SETTLE_MS).reduce((sum, r) => sum + r.cost, 0);
  return measured.own + young;
}

/** A start's one-off work (joining, the standby page loaded again) settles within this. */
const SETTLE_MS = 3000;

/** Cores of the machine left for one more recording (after other programs, this worker's recordings and the reserve); Infinity when not measured. */
export function measuredRoom(load: WorkerLoad, reserve: number): number {
  if (!load.machine) return Infinity;
  return load.machine.cores - load.machine.others - load.committed - reserve;
}

type Limits = Pick<CapacityLimits, 'maxConcurrent' | 'cpuBudget' | 'reserve'>;

const slotsBusy = (load: WorkerLoad, limits: Limits): boolean => load.active >= limits.maxConcurrent;
const budgetRoom = (load: WorkerLoad, limits: Limits): number => limits.cpuBudget - load.committed;

/**
 * Cores a worker with `load` can still commit to recordings: within its budget, and idle on
 * its machine; 0 when every slot is busy. What dispatch ranks workers by.
 */
export function headroom(load: WorkerLoad, limits: Limits): number {
  if (slotsBusy(load, limits)) return 0;
  return Math.max(0, Math.min(budgetRoom(load, limits), measuredRoom(load, limits.reserve)));
}

/**
 * Why a worker with `load` does not take a recording costing `cost` (for NO_CAPACITY), or
 * null when it does: a free slot, then the cost within both parts of the headroom. A
 * recording bigger than the whole budget runs alone (else it would never run), and one
 * bigger than the machine only on an otherwise idle machine, but never on a machine too
 * busy for it: the budget is waived, the machine is not, so this compares each part.
 */
export function describeRefusal(load: WorkerLoad, cost: number, limits: Limits): string | null {
  if (load.diskShort) return load.diskShort;
  if (slotsBusy(load, limits)) return `all ${limits.maxConcurrent} recording slots are busy (RECORDER_MAX_CONCURRENT)`;
  const free = budgetRoom(load, limits);
  if (load.active > 0 && free < cost - 1e-9) {
    return `this recording needs ${cost.toFixed(2)} cores and ${free.toFixed(2)} of ${limits.cpuBudget} are free (RECORDER_CPU_BUDGET)`;
  }
  const m = load.machine;
  if (!m || measuredRoom(load, limits.reserve) >= Math.min(cost, m.cores - limits.reserve) - 1e-9) return null;
  return `other programs use ${m.others.toFixed(2)} of the machine's ${m.cores} cores and its recordings ${load.committed.toFixed(2)}; this recording needs ${cost.toFixed(2)} more, with ${limits.reserve.toFixed(2)} kept free`;
}

/** Whether a worker with `load` takes a recording costing `cost` (see describeRefusal). */
export function fits(load: WorkerLoad, cost: number, limits: Limits): boolean {
  return describeRefusal(load, cost, limits) === null;
}
