import fs from 'node:fs/promises';
import path from 'node:path';
import type { PageMessage } from '../../recorder-page/src/protocol';
import { AppError, toAppError } from '../errors';
import type { ChunkQuality, HlsReport, RecordingRequest, RecordingStart } from '../recordings/contract';
import type { PausedSpan } from '../recordings/timeline';
import { ChunkSequencer } from './chunk-sequencer';
import { ChunkStats } from './chunk-stats';
import { deferred } from './deadline';
import { FfmpegSink, outputSpecOf, videoCodecOf, type OutputSpec } from './ffmpeg-sink';
import { finishFile, type FinishedFile } from './final-file';
import { openHlsOutput, type HlsOutputTarget, type HlsSession } from './hls-output';
import { finishHls } from './hls-salvage';
import type { Logger } from './logger';
import { timesliceMsOf } from './page-launch';
import { SpoolFile } from './spool';
import { openStoredSpool, STORED_SPOOL_FLUSH_MS, type StoredSpool } from './stored-spool';
import { SessionStreams } from './stream-outputs';
import { streamOutputsOf } from '../recordings/outputs';

export interface MediaDeps {
  log: Logger;
  ffmpegPath: string;
  ffprobePath: string;
  spoolDir: string;
  /** Constant A/V offset of the browser's encoder to cancel at the remux, in ms. */
  audioShiftMs: number;
  /** Where an HLS output is stored; without it a recording cannot have one. */
  hls?: HlsOutputTarget;
}

/**
 * The chunk protocol of one recording: chunks put in sequence order, each appended to the
 * spool and acknowledged, then fed to FFmpeg (started by the page's "hello", which names
 * the codec); "started" gives the file's time 0; "end" names the last chunk. At the end,
 * the file: FFmpeg's output, or a remux of the spool.
 */
export class SessionMedia {
  private readonly sequencer = new ChunkSequencer<Uint8Array>();
  private readonly chunkStats: ChunkStats;
  private spool?: SpoolFile;
  private stored?: StoredSpool;
  private sink?: FfmpegSink;
  /** Given up before it recorded (discard): a late hello opens no FFmpeg. */
  private discarded = false;
  private spec?: OutputSpec;
  private hls?: HlsSession;
  /** The live stream destinations (rtmp, srt), fed after the file. */
  readonly streams: SessionStreams;
  private lastSeq = -1;
  private readonly endSeen = deferred<void>();
  /** The file's time 0 and who was on the canvas then; set by "started" (or the first chunk). */
  start?: RecordingStart;
  lastChunkAt = Date.now();

  constructor(
    private readonly deps: MediaDeps,
    private readonly req: RecordingRequest,
    private readonly events: { onChunkSpooled: (start: RecordingStart) => void; onFault: (error: AppError) => void },
  ) {
    this.streams = new SessionStreams(deps, streamOutputsOf(req.options.outputs));
    this.chunkStats = new ChunkStats(timesliceMsOf(req.options));
  }

  /** Creates the spool file and the output's directory. */
  async open(): Promise<void> {
    this.spool = await SpoolFile.create(this.deps.spoolDir, this.req.id);
    this.stored = openStoredSpool(this.deps, this.req, this.spool.path);
    await fs.mkdir(path.dirname(this.req.outputPath), { recursive: true });
    this.hls = await openHlsOutput(this.deps, this.req);
  }

  get bytes(): number {
    return this.spool?.bytes ?? 0;
  }

  get chunks(): number {
    return this.spool?.chunks ?? 0;
  }

  /** The sequence number acknowledged so far. */
  acked(): number {
    return this.sequencer.expected - 1;
  }

  /** Takes a chunk; resolves with the sequence number to acknowledge (everything on disk up to it). */
  async onChunk(seq: number, payload: Uint8Array): Promise<number> {
    const { ready, duplicate } = this.sequencer.accept(seq, payload);
    this.chunkStats.arrived({ duplicate, held: !duplicate && ready.length === 0, inOrder: ready.length });
    for (const chunk of ready) {
      try {
        await this.spool!.append(chunk);
      } catch (err) {
        this.events.onFault(toAppError(err));
        return this.sequencer.expected - 1 - ready.length;
      }
      this.stored?.appended(this.spool!.bytes);
      this.sink?.write(chunk);
      this.streams.write(chunk);
      this.lastChunkAt = Date.now();
      // a page that does not say when its encoder started (an old tab-capture script): now is near enough
      this.start ??= { recordingAt: new Date(Date.now() - 100), expected: [], late: [], waitedMs: 0 };
      this.events.onChunkSpooled(this.start);
    }
    if (this.lastSeq >= 0 && this.sequencer.expected > this.lastSeq) this.endSeen.resolve();
    return this.sequencer.expected - 1;
  }

  /** Resolves when chunk `seq` may be acknowledged: at once, or once it is stored (stored-spool.ts). */
  whenStored(seq: number): Promise<void> {
    return this.stored?.whenStored(seq) ?? Promise.resolve();
  }

  /** The media messages of the page; true when `msg` was one. */
  onMessage(msg: PageMessage): boolean {
    switch (msg.type) {
      case 'hello':
        this.chunkStats.connected();
        if (!this.sink && !this.discarded) {
          this.spec = outputSpecOf(this.req.options, videoCodecOf(msg.mimeType), this.deps.audioShiftMs);
          this.sink = new FfmpegSink(this.deps.ffmpegPath, this.req.outputPath, this.spec, this.hls?.spec);
          this.hls?.uploader.start();
          this.streams.start(this.spec);
        }
        return true;
      case 'started':
        if (this.start) return true; // said again after a reconnect
        this.start = {
          recordingAt: new Date(Math.round(msg.at)),
          expected: msg.expected,
          late: msg.late,
          waitedMs: msg.waitedMs,
          ...(this.req.requestedAt ? { sinceRequestMs: Math.round(msg.at - this.req.requestedAt) } : {}),
        };
        this.deps.log.info({ ...this.start, pageMarks: msg.marks }, 'encoder started');
        return true;
      case 'end':
        this.lastSeq = msg.lastSeq;
        if (this.sequencer.expected > msg.lastSeq) this.endSeen.resolve();
        return true;
      default:
        return false;
    }
  }

  /** The quality report's account of the chunks (`pauses`: as applied to the encoder). */
  chunkReport(pauses: readonly PausedSpan[]): ChunkQuality | undefined {
    if (!this.start) return undefined;
    const delivered = this.sequencer.expected;
    return this.chunkStats.report(this.start.recordingAt, pauses, { delivered, gaps: this.sequencer.missing().length, ...(this.lastSeq >= 0 ? { lastSeq: this.lastSeq } : {}) });
  }

  /** Resolves once the page's end marker and every chunk before it were handled, or after `ms`. */
  endHandled(ms: number): Promise<void> {
    return Promise.race([this.endSeen.promise, new Promise<void>((r) => setTimeout(r, ms))]);
  }

  /** Closes the spool and finishes the file; RECORDING_EMPTY when no media arrived. */
  async finish(): Promise<FinishedFile & { spoolPath: string; hls?: HlsReport }> {
    await this.spool?.close();
    // the file is made from the local spool, but post-processing elsewhere (this machine lost) needs all of it stored
    await this.stored?.close(STORED_SPOOL_FLUSH_MS);
    if (!this.spool || this.spool.bytes === 0) throw new AppError('RECORDING_EMPTY', 'no media arrived from the recorder page');
    const spoolPath = this.spool.path;
    const streamsEnded = this.streams.end();
    const spec = this.spec ?? { format: this.req.options.format, videoCodec: 'unknown' };
    const file = await finishFile({ ...this.deps, spoolPath, outputPath: this.req.outputPath, sink: this.sink, spec });
    // FFmpeg has exited: its last segment is closed and its playlist ended, unless it died
    const liveFailed = Boolean(this.sink && !this.sink.alive);
    const hls = this.hls && (await finishHls(this.deps, this.req, this.hls, { ...(this.start ? { recordingAt: this.start.recordingAt } : {}), liveFailed, spoolPath, spec }));
    await streamsEnded;
    return { ...file, spoolPath, ...(hls ? { hls } : {}) };
  }

  /** Ends FFmpeg and the HLS uploads whatever state they are in (after finish(), or when finishing failed). */
  kill(): void {
    void this.stored?.close();
    this.sink?.kill();
    this.hls?.uploader.kill();
    this.streams.kill();
  }

  /** A start that never recorded: its FFmpeg, output, spool and HLS directory go. */
  async discard(): Promise<void> {
    this.discarded = true;
    // the page said hello (its socket opened) but sent no media: its FFmpeg waited on its
    // input for ever (one was found alive 19 min after such a start had failed)
    await this.sink?.killed();
    this.hls?.uploader.kill();
    await fs.rm(this.req.outputPath, { force: true }).catch(() => undefined);
    // closed before it goes: an open handle left to the garbage collector warns, and holds the fd
    await this.spool?.close().catch(() => undefined);
    this.streams.kill();
    await fs.rm(this.spool?.path ?? '', { force: true }).catch(() => undefined);
    await this.stored?.remove();
    if (this.hls) await fs.rm(this.hls.spec.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  ffmpegPid(): number | undefined {
    return this.sink?.pid;
  }
}
