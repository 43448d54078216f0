/**
 * Every error of the service in one table: a stable code, the HTTP status it maps to,
 * and whose fault it is. `fault` lets a FAILED recording tell the operator whether the
 * service broke ('service'), the caller sent something wrong ('caller'), or the user's
 * own destination refused us ('destination': a storage 4xx, an unknown bucket, a full disk).
 */
export type Fault = 'caller' | 'service' | 'destination';

interface ErrorSpec {
  status: number;
  fault: Fault;
  /** A refusal a client should try again after this long (the HTTP answer's Retry-After). */
  retryAfterSeconds?: number;
}

export const ERROR_CODES = {
  // configuration and start-up
  CONFIG_INVALID: { status: 500, fault: 'caller' },
  CHROMIUM_NOT_FOUND: { status: 500, fault: 'service' },
  FFMPEG_NOT_FOUND: { status: 500, fault: 'service' },
  // request validation and access
  VALIDATION_ERROR: { status: 400, fault: 'caller' },
  INVALID_ROOM_NAME: { status: 400, fault: 'caller' },
  UNSUPPORTED_OPTION: { status: 400, fault: 'caller' },
  LAYOUT_URL_NOT_ALLOWED: { status: 400, fault: 'caller' },
  /** An overlay image from an origin not in RECORDER_ASSET_ORIGINS. */
  ASSET_URL_NOT_ALLOWED: { status: 400, fault: 'caller' },
  /** Overlays name a preset asset (asset://<preset>/<file>) that is not stored. */
  OVERLAY_ASSET_NOT_FOUND: { status: 400, fault: 'caller' },
  /** An uploaded asset's Content-Type, bytes and file name do not say the same image type. */
  ASSET_TYPE_MISMATCH: { status: 400, fault: 'caller' },
  /** A stream output's URL that is not one (recordings/streams.ts), or whose host is not in RECORDER_STREAM_ALLOWED. */
  STREAM_URL_INVALID: { status: 400, fault: 'caller' },
  STREAM_URL_NOT_ALLOWED: { status: 400, fault: 'caller' },
  TOO_MANY_STREAMS: { status: 400, fault: 'caller' },
  /** A live change removes a stream the recording does not have. */
  STREAM_NOT_FOUND: { status: 400, fault: 'caller' },
  PARTICIPANTS_FILTER_INVALID: { status: 400, fault: 'caller' },
  CHANGE_EMPTY: { status: 400, fault: 'caller' },
  /** A live change's preset sets a width, height or fps other than the recording's: those are fixed at its start. */
  PRESET_CANVAS_MISMATCH: { status: 400, fault: 'caller' },
  UNAUTHORIZED: { status: 401, fault: 'caller' },
  FORBIDDEN: { status: 403, fault: 'caller' },
  NOT_FOUND: { status: 404, fault: 'caller' },
  /** No layout preset of that name (its own routes, and a start or live change that names one). */
  PRESET_NOT_FOUND: { status: 404, fault: 'caller' },
  /** No asset of that name in the preset (its own routes). */
  ASSET_NOT_FOUND: { status: 404, fault: 'caller' },
  PAYLOAD_TOO_LARGE: { status: 413, fault: 'caller' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, fault: 'caller' },
  CONFLICT: { status: 409, fault: 'caller' },
  PRESET_EXISTS: { status: 409, fault: 'caller' },
  /** A preset holds at most 20 assets (recordings/preset-assets.ts). */
  TOO_MANY_ASSETS: { status: 409, fault: 'caller' },
  /** A preset's stored overlays name the asset being deleted (or one of the preset being deleted). */
  ASSET_IN_USE: { status: 409, fault: 'caller' },
  RECORDING_ALREADY_ACTIVE: { status: 409, fault: 'caller' },
  RECORDING_NOT_ACTIVE: { status: 409, fault: 'caller' },
  RECORDING_NOT_LIVE: { status: 409, fault: 'caller' },
  RECORDING_ALREADY_PAUSED: { status: 409, fault: 'caller' },
  RECORDING_NOT_PAUSED: { status: 409, fault: 'caller' },
  /** A marker's `at` outside the recording (before its time 0, or not yet come). */
  MARKER_OUT_OF_RANGE: { status: 400, fault: 'caller' },
  TOO_MANY_MARKERS: { status: 409, fault: 'caller' },
  INVALID_TRANSITION: { status: 409, fault: 'service' },
  RECORDING_NOT_RETRYABLE: { status: 409, fault: 'caller' },
  RECORDING_FILE_MISSING: { status: 409, fault: 'service' },
  RECORDING_NOT_READY: { status: 409, fault: 'caller' },
  RANGE_NOT_SATISFIABLE: { status: 416, fault: 'caller' },
  // admission measures the last 10 s: within a few seconds a finished pass or page may have left room
  NO_CAPACITY: { status: 503, fault: 'service', retryAfterSeconds: 5 },
  // LiveKit
  LIVEKIT_UNREACHABLE: { status: 502, fault: 'destination' },
  LIVEKIT_AUTH_FAILED: { status: 502, fault: 'caller' },
  ROOM_CONNECTION_FAILED: { status: 502, fault: 'service' },
  // the live recording
  BROWSER_CRASHED: { status: 500, fault: 'service' },
  PAGE_FAILED: { status: 500, fault: 'service' },
  /** The operator's custom layout page did not load or never said START_RECORDING. */
  LAYOUT_PAGE_FAILED: { status: 502, fault: 'caller' },
  /** An overlay image could not be fetched from its (allowed) origin, or is not an image we draw. */
  OVERLAY_IMAGE_FAILED: { status: 502, fault: 'caller' },
  INGEST_UNAUTHORIZED: { status: 401, fault: 'caller' },
  INGEST_STALLED: { status: 500, fault: 'service' },
  FFMPEG_FAILED: { status: 500, fault: 'service' },
  DISK_FULL: { status: 507, fault: 'destination' },
  RECORDING_EMPTY: { status: 500, fault: 'service' },
  RECORDING_CORRUPT: { status: 500, fault: 'service' },
  /** Stopped before the recorder had the participants on the canvas: nothing was recorded (Egress: ABORTED). */
  RECORDING_ABORTED: { status: 409, fault: 'caller' },
  // post-processing and storage
  STORAGE_UNAVAILABLE: { status: 503, fault: 'destination' },
  STORAGE_REJECTED: { status: 502, fault: 'destination' },
  UPLOAD_FAILED: { status: 502, fault: 'destination' },
  POSTPROCESS_FAILED: { status: 500, fault: 'service' },
  // outgoing webhooks: the receiver answered 4xx (final), or could not be reached / 5xx (retried)
  WEBHOOK_REJECTED: { status: 502, fault: 'destination' },
  WEBHOOK_UNREACHABLE: { status: 502, fault: 'destination' },
  JOB_ABORTED: { status: 503, fault: 'service' },
  INTERNAL: { status: 500, fault: 'service' },
  /** A stored stream URL that RECORDER_SECRETS_KEY does not decrypt (another key, none, or altered): recordings/secrets.ts. */
  SECRET_UNREADABLE: { status: 500, fault: 'service' },
  // recovery: the worker that owned a live recording died and left nothing usable
  WORKER_LOST: { status: 500, fault: 'service' },
  // the recording service's own limits
  POSTPROCESS_EXHAUSTED: { status: 500, fault: 'service' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** How long a client should wait before trying `code` again, undefined when trying again will not help. */
export function retryAfterOf(code: ErrorCode): number | undefined {
  const spec: ErrorSpec = ERROR_CODES[code];
  return spec.retryAfterSeconds;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fault: Fault;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.fault = ERROR_CODES[code].fault;
    this.details = options.details;
  }
}

/**
 * An HTTP answer of a destination (a storage, a webhook receiver) that a retry will not change:
 * a 4xx but 408 (a timeout) and 429 (too many requests), or a redirect, which we do not follow.
 */
export function isRefusal(status: number): boolean {
  return status < 500 && status !== 408 && status !== 429;
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Any thrown value as an AppError, keeping the original as the cause. */
export function toAppError(err: unknown, fallback: ErrorCode = 'INTERNAL'): AppError {
  if (isAppError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AppError(fallback, message, { cause: err });
}
