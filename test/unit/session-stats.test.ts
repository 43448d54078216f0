import { SessionStats } from '../../src/recorder/session-stats';
import { assessQuality } from '../../src/recordings/quality';

const t0 = Date.parse('2026-12-02T10:00:00Z');
const start = { recordingAt: new Date(t0), expected: ['ann', 'bob'], late: [], waitedMs: 300 };
const stats = (gap = 40) => ({ type: 'stats' as const, fps: 30, participants: 2, frames: 30, audioInputs: 2, maxFrameGapMs: gap });

describe('the quality report of a live recording', () => {
  test('joins, leaves and first sight on the file clock, paused time cut out', () => {
    const s = new SessionStats();
    s.onPresence({ type: 'presence', identity: 'ann', name: 'Ann', present: true, at: t0 - 2000 });
    s.onPresence({ type: 'presence', identity: 'bob', name: 'Bob', present: true, at: t0 - 1000 });
    s.onFirstVideo('ann', t0 + 40);
    s.onFirstVideo('bob', t0 + 80);
    s.onPresence({ type: 'presence', identity: 'bob', name: 'Bob', present: false, at: t0 + 9000 });
    s.onPresence({ type: 'presence', identity: 'bob', name: 'Bob', present: true, at: t0 + 12_000 });
    const pauses = [{ pausedAt: new Date(t0 + 5000), resumedAt: new Date(t0 + 7000) }];
    const q = s.quality(start, 30, pauses);
    expect(q.participants).toEqual([
      { identity: 'ann', name: 'Ann', joinedMs: 0, visibleMs: 40 },
      { identity: 'bob', name: 'Bob', joinedMs: 0, visibleMs: 80, leftMs: 7000 },
      { identity: 'bob', name: 'Bob', joinedMs: 10_000 },
    ]);
    expect(q.start.allVisibleMs).toBe(80);
  });

  test('a frozen picture is reported and warned of, after the warm-up', () => {
    const s = new SessionStats();
    const progress = () => ({ id: 'r', elapsedMs: 0, participants: 2, fps: 30 }) as never;
    s.onStats(stats(900), progress); // the first stats start the warm-up: not counted
    expect(s.quality(start, 30, []).longestFreezeMs).toBeUndefined();
    const realNow = Date.now;
    Date.now = () => realNow() + 5000;
    try {
      s.onStats(stats(250), progress);
    } finally {
      Date.now = realNow;
    }
    const report = assessQuality(s.quality(start, 30, []), 30);
    expect(report.longestFreezeMs).toBe(250);
    expect(report.warnings.map((w) => w.code)).toContain('FROZEN_PICTURE');
  });
});
