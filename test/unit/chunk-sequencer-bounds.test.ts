import { ChunkRefused, ChunkSequencer, DEFAULT_SEQUENCER_LIMITS } from '../../src/recorder/chunk-sequencer';

const MiB = 1024 * 1024;
const chunk = (bytes: number) => new Uint8Array(bytes);

describe('chunk sequencer bounds', () => {
  it('holds 100 chunks of 1 MiB far ahead of a gap only up to its byte bound', () => {
    const s = new ChunkSequencer<Uint8Array>();
    s.accept(0, chunk(10));
    let refused = 0;
    for (let seq = 2; seq < 102; seq++) {
      try {
        s.accept(seq, chunk(MiB));
      } catch (err) {
        expect(err).toBeInstanceOf(ChunkRefused);
        refused++;
      }
    }
    expect(s.waitingBytes).toBeLessThanOrEqual(DEFAULT_SEQUENCER_LIMITS.maxWaitingBytes);
    expect(s.waiting).toBe(DEFAULT_SEQUENCER_LIMITS.maxWaitingBytes / MiB);
    expect(refused).toBe(100 - s.waiting);
    // the gap filled: everything held is released and the bytes are free again
    const held = s.waiting;
    expect(s.accept(1, chunk(10)).ready).toHaveLength(1 + held);
    expect(s.waiting).toBe(0);
    expect(s.waitingBytes).toBe(0);
    expect(s.expected).toBe(2 + DEFAULT_SEQUENCER_LIMITS.maxWaitingBytes / MiB);
  });

  it('refuses by count, by bytes and by distance ahead, and never an in-order chunk', () => {
    const s = new ChunkSequencer<Uint8Array>({ maxWaiting: 3, maxWaitingBytes: 100, maxAhead: 10 });
    expect(() => s.accept(11, chunk(1))).toThrow(ChunkRefused);
    s.accept(10, chunk(1));
    s.accept(9, chunk(1));
    s.accept(8, chunk(1));
    expect(() => s.accept(7, chunk(1))).toThrow(/3 chunks already wait/);
    expect(s.waiting).toBe(3);
    // a refused chunk changed nothing, and the chunk we wait for is always taken
    expect(s.accept(0, chunk(1000)).ready).toHaveLength(1);
    const t = new ChunkSequencer<Uint8Array>({ maxWaiting: 10, maxWaitingBytes: 100, maxAhead: 10 });
    t.accept(1, chunk(60));
    expect(() => t.accept(2, chunk(41))).toThrow(/bytes would wait/);
    expect(t.waitingBytes).toBe(60);
    // duplicates of held chunks stay duplicates, not refusals
    expect(t.accept(1, chunk(60)).duplicate).toBe(true);
  });

  it('a refused chunk resent in order after the gap is delivered once', () => {
    const s = new ChunkSequencer<Uint8Array>({ maxWaiting: 1, maxWaitingBytes: MiB, maxAhead: 4 });
    s.accept(2, chunk(1));
    expect(() => s.accept(3, chunk(1))).toThrow(ChunkRefused);
    // what the page does after reconnecting: everything unacknowledged, in order
    const delivered = [0, 1, 2, 3].flatMap((seq) => s.accept(seq, chunk(1)).ready);
    expect(delivered).toHaveLength(4);
    expect(s.expected).toBe(4);
    expect(s.duplicates).toBe(1);
  });
});
