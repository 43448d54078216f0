import { Capture } from './capture';
import type { PageOverlays } from './overlay-spec';
import type { ParticipantsFilter } from './recorded-set';

/**
 * What the worker drives in a recording page (the recorder page, or a custom layout page
 * with tab-capture.js in it): window.recorder.start(query) / stop(), window.recorderState.
 */
export interface RecorderState {
  phase: 'standby' | 'starting' | 'recording' | 'stopping' | 'stopped' | 'failed';
  joined: boolean;
  error?: string;
  mimeType?: string;
  /** performance.now() marks of the start-up, for latency measurements. */
  marks: Record<string, number>;
}

/** A live change from the worker (recorder/session-live-change.ts). */
export interface LiveChange {
  layout: string;
  theme: string;
  participants: ParticipantsFilter;
  /** The whole set, images as data: URLs; null: none; absent: unchanged. */
  overlays?: PageOverlays | null;
}

declare global {
  interface Window {
    recorderState: RecorderState;
    recorder: { start(query: string): Promise<void>; stop(): Promise<void>; update(change: LiveChange): Promise<void>; pause(): number; resume(): number };
  }
}

export function newState(joined: boolean): { state: RecorderState; mark: (name: string) => void } {
  const state: RecorderState = { phase: 'standby', joined, marks: { script: performance.now() } };
  return { state, mark: (name) => void (state.marks[name] = performance.now()) };
}

/**
 * Publishes the page's interface; a start that throws leaves the state 'failed' with its error.
 * Pause and resume are the encoder's (`capture()`: the recording's, once it started), whichever the picture source.
 */
export function exposeRecorder(
  state: RecorderState,
  start: (query: string) => Promise<void>,
  stop: () => Promise<void>,
  update: (change: LiveChange) => Promise<void>,
  capture: () => Pick<Capture, 'pause' | 'resume'> | undefined,
): void {
  const recording = () => {
    const c = capture();
    if (!c || state.phase !== 'recording') throw new Error(`the recorder is ${state.phase}, not recording`);
    return c;
  };
  window.recorderState = state;
  window.recorder = {
    start: (query) =>
      start(query).catch((err: Error) => {
        state.phase = 'failed';
        state.error = err.message;
        throw err;
      }),
    stop,
    update,
    // the wall-clock instant the encoder paused or resumed: where the file's seam is, which a
    // loaded machine's command reaches a few hundred ms after the API stamped it
    pause: () => (recording().pause(), performance.timeOrigin + performance.now()),
    resume: () => (recording().resume(), performance.timeOrigin + performance.now()),
  };
}

// The codec the worker asks for (`codec`, from its table of formats) first, the other if this browser has no encoder for it.
const H264 = ['video/webm;codecs=h264,opus', 'video/webm;codecs=avc1,opus'];
const VPX = ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus'];

/** standby -> starting, and what every picture source needs of the launch query. */
export function beginStart(state: RecorderState, mark: (name: string) => void, query: string): { q: URLSearchParams; width: number; height: number; fps: number } {
  if (state.phase !== 'standby') throw new Error(`the recorder is ${state.phase}, not standby`);
  state.phase = 'starting';
  mark('start');
  const q = new URLSearchParams(query);
  return { q, width: queryNumber(q, 'width', 1280), height: queryNumber(q, 'height', 720), fps: queryNumber(q, 'fps', 30) };
}

/** Reads a number of the launch query, or `fallback`. */
export function queryNumber(q: URLSearchParams, key: string, fallback: number): number {
  return q.get(key) ? Number(q.get(key)) : fallback;
}

/** MediaRecorder -> ingest for `stream`, configured by the launch query (ingest codec timeslice vbr abr keyframeMs). */
export function captureFromQuery(stream: MediaStream, q: URLSearchParams, size: { width: number; height: number; fps: number }): Capture {
  const capture: Capture = new Capture(
    stream,
    {
      ingestUrl: q.get('ingest') ?? '',
      mimeTypes: q.get('codec') === 'vp8' ? [...VPX, ...H264] : [...H264, ...VPX],
      timesliceMs: queryNumber(q, 'timeslice', 1000),
      videoBitsPerSecond: q.get('vbr') ? Number(q.get('vbr')) : undefined,
      audioBitsPerSecond: q.get('abr') ? Number(q.get('abr')) : undefined,
      keyframeIntervalMs: q.get('keyframeMs') ? Number(q.get('keyframeMs')) : undefined,
    },
    () => ({ type: 'hello', mimeType: capture.mimeType, ...size }),
  );
  return capture;
}
