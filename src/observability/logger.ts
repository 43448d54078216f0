import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths that may carry credentials; pino replaces them wherever they appear in a log object. */
export const REDACT_PATHS = [
  'authorization',
  'password',
  'secret',
  'token',
  'apiKey',
  '*.authorization',
  '*.Authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.apiSecret',
  '*.jwtSecret',
  '*["x-api-key"]',
  '*.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
];

/** JSON logs on stdout (or `destination`), credentials redacted. */
export function createLogger(level: string = 'info', destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { service: 'livekit-recorder' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
