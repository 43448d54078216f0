import { AppError, ERROR_CODES, toAppError, type ErrorCode } from '../errors';
import type { RecordingResult } from './contract';
import type { RecordingUpdate } from './repository';

/**
 * How a recording ends, and how anything that failed is tried again: the one place that
 * decides. Callers (runner.ts, postprocess-queue.ts, restart-recovery.ts, webhooks.ts) ask
 * here and write what they are told through lifecycle.ts.
 *
 * A recording ends COMPLETED when a file with media was captured and post-processed, even if
 * a fault cut it short (it keeps that error's code and fault: `endedEarly` in its view). It
 * ends FAILED, with the error's code and whose fault it is (src/errors.ts), when nothing was
 * captured, when no worker admitted its start (the dispatcher's error, NO_CAPACITY: start.ts),
 * or when post-processing failed in a way another attempt cannot mend, or ran out of attempts.
 *
 * Retries: one decision (`shouldRetry`) and one backoff (`exponentialBackoff`), with the
 * numbers as data (`RetryPolicy`, from config.ts: POSTPROCESS_* and WEBHOOK_*). Below them the
 * storage SDKs retry a single request a few times within seconds (see the client construction
 * in storage/s3.ts and gcs.ts); this policy is the layer that outlasts an outage.
 */

/** The retry numbers of one kind of job (post-processing, a webhook delivery). */
export interface RetryPolicy {
  /** Attempts in all, the first included; the last failure is final. */
  maxAttempts: number;
  /** The wait after the first failed attempt; doubled per failed attempt. */
  baseMs: number;
  /** The longest wait. */
  maxMs: number;
}

/** How much of a wait may be cut at random, so jobs that failed together do not retry together. */
export const BACKOFF_JITTER = 0.2;

/**
 * The one backoff ('exponential', as BullMQ names it, capped): the wait after failed attempt
 * number `attempt` (from 1) is baseMs * 2^(attempt-1), at most maxMs, less up to BACKOFF_JITTER
 * of it at random. Never above the cap, never below (1 - BACKOFF_JITTER) of the full step.
 */
export function exponentialBackoff(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  const full = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full * (1 - BACKOFF_JITTER * random()));
}

/**
 * Failures another attempt cannot mend: the same file, the same FFmpeg and the same arguments
 * fail the same way (FFMPEG_FAILED included: the input ffmpeg refused stays as it is, and
 * `POST .../retry` is there once someone has looked), a tool is missing, or the destination
 * answered no (a 4xx: bad bucket, bad credentials, a receiver that rejects the body).
 */
const FINAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'RECORDING_EMPTY', 'RECORDING_CORRUPT', 'FFMPEG_FAILED', 'FFMPEG_NOT_FOUND', 'CHROMIUM_NOT_FOUND',
  'STORAGE_REJECTED', 'WEBHOOK_REJECTED',
]);

/**
 * Whether another attempt may succeed. The caller's faults never mend by themselves; the
 * destination's do (storage or a receiver down, a full disk) unless it refused; the service's
 * do unless the input itself is the trouble (FINAL): a shutdown that aborted the attempt
 * (JOB_ABORTED), a database write that failed, an unknown error.
 */
export function isTransient(error: unknown): boolean {
  const e = toAppError(error);
  return e.fault !== 'caller' && !FINAL.has(e.code);
}

/** The one retry decision: a transient failure of attempt `attempt` (from 1) with attempts left. */
export function shouldRetry(error: unknown, attempt: number, policy: Pick<RetryPolicy, 'maxAttempts'>): boolean {
  return attempt < policy.maxAttempts && isTransient(error);
}

export type AfterFailure = { retry: true; delayMs: number } | { retry: false; error: AppError };

/** What follows a failed attempt: the next one after the backoff, or the end with this error. */
export function afterFailedAttempt(error: unknown, attempt: number, policy: RetryPolicy, random: () => number = Math.random): AfterFailure {
  const e = toAppError(error);
  return shouldRetry(e, attempt, policy) ? { retry: true, delayMs: exponentialBackoff(attempt, policy, random) } : { retry: false, error: e };
}

/**
 * Attempt `attempt` is about to start after the last one was lost (its worker died and never
 * reported): past the budget, the job ends here.
 */
export function exhausted(attempt: number, policy: Pick<RetryPolicy, 'maxAttempts'>, lastError: string | null): AppError | null {
  if (attempt <= policy.maxAttempts) return null;
  return new AppError('POSTPROCESS_EXHAUSTED', `post-processing gave up after ${attempt - 1} attempts: ${lastError ?? 'worker lost'}`);
}

// ---- the end of a live recording ------------------------------------------------------

/** The error columns of a recording: what FAILED writes, and what an early end keeps through COMPLETED. */
export function failureRecord(error: unknown): RecordingUpdate & { errorCode: ErrorCode; errorMessage: string } {
  const e = toAppError(error);
  return { errorCode: e.code, errorMessage: e.message.slice(0, 2000), errorFault: e.fault };
}

/** The error of a recording that ended early but kept what it captured (the recorder's plain {code, message}). */
export function endedEarly(error: { code: string; message: string }): RecordingUpdate {
  const e = error.code in ERROR_CODES ? new AppError(error.code as ErrorCode, error.message) : new AppError('INTERNAL', `${error.code}: ${error.message}`);
  return failureRecord(e);
}

export type LiveEnd = { to: 'PROCESSING'; result: RecordingResult; extra: RecordingUpdate } | { to: 'FAILED'; error: AppError };

/**
 * What the end of a live recording makes of it. A file goes on to post-processing (and
 * COMPLETED), with the fault that cut it short kept as `endedEarly`. No file is FAILED.
 */
export function liveRecordingEnd(result: RecordingResult | undefined, failure: unknown): LiveEnd {
  if (!result) return { to: 'FAILED', error: nothingRecorded(failure) };
  return { to: 'PROCESSING', result, extra: result.error ? endedEarly(result.error) : {} };
}

/**
 * The error of a recording that captured nothing: the recorder's own, e.g. RECORDING_ABORTED
 * (stopped before the participants were on the canvas: the caller's stop), RECORDING_EMPTY (no
 * media arrived), a start that failed (ROOM_CONNECTION_FAILED, ...) or the crash that left nothing.
 */
export function nothingRecorded(failure: unknown): AppError {
  return toAppError(failure ?? new AppError('INTERNAL', 'recorder ended without a result'));
}

/** Stopped before any worker took it: nothing was recorded, as when the recorder gives a start up. */
export function stoppedBeforeStart(): AppError {
  return new AppError('RECORDING_ABORTED', 'stopped before recording began: no worker had taken it yet, so nothing was recorded');
}

/** A recording whose worker died (restart recovery): its spool kept as an early end, or nothing left. */
export const workerLost = {
  kept: () => endedEarly({ code: 'WORKER_LOST', message: 'recording ended early: the recorder process stopped; what reached its spool was kept' }),
  nothing: () => new AppError('WORKER_LOST', 'recording ended early: the recorder process stopped and left no usable media'),
};
