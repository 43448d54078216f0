import fs from 'node:fs/promises';
import path from 'node:path';
import type { ConsoleMessage } from 'puppeteer-core';
import type { PageMessage } from '../../recorder-page/src/protocol';
import { AppError, toAppError } from '../errors';
import { recorderToken, type LivekitCredentials } from '../livekit/tokens';
import type { BrowserPool, RecorderPage } from './browser-pool';
import { ChunkSequencer } from './chunk-sequencer';
import { FfmpegSink, remuxFile, videoCodecOf, type OutputSpec } from './ffmpeg-sink';
import type { IngestServer } from './ingest-server';
import type { Logger } from './logger';
import { probe } from './probe';
import { SpoolFile } from './spool';
import { bundledPageDir } from './static-files';
import type {
  LiveRecording,
  RecordingEndReason,
  RecordingProgress,
  RecordingRequest,
  RecordingResult,
  VideoInput,
} from './types';

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
  firstChunkTimeoutMs?: number;
}

type Phase = 'starting' | 'recording' | 'stopping' | 'done';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** `promise`, or the error `late()` gives once `ms` passed; the timer never outlives the race. */
async function withDeadline<T>(promise: Promise<T>, ms: number, late: () => Error | Promise<Error>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => void Promise.resolve(late()).then(reject, reject), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One live recording: a page in a warm browser joins the room and streams
 * MediaRecorder chunks to our ingest socket; each chunk goes to the spool first, then
 * to FFmpeg. Owns its page, its ingest registration and its FFmpeg process, and
 * releases all three whichever way the recording ends.
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
  private readonly first = deferred<void>();
  private readonly finished = deferred<RecordingResult>();
  private readonly endSeen = deferred<void>();
  private lastSeq = -1;
  private stopping?: Promise<RecordingResult>;
  private startedAt = new Date();
  private lastChunkAt = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly listeners = new Set<(p: RecordingProgress) => void>();
  private stats: { fps: number; participants: number; videoInputs: VideoInput[] } = { fps: 0, participants: 0, videoInputs: [] };
  private failure?: AppError;
  private joinError?: AppError;
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
  }

  /** Opens the page and resolves once media flows; on failure everything opened is closed. */
  async begin(): Promise<void> {
    const { deps, req } = this;
    const log = deps.log;
    const requestedAt = Date.now();
    try {
      this.spool = await SpoolFile.create(deps.spoolDir, req.id);
      await fs.mkdir(path.dirname(req.outputPath), { recursive: true });
      const ingest = deps.ingest.register(req.id, {
        onChunk: (seq, _flags, payload) => this.onChunk(seq, payload),
        onMessage: (msg) => this.onMessage(msg),
      });
      this.unregister = ingest.unregister;
      const token = await recorderToken(deps.livekit, req.roomName, `recorder-${req.id}`);
      const o = req.options;
      const params = new URLSearchParams({
        url: deps.livekit.url,
        token,
        ingest: ingest.url,
        width: String(o.width),
        height: String(o.height),
        fps: String(o.fps),
        layout: o.layout,
        format: o.format,
      });
      if (o.videoBitrate) params.set('vbr', String(o.videoBitrate));
      if (o.audioBitrate) params.set('abr', String(o.audioBitrate));
      if (o.background) params.set('background', o.background);

      this.page = o.customLayoutUrl ? await this.openLayoutPage(o.customLayoutUrl, token) : await deps.pool.openPage();
      const page = this.page.page;
      page.on('pageerror', (err) => log.warn({ err: (err as Error).message }, 'recorder page error'));
      page.on('console', (m) => {
        if (m.type() === 'error') log.debug({ text: m.text() }, 'recorder page console');
      });
      page.on('error', (err) => void this.fail(new AppError('BROWSER_CRASHED', `recorder page crashed: ${err.message}`)));
      const browser = page.browser();
      const onBrowserGone = () => void this.fail(new AppError('BROWSER_CRASHED', 'the recorder browser exited'));
      browser.once('disconnected', onBrowserGone);
      this.detachBrowser = () => browser.off('disconnected', onBrowserGone);
      const pageReadyMs = Date.now() - requestedAt;
      await page.evaluate(`window.recorder.start(${JSON.stringify(params.toString())})`);
      const startedMs = Date.now() - requestedAt;

      const timeoutMs = deps.firstChunkTimeoutMs ?? 15000;
      await withDeadline(this.first.promise, timeoutMs, async () => {
        const state = await (page.evaluate('window.recorderState') as Promise<{ error?: string }>).catch(() => undefined);
        return new AppError('PAGE_FAILED', `recorder page sent no media within ${timeoutMs / 1000} s${state?.error ? `: ${state.error}` : ''}`);
      });
      if (this.joinError) throw this.joinError;
      this.phase = 'recording';
      this.lastChunkAt = Date.now();
      this.timers.push(setInterval(() => this.watch(), 500));
      const state = (await page.evaluate('({ ...window.recorderState, timeOrigin: performance.timeOrigin })')) as {
        mimeType: string;
        marks: Record<string, number>;
        timeOrigin: number;
      };
      // the recording's own clock starts when MediaRecorder started, in the page
      if (state.marks.capture) this.startedAt = new Date(state.timeOrigin + state.marks.capture);
      if (req.maxDurationSeconds) {
        // counted from when MediaRecorder started, so the file is as long as asked
        const left = req.maxDurationSeconds * 1000 - (Date.now() - this.startedAt.getTime());
        this.timers.push(setTimeout(() => void this.stop('max_duration'), Math.max(0, left)));
      }
      log.info(
        { room: req.roomName, mimeType: state.mimeType, pageReadyMs, startedMs, firstChunkMs: Date.now() - requestedAt, pageMarks: state.marks },
        'recording',
      );
    } catch (err) {
      const error = toAppError(err, 'PAGE_FAILED');
      this.first.reject(error);
      await this.release();
      await fs.rm(this.spool?.path ?? '', { force: true }).catch(() => undefined);
      this.finished.reject(error);
      throw error;
    }
  }

  /**
   * A custom layout page: opened with the launch parameters a layout needs (never the ingest
   * URL, which carries the secret), then, once it said START_RECORDING, given the
   * tab-capture script that records it. END_RECORDING from it ends the recording.
   */
  private async openLayoutPage(layoutUrl: string, token: string): Promise<RecorderPage> {
    const { deps, req } = this;
    const o = req.options;
    const target = new URL(layoutUrl);
    const launch = { url: deps.livekit.url, token, layout: o.layout, width: String(o.width), height: String(o.height), fps: String(o.fps) };
    for (const [k, v] of Object.entries(launch)) target.searchParams.set(k, v);
    const ready = deferred<void>();
    const onConsole = (m: ConsoleMessage) => {
      const text = m.text();
      if (text === 'START_RECORDING') ready.resolve();
      else if (text === 'END_RECORDING') {
        deps.log.info({ reason: 'END_RECORDING' }, 'the layout page ended the recording');
        void this.stop('room_ended');
      }
    };
    let opened: RecorderPage;
    try {
      opened = await deps.pool.openUrlPage(target.toString(), { width: o.width, height: o.height }, (page) => page.on('console', onConsole));
    } catch (err) {
      throw new AppError('LAYOUT_PAGE_FAILED', `cannot load the custom layout page ${target.origin}${target.pathname}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const timeoutMs = deps.firstChunkTimeoutMs ?? 15000;
      await withDeadline(ready.promise, timeoutMs, () => new AppError('LAYOUT_PAGE_FAILED', `the custom layout page did not say START_RECORDING within ${timeoutMs / 1000} s`));
      await opened.page.addScriptTag({ content: await fs.readFile(path.join(bundledPageDir(), 'tab-capture.js'), 'utf8') });
      return opened;
    } catch (err) {
      await opened.close();
      throw err;
    }
  }

  progress(): RecordingProgress {
    return {
      elapsedMs: Date.now() - this.startedAt.getTime(),
      bytes: this.spool?.bytes ?? 0,
      chunks: this.spool?.chunks ?? 0,
      participants: this.stats.participants,
      fps: this.stats.fps,
      videoInputs: this.stats.videoInputs,
    };
  }

  onProgress(listener: (p: RecordingProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(reason: RecordingEndReason = 'stopped'): Promise<RecordingResult> {
    this.stopping ??= this.finish(reason);
    return this.stopping;
  }

  /** Ends the recording because of a fault, keeping what reached the spool. */
  private fail(error: AppError): Promise<RecordingResult> {
    if (this.phase === 'done' || this.stopping) return this.stopping ?? this.done;
    this.failure = error;
    this.deps.log.error({ code: error.code, err: error.message }, 'recording failed');
    return this.stop('failed');
  }

  private async finish(reason: RecordingEndReason): Promise<RecordingResult> {
    const { deps, req } = this;
    if (this.phase === 'starting') await this.first.promise.catch(() => undefined);
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
      const output = await this.finalizeOutput();
      const result: RecordingResult = {
        id: req.id,
        path: req.outputPath,
        format: req.options.format,
        size: output.size,
        durationMs: output.durationMs,
        spoolPath: this.spool!.path,
        startedAt: this.startedAt,
        endedAt,
        endReason: reason,
        error: this.failure ? { code: this.failure.code, message: this.failure.message } : undefined,
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
    const page = this.page?.page;
    if (!page || page.isClosed()) throw new Error('page is gone');
    await withDeadline(page.evaluate('window.recorder.stop()'), 10000, () => new Error('page did not flush within 10 s'));
    // the page resolves after our last ack, so the end marker has been handled too
    await Promise.race([this.endSeen.promise, new Promise((r) => setTimeout(r, 2000))]);
  }

  /** FFmpeg's live output when it survived; otherwise a remux of the spool. */
  private async finalizeOutput(): Promise<{ size: number; durationMs: number }> {
    const { deps, req } = this;
    if (!this.spool || this.spool.bytes === 0) {
      throw new AppError('RECORDING_EMPTY', 'no media arrived from the recorder page');
    }
    let live = false;
    if (this.sink) {
      try {
        await this.sink.end();
        live = true;
      } catch (err) {
        deps.log.warn({ err: (err as Error).message }, 'live FFmpeg failed; remuxing the spool');
      }
    }
    if (!live) {
      await remuxFile(deps.ffmpegPath, this.spool.path, req.outputPath, this.spec ?? { format: req.options.format, videoCodec: 'unknown' });
    }
    const info = await probe(deps.ffprobePath, req.outputPath);
    return { size: info.size, durationMs: info.durationMs };
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
        void this.fail(toAppError(err));
        return this.sequencer.expected - 1 - ready.length;
      }
      this.sink?.write(chunk);
      this.lastChunkAt = Date.now();
      this.first.resolve();
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
      case 'stats':
        this.stats = { fps: msg.fps, participants: msg.participants, videoInputs: msg.videoInputs ?? [] };
        for (const l of this.listeners) l(this.progress());
        break;
      case 'end':
        this.lastSeq = msg.lastSeq;
        if (this.sequencer.expected > msg.lastSeq) this.endSeen.resolve();
        break;
      case 'error': {
        const error = new AppError('ROOM_CONNECTION_FAILED', `recording ended early: ${msg.message}`);
        if (this.phase === 'starting') {
          this.joinError = error;
          this.first.reject(error);
        } else void this.fail(error);
        break;
      }
      case 'disconnected':
        this.deps.log.info({ reason: msg.reason }, 'recorder left the room');
        void this.stop('room_ended');
        break;
      case 'joined':
        this.stats.participants = msg.participants;
        this.deps.log.info({ participants: msg.participants, sinceStartMs: Date.now() - this.startedAt.getTime(), pageMarks: msg.marks }, 'joined the room');
        break;
      case 'firstVideo':
        this.deps.log.info({ identity: msg.identity, sinceStartMs: Date.now() - this.startedAt.getTime() }, 'first video frame drawn');
        break;
    }
  }

  /** Watchdog: chunks must keep arriving; FFmpeg dying only costs a remux at the end. */
  private watch(): void {
    if (this.phase !== 'recording') return;
    const silentMs = Date.now() - this.lastChunkAt;
    if (silentMs > this.deps.stallSeconds * 1000) {
      void this.fail(new AppError('INGEST_STALLED', `no media from the recorder page for ${Math.round(silentMs / 1000)} s`));
    }
  }

  ffmpegPid(): number | undefined {
    return this.sink?.pid;
  }
}
