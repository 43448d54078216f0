import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { PageMessage } from '../../recorder-page/src/protocol';
import { ChunkSequencer } from './chunk-sequencer';
import type { IngestHandler } from './ingest-server';
import type { Logger } from './logger';
import { SpoolFile } from './spool';
import { STORED_SPOOL_FLUSH_MS, type StoredSpool } from './stored-spool';
import type { StoredTracks } from './stored-tracks';

/**
 * The per-participant tracks of one recording (start option `tracks`), as the page streams them
 * on their own ingest sockets (`&track=<n>`, recorder-page/src/track-recorders.ts): each put in
 * order, appended to its own spool and acknowledged like the composite's chunks, and its first
 * message (whose track, when it started) written as a line of the index. All of it in
 * `<spool>/<id>.tracks/`, which a crash keeps like the spool: post-processing makes the track
 * files from it (postprocess/tracks.ts). With S3 or GCS it is stored as it comes too
 * (stored-tracks.ts), each chunk acked once stored, for another machine to finish it.
 */

/** Tracks one recording may open (its files and sockets are bounded). */
export const MAX_TRACKS = 64;

/** Recording `id`'s tracks directory, beside its spool. */
export function trackDirOf(spoolDir: string, id: string): string {
  return path.join(spoolDir, `${id}.tracks`);
}

export function trackSpoolPathOf(dir: string, track: number): string {
  return path.join(dir, `track-${track}.webm`);
}

export const trackIndexPathOf = (dir: string) => path.join(dir, 'index.jsonl');

const text = (max: number) => z.string().transform((s) => s.slice(0, max));

/** A line of the index: the page's 'track' message, its number given by the socket it came on. */
export const trackLineSchema = z.object({
  track: z.number().int().min(1).max(MAX_TRACKS),
  identity: text(256),
  name: text(256),
  media: z.enum(['audio', 'video']),
  source: text(64),
  mimeType: text(200),
  /** When its MediaRecorder started, ms since the epoch (the page's clock, as the composite's recordingAt). */
  at: z.number().finite().nonnegative(),
  /** That instant on the composite's file clock, as the page measured it (its pauses taken out). */
  fileMs: z.number().finite().nonnegative(),
});
export type TrackLine = z.infer<typeof trackLineSchema>;

export class TrackSpools {
  private readonly tracks = new Map<number, TrackIngest>();
  private index: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly log: Logger,
    private readonly stored?: StoredTracks,
  ) {}

  /** `stored(dir)`: the mirror in object storage, when the recording's spool is stored there. */
  static async open(spoolDir: string, id: string, log: Logger, stored?: (dir: string) => StoredTracks): Promise<TrackSpools> {
    const dir = trackDirOf(spoolDir, id);
    await fs.mkdir(dir, { recursive: true });
    return new TrackSpools(dir, log, stored?.(dir));
  }

  /** The handler of track `key`'s socket (the ingest query's `track`); undefined refuses the socket. */
  handler(key: string): IngestHandler | undefined {
    if (this.closed || !/^[1-9][0-9]{0,2}$/.test(key) || Number(key) > MAX_TRACKS) return undefined;
    const n = Number(key);
    let t = this.tracks.get(n);
    if (!t) {
      const file = trackSpoolPathOf(this.dir, n);
      t = new TrackIngest(n, file, (line) => this.append(line), this.log, this.stored?.forTrack(n, file));
      this.tracks.set(n, t);
    }
    return t;
  }

  private append(line: TrackLine): void {
    // written at once: a worker that dies keeps the line of every track it spooled
    this.index = this.index
      .then(() => fs.appendFile(trackIndexPathOf(this.dir), `${JSON.stringify(line)}\n`))
      .then(() => this.stored?.indexWritten())
      .catch((err: Error) => this.log.warn({ err: err.message }, 'track index line not written'));
  }

  /** After the page's flush: every track's spool closed, the index written. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.tracks.values()].map((t) => t.close()));
    await this.index;
    await this.stored?.close(STORED_SPOOL_FLUSH_MS);
  }

  /** A start that never recorded: its tracks go with its spool. */
  async discard(): Promise<void> {
    await this.close();
    await this.stored?.remove();
    await fs.rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

class TrackIngest implements IngestHandler {
  private readonly sequencer = new ChunkSequencer<Uint8Array>();
  private spool?: Promise<SpoolFile>;
  private described = false;

  constructor(
    private readonly n: number,
    private readonly file: string,
    private readonly describe: (line: TrackLine) => void,
    private readonly log: Logger,
    private readonly stored?: StoredSpool,
  ) {}

  async onChunk(seq: number, _flags: number, payload: Uint8Array): Promise<number> {
    const { ready } = this.sequencer.accept(seq, payload);
    this.spool ??= SpoolFile.open(this.file, 'a');
    const spool = await this.spool;
    for (const chunk of ready) {
      await spool.append(chunk);
      this.stored?.appended(spool.bytes);
    }
    return this.sequencer.expected - 1;
  }

  whenStored(seq: number): Promise<void> {
    return this.stored?.whenStored(seq) ?? Promise.resolve();
  }

  onMessage(msg: PageMessage): void {
    if (msg.type === 'error') this.log.warn({ track: this.n, err: msg.message }, 'track recorder error');
    if (msg.type !== 'track' || this.described) return;
    const parsed = trackLineSchema.safeParse({ ...msg, track: this.n });
    if (!parsed.success) {
      this.log.warn({ track: this.n }, 'track message refused: malformed');
      return;
    }
    this.described = true;
    this.describe(parsed.data);
  }

  async close(): Promise<void> {
    await (await this.spool?.catch(() => undefined))?.close();
  }
}

/** The index's lines that parse (a crash may have cut the last one); none without a tracks directory. */
export async function readTrackIndex(dir: string): Promise<TrackLine[]> {
  let raw: string;
  try {
    raw = await fs.readFile(trackIndexPathOf(dir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines: TrackLine[] = [];
  for (const line of raw.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = trackLineSchema.safeParse(JSON.parse(line));
      if (parsed.success) lines.push(parsed.data);
    } catch {
      /* a cut line */
    }
  }
  return lines;
}
