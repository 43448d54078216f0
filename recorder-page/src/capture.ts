import { chunkHeader, FLAG_LAST, type PageMessage, type ServerMessage, type TimelineMessage } from './protocol';

const MAX_HELD_EVENTS = 1000;

export interface CaptureOptions {
  ingestUrl: string;
  mimeTypes: string[];
  timesliceMs: number;
  videoBitsPerSecond?: number;
  audioBitsPerSecond?: number;
  /** A keyframe at least this often (an HLS output cuts its segments at keyframes). */
  keyframeIntervalMs?: number;
}

/**
 * MediaRecorder -> WebSocket. Every chunk gets a sequence number and stays in memory
 * until the worker acknowledges it (it acks after writing the spool), so a dropped
 * socket loses nothing: we reconnect and resend what is unacknowledged.
 */
export class Capture {
  readonly mimeType: string;
  private readonly recorder: MediaRecorder;
  private socket?: WebSocket;
  private readonly unacked = new Map<number, Blob>();
  private nextSeq = 0;
  private lastSeq = -1;
  private finished = false;
  private closed = false;
  private onAllAcked?: () => void;
  private retryMs = 100;
  private started?: PageMessage;
  /** Timeline events said while the socket was down, sent on the next connection (bounded). */
  private readonly heldEvents: TimelineMessage[] = [];
  bytes = 0;
  onFirstData?: () => void;

  constructor(
    stream: MediaStream,
    private readonly opts: CaptureOptions,
    private readonly describe: () => PageMessage,
  ) {
    const mimeType = opts.mimeTypes.find((t) => MediaRecorder.isTypeSupported(t));
    if (!mimeType) throw new Error(`none of ${opts.mimeTypes.join(', ')} is supported by MediaRecorder`);
    this.mimeType = mimeType;
    // videoKeyFrameIntervalDuration: Chromium's MediaRecorder option (not yet in TypeScript's DOM types)
    const options: MediaRecorderOptions & { videoKeyFrameIntervalDuration?: number } = {
      mimeType,
      videoBitsPerSecond: opts.videoBitsPerSecond,
      audioBitsPerSecond: opts.audioBitsPerSecond,
      ...(opts.keyframeIntervalMs ? { videoKeyFrameIntervalDuration: opts.keyframeIntervalMs } : {}),
    };
    this.recorder = new MediaRecorder(stream, options);
    this.recorder.ondataavailable = (e) => this.enqueue(e.data);
    this.recorder.onerror = (e) => this.send({ type: 'error', message: `MediaRecorder: ${String((e as ErrorEvent).message ?? e)}` });
  }

  /** Opens the ingest socket (and says hello) ahead of the encoder, so the worker's FFmpeg is up by the first chunk. */
  open(): void {
    if (!this.socket) this.connect();
  }

  /** Starts the encoder: the file's time 0. */
  start(): void {
    this.open();
    this.recorder.start(this.opts.timesliceMs);
    // The first timeslice would hold the first chunk back a whole second; ask for it
    // as soon as the encoder has something, so the worker knows at once that media flows.
    const poll = setInterval(() => {
      if (this.nextSeq > 0 || this.recorder.state !== 'recording') clearInterval(poll);
      else this.recorder.requestData();
    }, 50);
  }

  /**
   * Pauses the encoder: nothing is encoded until resume(), and Chromium's muxer takes the
   * paused time out of the timestamps, so the file continues at the seam without a gap or a
   * frozen frame (measured on the file: no frame and no sample of the pause). What was encoded
   * before goes to the worker now rather than with the next timeslice.
   */
  pause(): void {
    if (this.recorder.state !== 'recording') return;
    this.recorder.pause();
    this.recorder.requestData();
  }

  resume(): void {
    if (this.recorder.state === 'paused') this.recorder.resume();
  }

  /** Flushes the last chunk, tells the worker which one was last, and waits for its ack. */
  stop(): Promise<void> {
    if (this.finished) return Promise.resolve();
    this.finished = true;
    if (this.recorder.state === 'inactive') {
      // never started (the start was given up): there is nothing to flush
      this.closed = true;
      this.socket?.close(1000, 'done');
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.recorder.onstop = () => {
        this.lastSeq = this.nextSeq - 1;
        this.send({ type: 'end', lastSeq: this.lastSeq });
        this.onAllAcked = resolve;
        this.maybeDone();
      };
      this.recorder.stop();
    });
  }

  sendStats(msg: PageMessage): void {
    this.send(msg);
  }

  /** Tells the worker the encoder's start (the file's time 0), ahead of any chunk, on every connection. */
  announceStart(msg: Extract<PageMessage, { type: 'started' }>): void {
    this.started = msg;
    this.send(msg);
  }

  /** A timeline event: unlike stats, one said during a reconnect is kept and sent once the socket is back. */
  sendEvent(msg: TimelineMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(msg));
    else if (this.heldEvents.length < MAX_HELD_EVENTS) this.heldEvents.push(msg);
  }

  get pending(): number {
    return this.unacked.size;
  }

  private enqueue(data: Blob): void {
    if (data.size === 0) return;
    if (this.nextSeq === 0) this.onFirstData?.();
    const seq = this.nextSeq++;
    const frame = new Blob([chunkHeader(seq, this.recorder.state === 'inactive' ? FLAG_LAST : 0), data]);
    this.bytes += data.size;
    this.unacked.set(seq, frame);
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(frame);
  }

  private connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.opts.ingestUrl);
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    ws.onopen = () => {
      this.retryMs = 100;
      ws.send(JSON.stringify(this.describe()));
      if (this.started) ws.send(JSON.stringify(this.started));
      for (const msg of this.heldEvents.splice(0)) ws.send(JSON.stringify(msg));
      // after a reconnect, resend in order whatever the worker has not confirmed
      for (const seq of [...this.unacked.keys()].sort((a, b) => a - b)) ws.send(this.unacked.get(seq)!);
      if (this.finished && this.lastSeq >= 0) ws.send(JSON.stringify({ type: 'end', lastSeq: this.lastSeq } satisfies PageMessage));
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      const msg = JSON.parse(e.data) as ServerMessage;
      if (msg.type === 'ack') {
        for (const seq of this.unacked.keys()) if (seq <= msg.seq) this.unacked.delete(seq);
        this.maybeDone();
      }
    };
    ws.onclose = () => {
      if (this.closed) return;
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 2000);
    };
  }

  private maybeDone(): void {
    if (!this.onAllAcked || this.unacked.size > 0) return;
    const done = this.onAllAcked;
    this.onAllAcked = undefined;
    this.closed = true;
    this.socket?.close(1000, 'done');
    done();
  }

  private send(msg: PageMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(msg));
  }
}
