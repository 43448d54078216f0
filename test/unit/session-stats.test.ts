import { SessionStats } from '../../src/recorder/session-stats';
import { assessQuality } from '../../src/recordings/quality';

const t0 = Date.parse('2026-12-02T10:00:00Z');
const start = { recordingAt: new Date(t0), expected: ['ann', 'bob'], late: [], waitedMs: 300 };
const asked = { fps: 30, avAppliedMs: 100 };
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
    const q = s.quality(start, { fps: 30, durationMs: 12_000 }, pauses, asked);
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
    expect(s.quality(start, { fps: 30, durationMs: 12_000 }, [], asked).longestFreezeMs).toBeUndefined();
    const realNow = Date.now;
    Date.now = () => realNow() + 5000;
    try {
      s.onStats(stats(250), progress);
    } finally {
      Date.now = realNow;
    }
    const report = assessQuality(s.quality(start, { fps: 30, durationMs: 12_000 }, [], asked), 30);
    expect(report.longestFreezeMs).toBe(250);
    expect(report.warnings.map((w) => w.code)).toContain('FROZEN_PICTURE');
  });
});

describe('frames, chunks and the A/V offset in the quality report', () => {
  const progress = () => ({ id: 'r', elapsedMs: 0, participants: 1, fps: 30 }) as never;

  test('the frames the file lacks against the rate asked for, and what the page counted', () => {
    const s = new SessionStats();
    s.onStats({ ...stats(), framesDropped: 2, framesLate: 7 }, progress);
    const q = s.quality(start, { fps: 27.5, frames: 275, durationMs: 10_000 }, [], asked);
    expect(q.frames).toEqual({ inFile: 275, expected: 300, dropped: 25, droppedByEncoder: 2, late: 7 });
    expect(assessQuality(q, 30).warnings.map((w) => w.code)).toContain('LOW_FPS');
  });

  test('the measured offset per participant: median, extremes, time out of the window; a warning past 3 s of it', () => {
    const s = new SessionStats();
    const behind = [20, 30, 40, 200, 210, 220, 230, 10];
    for (const d of behind) s.onStats({ ...stats(), av: [{ identity: 'ann', audioMs: 60 + d, videoMs: 60 }, { identity: 'bob', audioMs: 40, videoMs: 100 }] }, progress);
    const q = s.quality(start, { fps: 30, durationMs: 8000 }, [], asked);
    expect(q.avOffset).toEqual({
      appliedMs: 100,
      participants: [
        { identity: 'ann', samples: 8, medianMs: 40, maxBehindMs: 230, maxAheadMs: 0, outOfSyncMs: 4000 },
        { identity: 'bob', samples: 8, medianMs: -60, maxBehindMs: 0, maxAheadMs: 60, outOfSyncMs: 8000 },
      ],
    });
    const warning = assessQuality(q, 30).warnings.find((w) => w.code === 'AV_OUT_OF_SYNC');
    expect(warning?.message).toBe('the sound was out of step with the picture for ann (4 s, up to 230 ms behind), bob (8 s, up to 60 ms ahead)');
  });

  test('sound made up for late packets, per participant, in the file only (a pause left out); a warning for a hole a listener hears', () => {
    const s = new SessionStats();
    const realNow = Date.now;
    const at = start.recordingAt.getTime();
    const pauses = [{ pausedAt: new Date(at + 3000), resumedAt: new Date(at + 6000) }];
    try {
      // a reading a second, ending at 1..8 s: 40 ms at 2 s, 250 ms at 5 s (inside the pause), 120 ms at 8 s
      const readings: Record<number, number> = { 2: 40, 5: 250, 8: 120 };
      for (let i = 1; i <= 8; i++) {
        Date.now = () => at + i * 1000;
        s.onStats({ ...stats(), sound: [{ identity: 'ann', concealedMs: readings[i] ?? 0 }, { identity: 'bob', concealedMs: 0 }] }, progress);
      }
    } finally {
      Date.now = realNow;
    }
    const q = s.quality(start, { fps: 30, durationMs: 5000 }, pauses, asked);
    expect(q.sound).toEqual([
      { identity: 'ann', concealedMs: 160, worstSecondMs: 120 },
      { identity: 'bob', concealedMs: 0, worstSecondMs: 0 },
    ]);
    const warnings = assessQuality(q, 30).warnings.filter((w) => w.code === 'SOUND_CONCEALED');
    expect(warnings.map((w) => w.message)).toEqual(["sound was missing and made up by the recorder's WebRTC (packets came late or never) for ann (160 ms in all, up to 120 ms in one second)"]);
  });

  test('a quiet recording: no A/V warning, no chunk warning', () => {
    const s = new SessionStats();
    for (let i = 0; i < 10; i++) s.onStats({ ...stats(), av: [{ identity: 'ann', audioMs: 70, videoMs: 25 }] }, progress);
    const chunks = { received: 10, resent: 0, reconnects: 0, outOfOrder: 0, missing: 0, late: 0, longestGapMs: 1010 };
    const q = assessQuality(s.quality(start, { fps: 30, frames: 300, durationMs: 10_000 }, [], { ...asked, chunks }), 30);
    expect(q.chunks).toEqual(chunks);
    expect(q.warnings).toEqual([]);
  });
});
