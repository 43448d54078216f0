import fs from 'node:fs/promises';
import path from 'node:path';
import type { PageMessage } from '../../recorder-page/src/protocol';
import { AppError, toAppError } from '../errors';
import { recorderToken, type LivekitCredentials } from '../livekit/tokens';
import type { BrowserPool, RecorderPage } from './browser-pool';
import { ChunkSequencer } from './chunk-sequencer';
import { deferred, withDeadline } from './deadline';
import { FfmpegSink, videoCodecOf, type OutputSpec } from './ffmpeg-sink';
import { finishFile } from './final-file';
import type { IngestServer } from './ingest-server';
import { openLayoutPage } from './layout-page';
import type { Logger } from './logger';
import { launchQuery, watchPage } from './page-launch';
import { SessionStats } from './session-stats';
import { SpoolFile } from './spool';
import type { LiveRecording, RecordingEndReason, RecordingProgress, RecordingRequest, RecordingResult, RecordingStart } from '../recordings/contract';

export interface SessionDeps {
  livekit: LivekitCredentials;
  pool: BrowserPool;
  ingest: IngestServer;
  log: Logger;
  ffmpegPath: string;
  ffprobePath: string;
  spoolDir: string;
  stallSeconds: number;
  /** Constant A/V offset of the browser's encoder to cancel at the remux, in ms. */
  audioShiftMs: number;
  /** How long the page waits for the participants present at the join before it starts the encoder. */
  presenceWaitMs: number;
  /** From the start until media flows (join and presence wait included). */
  firstChunkTimeoutMs?: number;
}

type Phase = 'starting' | 'recording' | 'stopping' | 'done';

/**
 * One live recording: a page in a warm browser joins the room, waits until the people in
 * it are on the canvas, then streams MediaRecorder chunks to our ingest socket; each chunk
 * goes to the spool first, then to FFmpeg. Owns its page, its ingest registration and its
 * FFmpeg process, and releases all three whichever way the recording ends.
 */
export class RecordingSession implements LiveRecording {
  readonly id: string;
  private phase: Phase = 'starting';
  private readonly sequencer = new ChunkSequencer<Uint8Array>();
  private spool?: SpoolFile;
  private sink?: FfmpegSink;
  private spec?: OutputSpec;
  private page?: RecorderPage;
  private unregister?: () => void;
  private readonly first = deferred<RecordingStart>();
  private readonly finished = deferred<RecordingResult>();
  private readonly endSeen = deferred<void>();
  /** Settles when begin() is through: resolved once the phase is 'recording'. */
  private readonly begun = deferred<void>();
  private lastSeq = -1;
  private stopping?: Promise<RecordingResult>;
  private start?: RecordingStart;
  private lastChunkAt = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly stats = new SessionStats();
  private failure?: AppError;
  private abortRequested = false;
  private detachBrowser?: () => void;

  readonly firstChunk = this.first.promise;
  readonly done = this.finished.promise;

  constructor(
    private readonly deps: SessionDeps,
    private readonly req: RecordingRequest,
  ) {
    this.id = req.id;
    // callers that only await stop() must not see an unhandled rejection
    this.first.promise.catch(() => undefined);
    this.finished.promise.catch(() => undefined);
    this.begun.promise.catch(() => undefined);
  }

  /** Opens the page and resolves once media flows; on failure everything opened is closed. */
  async begin(): Promise<void> {
    const { deps, req } = this;
    const log = deps.log;
    const begunAt = Date.now();
    try {
      this.spool = await SpoolFile.create(deps.spoolDir, req.id);
      await fs.mkdir(path.dirname(req.outputPath), { recursive: true });
      const ingest = deps.ingest.register(req.id, {
        onChunk: (seq, _flags, payload) => this.onChunk(seq, payload),
        onMessage: (msg) => this.onMessage(msg),
      });
      this.unregister = ingest.unregister;
      const token = await recorderToken(deps.livekit, req.roomName, `recorder-${req.id}`);
      const timeoutMs = deps.firstChunkTimeoutMs ?? 15000;
      const o = req.options;
      this.page = o.customLayoutUrl
        ? await openLayoutPage(deps.pool, o.customLayoutUrl, { livekitUrl: deps.livekit.url, token, options: o, readyTimeoutMs: timeoutMs }, {
            onEnd: () => {
              log.info({ reason: 'END_RECORDING' }, 'the layout page ended the recording');
              this.stopQuietly('room_ended');
            },
            onLeft: (origin) => this.fail(new AppError('LAYOUT_PAGE_FAILED', `the custom layout page tried to leave its origin for ${origin}`)),
          })
        : await deps.pool.openPage();
      this.detachBrowser = watchPage(this.page, log, (error) => this.fail(error));
      if (this.abortRequested) throw this.abortError();
      const params = launchQuery(deps.livekit.url, token, ingest.url, req.options, deps.presenceWaitMs);
      const pageReadyMs = Date.now() - begunAt;
      // The page joins, waits for the people present and only then starts the encoder: it
      // answers once it did; the first chunk follows within a timeslice's poll.
      const started = this.page.run(`window.recorder.start(${JSON.stringify(params.toString())})`).catch((err: Error) => {
        throw this.failure ?? (/could not join the room/.test(err.message) ? new AppError('ROOM_CONNECTION_FAILED', err.message, { cause: err }) : err);
      });
      started.catch(() => undefined);
      await withDeadline(Promise.all([started, this.first.promise]), timeoutMs, async () => {
        const state = (await this.page?.run('window.recorderState').catch(() => undefined)) as { error?: string } | undefined;
        return new AppError('PAGE_FAILED', `recorder page sent no media within ${timeoutMs / 1000} s${state?.error ? `: ${state.error}` : ''}`);
      });
      this.phase = 'recording';
      this.lastChunkAt = Date.now();
      this.timers.push(setInterval(() => this.watch(), 500));
      const start = this.start!;
      if (req.maxDurationSeconds) {
        // counted from the file's time 0, so the file is as long as asked
        const left = req.maxDurationSeconds * 1000 - (Date.now() - start.recordingAt.getTime());
        this.timers.push(setTimeout(() => this.stopQuietly('max_duration'), Math.max(0, left)));
      }
      log.info({ room: req.roomName, pageReadyMs, firstChunkMs: Date.now() - begunAt, late: start.late, waitedMs: start.waitedMs }, 'recording');
      this.begun.resolve();
    } catch (err) {
      const error = toAppError(err, 'PAGE_FAILED');
      this.begun.reject(error);
      this.first.reject(error);
      this.phase = 'done';
      await this.release();
      await fs.rm(this.spool?.path ?? '', { force: true }).catch(() => undefined);
      this.finished.reject(error);
      throw error;
    }
  }

  progress(): RecordingProgress {
    return {
      elapsedMs: this.start ? Date.now() - this.start.recordingAt.getTime() : 0,
      bytes: this.spool?.bytes ?? 0,
      chunks: this.spool?.chunks ?? 0,
      ...this.stats.live(),
    };
  }

  onProgress(listener: (p: RecordingProgress) => void): () => void {
    return this.stats.subscribe(listener);
  }

  /**
   * Finishes the file. Before media flowed, the start is given up instead: the result
   * rejects with RECORDING_ABORTED (nothing was recorded).
   */
  stop(reason: RecordingEndReason = 'stopped'): Promise<RecordingResult> {
    this.stopping ??= this.finish(reason);
    return this.stopping;
  }

  /** stop() where nobody waits for the outcome (timers, page events): it must never reject unhandled. */
  private stopQuietly(reason: RecordingEndReason): void {
    this.stop(reason).catch(() => undefined);
  }

  /** Ends the recording because of a fault, keeping what reached the spool. */
  private fail(error: AppError): void {
    if (this.phase === 'done' || this.stopping) return;
    this.failure = error;
    this.deps.log.error({ code: error.code, err: error.message }, 'recording failed');
    if (this.phase === 'starting') this.first.reject(error);
    this.stopQuietly('failed');
  }

  private abortError(): AppError {
    return this.failure ?? new AppError('RECORDING_ABORTED', 'stopped before the recording began: the participants were not on the canvas yet, so nothing was recorded');
  }

  private async finish(reason: RecordingEndReason): Promise<RecordingResult> {
    const { deps, req } = this;
    if (this.phase === 'starting' && !this.start) {
      // give up the start: begin() sees the rejection, closes what it opened and rejects done
      this.abortRequested = true;
      this.first.reject(this.abortError());
      return this.done;
    }
    // media flows but the page's start call has not answered yet (firstChunk resolves on the
    // first chunk): this is a recording, stopped as one once begin() is through
    if (this.phase === 'starting') await this.begun.promise.catch(() => undefined);
    if (this.phase !== 'recording') return this.done;
    this.phase = 'stopping';
    const endedAt = new Date();
    for (const t of this.timers) clearInterval(t);
    try {
      if (reason !== 'failed') {
        // the page flushes MediaRecorder and waits until we acknowledged every chunk
        await this.flushPage().catch((err: Error) => deps.log.warn({ err: err.message }, 'page flush failed; keeping what arrived'));
      }
      await this.release();
      await this.spool?.close();
      if (!this.spool || this.spool.bytes === 0) throw new AppError('RECORDING_EMPTY', 'no media arrived from the recorder page');
      const output = await finishFile({ ...deps, spoolPath: this.spool.path, outputPath: req.outputPath, sink: this.sink, spec: this.spec ?? { format: req.options.format, videoCodec: 'unknown' } });
      const result: RecordingResult = {
        id: req.id,
        path: output.path,
        format: req.options.format,
        size: output.size,
        durationMs: output.durationMs,
        spoolPath: this.spool!.path,
        startedAt: this.start!.recordingAt,
        endedAt,
        endReason: reason,
        error: this.failure ? { code: this.failure.code, message: this.failure.message } : undefined,
        quality: this.stats.quality(this.start!, output.fps),
      };
      this.phase = 'done';
      this.finished.resolve(result);
      return result;
    } catch (err) {
      const error = toAppError(err, 'FFMPEG_FAILED');
      this.phase = 'done';
      this.finished.reject(error);
      throw error;
    } finally {
      this.sink?.kill();
    }
  }

  private async flushPage(): Promise<void> {
    const page = this.page;
    if (!page || page.page.isClosed()) throw new Error('page is gone');
    await withDeadline(page.run('window.recorder.stop()'), 10000, () => new Error('page did not flush within 10 s'));
    // the page resolves after our last ack, so the end marker has been handled too
    await Promise.race([this.endSeen.promise, new Promise((r) => setTimeout(r, 2000))]);
  }

  /** Closes the page and the ingest sockets; safe to call more than once. */
  private async release(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.detachBrowser?.();
    this.unregister?.();
    await this.page?.close();
  }

  private async onChunk(seq: number, payload: Uint8Array): Promise<number> {
    if (this.phase === 'done') return this.sequencer.expected - 1;
    const { ready } = this.sequencer.accept(seq, payload);
    for (const chunk of ready) {
      try {
        await this.spool!.append(chunk);
      } catch (err) {
        this.fail(toAppError(err));
        return this.sequencer.expected - 1 - ready.length;
      }
      this.sink?.write(chunk);
      this.lastChunkAt = Date.now();
      if (!this.start) {
        // a page that does not say when its encoder started (an old tab-capture script): now is near enough
        this.start = { recordingAt: new Date(Date.now() - 100), expected: [], late: [], waitedMs: 0 };
      }
      this.first.resolve(this.start);
    }
    if (this.lastSeq >= 0 && this.sequencer.expected > this.lastSeq) this.endSeen.resolve();
    return this.sequencer.expected - 1;
  }

  private onMessage(msg: PageMessage): void {
    switch (msg.type) {
      case 'hello':
        if (!this.sink) {
          this.spec = {
            format: this.req.options.format,
            videoCodec: videoCodecOf(msg.mimeType),
            audioBitrate: this.req.options.audioBitrate,
            audioShiftMs: this.deps.audioShiftMs,
          };
          this.sink = new FfmpegSink(this.deps.ffmpegPath, this.req.outputPath, this.spec);
        }
        break;
      case 'started':
        if (this.start) break; // said again after a reconnect
        this.start = {
          recordingAt: new Date(Math.round(msg.at)),
          expected: msg.expected,
          late: msg.late,
          waitedMs: msg.waitedMs,
          ...(this.req.requestedAt ? { sinceRequestMs: Math.round(msg.at - this.req.requestedAt) } : {}),
        };
        this.deps.log.info({ ...this.start, pageMarks: msg.marks }, 'encoder started');
        break;
      case 'stats':
        this.stats.onStats(msg, this.progress.bind(this));
        break;
      case 'end':
        this.lastSeq = msg.lastSeq;
        if (this.sequencer.expected > msg.lastSeq) this.endSeen.resolve();
        break;
      case 'error':
        this.fail(new AppError('ROOM_CONNECTION_FAILED', `recording ended early: ${msg.message}`));
        break;
      case 'disconnected':
        this.deps.log.info({ reason: msg.reason }, 'recorder left the room');
        this.stopQuietly('room_ended');
        break;
      case 'joined':
        this.stats.onJoined(msg.participants);
        this.deps.log.info({ participants: msg.participants, pageMarks: msg.marks }, 'joined the room');
        break;
      case 'firstVideo':
        this.deps.log.info({ identity: msg.identity, sinceStartMs: this.progress().elapsedMs }, 'first video frame drawn');
        break;
    }
  }

  /** Watchdog: chunks must keep arriving; FFmpeg dying only costs a remux at the end. */
  private watch(): void {
    if (this.phase !== 'recording') return;
    const silentMs = Date.now() - this.lastChunkAt;
    if (silentMs > this.deps.stallSeconds * 1000) {
      this.fail(new AppError('INGEST_STALLED', `no media from the recorder page for ${Math.round(silentMs / 1000)} s`));
    }
  }

  ffmpegPid(): number | undefined {
    return this.sink?.pid;
  }
}
