import { streamOutputsOf, type RecordingOutput, type StreamOutput } from '../recordings/outputs';
import type { StreamInfo } from '../recordings/streams';
import type { OutputSpec } from './ffmpeg-sink';
import type { Logger } from './logger';
import { StreamDestination } from './stream-output';
import { WebmRestartPoint } from './stream-webm';

const keyOf = (o: StreamOutput) => `${o.type} ${o.url}`;

/**
 * The stream destinations of one recording (rtmp, srt outputs), each its own FFmpeg
 * (stream-output.ts), all fed the chunks the file gets, after the file: nothing here can hold
 * the file back. A live change names the streams wanted (apply): new ones start from the
 * latest keyframe, removed ones end and stay listed as ENDED. Every change of a destination's
 * state goes to the listeners, the whole list (what the recording's view shows).
 */
export class SessionStreams {
  private readonly restart = new WebmRestartPoint();
  private wanted: StreamOutput[];
  private spec?: OutputSpec;
  /** Every destination of the recording, in the order added: running ones and those that ended. */
  private readonly all: StreamDestination[] = [];
  private readonly running = new Map<string, StreamDestination>();
  private readonly listeners = new Set<(streams: StreamInfo[]) => void>();

  constructor(
    private readonly deps: { ffmpegPath: string; log: Logger },
    outputs: StreamOutput[],
  ) {
    this.wanted = outputs;
  }

  /** FFmpeg's input is known (the page's hello): the destinations wanted start with the first keyframe. */
  start(spec: OutputSpec): void {
    this.spec = spec;
    this.reconcile();
  }

  /** The next chunk of the page's stream, already in the spool and FFmpeg's file input. */
  write(chunk: Uint8Array): void {
    this.restart.push(chunk);
    for (const d of this.running.values()) d.feed(chunk);
  }

  /** The streams a live change asks for: those not running start, those no longer named end. */
  async apply(outputs: RecordingOutput[] | undefined): Promise<void> {
    this.wanted = streamOutputsOf(outputs);
    await this.reconcile();
  }

  infos(): StreamInfo[] {
    return this.all.map((d) => ({ ...d.info }));
  }

  subscribe(listener: (streams: StreamInfo[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The recording ended: every destination's FFmpeg gets the end of its input and closes. */
  async end(): Promise<void> {
    this.wanted = [];
    await this.reconcile();
  }

  kill(): void {
    for (const d of this.running.values()) d.kill();
    this.running.clear();
  }

  pids(): number[] {
    return [...this.running.values()].flatMap((d) => (d.pid ? [d.pid] : []));
  }

  private async reconcile(): Promise<void> {
    const keys = new Set(this.wanted.map(keyOf));
    const gone = [...this.running].filter(([key]) => !keys.has(key));
    for (const [key] of gone) this.running.delete(key);
    if (this.spec) {
      for (const output of this.wanted) {
        if (this.running.has(keyOf(output))) continue;
        const d = new StreamDestination(output, { ffmpegPath: this.deps.ffmpegPath, spec: this.spec, restart: this.restart, log: this.deps.log, onChange: () => this.changed() });
        this.all.push(d);
        this.running.set(keyOf(output), d);
      }
      if (this.wanted.length) this.changed();
    }
    await Promise.all(gone.map(([, d]) => d.end()));
  }

  private changed(): void {
    const streams = this.infos();
    for (const l of this.listeners) l(streams);
  }
}
