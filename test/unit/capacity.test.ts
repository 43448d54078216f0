import { loadConfig } from '../../src/config';
import { committedCores, describeRefusal, fits, headroom, recordingCost } from '../../src/recordings/capacity';

/** Admission's one rule (recordings/capacity.ts): what a recording costs, what a worker has free. */
describe('capacity', () => {
  const costs = { canvas: 0.35, customLayout: 0.8 };
  const limits = { maxConcurrent: 4, cpuBudget: 2, reserve: 0.1 };
  const hd = { width: 1280, height: 720, fps: 30 };
  test('a recording costs its picture source, scaled by pixel rate, never below half', () => {
    expect(recordingCost(hd, costs)).toBeCloseTo(0.35);
    expect(recordingCost({ ...hd, customLayoutUrl: 'https://x.example/' }, costs)).toBeCloseTo(0.8);
    expect(recordingCost({ ...hd, width: 1920, height: 1080 }, costs)).toBeCloseTo(0.35 * 2.25);
    expect(recordingCost({ ...hd, width: 320, height: 180, fps: 15 }, costs)).toBeCloseTo(0.175);
  });
  test('per-participant tracks add their cost on top, whatever the picture size: the cameras on top of the audio', () => {
    const withTracks = { ...costs, tracksAudio: 0.06, tracksVideo: 0.02 };
    expect(recordingCost(hd, withTracks)).toBeCloseTo(0.35);
    expect(recordingCost({ ...hd, tracks: 'audio' }, withTracks)).toBeCloseTo(0.41);
    expect(recordingCost({ ...hd, tracks: 'audio+video' }, withTracks)).toBeCloseTo(0.43);
    expect(recordingCost({ ...hd, width: 320, height: 180, fps: 15, tracks: 'audio+video' }, withTracks)).toBeCloseTo(0.175 + 0.08);
    // a worker that publishes no track costs (an older one) prices them at nothing
    expect(recordingCost({ ...hd, tracks: 'audio+video' }, costs)).toBeCloseTo(0.35);
  });
  test('the track costs come from RECORDER_COST_TRACKS_AUDIO and _VIDEO, validated like the others', () => {
    expect(loadConfig({ RECORDER_COST_TRACKS_AUDIO: '0.1', RECORDER_COST_TRACKS_VIDEO: '0' }).recorder.costs).toMatchObject({ tracksAudio: 0.1, tracksVideo: 0 });
    const defaults = loadConfig({}).recorder.costs;
    expect(defaults.tracksAudio).toBeGreaterThan(0);
    expect(defaults.tracksVideo).toBeGreaterThan(0);
    expect(() => loadConfig({ RECORDER_COST_TRACKS_AUDIO: '-1' })).toThrow(/RECORDER_COST_TRACKS_AUDIO/);
    expect(() => loadConfig({ RECORDER_COST_TRACKS_VIDEO: 'lots' })).toThrow(/RECORDER_COST_TRACKS_VIDEO/);
  });
  test('a worker takes what fits its budget and slots; an idle one takes anything its machine has room for', () => {
    expect(fits({ active: 0, committed: 0 }, 5, limits)).toBe(true);
    expect(fits({ active: 1, committed: 1.2 }, 0.8, limits)).toBe(true);
    expect(fits({ active: 1, committed: 1.3 }, 0.8, limits)).toBe(false);
    expect(fits({ active: 4, committed: 0.4 }, 0.1, limits)).toBe(false);
    expect(describeRefusal({ active: 4, committed: 0.4 }, 0.1, limits)).toMatch(/all 4 recording slots are busy/);
    expect(describeRefusal({ active: 1, committed: 1.3 }, 0.8, limits)).toBe('this recording needs 0.80 cores and 0.70 of 2 are free (RECORDER_CPU_BUDGET)');
  });
  test('measured load: the machine, less other programs and this worker\'s recordings, must have the cost plus the reserve', () => {
    const machine = (others: number) => ({ cores: 2, others });
    expect(fits({ active: 1, committed: 0.35, machine: machine(1.1) }, 0.35, limits)).toBe(true);
    expect(fits({ active: 1, committed: 0.35, machine: machine(1.3) }, 0.35, limits)).toBe(false);
    // load from outside: an idle worker on a busy machine refuses too
    expect(fits({ active: 0, committed: 0, machine: machine(1.7) }, 0.35, limits)).toBe(false);
    // a recording bigger than the budget runs alone when the machine is free
    expect(fits({ active: 0, committed: 0, machine: machine(0) }, 5, limits)).toBe(true);
    expect(describeRefusal({ active: 1, committed: 0.35, machine: machine(1.3) }, 0.35, limits)).toBe(
      "other programs use 1.30 of the machine's 2 cores and its recordings 0.35; this recording needs 0.35 more, with 0.10 kept free",
    );
  });
  test("a worker's recordings take what it measures of itself, plus the estimates of those too young to be measured", () => {
    const running = [
      { cost: 0.35, ageMs: 60_000 },
      { cost: 0.35, ageMs: 30_000 },
    ];
    // unmeasured: the estimates
    expect(committedCores(running, undefined)).toBeCloseTo(0.7);
    // an idle worker has committed nothing, whatever its start-up (pages loading) took
    expect(committedCores([], { own: 1.2, spanMs: 10_000 })).toBe(0);
    // two steady recordings that really take 0.5 between them (standby pages included)
    expect(committedCores(running, { own: 0.5, spanMs: 10_000 })).toBeCloseTo(0.5);
    // ... and the same measured load with more motion: 0.9
    expect(committedCores(running, { own: 0.9, spanMs: 10_000 })).toBeCloseTo(0.9);
    // one admitted 5 s ago is not yet in a 10 s measurement: its estimate counts whole
    expect(committedCores([...running, { cost: 0.35, ageMs: 5000 }], { own: 0.6, spanMs: 10_000 })).toBeCloseTo(0.95);
    // the measurement is a median of slices: a recording is in it once it has run over half the
    // window (plus its start-up), so at 7 s it is still estimated, at 9 s measured
    expect(committedCores([{ cost: 0.35, ageMs: 7000 }], { own: 0.3, spanMs: 10_000 })).toBeCloseTo(0.65);
    expect(committedCores([{ cost: 0.35, ageMs: 9000 }], { own: 0.3, spanMs: 10_000 })).toBeCloseTo(0.3);
  });
});

describe('headroom', () => {
  const costs = { canvas: 0.4, customLayout: 0.8 };
  const limits = (cpuBudget: number, maxConcurrent = 8) => ({ cpuBudget, maxConcurrent, costs, reserve: 0.1 });
  test('free cores of the budget; none when every slot is busy', () => {
    expect(headroom({ active: 1, committed: 0.4 }, limits(2))).toBeCloseTo(1.6);
    expect(headroom({ active: 2, committed: 0.8 }, limits(8, 2))).toBe(0);
    expect(headroom({ active: 3, committed: 2.4 }, limits(2))).toBe(0);
  });
  test('measured: the machine\'s cores less other programs, its recordings and the reserve, when that is less', () => {
    expect(headroom({ active: 1, committed: 0.4, machine: { cores: 2, others: 1.1 } }, limits(2))).toBeCloseTo(0.4);
    expect(headroom({ active: 1, committed: 0.4, machine: { cores: 2, others: 0 } }, limits(2))).toBeCloseTo(1.5);
    expect(headroom({ active: 0, committed: 0, machine: { cores: 2, others: 1.95 } }, limits(2))).toBe(0);
  });
});
