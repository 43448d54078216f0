import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, isAppError } from '../errors';
import type { Logger } from '../observability/logger';

/** Zod issues as one AppError: an enum value we do not support is UNSUPPORTED_OPTION, the rest VALIDATION_ERROR. */
export function fromZod(err: z.ZodError, where: string): AppError {
  const issues = err.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message }));
  const message = issues.map((i) => (i.path ? `${where}.${i.path}: ${i.message}` : `${where}: ${i.message}`)).join('; ');
  const unsupported = err.issues.every((i) => i.code === 'invalid_value');
  return new AppError(unsupported ? 'UNSUPPORTED_OPTION' : 'VALIDATION_ERROR', message, { details: issues });
}

/** body-parser's errors (size, syntax, charset) as AppErrors. */
function fromHttpError(err: { type?: string; status?: number; message?: string }): AppError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'request body too large (max 64 KiB)');
    case 'entity.parse.failed':
      return new AppError('VALIDATION_ERROR', 'request body is not valid JSON');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', err.message ?? 'unsupported encoding');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'parameters.too.many':
      return new AppError('VALIDATION_ERROR', err.message ?? 'bad request');
    default:
      return undefined;
  }
}

export const notFound: RequestHandler = (_req, _res, next) => {
  next(new AppError('NOT_FOUND', 'no such endpoint'));
};

/** The one place where errors become HTTP responses. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const appErr = isAppError(err) ? err : (fromHttpError(err as { type?: string }) ?? null);
    const log = (req as { log?: Logger }).log ?? logger;
    if (!appErr || appErr.status >= 500) {
      log.error({ err: appErr && appErr.code !== 'INTERNAL' ? { code: appErr.code, message: appErr.message } : err }, 'request failed');
    }
    if (!appErr) {
      res.status(500).json({ success: false, error: { code: 'INTERNAL', message: 'internal error' } });
      return;
    }
    // Service faults do not leak internals; caller faults say what was wrong.
    const message = appErr.code === 'INTERNAL' ? 'internal error' : appErr.message;
    res.status(appErr.status).json({ success: false, error: { code: appErr.code, message } });
  };
}
