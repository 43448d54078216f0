import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { recordingOptionsSchema, resolveRecordingOptions } from '../../src/recordings/options';
import { parseSecretsKey, SEALED_PREFIX, StreamSecrets } from '../../src/recordings/secrets';
import { errorCode } from '../helpers/error-code';

/** Stream URLs at rest (recordings/secrets.ts): AES-256-GCM under RECORDER_SECRETS_KEY, plaintext read as such. */
const key = randomBytes(32);
const box = new StreamSecrets(key);
const URL_WITH_KEY = 'rtmp://live.example.com/app/sk-live-Ünïcødé-0123456789';

describe('stream secrets', () => {
  it('round-trips a URL, with a fresh IV each time, in the enc:v1 form (iv, tag, ciphertext)', () => {
    const a = box.seal(URL_WITH_KEY);
    const b = box.seal(URL_WITH_KEY);
    expect(a.startsWith(SEALED_PREFIX)).toBe(true);
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-live');
    expect(Buffer.from(a.slice(SEALED_PREFIX.length), 'base64').length).toBe(12 + 16 + Buffer.byteLength(URL_WITH_KEY));
    expect(box.open(a)).toBe(URL_WITH_KEY);
    expect(box.open(b)).toBe(URL_WITH_KEY);
  });

  it('detects tampering, truncation, another key and a missing key: SECRET_UNREADABLE', () => {
    const sealed = box.seal(URL_WITH_KEY);
    const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');
    const flipped = (at: number) => {
      const copy = Buffer.from(raw);
      copy[at] ^= 1;
      return SEALED_PREFIX + copy.toString('base64');
    };
    for (const at of [0, 12, 28, raw.length - 1]) expect(errorCode(() => box.open(flipped(at)))).toBe('SECRET_UNREADABLE'); // iv, tag, ciphertext
    expect(errorCode(() => box.open(SEALED_PREFIX + raw.subarray(0, 20).toString('base64')))).toBe('SECRET_UNREADABLE');
    expect(errorCode(() => new StreamSecrets(randomBytes(32)).open(sealed))).toBe('SECRET_UNREADABLE');
    expect(() => new StreamSecrets().open(sealed)).toThrow(/RECORDER_SECRETS_KEY is not set/);
    expect(() => new StreamSecrets(randomBytes(32)).open(sealed)).toThrow(/nor any of RECORDER_SECRETS_OLD_KEYS is the key it was encrypted with/);
  });

  it('reads a value not in the sealed form as plaintext, and without a key writes as given', () => {
    expect(box.open(URL_WITH_KEY)).toBe(URL_WITH_KEY);
    const none = new StreamSecrets();
    expect(none.sealing).toBe(false);
    expect(none.seal(URL_WITH_KEY)).toBe(URL_WITH_KEY);
    expect(none.open(URL_WITH_KEY)).toBe(URL_WITH_KEY);
  });

  it('seals and opens only the stream outputs of options; the sealed options are still valid stored options', () => {
    const long = `rtmp://live.example.com/app/${'ü'.repeat(2000 - 'rtmp://live.example.com/app/'.length)}`;
    const { options } = resolveRecordingOptions(
      { outputs: [{ type: 'file' }, { type: 'hls' }, { type: 'rtmp', url: URL_WITH_KEY }, { type: 'srt', url: 'srt://live.example.com:9000?passphrase=pass-s3cret' }, { type: 'rtmp', url: long }] },
      { maxDurationSeconds: 60, streamHosts: ['live.example.com', 'live.example.com:9000'] },
    );
    const sealed = box.sealOptions(options);
    expect(sealed.outputs!.slice(0, 2)).toEqual(options.outputs!.slice(0, 2));
    expect(sealed.outputs!.slice(2).every((o) => 'url' in o && o.url.startsWith(SEALED_PREFIX))).toBe(true);
    expect(JSON.stringify(sealed)).not.toMatch(/sk-live|pass-s3cret|ü/);
    expect(recordingOptionsSchema.parse(JSON.parse(JSON.stringify(sealed)))).toEqual(sealed);
    expect(box.openOptions(sealed)).toEqual(options);
    const plain = resolveRecordingOptions({}, { maxDurationSeconds: 60 }).options;
    expect(box.sealOptions(plain)).toBe(plain);
  });

  it('rotates: a new key seals, the old ones still open what they sealed, and a key listed nowhere opens nothing', () => {
    const next = randomBytes(32);
    const sealedBefore = box.seal(URL_WITH_KEY);
    const rotated = new StreamSecrets(next, [key]);
    expect(rotated.open(sealedBefore)).toBe(URL_WITH_KEY);
    const sealedAfter = rotated.seal(URL_WITH_KEY);
    expect(new StreamSecrets(next).open(sealedAfter)).toBe(URL_WITH_KEY);
    expect(errorCode(() => box.open(sealedAfter))).toBe('SECRET_UNREADABLE');
    expect(errorCode(() => new StreamSecrets(next, [randomBytes(32)]).open(sealedBefore))).toBe('SECRET_UNREADABLE');
    // old keys alone (the key unset on purpose): reads what they sealed, writes plaintext
    const retired = new StreamSecrets(undefined, [key]);
    expect(retired.open(sealedBefore)).toBe(URL_WITH_KEY);
    expect(retired.seal(URL_WITH_KEY)).toBe(URL_WITH_KEY);
  });

  it('takes RECORDER_SECRETS_OLD_KEYS as a comma list of such keys, naming the one that is not', () => {
    const other = randomBytes(32);
    expect(loadConfig({ RECORDER_SECRETS_KEY: key.toString('hex'), RECORDER_SECRETS_OLD_KEYS: `${other.toString('base64')}, ${key.toString('hex')}` }).secrets.oldKeys).toEqual([other, key]);
    expect(loadConfig({}).secrets.oldKeys).toEqual([]);
    expect(() => loadConfig({ RECORDER_SECRETS_OLD_KEYS: `${other.toString('base64')},hunter2` })).toThrow(/RECORDER_SECRETS_OLD_KEYS: key 2 must be 32 bytes/);
    expect(() => loadConfig({ RECORDER_SECRETS_OLD_KEYS: 'hunter2' })).not.toThrow(/hunter2/);
  });

  it('takes RECORDER_SECRETS_KEY as base64 or hex of 32 bytes, anything else a startup error naming it (not the value)', () => {
    expect(parseSecretsKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretsKey(key.toString('base64').replace(/=$/, ''))).toEqual(key);
    expect(parseSecretsKey(key.toString('hex').toUpperCase())).toEqual(key);
    expect(loadConfig({ RECORDER_SECRETS_KEY: key.toString('hex') }).secrets.key).toEqual(key);
    expect(loadConfig({}).secrets.key).toBeUndefined();
    expect(loadConfig({ RECORDER_SECRETS_KEY: '' }).secrets.key).toBeUndefined();
    for (const bad of ['hunter2-hunter2', randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), key.toString('hex').slice(1), `${key.toString('base64')}x`, key.toString('base64url').replace(/[^-_]/, '-')]) {
      let thrown: { code?: string; message?: string } = {};
      try {
        loadConfig({ RECORDER_SECRETS_KEY: bad });
      } catch (err) {
        thrown = err as typeof thrown;
      }
      expect(thrown.code).toBe('CONFIG_INVALID');
      expect(thrown.message).toMatch(/RECORDER_SECRETS_KEY: must be 32 bytes as base64 \(44 characters\) or as 64 hex digits/);
      expect(thrown.message).not.toContain(bad);
    }
  });
});
