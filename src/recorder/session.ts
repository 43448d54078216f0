import type { PageMessage } from '../../recorder-page/src/protocol';
import { AppError, toAppError } from '../errors';
import type { RecorderPage } from './browser-pages';
import { deferred, withDeadline } from './deadline';
import { openRecordingPage } from './page-launch';
import { SessionClocks } from './session-clocks';
import { StallWatch } from './stall-watch';
import { applyToPage } from './session-live-change';
import { SessionMedia } from './session-media';
import { SessionStats } from './session-stats';
import { SessionSideFiles } from './session-side-files';
import type { SessionDeps } from './session-deps';
import type { LiveRecording, RecordingEndReason, RecordingOptions, RecordingProgress, RecordingRequest, RecordingResult, RecordingStart } from '../recordings/contract';

type Phase = 'starting' | 'recording' | 'stopping' | 'done';

/**
 * One live recording and how it ends: a page in a warm browser joins the room, waits until
 * the people in it are on the canvas, then streams MediaRecorder chunks to our ingest
 * socket (session-media.ts). The phases starting -> recording -> stopping -> done decide
 * what stop() and a fault do. Owns its page, its ingest registration and its FFmpeg
 * process, and releases all three whichever way the recording ends.
 */
export class RecordingSession implements LiveRecording {
  readonly id: string;
  private phase: Phase = 'starting';
  private readonly media: SessionMedia;
  private page?: RecorderPage;
  private unregister?: () => void;
  private readonly first = deferred<RecordingStart>();
  private readonly finished = deferred<RecordingResult>();
  /** Settles when begin() is through: resolved once the phase is 'recording'. */
  private readonly begun = deferred<void>();
  private stopping?: Promise<RecordingResult>;
  private readonly clocks = new SessionClocks();
  private readonly stats = new SessionStats();
  private failure?: AppError;
  private spoolFailed = false;
  private abortRequested = false;
  private detachBrowser?: () => void;
  private side?: SessionSideFiles;
  /** The options the page draws now: the start's, then each live change applied. */
  private drawn: RecordingOptions;

  readonly firstChunk = this.first.promise;
  readonly done = this.finished.promise;

  constructor(
    private readonly deps: SessionDeps,
    private readonly req: RecordingRequest,
  ) {
    this.id = req.id;
    this.drawn = req.options;
    this.media = new SessionMedia(deps, req, { onChunkSpooled: (start) => this.first.resolve(start), onFault: (error) => ((this.spoolFailed = true), this.fail(error)) });
    // callers that only await stop() must not see an unhandled rejection
    this.first.promise.catch(() => undefined);
    this.finished.promise.catch(() => undefined);
    this.begun.promise.catch(() => undefined);
  }

  /** Opens the page and resolves once media flows; on failure everything opened is closed. */
  async begin(): Promise<void> {
    const { deps, req, media } = this;
    const log = deps.log;
    const begunAt = Date.now();
    try {
      await media.open();
      this.side = await SessionSideFiles.open(deps.spoolDir, req, log, deps.hls);
      const ingest = deps.ingest.register(req.id, {
        onChunk: (seq, _flags, payload) => (this.phase === 'done' ? Promise.resolve(media.acked()) : media.onChunk(seq, payload)),
        whenStored: (seq) => media.whenStored(seq),
        onMessage: (msg) => this.onMessage(msg),
        track: (key) => this.side?.trackHandler(key),
      });
      this.unregister = ingest.unregister;
      const timeoutMs = deps.firstChunkTimeoutMs ?? 15000;
      const opened = await openRecordingPage(deps, req, { ingestUrl: ingest.url, readyTimeoutMs: timeoutMs }, {
        onEnd: () => {
          log.info({ reason: 'END_RECORDING' }, 'the layout page ended the recording');
          this.stopQuietly('room_ended');
        },
        onLeft: (origin) => this.fail(new AppError('LAYOUT_PAGE_FAILED', `the custom layout page tried to leave its origin for ${origin}`)),
        onCrash: (error) => this.fail(error),
      });
      const page = (this.page = opened.page);
      this.detachBrowser = opened.detach;
      if (this.abortRequested) throw this.abortError();
      const pageReadyMs = Date.now() - begunAt;
      // The page joins, waits for the people present and only then starts the encoder: it
      // answers once it did; the first chunk follows within a timeslice's poll.
      const started = page.run(`window.recorder.start(${JSON.stringify(opened.params.toString())})`).catch((err: Error) => {
        throw this.failure ?? (/could not join the room/.test(err.message) ? new AppError('ROOM_CONNECTION_FAILED', err.message, { cause: err }) : err);
      });
      started.catch(() => undefined);
      await withDeadline(Promise.all([started, this.first.promise]), timeoutMs, async () => {
        const state = (await page.run('window.recorderState').catch(() => undefined)) as { error?: string; marks?: Record<string, number> } | undefined;
        // the last start-up step the page reached says where it hung
        const reached = Object.keys(state?.marks ?? {}).join(', ');
        return new AppError('PAGE_FAILED', `recorder page sent no media within ${timeoutMs / 1000} s${state?.error ? `: ${state.error}` : ''}${reached ? ` (reached: ${reached})` : ''}`);
      });
      this.phase = 'recording';
      media.lastChunkAt = Date.now();
      const stall = new StallWatch({
        stallMs: deps.stallSeconds * 1000,
        log,
        lastChunkAt: () => media.lastChunkAt,
        askPhase: () => page.run('window.recorderState.phase'),
        onStalled: (silentMs) => this.fail(new AppError('INGEST_STALLED', `no media from the recorder page for ${Math.round(silentMs / 1000)} s`)),
      });
      this.clocks.watchStall(() => stall.lastSignOfLife(), deps.stallSeconds * 1000, () => void stall.silent());
      const start = media.start!;
      if (req.maxDurationSeconds) this.clocks.endAfter(start.recordingAt, req.maxDurationSeconds, () => this.stopQuietly('max_duration'));
      this.clocks.endPausesAfter(deps.maxPauseSeconds, () => this.stopQuietly('pause_limit'));
      log.info({ room: req.roomName, pageReadyMs, firstChunkMs: Date.now() - begunAt, late: start.late, waitedMs: start.waitedMs }, 'recording');
      this.begun.resolve();
    } catch (err) {
      const error = toAppError(err, 'PAGE_FAILED');
      this.begun.reject(error);
      this.first.reject(error);
      this.phase = 'done';
      await this.release();
      await media.discard();
      await this.side?.discard();
      this.finished.reject(error);
      throw error;
    }
  }

  progress(): RecordingProgress {
    const start = this.media.start;
    return {
      elapsedMs: start ? this.clocks.recordedMs(start.recordingAt) : 0,
      bytes: this.media.bytes,
      chunks: this.media.chunks,
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
    const { deps, req, media } = this;
    if (this.phase === 'starting' && !media.start) {
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
    this.clocks.clear();
    try {
      // The page flushes MediaRecorder and waits until we acknowledged every chunk. After a fault
      // too: what the page holds was captured (a stalled page that thawed, a room that failed);
      // a page that is gone fails at once. Only a spool that refused a chunk can take no more.
      if (!this.spoolFailed) await this.flushPage().catch((err: Error) => deps.log.warn({ err: err.message }, 'page flush failed; keeping what arrived'));
      await this.release();
      await this.side?.close();
      const output = await media.finish();
      const start = media.start!;
      const result: RecordingResult = {
        id: req.id,
        path: output.path,
        format: req.options.format,
        size: output.size,
        durationMs: output.durationMs,
        spoolPath: output.spoolPath,
        startedAt: start.recordingAt,
        endedAt,
        endReason: reason,
        error: this.failure ? { code: this.failure.code, message: this.failure.message } : undefined,
        quality: { ...this.stats.quality(start, output, this.clocks.pauses, { fps: req.options.fps, avAppliedMs: -deps.audioShiftMs, chunks: media.chunkReport(this.clocks.pauses) }), ...(output.hls ? { hls: output.hls } : {}) },
        ...(this.clocks.pauses.length ? { pauses: this.clocks.pauses.map((p) => ({ ...p })) } : {}),
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
      media.kill();
    }
  }

  private async flushPage(): Promise<void> {
    const page = this.page;
    if (!page || page.page.isClosed()) throw new Error('page is gone');
    await withDeadline(page.run('window.recorder.stop()'), 10000, () => new Error('page did not flush within 10 s'));
    // the page resolves after our last ack, so the end marker has been handled too
    await this.media.endHandled(2000);
  }

  /** Closes the page and the ingest sockets; safe to call more than once. */
  private async release(): Promise<void> {
    this.clocks.clear();
    this.detachBrowser?.();
    this.unregister?.();
    await this.page?.close();
  }

  /** The page's events beyond its media: stats, faults, leaving the room, log marks. */
  private onMessage(msg: PageMessage): void {
    if (this.media.onMessage(msg) || this.side?.append(msg)) return;
    switch (msg.type) {
      case 'stats':
        this.stats.onStats(msg, this.progress.bind(this));
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
      case 'presence':
        this.stats.onPresence(msg);
        break;
      case 'firstVideo':
        this.stats.onFirstVideo(msg.identity, msg.at ?? Date.now());
        this.deps.log.info({ identity: msg.identity, sinceStartMs: this.progress().elapsedMs }, 'first video frame drawn');
        break;
    }
  }

  ffmpegPid(): number | undefined {
    return this.media.ffmpegPid();
  }
  readonly onStreams: LiveRecording['onStreams'] = (listener) => this.media.streams.subscribe(listener);

  /**
   * Pauses or resumes the page's encoder (window.recorder.pause/resume, both picture sources):
   * the clocks stop counting first. A page that does not do it within 5 s ends the recording
   * (PAGE_FAILED), keeping what it recorded: its file would no longer match its pauses.
   */
  async setPaused(paused: boolean): Promise<void> {
    if (this.phase === 'starting') await this.begun.promise.catch(() => undefined);
    if (this.phase !== 'recording' || !this.page || this.clocks.paused === paused) return;
    if (paused) this.clocks.pause();
    const verb = paused ? 'pause' : 'resume';
    let at: unknown;
    try {
      at = await withDeadline(this.page.run(`window.recorder.${verb}()`), 5000, () => new Error(`no answer within 5 s`));
    } catch (err) {
      this.fail(new AppError('PAGE_FAILED', `the recorder page did not ${verb}: ${(err as Error).message}`));
      return;
    }
    // the page's own instant of the seam (a custom layout page's tab capture answers too)
    const applied = typeof at === 'number' && Number.isFinite(at) ? Math.min(Date.now(), at) : Date.now();
    if (paused) this.clocks.pausedAtPage(applied);
    else this.clocks.resume(applied);
    this.deps.log.info({ recordedMs: this.progress().elapsedMs }, paused ? 'paused' : 'resumed');
  }

  /** A live change (session-live-change.ts); one asked for while the page is still starting waits for it. */
  async update(options: RecordingOptions): Promise<void> {
    if (this.phase === 'starting') await this.begun.promise.catch(() => undefined);
    if (this.phase !== 'recording' || !this.page) return;
    await this.media.streams.apply(options.outputs);
    await applyToPage(this.deps, this.req, this.page, options, this.drawn);
    this.drawn = options;
    this.deps.log.info({ layout: options.layout, theme: options.theme, participants: options.participants }, 'live change applied');
  }
}
