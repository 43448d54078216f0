import type { RecordingProgress } from './contract';
import type { RecordingThumbnail } from './ports';
import type { RecordingStatus } from './status';

/** The in-process event bus of the recordings domain; outgoing webhooks and metrics listen to it. */

export interface RecordingEventBase {
  recordingId: string;
  callId: string;
  roomName: string;
  status: RecordingStatus;
  /** ISO time of the event. */
  at: string;
}

export interface RecordingEventMap {
  /** The first media reached the spool (status RECORDING). */
  recordingStarted: RecordingEventBase & { startedAt: string };
  /** The host paused it (status PAUSED): nothing is recorded until recordingResumed. `pausedMs`: paused in total so far. */
  recordingPaused: RecordingEventBase & { pausedMs: number };
  recordingResumed: RecordingEventBase & { pausedMs: number };
  recordingStopping: RecordingEventBase & { reason: string };
  recordingProcessing: RecordingEventBase & { fileSize: number | null; durationMs: number | null };
  /** While recording: the recorder's counters; while post-processing: phase and percent. */
  recordingProgress: RecordingEventBase & (RecordingProgress | PostprocessProgressInfo);
  thumbnailsGenerated: RecordingEventBase & { thumbnails: RecordingThumbnail[] };
  recordingUploaded: RecordingEventBase & { storage: { provider: string; key: string; url: string | null } };
  recordingCompleted: RecordingEventBase & { url: string | null; durationMs: number | null; fileSize: number | null };
  recordingFailed: RecordingEventBase & { error: { code: string; message: string; fault: string } };
  recordingDeleted: RecordingEventBase;
}

export interface PostprocessProgressInfo {
  phase: 'postprocess';
  /** Whole post-processing job, 0..100. */
  percent: number;
}

export type RecordingEventName = keyof RecordingEventMap;
export const RECORDING_EVENT_NAMES: readonly RecordingEventName[] = [
  'recordingStarted',
  'recordingPaused',
  'recordingResumed',
  'recordingStopping',
  'recordingProcessing',
  'recordingProgress',
  'thumbnailsGenerated',
  'recordingUploaded',
  'recordingCompleted',
  'recordingFailed',
  'recordingDeleted',
];

type Listener<K extends RecordingEventName> = (payload: RecordingEventMap[K]) => void;
type AnyListener = <K extends RecordingEventName>(name: K, payload: RecordingEventMap[K]) => void;

export class RecordingEventBus {
  private readonly listeners = new Map<RecordingEventName, Set<Listener<never>>>();
  private readonly anyListeners = new Set<AnyListener>();

  constructor(private readonly onListenerError: (err: unknown, name: RecordingEventName) => void = () => undefined) {}

  on<K extends RecordingEventName>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  onAny(listener: AnyListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  /** Synchronous fan-out; a throwing listener never breaks the emitter or the other listeners. */
  emit<K extends RecordingEventName>(name: K, payload: RecordingEventMap[K]): void {
    for (const l of this.listeners.get(name) ?? []) {
      try {
        (l as Listener<K>)(payload);
      } catch (err) {
        this.onListenerError(err, name);
      }
    }
    for (const l of this.anyListeners) {
      try {
        l(name, payload);
      } catch (err) {
        this.onListenerError(err, name);
      }
    }
  }
}
