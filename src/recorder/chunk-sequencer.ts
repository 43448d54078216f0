/**
 * Puts chunks back in sequence order. Chunks may arrive twice (the page resends what was
 * not acknowledged after a reconnect) or early (a later chunk before a missing one);
 * duplicates are dropped, early ones wait until the gap is filled.
 */
export interface SequencerResult<T> {
  /** Chunks now in order, ready to be written. */
  ready: T[];
  duplicate: boolean;
}

export class ChunkSequencer<T> {
  private next = 0;
  private readonly early = new Map<number, T>();
  duplicates = 0;

  accept(seq: number, chunk: T): SequencerResult<T> {
    if (!Number.isInteger(seq) || seq < 0) throw new RangeError(`bad sequence number ${seq}`);
    if (seq < this.next || this.early.has(seq)) {
      this.duplicates++;
      return { ready: [], duplicate: true };
    }
    this.early.set(seq, chunk);
    const ready: T[] = [];
    while (this.early.has(this.next)) {
      ready.push(this.early.get(this.next)!);
      this.early.delete(this.next);
      this.next++;
    }
    return { ready, duplicate: false };
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
}
