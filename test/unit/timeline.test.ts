import { fileSpan, pausedMsUntil, resumeOffsetsMs, toFileMs, type PausedSpan } from '../../src/recordings/timeline';

const t0 = new Date('2026-12-02T10:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
// recorded 0-6 s, paused 6-10 s, recorded 10-16 s, paused from 20 s (still open)
const pauses: PausedSpan[] = [
  { pausedAt: at(6000), resumedAt: at(10_000) },
  { pausedAt: at(20_000), resumedAt: null },
];

describe('the recording clock', () => {
  it('is the distance from time 0 before any pause', () => {
    expect(toFileMs(at(2500), t0, pauses)).toBe(2500);
  });

  it('cuts paused time out after a pause', () => {
    expect(toFileMs(at(12_000), t0, pauses)).toBe(8000);
  });

  it('puts an instant inside a pause at its seam', () => {
    expect(toFileMs(at(7000), t0, pauses)).toBe(6000);
    expect(toFileMs(at(9999), t0, pauses)).toBe(6000);
    expect(toFileMs(at(25_000), t0, pauses)).toBe(16_000);
  });

  it('puts an instant before time 0 at 0', () => {
    expect(toFileMs(at(-500), t0, pauses)).toBe(0);
  });

  it('counts an open pause up to the instant asked about', () => {
    expect(pausedMsUntil(pauses, at(22_000))).toBe(4000 + 2000);
    expect(pausedMsUntil([], at(22_000))).toBe(0);
  });

  it('maps a span, and drops one recorded nowhere', () => {
    expect(fileSpan(at(5000), at(12_000), t0, pauses)).toEqual({ startMs: 5000, endMs: 8000 });
    expect(fileSpan(at(7000), at(9000), t0, pauses)).toBeNull();
    expect(fileSpan(at(-2000), at(-1000), t0, pauses)).toBeNull();
  });

  it('lists the seams of the pauses that ended, in order', () => {
    expect(resumeOffsetsMs(t0, pauses)).toEqual([6000]);
    expect(resumeOffsetsMs(t0, [])).toEqual([]);
  });

  it('reads pauses in any order', () => {
    expect(toFileMs(at(12_000), t0, [...pauses].reverse())).toBe(8000);
  });
});
