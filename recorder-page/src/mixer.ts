import type { AudioSide } from './audio-routing';

/**
 * Mixes every remote audio track into one output track with WebAudio: on both channels, or
 * each input on one side (dual-channel: a merger takes each input down to mono on its channel).
 * A silent source is always connected so the output track carries samples (and time)
 * from the first moment, even in an empty room.
 */
export class Mixer {
  readonly context: AudioContext;
  readonly track: MediaStreamTrack;
  private readonly destination: MediaStreamAudioDestinationNode;
  private readonly inputs = new Map<string, { source: MediaStreamAudioSourceNode; sink: HTMLAudioElement; meter: AnalyserNode }>();
  private readonly samples = new Float32Array(1024);
  private merger?: ChannelMergerNode;

  constructor() {
    // sinkId 'none': the mix is only recorded, never played, so no audio output device
    // (and no audio-service stream) runs for it
    this.context = new AudioContext({ sampleRate: 48000, latencyHint: 'playback', sinkId: { type: 'none' } } as AudioContextOptions);
    this.destination = this.context.createMediaStreamDestination();
    const silence = this.context.createConstantSource();
    const mute = this.context.createGain();
    mute.gain.value = 0;
    silence.connect(mute).connect(this.destination);
    silence.start();
    this.track = this.destination.stream.getAudioTracks()[0];
  }

  async resume(): Promise<void> {
    if (this.context.state !== 'running') await this.context.resume();
  }

  /** Called before any input is added when inputs go to one side each. */
  splitChannels(): void {
    if (this.merger) return;
    this.merger = this.context.createChannelMerger(2);
    this.merger.connect(this.destination);
  }

  add(id: string, track: MediaStreamTrack, side: AudioSide = 'both'): void {
    this.remove(id);
    const stream = new MediaStream([track]);
    // Chromium only pulls a remote WebRTC track's samples into WebAudio while some media
    // element plays it; a muted element does that without sound.
    const sink = new Audio();
    sink.muted = true;
    sink.srcObject = stream;
    void sink.play().catch(() => undefined);
    const source = this.context.createMediaStreamSource(stream);
    if (side === 'both' || !this.merger) source.connect(this.destination);
    else source.connect(this.merger, 0, side === 'left' ? 0 : 1);
    // read by loudness(); an analyser is pulled by the graph without an output of its own
    const meter = this.context.createAnalyser();
    meter.fftSize = this.samples.length;
    source.connect(meter);
    this.inputs.set(id, { source, sink, meter });
  }

  remove(id: string): void {
    const input = this.inputs.get(id);
    if (!input) return;
    input.source.disconnect();
    input.sink.srcObject = null;
    this.inputs.delete(id);
  }

  /**
   * One input alone, from the graph the mix is made in: a track recorded apart (track-recorders.ts)
   * then has the mix's latency, so it lines up with the composite's audio. Undefined when `id` is not mixed.
   */
  tap(id: string): { track: MediaStreamTrack; close: () => void } | undefined {
    const input = this.inputs.get(id);
    if (!input) return undefined;
    const out = this.context.createMediaStreamDestination();
    input.source.connect(out);
    return { track: out.stream.getAudioTracks()[0], close: () => input.source.disconnect(out) };
  }

  has(id: string): boolean {
    return this.inputs.has(id);
  }

  /** Each input's loudness now (RMS over the last 21 ms, 0 to 1), by the id it was added with. */
  loudness(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, { meter }] of this.inputs) {
      meter.getFloatTimeDomainData(this.samples);
      let sum = 0;
      for (const x of this.samples) sum += x * x;
      out.set(id, Math.sqrt(sum / this.samples.length));
    }
    return out;
  }

  get size(): number {
    return this.inputs.size;
  }

  async close(): Promise<void> {
    for (const id of [...this.inputs.keys()]) this.remove(id);
    await this.context.close();
  }
}
