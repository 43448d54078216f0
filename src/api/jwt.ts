import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTHeaderParameters } from 'jose';

/**
 * Verification of compact JWS tokens (HS256, RS256, ES256) with jose 5 (its CommonJS
 * build; jose 6 is ESM-only). The algorithm is fixed by the key the operator configured,
 * never chosen by the token: an HS256 token is only checked against the shared secret,
 * RS256/ES256 only against a public key of the matching type. `sub` and `exp` are required.
 */
export type JwtAlg = 'HS256' | 'RS256' | 'ES256';

export interface JwtKeys {
  secret?: string;
  /** PEM (SPKI) or a JWK as JSON. */
  publicKey?: string;
}

export interface JwtClaims {
  sub: string;
  exp: number;
  [claim: string]: unknown;
}

export class JwtError extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
  }
}

export class JwtVerifier {
  private readonly keys = new Map<JwtAlg, KeyObject>();

  constructor(keys: JwtKeys, private readonly clockToleranceSeconds = 5) {
    if (keys.secret) this.keys.set('HS256', createSecretKey(Buffer.from(keys.secret, 'utf8')));
    if (keys.publicKey) {
      // parsed and checked here, synchronously, so a bad key stops the service at start-up
      const text = keys.publicKey.trim();
      const key = text.startsWith('{')
        ? createPublicKey({ key: JSON.parse(text) as JsonWebKey, format: 'jwk' })
        : createPublicKey(text.replace(/\\n/g, '\n'));
      if (key.asymmetricKeyType === 'rsa') {
        if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('RSA public key shorter than 2048 bits');
        this.keys.set('RS256', key);
      } else if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
        this.keys.set('ES256', key);
      } else {
        throw new Error('AUTH_JWT_PUBLIC_KEY must be an RSA (RS256) or P-256 (ES256) public key');
      }
    }
  }

  /** The token's claims; rejects with a JwtError (`expired` set for an expired token). */
  async verify(token: string, now = Date.now()): Promise<JwtClaims> {
    const algorithms = [...this.keys.keys()];
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, (header: JWTHeaderParameters) => this.keyFor(header), {
        algorithms,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: this.clockToleranceSeconds,
        currentDate: new Date(now),
      }));
    } catch (err) {
      throw toJwtError(err);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new JwtError('sub claim required');
    return payload as JwtClaims;
  }

  private keyFor(header: JWTHeaderParameters): KeyObject {
    const key = this.keys.get(header.alg as JwtAlg);
    if (!key) throw new JwtError('unaccepted algorithm');
    return key;
  }
}

function toJwtError(err: unknown): JwtError {
  if (err instanceof JwtError) return err;
  if (err instanceof errors.JWTExpired) return new JwtError('token expired', true);
  if (err instanceof errors.JOSEAlgNotAllowed) return new JwtError('unaccepted algorithm');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new JwtError('bad signature');
  if (err instanceof errors.JWTClaimValidationFailed) return new JwtError(`${err.claim} claim invalid: ${err.reason}`);
  if (err instanceof errors.JOSEError) return new JwtError(`invalid token (${err.code})`);
  return new JwtError('malformed token');
}
