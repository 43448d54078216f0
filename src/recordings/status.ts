import { AppError } from '../errors';

/** The one status enum of a recording (the same values as the database enum). */
export const RECORDING_STATUSES = ['STARTING', 'RECORDING', 'PAUSED', 'STOPPING', 'PROCESSING', 'UPLOADING', 'COMPLETED', 'FAILED', 'DELETED'] as const;
export type RecordingStatus = (typeof RECORDING_STATUSES)[number];

/** Statuses during which a worker owns live media (a paused one too); at most one per call (a DB partial unique index). */
export const ACTIVE_STATUSES = ['STARTING', 'RECORDING', 'PAUSED', 'STOPPING'] as const satisfies readonly RecordingStatus[];
/** Statuses of the durable post-processing job. */
export const POSTPROCESS_STATUSES = ['PROCESSING', 'UPLOADING'] as const satisfies readonly RecordingStatus[];
export const TERMINAL_STATUSES = ['COMPLETED', 'FAILED', 'DELETED'] as const satisfies readonly RecordingStatus[];

/** The transition table: the only moves a recording can make. */
export const TRANSITIONS: Readonly<Record<RecordingStatus, readonly RecordingStatus[]>> = {
  STARTING: ['RECORDING', 'STOPPING', 'FAILED'],
  /** RECORDING <-> PAUSED: the host's pause and resume (recordings/pause.ts). */
  RECORDING: ['PAUSED', 'STOPPING', 'FAILED'],
  PAUSED: ['RECORDING', 'STOPPING', 'FAILED'],
  STOPPING: ['PROCESSING', 'FAILED'],
  PROCESSING: ['UPLOADING', 'COMPLETED', 'FAILED'],
  UPLOADING: ['COMPLETED', 'FAILED'],
  COMPLETED: ['DELETED'],
  /** FAILED -> PROCESSING: a retry of post-processing while the local file still exists. */
  FAILED: ['PROCESSING', 'DELETED'],
  DELETED: [],
};

/**
 * The column that records when a recording entered each status. RECORDING's is the file's
 * time 0, written once: a resume stamps its pause span's resumedAt instead (stampedColumn).
 */
export const STATUS_TIMESTAMP = {
  STARTING: 'startingAt',
  RECORDING: 'recordingAt',
  PAUSED: 'pausedAt',
  STOPPING: 'stoppingAt',
  PROCESSING: 'processingAt',
  UPLOADING: 'uploadingAt',
  COMPLETED: 'completedAt',
  FAILED: 'failedAt',
  DELETED: 'deletedAt',
} as const satisfies Record<RecordingStatus, string>;

/** The timestamp column a move from `from` to `to` stamps: none for a resume (PAUSED -> RECORDING). */
export function stampedColumn(from: readonly RecordingStatus[], to: RecordingStatus): (typeof STATUS_TIMESTAMP)[RecordingStatus] | undefined {
  return to === 'RECORDING' && from.length > 0 && from.every((f) => f === 'PAUSED') ? undefined : STATUS_TIMESTAMP[to];
}

export function canTransition(from: RecordingStatus, to: RecordingStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: RecordingStatus, to: RecordingStatus): void {
  if (!canTransition(from, to)) {
    throw new AppError('INVALID_TRANSITION', `a ${from.toLowerCase()} recording cannot become ${to.toLowerCase()}`, { details: { from, to } });
  }
}

export function isActive(status: RecordingStatus): boolean {
  return (ACTIVE_STATUSES as readonly string[]).includes(status);
}
