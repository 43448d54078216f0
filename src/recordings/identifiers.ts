import { AppError } from '../errors';

/**
 * Every identifier rule of the service, in one place. Each rule is the strictest that one
 * of its consumers needs, so a value the API accepts is accepted all the way down:
 * - callId: a storage path segment (storage/keys.ts builds `<callId>/<recordingId>/...`)
 *   and a URL path segment; so it starts with a letter or digit (no `_x`, `-x`, `.`, `..`).
 * - roomName: what the recorder joins (livekit/tokens.ts) and the CLI records.
 * - userId: JWT `sub`, X-User-Id, host and participant ids.
 * - recordingId: the UUIDs the service makes.
 * - idempotencyKey: the Idempotency-Key header.
 * - storageSegment: one segment of a storage key; every callId and recordingId is one.
 * - presetName: a layout preset's name, a URL path segment (/api/layout-presets/:name).
 */
export const IDENTIFIERS = {
  callId: { pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, rule: '1-64 letters, digits, _ or -, starting with a letter or digit' },
  roomName: { pattern: /^[A-Za-z0-9][A-Za-z0-9_.:=@+-]{0,127}$/, rule: '1-128 letters, digits or _ . : = @ + -, starting with a letter or digit' },
  userId: { pattern: /^[A-Za-z0-9_.:@|-]{1,128}$/, rule: '1-128 letters, digits or _ . : @ | -' },
  recordingId: { pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i, rule: 'a UUID' },
  idempotencyKey: { pattern: /^[\x21-\x7e]{1,255}$/, rule: '1-255 visible ASCII characters' },
  storageSegment: { pattern: /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, rule: '1-128 letters, digits or . _ -, starting with a letter or digit, without ..' },
  presetName: { pattern: /^[a-z0-9_-]{1,64}$/, rule: '1-64 lower-case letters, digits, _ or -' },
} as const;

export type IdentifierKind = keyof typeof IDENTIFIERS;

/** The patterns alone, for schemas (zod, OpenAPI). */
export const ID_PATTERNS: { readonly [K in IdentifierKind]: RegExp } = Object.fromEntries(
  Object.entries(IDENTIFIERS).map(([kind, { pattern }]) => [kind, pattern]),
) as { [K in IdentifierKind]: RegExp };

export function isValidIdentifier(kind: IdentifierKind, value: unknown): value is string {
  return typeof value === 'string' && IDENTIFIERS[kind].pattern.test(value);
}

/**
 * Returns `value` when it follows the rule of `kind`; else throws VALIDATION_ERROR
 * (INVALID_ROOM_NAME for a room name) naming `what` and the rule.
 */
export function checkIdentifier(kind: IdentifierKind, value: unknown, what: string = kind): string {
  if (isValidIdentifier(kind, value)) return value;
  const code = kind === 'roomName' ? 'INVALID_ROOM_NAME' : 'VALIDATION_ERROR';
  const shown = typeof value === 'string' && value.length <= 140 ? ` ${JSON.stringify(value)}` : '';
  throw new AppError(code, `${what}${shown} is not valid: use ${IDENTIFIERS[kind].rule}`);
}
