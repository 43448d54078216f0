/**
 * Puts chunks back in sequence order. Chunks may arrive twice (the page resends what was
 * not acknowledged after a reconnect) or early (a later chunk before a missing one);
 * duplicates are dropped, early ones wait until the gap is filled.
 *
 * What waits is bounded (count, bytes, distance ahead of `expected`): past a bound the
 * chunk is refused with ChunkRefused, not stored. The ingest server then closes the
 * socket without acknowledging it, and the page resends everything unacknowledged, in
 * order, after it reconnects, so a refusal costs nothing that was captured.
 */
export interface SequencerResult<T> {
  /** Chunks now in order, ready to be written. */
  ready: T[];
  duplicate: boolean;
}

export interface SequencerLimits {
  /** Early chunks held at most (a 1 s timeslice makes this a minute of media). */
  maxWaiting: number;
  /** Their bytes together. */
  maxWaitingBytes: number;
  /** How far past `expected` a sequence number may be. */
  maxAhead: number;
}

export const DEFAULT_SEQUENCER_LIMITS: SequencerLimits = { maxWaiting: 64, maxWaitingBytes: 32 * 1024 * 1024, maxAhead: 128 };

/** A chunk the sequencer will not hold; the sender must send it again later. */
export class ChunkRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkRefused';
  }
}

const byteLength = (chunk: unknown): number => (ArrayBuffer.isView(chunk) ? chunk.byteLength : 0);

export class ChunkSequencer<T> {
  private next = 0;
  private readonly early = new Map<number, T>();
  private earlyBytes = 0;
  private readonly limits: SequencerLimits;
  duplicates = 0;

  constructor(
    limits: Partial<SequencerLimits> = {},
    private readonly sizeOf: (chunk: T) => number = byteLength,
  ) {
    this.limits = { ...DEFAULT_SEQUENCER_LIMITS, ...limits };
  }

  /** Throws RangeError for a sequence number that cannot be one, ChunkRefused past a bound. */
  accept(seq: number, chunk: T): SequencerResult<T> {
    if (!Number.isInteger(seq) || seq < 0) throw new RangeError(`bad sequence number ${seq}`);
    if (seq < this.next || this.early.has(seq)) {
      this.duplicates++;
      return { ready: [], duplicate: true };
    }
    if (seq > this.next) {
      this.hold(seq, chunk);
      return { ready: [], duplicate: false };
    }
    const ready = [chunk];
    this.next++;
    for (let c = this.early.get(this.next); c !== undefined; c = this.early.get(this.next)) {
      ready.push(c);
      this.early.delete(this.next);
      this.earlyBytes -= this.sizeOf(c);
      this.next++;
    }
    return { ready, duplicate: false };
  }

  private hold(seq: number, chunk: T): void {
    const { maxWaiting, maxWaitingBytes, maxAhead } = this.limits;
    const size = this.sizeOf(chunk);
    if (seq - this.next > maxAhead) throw new ChunkRefused(`chunk ${seq} is more than ${maxAhead} ahead of ${this.next}`);
    if (this.early.size >= maxWaiting) throw new ChunkRefused(`${maxWaiting} chunks already wait for chunk ${this.next}`);
    if (this.earlyBytes + size > maxWaitingBytes) throw new ChunkRefused(`${this.earlyBytes + size} bytes would wait for chunk ${this.next}`);
    this.early.set(seq, chunk);
    this.earlyBytes += size;
  }

  /** The next sequence number we are waiting for; all before it are delivered. */
  get expected(): number {
    return this.next;
  }

  /** Sequence numbers missing before the earliest chunk that is waiting. */
  missing(): number[] {
    if (this.early.size === 0) return [];
    const highest = Math.max(...this.early.keys());
    const gaps: number[] = [];
    for (let s = this.next; s < highest; s++) if (!this.early.has(s)) gaps.push(s);
    return gaps;
  }

  get waiting(): number {
    return this.early.size;
  }

  /** Bytes of the chunks that wait. */
  get waitingBytes(): number {
    return this.earlyBytes;
  }
}
