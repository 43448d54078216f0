import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Actor } from '../recordings/permissions';
import { isValidIdentifier } from '../recordings/identifiers';
import { JwtError, JwtVerifier, type JwtClaims } from './jwt';

/**
 * Who calls the API:
 * - a user: `Authorization: Bearer <JWT>` (HS256 with AUTH_JWT_SECRET, or RS256/ES256 with
 *   AUTH_JWT_PUBLIC_KEY); `sub` is the user id, `exp` is required. An X-User-Id that
 *   disagrees with `sub` is refused (403). `room` / `rooms` name the rooms the user may
 *   create calls for (recordings/permissions.ts); `"role": "admin"` makes the user an admin,
 *   who may change layout presets (recordings/preset-service.ts).
 * - a trusted service: `Authorization: Bearer <key>` or `X-Api-Key: <key>`, matched by its
 *   sha256 (hex) against AUTH_SERVICE_API_KEY_HASHES; it acts for the user in X-User-Id.
 * X-User-Id alone is never trusted.
 */
export interface AuthHeaders {
  authorization?: string | undefined;
  'x-api-key'?: string | string[] | undefined;
  'x-user-id'?: string | string[] | undefined;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export class Authenticator {
  private readonly keyHashes: Buffer[];
  private readonly jwt?: JwtVerifier;

  /** Throws (at start-up) when the configured public key is unusable. */
  constructor(cfg: Config['auth']) {
    this.keyHashes = cfg.serviceApiKeyHashes
      .map((h) => h.trim().toLowerCase().replace(/^sha256:/, ''))
      .filter((h) => /^[0-9a-f]{64}$/.test(h))
      .map((h) => Buffer.from(h, 'hex'));
    if (cfg.jwtSecret || cfg.jwtPublicKey) {
      this.jwt = new JwtVerifier({
        ...(cfg.jwtSecret ? { secret: cfg.jwtSecret } : {}),
        ...(cfg.jwtPublicKey ? { publicKey: cfg.jwtPublicKey } : {}),
      });
    }
  }

  async authenticate(headers: AuthHeaders): Promise<Actor> {
    const apiKeyHeader = single(headers['x-api-key'], 'X-Api-Key');
    const xUserId = single(headers['x-user-id'], 'X-User-Id');
    if (xUserId !== undefined && !isValidIdentifier('userId', xUserId)) throw new AppError('UNAUTHORIZED', 'malformed X-User-Id');
    let bearer: string | undefined;
    if (headers.authorization !== undefined) {
      const m = /^Bearer +([^\s]+) *$/i.exec(headers.authorization);
      if (!m) throw new AppError('UNAUTHORIZED', 'Authorization must be "Bearer <token>"');
      bearer = m[1];
    }
    if (bearer !== undefined && apiKeyHeader !== undefined) throw new AppError('UNAUTHORIZED', 'send one credential, not two');
    const credential = bearer ?? apiKeyHeader;
    if (!credential) throw new AppError('UNAUTHORIZED', 'authentication required');

    if (bearer !== undefined && JWT_SHAPE.test(bearer)) {
      const { sub, rooms, admin } = await this.verifyJwt(bearer);
      if (xUserId !== undefined && xUserId !== sub) throw new AppError('FORBIDDEN', 'X-User-Id does not match the token');
      return { kind: 'user', userId: sub, ...(rooms ? { rooms } : {}), ...(admin ? { admin } : {}) };
    }
    if (!this.matchesServiceKey(credential)) throw new AppError('UNAUTHORIZED', 'invalid credentials');
    return { kind: 'service', userId: xUserId ?? null };
  }

  private matchesServiceKey(key: string): boolean {
    const digest = createHash('sha256').update(key, 'utf8').digest();
    let found = false;
    for (const h of this.keyHashes) if (timingSafeEqual(h, digest)) found = true;
    return found;
  }

  private async verifyJwt(token: string): Promise<{ sub: string; rooms?: string[]; admin: boolean }> {
    if (!this.jwt) throw new AppError('UNAUTHORIZED', 'invalid token');
    let claims: JwtClaims;
    try {
      claims = await this.jwt.verify(token);
    } catch (err) {
      throw new AppError('UNAUTHORIZED', err instanceof JwtError && err.expired ? 'token expired' : 'invalid token');
    }
    if (!isValidIdentifier('userId', claims.sub)) throw new AppError('UNAUTHORIZED', 'invalid token subject');
    const rooms = roomsClaim(claims);
    return { sub: claims.sub, ...(rooms ? { rooms } : {}), admin: isAdmin(claims) };
  }
}

/** `"role": "admin"`. Any other role (call apps' tokens carry roles of their own, of any shape) is no role here. */
function isAdmin({ role }: JwtClaims): boolean {
  return role === 'admin';
}

/**
 * The rooms a user's token names, for creating calls: `room` (one name) and/or `rooms` (a list),
 * '*' meaning any room. A claim of another shape makes the token invalid rather than ignored.
 */
function roomsClaim(claims: JwtClaims): string[] | undefined {
  const { room, rooms } = claims;
  if (room === undefined && rooms === undefined) return undefined;
  const invalid = new AppError('UNAUTHORIZED', 'invalid token: "room" must be a room name and "rooms" a list of them');
  const named: unknown[] = room === undefined ? [] : [room];
  if (rooms !== undefined) {
    if (!Array.isArray(rooms)) throw invalid;
    named.push(...(rooms as unknown[]));
  }
  if (!named.every((r) => r === '*' || isValidIdentifier('roomName', r))) throw invalid;
  return named as string[];
}

function single(v: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(v)) throw new AppError('UNAUTHORIZED', `${name} given more than once`);
  return v;
}

/** Compares a presented secret with the expected one in constant time (digests have one length). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Whether a request may read /metrics (the API's, a worker's): always without a METRICS_TOKEN, else with `Bearer <token>`. */
export function metricsAllowed(authorization: string | undefined, token: string | undefined): boolean {
  return !token || sameSecret(authorization ?? '', `Bearer ${token}`);
}
