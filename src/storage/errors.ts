import { AppError, isAppError, isRefusal } from '../errors';
import type { StorageProvider } from './types';

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'ENOTFOUND', 'ESOCKETTIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

const NETWORK_RE = new RegExp(`\\b(${[...NETWORK_CODES].join('|')})\\b`);

/** The HTTP status of an SDK error (S3: $metadata.httpStatusCode; GCS: numeric code / response.status). */
/** Operations where a 404 means "no such object"; elsewhere it means the bucket is missing (the destination's fault). */
const READ_OPS = new Set(['get', 'head', 'delete']);

export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { $metadata?: { httpStatusCode?: number }; code?: unknown; response?: { status?: number }; status?: unknown };
  if (typeof e?.$metadata?.httpStatusCode === 'number') return e.$metadata.httpStatusCode;
  if (typeof e?.code === 'number' && e.code >= 100 && e.code < 600) return e.code;
  if (typeof e?.response?.status === 'number') return e.response.status;
  if (typeof e?.status === 'number') return e.status;
  return undefined;
}

/** True when the error means "the destination could not be reached" (worth a retry). */
export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const name = (e as { name?: unknown }).name;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (name === 'TimeoutError') return true;
    // The SDKs sometimes wrap a foreign error and keep only its text ("AWS SDK error wrapper for Error: connect ECONNREFUSED")
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && (NETWORK_RE.test(message) || /socket hang up/i.test(message))) return true;
    const errors = (e as { errors?: unknown[] }).errors; // AggregateError from happy-eyeballs connects
    if (Array.isArray(errors) && errors.some((x) => isNetworkError(x))) return true;
  }
  return false;
}

export function isNotFound(err: unknown): boolean {
  const name = (err as { name?: unknown })?.name;
  return httpStatusOf(err) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}

/**
 * Maps a provider error to the service's codes: 4xx from the store = STORAGE_REJECTED
 * (the user's destination refuses: bad bucket, bad credentials), network errors and 5xx =
 * STORAGE_UNAVAILABLE (retry later).
 */
export function toStorageError(provider: StorageProvider, op: string, key: string, err: unknown): AppError {
  if (isAppError(err)) return err;
  const status = httpStatusOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  const where = `${provider} storage ${op} "${key}"`;
  const name = (err as { name?: unknown })?.name;
  if (status === 404 && READ_OPS.has(op) && name !== 'NoSuchBucket') return new AppError('NOT_FOUND', `${where}: not found`, { cause: err });
  if (status !== undefined && status >= 400 && isRefusal(status)) {
    return new AppError('STORAGE_REJECTED', `${where} refused by the destination (HTTP ${status}): ${msg}`, { cause: err, details: { status } });
  }
  if (status !== undefined || isNetworkError(err)) {
    return new AppError('STORAGE_UNAVAILABLE', `${where} failed, destination unreachable or failing${status ? ` (HTTP ${status})` : ''}: ${msg}`, { cause: err, details: { status } });
  }
  return new AppError('UPLOAD_FAILED', `${where} failed: ${msg}`, { cause: err });
}
