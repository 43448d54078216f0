import { ChunkStats } from '../../src/recorder/chunk-stats';
import { assessQuality } from '../../src/recordings/quality';

const t0 = Date.parse('2026-12-02T10:00:00Z');
const at = (ms: number) => t0 + ms;
const inOrder = { duplicate: false, held: false, inOrder: 1 };

describe('the chunks of the ingest socket in the quality report', () => {
  test('in time: nothing resent, missing or late; the longest gap between two', () => {
    const c = new ChunkStats(1000);
    c.connected();
    for (let k = 0; k < 5; k++) c.arrived(inOrder, at(100 + k * 1000 + (k === 3 ? 40 : 0)));
    expect(c.report(new Date(t0), [], { delivered: 5, lastSeq: 4, gaps: 0 })).toEqual({
      received: 5, resent: 0, reconnects: 0, outOfOrder: 0, missing: 0, late: 0, longestGapMs: 1040,
    });
  });

  test('a reconnect: chunks resent, one early and held, a late one (more than two timeslices behind its turn)', () => {
    const c = new ChunkStats(1000);
    c.connected();
    c.arrived(inOrder, at(1000));
    c.arrived({ duplicate: false, held: true, inOrder: 0 }, at(1500)); // 2 before 1
    c.connected();
    c.arrived({ duplicate: false, held: false, inOrder: 2 }, at(4200)); // 1 came, 2 with it: 3.2 s after 0
    c.arrived({ duplicate: true, held: false, inOrder: 0 }, at(4210)); // 2 again, resent
    c.arrived(inOrder, at(5200));
    const report = c.report(new Date(t0), [], { delivered: 4, lastSeq: 5, gaps: 0 });
    expect(report).toEqual({ received: 4, resent: 1, reconnects: 1, outOfOrder: 1, missing: 2, late: 1, longestGapMs: 3200 });
    expect(assessQuality({ start: { waitedMs: 0, present: 0, late: [] }, chunks: report }, 30).warnings.map((w) => w.code)).toEqual(['CHUNKS_MISSING']);
  });

  test('a pause is no lateness: the gap counts recorded time only', () => {
    const c = new ChunkStats(1000);
    c.arrived(inOrder, at(1000));
    c.arrived(inOrder, at(6500)); // paused from 1.2 s to 6 s
    const pauses = [{ pausedAt: new Date(at(1200)), resumedAt: new Date(at(6000)) }];
    expect(c.report(new Date(t0), pauses, { delivered: 2, lastSeq: 1, gaps: 0 })).toMatchObject({ late: 0, longestGapMs: 700 });
  });

  test('a page that never said its last chunk: what is missing is the gaps before those held', () => {
    const c = new ChunkStats(1000);
    expect(c.report(new Date(t0), [], { delivered: 3, gaps: 2 }).missing).toBe(2);
  });
});
