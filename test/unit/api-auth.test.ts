import { createHash, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { Authenticator } from '../../src/api/auth';
import { JwtVerifier } from '../../src/api/jwt';

const SECRET = 'unit-test-secret-0123456789';
const KEY = 'service-key-123456';
const now = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function jwt(claims: Record<string, unknown>, alg: string, key?: unknown): string {
  const data = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  let sig = '';
  if (alg === 'HS256') sig = createHmac('sha256', key as string).update(data).digest('base64url');
  if (alg === 'RS256') sig = sign('sha256', Buffer.from(data), key as never).toString('base64url');
  if (alg === 'ES256') sig = sign('sha256', Buffer.from(data), { key: key as never, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `${data}.${sig}`;
}

describe('Authenticator', () => {
  const auth = new Authenticator({ jwtSecret: SECRET, serviceApiKeyHashes: [createHash('sha256').update(KEY).digest('hex')] });
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  test('a valid user token', async () => {
    await expect(auth.authenticate(bearer(jwt({ sub: 'u1', exp: now() + 60 }, 'HS256', SECRET)))).resolves.toEqual({ kind: 'user', userId: 'u1' });
    await expect(auth.authenticate({ ...bearer(jwt({ sub: 'u1', exp: now() + 60 }, 'HS256', SECRET)), 'x-user-id': 'u1' })).resolves.toEqual({ kind: 'user', userId: 'u1' });
  });
  test.each([
    ['expired', jwt({ sub: 'u1', exp: now() - 30 }, 'HS256', SECRET), 'token expired'],
    ['forged', jwt({ sub: 'u1', exp: now() + 60 }, 'HS256', 'another-secret-0123456789'), 'invalid token'],
    ['alg none', jwt({ sub: 'u1', exp: now() + 60 }, 'none'), 'invalid token'],
    ['no exp', jwt({ sub: 'u1' }, 'HS256', SECRET), 'invalid token'],
    ['no sub', jwt({ exp: now() + 60 }, 'HS256', SECRET), 'invalid token'],
    ['not yet valid', jwt({ sub: 'u1', exp: now() + 600, nbf: now() + 300 }, 'HS256', SECRET), 'invalid token'],
    ['bad subject', jwt({ sub: 'a b', exp: now() + 60 }, 'HS256', SECRET), 'invalid token subject'],
    ['tampered payload', (() => {
      const [h, , s] = jwt({ sub: 'u1', exp: now() + 60 }, 'HS256', SECRET).split('.');
      return `${h}.${b64({ sub: 'admin', exp: now() + 60 })}.${s}`;
    })(), 'invalid token'],
  ])('%s token: 401', async (_name, token, message) => {
    await expect(auth.authenticate(bearer(token))).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401, message });
  });
  test('X-User-Id that disagrees with the token: 403', async () => {
    await expect(auth.authenticate({ ...bearer(jwt({ sub: 'u1', exp: now() + 60 }, 'HS256', SECRET)), 'x-user-id': 'u2' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
  test('service keys: by Bearer or X-Api-Key, acting for X-User-Id', async () => {
    await expect(auth.authenticate({ ...bearer(KEY), 'x-user-id': 'u9' })).resolves.toEqual({ kind: 'service', userId: 'u9' });
    await expect(auth.authenticate({ 'x-api-key': KEY, 'x-user-id': 'u9' })).resolves.toEqual({ kind: 'service', userId: 'u9' });
    await expect(auth.authenticate({ 'x-api-key': KEY })).resolves.toEqual({ kind: 'service', userId: null });
    await expect(auth.authenticate({ 'x-api-key': `${KEY}x`, 'x-user-id': 'u9' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
  test.each([
    ['nothing', {}],
    ['X-User-Id alone', { 'x-user-id': 'u1' }],
    ['Basic auth', { authorization: 'Basic dTE6cHc=' }],
    ['two credentials', { authorization: `Bearer ${KEY}`, 'x-api-key': KEY }],
    ['repeated X-Api-Key', { 'x-api-key': [KEY, KEY] }],
    ['malformed X-User-Id', { 'x-api-key': KEY, 'x-user-id': 'u 1' }],
  ])('%s: 401', async (_n, headers) => {
    await expect(auth.authenticate(headers as never)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
  test('without JWT configuration every token is refused', async () => {
    const keysOnly = new Authenticator({ serviceApiKeyHashes: [] });
    await expect(keysOnly.authenticate(bearer(jwt({ sub: 'u1', exp: now() + 60 }, 'HS256', SECRET)))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});

describe('JwtVerifier with public keys', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  test('RS256 and ES256 (PEM and JWK)', async () => {
    expect((await new JwtVerifier({ publicKey: rsaPem }).verify(jwt({ sub: 'r', exp: now() + 60 }, 'RS256', rsa.privateKey))).sub).toBe('r');
    expect((await new JwtVerifier({ publicKey: ecPem }).verify(jwt({ sub: 'e', exp: now() + 60 }, 'ES256', ec.privateKey))).sub).toBe('e');
    const jwk = JSON.stringify(ec.publicKey.export({ format: 'jwk' }));
    expect((await new JwtVerifier({ publicKey: jwk }).verify(jwt({ sub: 'j', exp: now() + 60 }, 'ES256', ec.privateKey))).sub).toBe('j');
  });
  test('algorithm confusion is refused: HS256 signed with the public key, or the other key type', async () => {
    const v = new JwtVerifier({ publicKey: rsaPem });
    await expect(v.verify(jwt({ sub: 'x', exp: now() + 60 }, 'HS256', rsaPem))).rejects.toThrow('unaccepted algorithm');
    await expect(v.verify(jwt({ sub: 'x', exp: now() + 60 }, 'ES256', ec.privateKey))).rejects.toThrow('unaccepted algorithm');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expect(v.verify(jwt({ sub: 'x', exp: now() + 60 }, 'RS256', other.privateKey))).rejects.toThrow('bad signature');
  });
  test('alg none and an HS256 key with both keys configured: each alg only with its own key', async () => {
    const both = new JwtVerifier({ secret: SECRET, publicKey: ecPem });
    await expect(both.verify(jwt({ sub: 'n', exp: now() + 60 }, 'none'))).rejects.toThrow(/unaccepted algorithm|invalid token/);
    expect((await both.verify(jwt({ sub: 'h', exp: now() + 60 }, 'HS256', SECRET))).sub).toBe('h');
    expect((await both.verify(jwt({ sub: 'e', exp: now() + 60 }, 'ES256', ec.privateKey))).sub).toBe('e');
    await expect(both.verify(jwt({ sub: 'x', exp: now() + 60 }, 'HS256', ecPem))).rejects.toThrow('bad signature');
    await expect(both.verify(jwt({ sub: 'x', exp: now() - 60 }, 'HS256', SECRET))).rejects.toMatchObject({ expired: true });
  });
  test('weak or unsupported keys are refused at start-up', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => new JwtVerifier({ publicKey: weak })).toThrow(/2048/);
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => new JwtVerifier({ publicKey: ed })).toThrow(/RSA|P-256/);
  });
});
