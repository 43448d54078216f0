import { ChunkSequencer } from '../../src/recorder/chunk-sequencer';
import { chunkHeader, decodeChunk, FLAG_LAST } from '../../recorder-page/src/protocol';

describe('chunk ordering', () => {
  it('delivers in-order chunks at once', () => {
    const s = new ChunkSequencer<string>();
    expect(s.accept(0, 'a').ready).toEqual(['a']);
    expect(s.accept(1, 'b').ready).toEqual(['b']);
    expect(s.expected).toBe(2);
  });

  it('holds early chunks until the gap is filled, then releases them in order', () => {
    const s = new ChunkSequencer<string>();
    expect(s.accept(0, 'a').ready).toEqual(['a']);
    expect(s.accept(2, 'c').ready).toEqual([]);
    expect(s.accept(3, 'd').ready).toEqual([]);
    expect(s.missing()).toEqual([1]);
    expect(s.accept(1, 'b').ready).toEqual(['b', 'c', 'd']);
    expect(s.missing()).toEqual([]);
    expect(s.waiting).toBe(0);
  });

  it('drops duplicates (a resend after reconnect) and counts them', () => {
    const s = new ChunkSequencer<string>();
    s.accept(0, 'a');
    s.accept(1, 'b');
    expect(s.accept(0, 'a')).toEqual({ ready: [], duplicate: true });
    s.accept(3, 'd');
    expect(s.accept(3, 'd').duplicate).toBe(true);
    expect(s.duplicates).toBe(2);
    expect(s.accept(2, 'c').ready).toEqual(['c', 'd']);
  });

  it('refuses nonsense sequence numbers', () => {
    const s = new ChunkSequencer<string>();
    expect(() => s.accept(-1, 'x')).toThrow(RangeError);
    expect(() => s.accept(1.5, 'x')).toThrow(RangeError);
  });
});

describe('ingest frame format', () => {
  it('round-trips sequence number, flags and payload', () => {
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const frame = new Uint8Array([...chunkHeader(70000, FLAG_LAST), ...payload]);
    const decoded = decodeChunk(frame);
    expect(decoded.seq).toBe(70000);
    expect(decoded.flags).toBe(FLAG_LAST);
    expect([...decoded.payload]).toEqual([1, 2, 3, 4, 5]);
  });

  it('rejects a frame shorter than its header', () => {
    expect(() => decodeChunk(new Uint8Array(3))).toThrow(/too short/);
  });
});
