import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

/**
 * Verification of compact JWS tokens (HS256, RS256, ES256) on node:crypto. (jose 6 is
 * ESM-only, which the CommonJS build and Jest cannot load.) The algorithm is fixed by the
 * key the operator configured, never chosen by the token: an HS256 token is only checked
 * against the shared secret, RS256/ES256 only against a public key of the matching type.
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

const B64URL = /^[A-Za-z0-9_-]*$/;

export class JwtVerifier {
  private readonly secret?: Buffer;
  private readonly publicKey?: KeyObject;
  private readonly publicAlg?: 'RS256' | 'ES256';

  constructor(keys: JwtKeys, private readonly clockToleranceSeconds = 5) {
    if (keys.secret) this.secret = Buffer.from(keys.secret, 'utf8');
    if (keys.publicKey) {
      const text = keys.publicKey.trim();
      const key = text.startsWith('{')
        ? createPublicKey({ key: JSON.parse(text) as import('node:crypto').JsonWebKey, format: 'jwk' })
        : createPublicKey(text.replace(/\\n/g, '\n'));
      if (key.asymmetricKeyType === 'rsa') {
        if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('RSA public key shorter than 2048 bits');
        this.publicAlg = 'RS256';
      } else if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
        this.publicAlg = 'ES256';
      } else {
        throw new Error('AUTH_JWT_PUBLIC_KEY must be an RSA (RS256) or P-256 (ES256) public key');
      }
      this.publicKey = key;
    }
  }

  verify(token: string, now = Date.now()): JwtClaims {
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw new JwtError('malformed token');
    const [h, p, s] = parts as [string, string, string];
    const header = decodeObject(h);
    if (header.crit !== undefined) throw new JwtError('unsupported critical header');
    const alg = header.alg;
    const data = Buffer.from(`${h}.${p}`, 'ascii');
    const sig = Buffer.from(s, 'base64url');
    let ok = false;
    if (alg === 'HS256' && this.secret) {
      const expected = createHmac('sha256', this.secret).update(data).digest();
      ok = sig.length === expected.length && timingSafeEqual(sig, expected);
    } else if (alg === 'RS256' && this.publicAlg === 'RS256') {
      ok = verify('sha256', data, this.publicKey!, sig);
    } else if (alg === 'ES256' && this.publicAlg === 'ES256') {
      ok = sig.length === 64 && verify('sha256', data, { key: this.publicKey!, dsaEncoding: 'ieee-p1363' }, sig);
    } else {
      throw new JwtError('unaccepted algorithm');
    }
    if (!ok) throw new JwtError('bad signature');

    const claims = decodeObject(p);
    const nowS = now / 1000;
    const tol = this.clockToleranceSeconds;
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new JwtError('exp claim required');
    if (nowS - tol >= claims.exp) throw new JwtError('token expired', true);
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || nowS + tol < claims.nbf)) throw new JwtError('token not yet valid');
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new JwtError('sub claim required');
    return claims as JwtClaims;
  }
}

function decodeObject(part: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('malformed token');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new JwtError('malformed token');
  return v as Record<string, unknown>;
}
