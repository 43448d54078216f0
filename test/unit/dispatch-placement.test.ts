import { rankWorkers, withJob, workerRecord } from '../../src/dispatch/placement';
import type { RecordingJob } from '../../src/recordings/ports';

/** Which worker dispatch hands a recording to, from the records the workers publish. */
const costs = { canvas: 0.4, customLayout: 0.8 };
const limits = (cpuBudget: number, maxConcurrent = 8) => ({ cpuBudget, maxConcurrent, costs, reserve: 0.1 });
const job: RecordingJob = { id: 'r1', callId: 'c1', roomName: 'room', outputPath: '/tmp/r1.mp4', options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid' } };
const NOW = 1_000_000;
const record = (cpuBudget: number, running: number, warmPages: number, opts: { maxConcurrent?: number; at?: number } = {}) =>
  JSON.stringify(workerRecord(limits(cpuBudget, opts.maxConcurrent), { active: running, committed: running * 0.4 }, warmPages, opts.at ?? NOW - 100));
const rank = (records: Record<string, string>, inFlight?: Map<string, number[]>) =>
  rankWorkers(records, job, { now: NOW, ttlMs: 1500, ...(inFlight ? { inFlight } : {}) }).map((w) => w.id);

describe('worker records', () => {
  test('a worker whose machine is busy is not chosen, however much budget it has', () => {
    const busy = JSON.stringify(workerRecord(limits(8), { active: 0, committed: 0, machine: { cores: 2, others: 1.7 } }, 1, NOW - 100));
    const free = JSON.stringify(workerRecord(limits(1), { active: 0, committed: 0, machine: { cores: 2, others: 0.3 } }, 1, NOW - 100));
    expect(rank({ busy, free })).toEqual(['free']);
  });
  test('the record published with a claim already counts the job and the standby page it takes', () => {
    const r = withJob(limits(2), { active: 0, committed: 0 }, 1, job);
    expect(r).toMatchObject({ active: 1, committed: 0.4, warmPages: 0 });
    expect(r.headroom).toBeCloseTo(1.6);
    expect(withJob(limits(2), { active: 0, committed: 0 }, 1, { ...job, options: { ...job.options, customLayoutUrl: 'https://l.example/' } }).warmPages).toBe(1);
  });
  test("a job with tracks is priced by the worker's published track costs, which its record carries through JSON", () => {
    const priced = { ...costs, tracksAudio: 0.1, tracksVideo: 0.05 };
    const withTracks = (tracks: 'audio' | 'audio+video'): RecordingJob => ({ ...job, options: { ...job.options, tracks } });
    expect(withJob({ ...limits(2), costs: priced }, { active: 0, committed: 0 }, 1, withTracks('audio')).committed).toBeCloseTo(0.5);
    const tight = JSON.stringify(workerRecord({ ...limits(0.92), costs: priced }, { active: 1, committed: 0.4 }, 1, NOW - 100));
    expect(rankWorkers({ tight }, withTracks('audio'), { now: NOW, ttlMs: 1500 })).toEqual([{ id: 'tight', cost: expect.closeTo(0.5) }]);
    expect(rankWorkers({ tight }, withTracks('audio+video'), { now: NOW, ttlMs: 1500 })).toEqual([]);
  });
  test('an unlimited worker publishes null, not Infinity (JSON)', () => {
    const r = JSON.parse(JSON.stringify(workerRecord({ cpuBudget: Infinity, maxConcurrent: Infinity, costs, reserve: 0 }, { active: 0, committed: 0 }, 0)));
    expect(r).toMatchObject({ cpuBudget: null, maxConcurrent: null, headroom: null });
    expect(rank({ free: JSON.stringify(r), small: record(1, 0, 0) })).toEqual(['free', 'small']);
  });
});

describe('ranking', () => {
  test('the most headroom first', () => {
    expect(rank({ a: record(2, 2, 1), b: record(2, 1, 1), c: record(1, 0, 1) })).toEqual(['b', 'a', 'c']);
  });
  test('a worker with a standby page ready before one without, whatever the headroom', () => {
    expect(rank({ cold: record(4, 0, 0), warm: record(2, 1, 1) })).toEqual(['warm', 'cold']);
  });
  test('equal workers in a stable order', () => {
    expect(rank({ b: record(2, 0, 1), a: record(2, 0, 1) })).toEqual(['a', 'b']);
  });
  test('full, stale and unreadable records are left out', () => {
    expect(
      rank({
        full: record(8, 1, 1, { maxConcurrent: 1 }),
        broke: record(1, 2, 1),
        stale: record(8, 0, 1, { at: NOW - 1500 }),
        junk: '{"active":"x"}',
        notjson: 'nope',
        ok: record(1, 0, 0),
      }),
    ).toEqual(['ok']);
  });
  test("jobs this dispatcher just handed out count until the worker's record shows them", () => {
    const records = { a: record(2, 0, 1), b: record(1.9, 0, 1) };
    expect(rank(records)).toEqual(['a', 'b']);
    expect(rank(records, new Map([['a', [0.4]]]))).toEqual(['b', 'a']);
    expect(rank({ a: record(8, 0, 1, { maxConcurrent: 1 }) }, new Map([['a', [0.4]]]))).toEqual([]);
  });
});
