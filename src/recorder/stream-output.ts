import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { exponentialBackoff } from '../recordings/failure-policy';
import type { StreamOutput } from '../recordings/outputs';
import { redactStreamUrl, scrubStreamUrl, type StreamInfo } from '../recordings/streams';
import { streamArgs, type OutputSpec } from './ffmpeg-sink';
import { containerFormat } from '../recordings/formats';
import type { Logger } from './logger';
import type { WebmRestartPoint } from './stream-webm';

/** The wait before attempt n+1 after n failures in a row: 1 s doubled, at most 30 s (failure-policy.ts's backoff). */
export const STREAM_RETRY = { baseMs: 1000, maxMs: 30_000 } as const;
/** Bytes queued for an FFmpeg that does not take them (a destination too slow): past this it is restarted at a later keyframe. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** What FFmpeg says once its output is open (connected): the destination takes the stream. */
const CONNECTED = /^Output #0\b/;
/** Failures another attempt cannot mend: this FFmpeg cannot speak the protocol, or is not there. */
const FINAL = /Protocol not found|Unknown protocol|ENOENT/i;

/**
 * The FFmpeg arguments of a stream: the page's WebM on stdin, out as FLV (RTMP) or MPEG-TS
 * (SRT) with the streams MP4 takes (the page's H.264 copied, Opus made AAC, the A/V offset
 * cancelled as in the file).
 */
export function streamOutputArgs(output: StreamOutput, spec: OutputSpec): string[] {
  const muxer = output.type === 'rtmp' ? ['-f', 'flv', '-flvflags', 'no_duration_filesize'] : ['-f', 'mpegts'];
  return ['-hide_banner', '-nostats', '-nostdin', '-fflags', '+genpts', '-f', 'webm', '-i', 'pipe:0', ...streamArgs(containerFormat('mp4'), spec), ...muxer, output.url];
}

/**
 * One stream destination of a live recording: an FFmpeg fed the page's chunks. It never
 * holds the file back: a write goes to FFmpeg's pipe or, when that is backed up, the
 * destination is dropped and restarted. A drop (FFmpeg exits, the destination is too slow)
 * is retried after a backoff, from the WebM header and the latest keyframe (stream-webm.ts),
 * at the first chunk after the wait. `info` is what the view shows; `onChange` hears each change of it.
 */
export class StreamDestination {
  readonly info: StreamInfo;
  private child?: ChildProcessWithoutNullStreams;
  private failures = 0;
  /** When the next attempt may start (0: at the next chunk); undefined while one runs or once ended. */
  private dueAt?: number = 0;
  private timer?: NodeJS.Timeout;
  private ended = false;
  private exited?: Promise<void>;

  constructor(
    readonly output: StreamOutput,
    private readonly deps: { ffmpegPath: string; spec: OutputSpec; restart: WebmRestartPoint; log: Logger; onChange: () => void },
  ) {
    this.info = { type: output.type, url: redactStreamUrl(output.url), status: 'STARTING', startedAt: null, endedAt: null, retries: 0, lastError: null, lastRetryAt: null };
  }

  /** The next chunk of the stream, already pushed to the restart point (which a new FFmpeg starts from). */
  feed(chunk: Uint8Array): void {
    if (this.ended) return;
    if (!this.child) {
      if (this.dueAt === undefined || Date.now() < this.dueAt) return;
      const first = this.deps.restart.restartBytes();
      if (!first) return; // no keyframe seen yet: the next chunk may have one
      this.launch();
      this.send(first);
      return;
    }
    this.send(chunk);
  }

  private send(bytes: Uint8Array): void {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return;
    if (stdin.writableLength > MAX_QUEUED_BYTES) {
      this.drop('the destination does not take the stream as fast as it is made');
      return;
    }
    stdin.write(bytes);
  }

  private launch(): void {
    const { ffmpegPath, spec, log } = this.deps;
    this.dueAt = undefined;
    const child = spawn(ffmpegPath, streamOutputArgs(this.output, spec), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let tail = '';
    let stderr = '';
    child.stdin.on('error', () => undefined);
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
      const lines = stderr.split(/\r?\n|\r/);
      stderr = lines.pop() ?? '';
      for (const line of lines) {
        if (CONNECTED.test(line) && this.child === child) this.connected();
        // FFmpeg's last words are 'Conversion failed!': the line before says why
        if (line.trim() && !line.startsWith(' ') && !/^Conversion failed/.test(line)) tail = line.trim();
      }
    });
    this.exited = new Promise<void>((resolve) => {
      const done = (error: string) => {
        if (this.child === child) {
          this.child = undefined;
          if (!this.ended) this.failed(scrubStreamUrl(error, this.output.url).slice(0, 300));
        }
        resolve();
      };
      child.on('error', (err) => done(err.message));
      child.on('close', (code, signal) => done(tail || `FFmpeg exited (${signal ?? code})`));
    });
    log.info({ url: this.info.url, attempt: this.info.retries + 1 }, 'stream starting');
  }

  private connected(): void {
    this.failures = 0;
    this.info.status = 'ACTIVE';
    this.info.startedAt ??= new Date().toISOString();
    this.deps.log.info({ url: this.info.url }, 'stream active');
    this.deps.onChange();
  }

  /** The destination is dropped now (too slow) and retried like a failure. */
  private drop(why: string): void {
    const child = this.child;
    this.child = undefined;
    child?.kill('SIGKILL');
    this.failed(why);
  }

  private failed(error: string): void {
    this.failures++;
    this.info.lastError = error;
    this.info.lastRetryAt = new Date().toISOString();
    if (FINAL.test(error)) {
      this.info.status = 'FAILED';
      this.ended = true;
      this.deps.log.warn({ url: this.info.url, error }, 'stream failed: not retried');
    } else {
      const waitMs = exponentialBackoff(this.failures, STREAM_RETRY);
      this.info.status = 'RETRYING';
      this.info.retries++;
      this.dueAt = Date.now() + waitMs;
      this.deps.log.warn({ url: this.info.url, error, retryInMs: waitMs }, 'stream dropped: retrying');
    }
    this.deps.onChange();
  }

  /** Ends the stream (the recording ended, or the destination was removed): FFmpeg's input closed, and it is ended after `ms`. */
  async end(ms = 5000): Promise<void> {
    if (this.ended && !this.child) return;
    this.ended = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (child) {
      child.stdin.end();
      this.timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await this.exited;
      clearTimeout(this.timer);
    }
    if (this.info.status !== 'FAILED') this.info.status = 'ENDED';
    this.info.endedAt = new Date().toISOString();
    this.deps.onChange();
  }

  /** Ends FFmpeg at once (the session is being torn down). */
  kill(): void {
    this.ended = true;
    this.child?.kill('SIGKILL');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }
}
