import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, isAppError, retryAfterOf, type ErrorCode } from '../errors';
import type { Logger } from '../observability/logger';

/** Zod issues as one AppError: an enum value we do not support is UNSUPPORTED_OPTION, the rest VALIDATION_ERROR. */
export function fromZod(err: z.ZodError, where: string): AppError {
  const issues = err.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message }));
  const message = issues.map((i) => (i.path ? `${where}.${i.path}: ${i.message}` : `${where}: ${i.message}`)).join('; ');
  const unsupported = err.issues.every((i) => i.code === 'invalid_value');
  return new AppError(unsupported ? 'UNSUPPORTED_OPTION' : 'VALIDATION_ERROR', message, { details: issues });
}

type FrameworkError = { type?: unknown; status?: unknown; statusCode?: unknown; message?: unknown };

/** body-parser's error types (http-errors `type`) as our codes and messages. */
const BODY_ERRORS: Record<string, (message: string) => AppError> = {
  'entity.too.large': () => new AppError('PAYLOAD_TOO_LARGE', 'request body too large (max 64 KiB)'),
  'entity.parse.failed': () => new AppError('VALIDATION_ERROR', 'request body is not valid JSON'),
  'charset.unsupported': (m) => new AppError('UNSUPPORTED_MEDIA_TYPE', m || 'unsupported charset'),
  'encoding.unsupported': (m) => new AppError('UNSUPPORTED_MEDIA_TYPE', m || 'unsupported encoding'),
};

/** The 4xx statuses express, its router and body-parser give, as our codes. */
const STATUS_ERRORS: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
};

/**
 * What the framework refused before our code ran (a path segment that does not decode, a
 * body that is not what its headers say) as an AppError: the caller's fault, a 4xx. Undefined
 * for anything else, which stays a 500.
 */
function fromFrameworkError(err: unknown, req: Request): AppError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as FrameworkError;
  const message = typeof e.message === 'string' ? e.message : '';
  const byType = typeof e.type === 'string' ? BODY_ERRORS[e.type] : undefined;
  if (byType) return byType(message);
  // the router's decodeURIComponent of a path parameter
  if (err instanceof URIError) return new AppError('VALIDATION_ERROR', 'a path segment is not valid percent-encoding');
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499) return undefined;
  const encoding = req.get('content-encoding');
  if (status === 400 && encoding && encoding.toLowerCase() !== 'identity' && e.type === undefined) {
    return new AppError('VALIDATION_ERROR', `request body is not valid ${encoding}`);
  }
  return new AppError(STATUS_ERRORS[status] ?? 'VALIDATION_ERROR', message || 'bad request');
}

export const notFound: RequestHandler = (_req, _res, next) => {
  next(new AppError('NOT_FOUND', 'no such endpoint'));
};

/** The one place where errors become HTTP responses. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const log = (req as { log?: Logger }).log ?? logger;
    let appErr = isAppError(err) ? err : undefined;
    if (!appErr) {
      appErr = fromFrameworkError(err, req);
      // a request the framework refused: worth a line, not a stack
      if (appErr) log.warn({ code: appErr.code, status: appErr.status, err: appErr.message }, 'request refused');
    }
    if (!appErr || appErr.status >= 500) {
      log.error({ err: appErr && appErr.code !== 'INTERNAL' ? { code: appErr.code, message: appErr.message } : err }, 'request failed');
    }
    if (!appErr) {
      res.status(500).json({ success: false, error: { code: 'INTERNAL', message: 'internal error' } });
      return;
    }
    // Service faults do not leak internals; caller faults say what was wrong.
    const message = appErr.code === 'INTERNAL' ? 'internal error' : appErr.message;
    const retryAfter = retryAfterOf(appErr.code);
    if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
    // details (the field a refusal is about, zod's issues) help a caller mend its request; a service fault's are internals
    const details = appErr.status < 500 && appErr.details !== undefined ? { details: appErr.details } : {};
    res.status(appErr.status).json({ success: false, error: { code: appErr.code, message, ...details } });
  };
}
