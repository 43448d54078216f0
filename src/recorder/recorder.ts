import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppError } from '../errors';
import { assertValidRoomName, checkLivekit, type LivekitCredentials } from '../livekit/tokens';
import { checkIdentifier } from '../recordings/identifiers';
import { BrowserPool } from './browser-pool';
import type { HlsOutputTarget } from './hls-output';
import { IngestServer } from './ingest-server';
import { silentLogger, type Logger } from './logger';
import { salvageRecording } from './salvage';
import { RecordingSession } from './session';
import { bundledPageDir } from './static-files';
import type { Config } from '../config';
import type { SalvagedFile } from '../recordings/ports';
import type { LiveRecording, RecordingRequest } from '../recordings/contract';

/** The recorder's part of the configuration (src/config.ts), plus where the page bundle is. */
export type RecorderSettings = Pick<
  Config['recorder'],
  | 'chromiumPath'
  | 'chromiumExtraArgs'
  | 'browserSessionNice'
  | 'ffmpegPath'
  | 'ffprobePath'
  | 'warmBrowsers'
  | 'standbyPages'
  | 'ingestHost'
  | 'ingestPort'
  | 'ingestStallSeconds'
  | 'maxPauseSeconds'
  | 'presenceWaitMs'
  | 'spoolDir'
> & {
  /** How late audio lands after video in the browser's output (ms); cancelled at the remux. */
  avOffsetMs?: number;
  /** Hosts streams may go to (RECORDER_STREAM_ALLOWED): where any, a stream may be added to any recording. */
  streamAllowed?: readonly string[];
  /** The bundled recorder page; defaults to recorder-page/dist of this package. */
  pageDir?: string;
};

/**
 * A worker's recording engine: a pool of warm browsers, one ingest server, and the live
 * sessions. `close()` stops every live recording (keeping its media) and releases all.
 * How many run at once is not decided here: the runner admits a recording
 * (recordings/capacity.ts, RECORDER_MAX_CONCURRENT and the CPU budget) before it opens one.
 */
export class Recorder {
  private readonly sessions = new Map<string, RecordingSession>();
  private closed = false;
  private livekitCheckedAt = 0;

  private constructor(
    private readonly settings: RecorderSettings,
    private readonly livekit: LivekitCredentials,
    readonly pool: BrowserPool,
    readonly ingest: IngestServer,
    private readonly log: Logger,
    private readonly hls?: HlsOutputTarget,
  ) {}

  /** `hls`: the storage HLS outputs, and on S3/GCS the spool, go to during the call (the one post-processing stores the file in). */
  static async create(settings: RecorderSettings, livekit: LivekitCredentials, log: Logger = silentLogger, hls?: HlsOutputTarget): Promise<Recorder> {
    await assertFfmpeg(settings.ffmpegPath, settings.ffprobePath);
    const pool = new BrowserPool(
      { chromiumPath: settings.chromiumPath, extraArgs: settings.chromiumExtraArgs, sessionNice: settings.browserSessionNice, warmBrowsers: settings.warmBrowsers, standbyPages: settings.standbyPages },
      log.child({ component: 'browser' }),
    );
    const ingest = new IngestServer(settings.pageDir ?? bundledPageDir(), log.child({ component: 'ingest' }));
    await ingest.listen(settings.ingestHost, settings.ingestPort);
    try {
      await pool.start(ingest.pageUrl('index.html'));
    } catch (err) {
      await ingest.close();
      throw err;
    }
    return new Recorder(settings, livekit, pool, ingest, log, hls);
  }

  get activeCount(): number {
    return this.sessions.size;
  }

  /** Starts a recording and resolves once its first media chunk is on disk. */
  async start(req: RecordingRequest): Promise<LiveRecording> {
    const live = await this.open(req);
    try {
      await live.firstChunk;
    } catch (err) {
      // a start that failed has released everything once done settles
      await live.done.catch(() => undefined);
      throw err;
    }
    return live;
  }

  /**
   * Starts a recording and returns it at once, while its page joins (RecorderPort.open):
   * `firstChunk` resolves when media flows, `done` rejects if it never does, and stop()
   * before that gives the start up (RECORDING_ABORTED).
   */
  async open(req: RecordingRequest): Promise<LiveRecording> {
    if (this.closed) throw new AppError('NO_CAPACITY', 'this worker is shutting down');
    assertValidRoomName(req.roomName);
    // the id names the spool file and the ingest URL's path
    checkIdentifier('storageSegment', req.id, 'recording id');
    if (this.sessions.has(req.id)) throw new AppError('RECORDING_ALREADY_ACTIVE', `recording ${req.id} is already running here`);
    await this.checkLivekit();
    const session = new RecordingSession(
      {
        livekit: this.livekit,
        pool: this.pool,
        ingest: this.ingest,
        log: this.log.child({ recordingId: req.id }),
        ffmpegPath: this.settings.ffmpegPath,
        ffprobePath: this.settings.ffprobePath,
        spoolDir: this.settings.spoolDir,
        stallSeconds: this.settings.ingestStallSeconds,
        maxPauseSeconds: this.settings.maxPauseSeconds,
        audioShiftMs: -(this.settings.avOffsetMs ?? 0),
        presenceWaitMs: this.settings.presenceWaitMs,
        streamsMayBeAdded: (this.settings.streamAllowed?.length ?? 0) > 0,
        ...(this.hls ? { hls: this.hls } : {}),
      },
      req,
    );
    this.sessions.set(req.id, session);
    session.done.then(
      () => this.sessions.delete(req.id),
      () => this.sessions.delete(req.id),
    );
    session.begin().catch(() => undefined); // its outcome is in firstChunk and done
    return session;
  }

  /**
   * LiveKit answers and takes our key: checked at most every few seconds, so a burst of
   * starts does not pay a round trip each (a failure is never cached).
   */
  private async checkLivekit(): Promise<void> {
    if (Date.now() - this.livekitCheckedAt < 5000) return;
    await checkLivekit(this.livekit);
    this.livekitCheckedAt = Date.now();
  }

  /**
   * Restart recovery (RecorderPort.salvage): remuxes the spool a dead worker left for
   * `req` into `req.outputPath`; null when nothing usable is left. Never for a live one.
   */
  async salvage(req: RecordingRequest): Promise<SalvagedFile | null> {
    if (this.sessions.has(req.id)) return null;
    return salvageRecording({ ...this.settings, log: this.log.child({ recordingId: req.id }) }, req, this.hls);
  }

  activeIds(): string[] {
    return [...this.sessions.keys()];
  }

  get(id: string): LiveRecording | undefined {
    return this.sessions.get(id);
  }

  /** Stops every live recording (their files are finished, not dropped), then closes browsers and sockets. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.sessions.values()].map((s) => s.stop('shutdown')));
    await Promise.allSettled([this.pool.close(), this.ingest.close()]);
  }
}

const run = promisify(execFile);

async function assertFfmpeg(ffmpegPath: string, ffprobePath: string): Promise<void> {
  for (const [bin, setting] of [
    [ffmpegPath, 'FFMPEG_PATH'],
    [ffprobePath, 'FFPROBE_PATH'],
  ] as const) {
    try {
      await run(bin, ['-version']);
    } catch {
      throw new AppError('FFMPEG_NOT_FOUND', `${path.basename(bin)} not found at "${bin}": install FFmpeg (scripts/bootstrap) or set ${setting}`);
    }
  }
}
