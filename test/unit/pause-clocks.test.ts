import { SessionClocks } from '../../src/recorder/session-clocks';
import { markersJson, pausesJson, storedMarkers, storedPauses } from '../../src/recordings/stored-data';

/** The recorder's clocks count recorded time: pauses do not bring the maximum duration or a stall nearer. */
describe('session clocks while paused', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  test('the maximum duration is reached after that much recorded time, pauses not counted', () => {
    const clocks = new SessionClocks();
    const reached = jest.fn();
    const recordingAt = new Date(Date.now());
    clocks.endAfter(recordingAt, 10, reached);
    jest.advanceTimersByTime(4000);
    clocks.pause();
    jest.advanceTimersByTime(60_000);
    expect(reached).not.toHaveBeenCalled();
    expect(clocks.recordedMs(recordingAt)).toBe(4000);
    clocks.resume();
    jest.advanceTimersByTime(5999);
    expect(reached).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(reached).toHaveBeenCalledTimes(1);
    expect(clocks.recordedMs(recordingAt)).toBe(10_000);
    clocks.clear();
  });

  test('a pause that lasts the longest pause allowed ends the recording; a shorter one does not', () => {
    const clocks = new SessionClocks();
    const reached = jest.fn();
    clocks.endPausesAfter(60, reached);
    clocks.pause();
    jest.advanceTimersByTime(59_000);
    clocks.resume();
    jest.advanceTimersByTime(120_000);
    expect(reached).not.toHaveBeenCalled();
    clocks.pause();
    jest.advanceTimersByTime(59_999);
    expect(reached).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(reached).toHaveBeenCalledTimes(1);
    clocks.clear();
  });

  test('no stall while paused; after the resume the silence counts from the resume', () => {
    const clocks = new SessionClocks();
    const stalled = jest.fn();
    const lastChunkAt = Date.now();
    clocks.watchStall(() => lastChunkAt, 3000, stalled);
    clocks.pause();
    jest.advanceTimersByTime(20_000);
    expect(stalled).not.toHaveBeenCalled();
    clocks.resume();
    jest.advanceTimersByTime(2500);
    expect(stalled).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1000);
    expect(stalled).toHaveBeenCalled();
    clocks.clear();
  });

  test('pausing twice and resuming when not paused change nothing', () => {
    const clocks = new SessionClocks();
    const recordingAt = new Date(Date.now());
    clocks.resume();
    jest.advanceTimersByTime(1000);
    clocks.pause();
    jest.advanceTimersByTime(1000);
    clocks.pause();
    jest.advanceTimersByTime(1000);
    clocks.resume();
    expect(clocks.recordedMs(recordingAt)).toBe(1000);
  });

  test("the pauses are where the page's encoder made them: a later pause instant moves the seam, an earlier one does not", () => {
    const clocks = new SessionClocks();
    const recordingAt = new Date(Date.now());
    jest.advanceTimersByTime(6000);
    clocks.pause();
    const asked = Date.now();
    clocks.pausedAtPage(asked + 250);
    clocks.pausedAtPage(asked - 100);
    jest.advanceTimersByTime(4000);
    clocks.resume(Date.now() + 300);
    expect(clocks.pauses).toEqual([{ pausedAt: new Date(asked + 250), resumedAt: new Date(asked + 4300) }]);
    // recorded: 6.25 s before the seam; the 4.05 s paused are not counted
    expect(clocks.recordedMs(recordingAt, asked + 5300)).toBe(7250);
    // not paused: nothing to move
    clocks.pausedAtPage(asked + 6000);
    expect(clocks.pauses).toHaveLength(1);
  });
});

describe('stored pauses and markers', () => {
  const id = '00000000-0000-4000-8000-000000000000';
  test('read back as written; none before the first', () => {
    const pauses = [
      { pausedAt: new Date('2026-12-02T01:00:06Z'), resumedAt: new Date('2026-12-02T01:00:10Z') },
      { pausedAt: new Date('2026-12-02T01:00:20Z'), resumedAt: null },
    ];
    expect(storedPauses(JSON.parse(JSON.stringify(pausesJson(pauses))), id)).toEqual(pauses);
    const markers = [{ label: 'Q&A', at: new Date('2026-12-02T01:00:03.250Z') }];
    expect(storedMarkers(JSON.parse(JSON.stringify(markersJson(markers))), id)).toEqual(markers);
    expect(storedPauses(null, id)).toEqual([]);
    expect(storedMarkers(null, id)).toEqual([]);
  });
  test('what does not parse is INTERNAL, never guessed at', () => {
    expect(() => storedPauses([{ pausedAt: 'soon', resumedAt: null }], id)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => storedMarkers([{ label: '', at: '2026-12-02T01:00:00Z' }], id)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
