import type { RecordingFormat, RecordingOptions } from './options';
import type { QualityReport } from './quality';
import type { RecordingStatus } from './status';
import type { RecordingMarker, RecordingSidecar, RecordingThumbnail } from './stored-data';
import type { StreamInfo } from './streams';
import type { PausedSpan } from './timeline';
import type { RecordingTrack } from './tracks-option';

/**
 * The repository port: what the domain reads and writes of calls and recordings, in its own
 * types. The database implements it (src/db/recording-repository.ts), parsing the stored
 * JSON columns with the domain's rules (stored-data.ts, quality.ts) as it reads them.
 */

/** A call with the users added to it (the host is not among them). */
export interface CallWithParticipants {
  id: string;
  roomName: string;
  hostId: string;
  /** Mirrors of its recordings: status of the latest one, whether one completed, its URL. */
  isRecorded: boolean;
  recordingStatus: RecordingStatus | null;
  recordingUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
  participants: { userId: string }[];
}

/** A recording as the domain reads it; each status has its timestamp (status.ts STATUS_TIMESTAMP). */
export interface StoredRecording {
  id: string;
  callId: string;
  requestedBy: string;
  status: RecordingStatus;
  options: RecordingOptions;
  outputFormat: RecordingFormat;
  maxDurationSeconds: number | null;
  filePath: string | null;
  fileSize: bigint | null;
  durationMs: number | null;
  thumbnails: RecordingThumbnail[];
  quality: QualityReport | null;
  storageProvider: string | null;
  storageKey: string | null;
  storageUrl: string | null;
  /** manifest.json in the storage, uploaded last (null before COMPLETED, or for a recording older than manifests). */
  manifestKey: string | null;
  /** Files made from the recording's timeline, stored beside it (none before COMPLETED, or for a recording older than sidecars). */
  sidecars: RecordingSidecar[];
  /** Each participant's own tracks, stored beside it (start option `tracks`; none before COMPLETED). */
  tracks?: RecordingTrack[];
  /** Each stream output's state, written by the worker as it changes (none for a recording without streams). */
  streams: StreamInfo[];
  stopReason: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  errorFault: string | null;
  startingAt: Date;
  recordingAt: Date | null;
  /** The latest pause; every pause and resume is in `pauses`. */
  pausedAt: Date | null;
  /** The spans cut out of the file, wall clock, in order (the last one open while PAUSED). */
  pauses: PausedSpan[];
  /** The host's markers, wall clock, in the order added: chapters of the file. */
  markers: RecordingMarker[];
  stoppingAt: Date | null;
  processingAt: Date | null;
  uploadingAt: Date | null;
  completedAt: Date | null;
  failedAt: Date | null;
  deletedAt: Date | null;
  workerId: string | null;
  idempotencyKey: string | null;
  /** The durable post-processing job: attempts so far and when it is due (a lease while one runs). */
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type RecordingWithRoom = StoredRecording & { call: { roomName: string } };

export interface NewCall {
  id: string;
  roomName: string;
  hostId: string;
  participantIds: string[];
}

export interface NewRecording {
  id: string;
  callId: string;
  requestedBy: string;
  options: RecordingOptions;
  outputFormat: RecordingFormat;
  maxDurationSeconds: number;
  filePath: string;
  idempotencyKey?: string;
}

/** The columns a write may set besides the status (which only transition() changes); `options` only by a live change (update.ts). */
export type RecordingUpdate = Partial<
  Omit<StoredRecording, 'id' | 'callId' | 'requestedBy' | 'status' | 'outputFormat' | 'maxDurationSeconds' | 'idempotencyKey' | 'createdAt' | 'updatedAt'>
>;

/** What a guarded write expects the row to still be: each given column equal (a status: one of them). */
export interface RecordingGuard {
  status?: RecordingStatus | readonly RecordingStatus[];
  workerId?: string | null;
  attempts?: number;
  nextAttemptAt?: Date | null;
  /** The row unchanged since it was read (a read-modify-write of its JSON columns). */
  updatedAt?: Date;
}

export interface RecordingRepository {
  /** Throws CONFLICT when the id or the room name is taken. */
  createCall(data: NewCall): Promise<CallWithParticipants>;
  getCall(id: string): Promise<CallWithParticipants | null>;
  getCallByRoom(roomName: string): Promise<CallWithParticipants | null>;
  addParticipants(callId: string, userIds: string[]): Promise<void>;
  /** How many were removed (0 or 1). */
  removeParticipant(callId: string, userId: string): Promise<number>;

  /** Inserts a STARTING recording. Throws RECORDING_ALREADY_ACTIVE or, for a reused idempotency key, returns null. */
  createRecording(data: NewRecording): Promise<StoredRecording | null>;
  getRecording(id: string): Promise<RecordingWithRoom | null>;
  findByIdempotencyKey(callId: string, idempotencyKey: string): Promise<StoredRecording | null>;
  /** Newest first. */
  listRecordings(callId: string, opts: { limit: number; includeDeleted?: boolean }): Promise<StoredRecording[]>;
  /** The call's last COMPLETED recording: the one its recordingUrl shows. */
  lastCompleted(callId: string): Promise<{ id: string; storageKey: string | null } | null>;
  findActiveForCall(callId: string): Promise<StoredRecording | null>;
  findActiveForRoom(roomName: string): Promise<StoredRecording[]>;
  findAllActive(): Promise<RecordingWithRoom[]>;
  /**
   * Claims up to `limit` post-processing jobs whose lease has run out or whose retry time has
   * come, the longest due first, each leased until `leaseUntil` with one attempt more (the
   * rows as claimed); a job another process claimed first is left out.
   */
  claimDuePostprocess(now: Date, leaseUntil: Date, limit: number): Promise<RecordingWithRoom[]>;
  /** Finished recordings (COMPLETED or FAILED) that ended before `cutoff`, oldest first. */
  findExpired(cutoff: Date, limit: number): Promise<RecordingWithRoom[]>;
  /** Ids of recordings whose local files are still in use (live or being post-processed). */
  liveIds(): Promise<string[]>;
  /** '' when there is no such call. */
  roomNameOf(callId: string): Promise<string>;
  /**
   * A guarded update of non-status columns: writes only when the row still matches `guard`
   * (optimistic concurrency, e.g. claiming a job). Returns whether it wrote.
   */
  updateIf(id: string, guard: RecordingGuard, data: RecordingUpdate): Promise<boolean>;
  /**
   * Moves a recording from one of `from` to `to`, stamping the status's timestamp column
   * (a timestamp in `data` wins), in one conditional write: a move the table forbids throws
   * before any write, and one whose `from` is stale (a concurrent change won) writes nothing
   * and throws INVALID_TRANSITION (so does a row that no longer matches `guard`); NOT_FOUND for
   * no such recording. The call's mirror of its recordings is rewritten with it.
   */
  transition(id: string, from: readonly RecordingStatus[], to: RecordingStatus, data?: RecordingUpdate, guard?: Omit<RecordingGuard, 'status'>): Promise<RecordingWithRoom>;
  /** transition(), or null when the recording is no longer in a `from` status, no longer matches `guard` (or is gone). */
  tryTransition(id: string, from: readonly RecordingStatus[], to: RecordingStatus, data?: RecordingUpdate, guard?: Omit<RecordingGuard, 'status'>): Promise<RecordingWithRoom | null>;
  /** How many recordings are in each status. */
  statusCounts(): Promise<Record<string, number>>;
}
