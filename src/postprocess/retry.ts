import { isAppError } from '../errors';

/**
 * Whether another attempt can help. The recording itself being empty or corrupt, the
 * destination refusing (4xx), a bad configuration or an unknown format will fail the same
 * way again; network trouble, a full disk and ffmpeg crashes may not.
 */
const FINAL_CODES = new Set(['RECORDING_EMPTY', 'RECORDING_CORRUPT', 'STORAGE_REJECTED', 'CONFIG_INVALID', 'VALIDATION_ERROR', 'UNSUPPORTED_OPTION', 'FFMPEG_NOT_FOUND']);

export function isRetryable(err: unknown): boolean {
  if (!isAppError(err)) return true;
  return !FINAL_CODES.has(err.code);
}

/** Exponential backoff: base * 2^(attempt-1), attempt counted from 1. */
export function backoffDelay(baseMs: number, attempt: number, maxMs = 5 * 60000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
