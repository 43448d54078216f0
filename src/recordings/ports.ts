import type { Readable } from 'node:stream';
import type { RecordingFormat } from './options';
import type { HlsReport, LiveRecording, RecordingEndReason, RecordingOptions, RecordingRequest } from './contract';
import type { QualityReport } from './quality';
import type { RecordingMarker, RecordingSidecar, RecordingThumbnail } from './stored-data';
import type { PausedSpan } from './timeline';
import type { RecordingTrack } from './tracks-option';

/**
 * What the recordings domain needs from the outside, as interfaces it owns. The real
 * implementations live in src/recorder, src/postprocess, src/dispatch, src/livekit and
 * src/storage; tests supply their own.
 */

/** Runs one live recording (src/recorder). */
export interface RecorderPort {
  /**
   * Starts a recording and returns it while its page joins: `firstChunk` resolves with its
   * time 0 once media flows, `done` rejects when it never does (stop() before that gives
   * the start up). Rejects at once with an AppError when it cannot start here.
   */
  open(req: RecordingRequest): Promise<LiveRecording>;
  /**
   * After a worker died: turn what it left behind for this request (spool, partial output)
   * into a playable file at `req.outputPath`, or null when nothing usable is left.
   * Optional: without it, an existing non-empty `outputPath` counts as salvaged.
   */
  salvage?(req: RecordingRequest): Promise<SalvagedFile | null>;
}

export interface SalvagedFile {
  path: string;
  size: number;
  durationMs?: number;
  /** The live HLS output the salvage completed from the spool, when the recording had one left unended. */
  hls?: HlsReport;
}

/** A finished file handed to post-processing (probe, thumbnails, upload). */
export interface PostprocessJob {
  recordingId: string;
  callId: string;
  roomName: string;
  filePath: string;
  /** What to deliver: the recorder's format, or an audio-only one (m4a, ogg) made from it. */
  format: RecordingFormat;
  fileSize: number;
  durationMs?: number;
  options: RecordingOptions;
  /** The file's time 0 (wall clock), and the report kept with the recording: both go into its manifest. */
  recordingAt?: Date;
  quality: QualityReport | null;
  /** The spans cut out of the file's clock (timeline.ts); sidecars and chapters are placed through them. */
  pauses: PausedSpan[];
  /** The host's markers: with the pauses, the file's chapters. */
  markers: RecordingMarker[];
  /** 1 for the first attempt; the job is durable and retried after crashes and retryable failures. */
  attempt: number;
}

// its schema: stored-data.ts (the thumbnails are stored as JSON and parsed back)
export type { RecordingSidecar, RecordingThumbnail };

export interface PostprocessResult {
  storage: { provider: string; key: string; url?: string };
  fileSize?: number;
  durationMs?: number;
  thumbnails?: RecordingThumbnail[];
  /** manifest.json's key, when one was uploaded. */
  manifestKey?: string;
  /** The sidecars stored beside the recording (speakers, chat), by kind. */
  sidecars?: RecordingSidecar[];
  /** Each participant's own tracks stored beside it (start option `tracks`). */
  tracks?: RecordingTrack[];
}

/** How the post-processor reports back; every call is a checked status transition. */
export interface PostprocessSink {
  /** PROCESSING -> UPLOADING (idempotent on a retried job). */
  uploading(recordingId: string): Promise<void>;
  thumbnailsGenerated(recordingId: string, thumbnails: RecordingThumbnail[]): Promise<void>;
  /** -> COMPLETED, with the stored object. */
  completed(recordingId: string, result: PostprocessResult): Promise<void>;
  /** A failed attempt: retried after a backoff or FAILED, as failure-policy.ts decides from the error. */
  failed(recordingId: string, error: unknown): Promise<void>;
  /** Progress of the whole job, 0..100 (emitted as recordingProgress). */
  progress?(recordingId: string, percent: number): void;
}

/** src/postprocess. enqueue() must return quickly; the work reports through the sink. */
export interface PostprocessPort {
  enqueue(job: PostprocessJob, sink: PostprocessSink): void | Promise<void>;
  /** Whether the destination (storage) answers now; a cheap check, so a waiting retry can go as soon as it is back. */
  destinationHealthy?(): Promise<boolean>;
}

/** A recording to run, as dispatched to a worker. */
export interface RecordingJob extends RecordingRequest {
  callId: string;
}

/** src/dispatch: who runs a recording. */
export interface DispatchPort {
  /** A worker accepted the job (or it was queued and claimed); rejects with NO_CAPACITY. */
  dispatch(job: RecordingJob): Promise<void>;
  /** Ask the owning worker to stop it; a no-op when nobody owns it. */
  requestStop(recordingId: string, reason: RecordingEndReason): Promise<void>;
  /** Give the owning worker the recording's new options (a live change); a no-op when nobody owns it. */
  requestUpdate(recordingId: string, options: RecordingOptions): Promise<void>;
  /** Tell the owning worker to pause (true) or resume (false) its encoder; a no-op when nobody owns it. */
  requestPause(recordingId: string, paused: boolean): Promise<void>;
  /**
   * How much longer (ms) a live worker counts as responsible for this recording if it renewed
   * nothing: 0 when none is (its owner died), Infinity when this process runs it.
   */
  ownerLeaseMs(recordingId: string, workerId: string | null): Promise<number>;
}

/** src/livekit: who is in a room, not counting recorders and other hidden participants. */
export interface RoomPresencePort {
  countParticipants(roomName: string): Promise<number>;
}

/** Where a recording's files are: its stored object (after upload) and its local file. */
export interface StoredRecordingRef {
  callId: string;
  recordingId: string;
  provider: string | null;
  key: string | null;
  filePath: string | null;
  thumbnails: RecordingThumbnail[];
}

/** A stored object served by this service (local storage). */
export interface StoredObjectReader {
  size: number;
  contentType: string;
  /** Reads the object, or the inclusive byte range [start, end]. */
  open(range?: { start: number; end: number }): Promise<Readable>;
}

/** src/storage: remove and read what a recording left in storage. */
export interface RecordingStoragePort {
  /** Removes every object of the recording (video, thumbnails, poster) and its local files. */
  remove(ref: StoredRecordingRef): Promise<void>;
  /**
   * How a client downloads the stored recording: a short-lived signed URL (cloud storage),
   * or a reader this service streams (local storage). NOT_FOUND when the object is gone.
   */
  download?(ref: StoredRecordingRef): Promise<{ url: string; expiresAt: string } | StoredObjectReader>;
  /** A short-lived signed URL of a stored object, made when a view is read so it never shows a stale one. */
  signedUrl?(key: string): Promise<string>;
  /** The storage key of a recording's HLS playlist (written during the call when its options ask for HLS). */
  hlsPlaylistKey?(callId: string, recordingId: string): string;
}

/**
 * src/dispatch: a shared read cache of public views (calls, recordings) for the read path. The
 * database stays the truth: every write invalidates what it touched, and an entry filled
 * from a read that raced an invalidation is not stored.
 */
export interface ViewCachePort {
  /** The cached value of `key`, else `load()` (null: nothing, not cached). */
  read<T>(key: string, load: () => Promise<T | null>): Promise<T | null>;
  /** Drops the keys (and refuses fills of reads that started before). */
  invalidate(keys: string[]): Promise<void>;
}

/** Cache keys of the views, shared by every process. */
export const viewKeys = {
  call: (callId: string) => `call:${callId}`,
  recording: (recordingId: string) => `recording:${recordingId}`,
};
