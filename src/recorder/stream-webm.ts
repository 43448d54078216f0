/**
 * Where a stream output can (re)start in the page's live WebM: its header (everything before
 * the first Cluster) followed by the bytes from a Cluster whose first video block is a
 * keyframe. MediaRecorder starts a Cluster at each video keyframe, so a destination that
 * dropped is fed again from the latest one without waiting for the next. The chunks are
 * scanned as they come (a chunk boundary falls anywhere): only element headers are read, the
 * payloads skipped, so it costs a few comparisons per block.
 */

const ID = { segment: 0x18538067, cluster: 0x1f43b675, tracks: 0x1654ae6b, simpleBlock: 0xa3, trackEntry: 0xae, trackNumber: 0xd7, trackType: 0x83 } as const;
/** The children of a Segment: any of them ends an unknown-size Cluster. */
const SEGMENT_CHILDREN = new Set([0x1f43b675, 0x1c53bb6b, 0x1254c367, 0x114d9b74, 0x1549a966, 0x1654ae6b, 0x1043a770, 0x1941a469]);
const UNKNOWN = -1;
/** What is kept from the latest keyframe on; past it (no keyframe for that long) nothing is kept until the next. */
const MAX_RETAINED_BYTES = 16 * 1024 * 1024;

interface Vint {
  value: number;
  length: number;
}

/** An EBML variable-length integer at `at` (an ID keeps its marker bit); undefined when `buf` ends first. */
function readVint(buf: Uint8Array, at: number, keepMarker: boolean): Vint | undefined {
  if (at >= buf.length) return undefined;
  const first = buf[at];
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8 || at + length > buf.length) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + buf[at + i];
    if (buf[at + i] !== 0xff) allOnes = false;
  }
  return { value: !keepMarker && allOnes ? UNKNOWN : value, length };
}

/** The video track's number from a Tracks element's payload. */
function videoTrackOf(tracks: Uint8Array): number | undefined {
  const children = (buf: Uint8Array) => {
    const out: { id: number; body: Uint8Array }[] = [];
    for (let at = 0; at < buf.length; ) {
      const id = readVint(buf, at, true);
      const size = id && readVint(buf, at + id.length, false);
      if (!id || !size || size.value === UNKNOWN) break;
      const start = at + id.length + size.length;
      out.push({ id: id.value, body: buf.subarray(start, start + size.value) });
      at = start + size.value;
    }
    return out;
  };
  const uint = (b: Uint8Array) => b.reduce((v, x) => v * 256 + x, 0);
  for (const entry of children(tracks).filter((c) => c.id === ID.trackEntry)) {
    const fields = children(entry.body);
    const type = fields.find((f) => f.id === ID.trackType);
    const number = fields.find((f) => f.id === ID.trackNumber);
    if (type && number && uint(type.body) === 1) return uint(number.body);
  }
  return undefined;
}

export class WebmRestartPoint {
  private header?: Buffer;
  private readonly headerParts: Buffer[] = [];
  /** Bytes not parsed yet (a header cut by a chunk's end); `pos` is the stream offset of its first. */
  private pending = Buffer.alloc(0);
  private pos = 0;
  private skip = 0;
  private inCluster = false;
  private clusterEnd = UNKNOWN;
  private clusterStart = 0;
  /** The current cluster's first video block was looked at. */
  private clusterJudged = false;
  private tracksBody?: { size: number; parts: Buffer[]; got: number };
  private videoTrack?: number;
  /** The chunks from the one holding the latest keyframe cluster (or the latest chunks, before one is known). */
  private retained: Buffer[] = [];
  /** Stream offsets: of retained[0]'s first byte, and of the keyframe cluster to restart at. */
  private retainedStart = 0;
  private restartAt = UNKNOWN;
  private total = 0;

  /** Takes the next chunk of the stream (every one, in order). */
  push(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!this.header) this.headerParts.push(buf);
    this.retained.push(buf);
    this.total += buf.length;
    this.scan(buf);
    // no keyframe for that long: keep only the latest chunk until the next one
    if (this.total - this.retainedStart > MAX_RETAINED_BYTES) {
      this.restartAt = UNKNOWN;
      this.retained = [buf];
      this.retainedStart = this.total - buf.length;
    }
  }

  /** The bytes a new FFmpeg is fed to start at the latest keyframe: header and all since; undefined before the first keyframe. */
  restartBytes(): Buffer | undefined {
    if (!this.header || this.restartAt === UNKNOWN) return undefined;
    return Buffer.concat([this.header, Buffer.concat(this.retained).subarray(this.restartAt - this.retainedStart)]);
  }

  private keyframeAt(offset: number): void {
    if (offset < this.retainedStart) return;
    while (this.retained.length > 1 && this.retainedStart + this.retained[0].length <= offset) this.retainedStart += this.retained.shift()!.length;
    this.restartAt = offset;
  }

  private scan(buf: Buffer): void {
    let at = 0;
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length);
      this.feedTracks(buf.subarray(0, n));
      this.skip -= n;
      this.pos += n;
      at = n;
    }
    let data = this.pending.length ? Buffer.concat([this.pending, buf.subarray(at)]) : buf.subarray(at);
    let i = 0;
    while (i < data.length) {
      if (this.inCluster && this.clusterEnd !== UNKNOWN && this.pos >= this.clusterEnd) this.inCluster = false;
      const id = readVint(data, i, true);
      const size = id && readVint(data, i + id.length, false);
      if (!id || !size) break;
      const headerLength = id.length + size.length;
      if (id.value === ID.simpleBlock && this.inCluster && !this.clusterJudged) {
        // track number, a 16-bit timecode, then the flags (0x80: keyframe)
        const track = readVint(data, i + headerLength, false);
        if (!track || i + headerLength + track.length + 3 > data.length) break;
        if (track.value === this.videoTrack) {
          this.clusterJudged = true;
          if (data[i + headerLength + track.length + 2] & 0x80) this.keyframeAt(this.clusterStart);
        }
      }
      const elementStart = this.pos;
      i += headerLength;
      this.pos += headerLength;
      if (id.value === ID.segment) continue;
      if (id.value === ID.cluster) {
        if (!this.header) this.takeHeader(elementStart);
        this.inCluster = true;
        this.clusterJudged = this.videoTrack === undefined;
        this.clusterStart = elementStart;
        this.clusterEnd = size.value === UNKNOWN ? UNKNOWN : this.pos + size.value;
        continue;
      }
      if (SEGMENT_CHILDREN.has(id.value)) this.inCluster = false;
      if (size.value === UNKNOWN) continue;
      if (id.value === ID.tracks) this.tracksBody = { size: size.value, parts: [], got: 0 };
      const inHere = Math.min(size.value, data.length - i);
      this.feedTracks(data.subarray(i, i + inHere));
      i += inHere;
      this.pos += inHere;
      this.skip = size.value - inHere;
    }
    this.pending = Buffer.from(data.subarray(i));
    data = Buffer.alloc(0);
  }

  private feedTracks(part: Buffer): void {
    const t = this.tracksBody;
    if (!t || part.length === 0) return;
    t.parts.push(Buffer.from(part));
    t.got += part.length;
    if (t.got >= t.size) {
      this.videoTrack = videoTrackOf(Buffer.concat(t.parts));
      this.tracksBody = undefined;
    }
  }

  private takeHeader(clusterOffset: number): void {
    this.header = Buffer.concat(this.headerParts).subarray(0, clusterOffset);
    this.headerParts.length = 0;
  }
}
