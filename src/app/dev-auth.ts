import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../observability/logger';

/** A dev token: HS256 with AUTH_JWT_SECRET, subject `userId`, naming the `rooms` the user may create calls for. */
export async function makeToken(config: Config, userId: string, expiresInSeconds: number, rooms: string[] = []): Promise<string> {
  if (!config.auth.jwtSecret) {
    throw new AppError('CONFIG_INVALID', 'invalid configuration: `recorder token` signs with AUTH_JWT_SECRET (at least 16 characters); set it here and for the service');
  }
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(rooms.length ? { rooms } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + expiresInSeconds)
    .sign(new TextEncoder().encode(config.auth.jwtSecret));
}

/**
 * With no API credentials configured every call would be refused. On a loopback address
 * (the default) a throwaway secret is made for this run and a token for user "dev" is
 * printed, so `recorder all` works with no settings at all; elsewhere only a warning.
 */
export function withDevAuth(config: Config, logger: Logger): Config {
  const { jwtSecret, jwtPublicKey, serviceApiKeyHashes } = config.auth;
  if (jwtSecret || jwtPublicKey || serviceApiKeyHashes.length) return config;
  if (!isLoopback(config.api.host)) {
    logger.warn('no AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_SERVICE_API_KEY_HASHES: every API call will be refused (401)');
    return config;
  }
  const secret = randomBytes(32).toString('base64url');
  const dev = { ...config, auth: { ...config.auth, jwtSecret: secret } };
  void makeToken(dev, 'dev', 24 * 3600, ['*']).then((token) =>
    process.stderr.write(
      `no API credentials configured: this run accepts tokens signed with a throwaway secret.\n` +
        `dev token for user "dev" (24 h, any room): ${token}\n` +
        `(set AUTH_JWT_SECRET and use \`recorder token --user ID\` for tokens that outlive this process)\n`,
    ),
  );
  return dev;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
