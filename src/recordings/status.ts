import { AppError } from '../errors';

/** The one status enum of a recording (the same values as the database enum). */
export const RECORDING_STATUSES = ['STARTING', 'RECORDING', 'STOPPING', 'PROCESSING', 'UPLOADING', 'COMPLETED', 'FAILED', 'DELETED'] as const;
export type RecordingStatus = (typeof RECORDING_STATUSES)[number];

/** Statuses during which a worker owns live media; at most one per call (a DB partial unique index). */
export const ACTIVE_STATUSES = ['STARTING', 'RECORDING', 'STOPPING'] as const satisfies readonly RecordingStatus[];
/** Statuses of the durable post-processing job. */
export const POSTPROCESS_STATUSES = ['PROCESSING', 'UPLOADING'] as const satisfies readonly RecordingStatus[];
export const TERMINAL_STATUSES = ['COMPLETED', 'FAILED', 'DELETED'] as const satisfies readonly RecordingStatus[];

/** The transition table: the only moves a recording can make. */
export const TRANSITIONS: Readonly<Record<RecordingStatus, readonly RecordingStatus[]>> = {
  STARTING: ['RECORDING', 'STOPPING', 'FAILED'],
  RECORDING: ['STOPPING', 'FAILED'],
  STOPPING: ['PROCESSING', 'FAILED'],
  PROCESSING: ['UPLOADING', 'COMPLETED', 'FAILED'],
  UPLOADING: ['COMPLETED', 'FAILED'],
  COMPLETED: ['DELETED'],
  /** FAILED -> PROCESSING: a retry of post-processing while the local file still exists. */
  FAILED: ['PROCESSING', 'DELETED'],
  DELETED: [],
};

/** The column that records when a recording entered each status. */
export const STATUS_TIMESTAMP = {
  STARTING: 'startingAt',
  RECORDING: 'recordingAt',
  STOPPING: 'stoppingAt',
  PROCESSING: 'processingAt',
  UPLOADING: 'uploadingAt',
  COMPLETED: 'completedAt',
  FAILED: 'failedAt',
  DELETED: 'deletedAt',
} as const satisfies Record<RecordingStatus, string>;

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
