import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors';
import type { RecordingOptions } from './options';
import type { RecordingJob } from './ports';
import { mapStreamUrls } from './streams';

/**
 * Stream destination URLs at rest (their keys, passphrases, users and passwords): sealed with
 * AES-256-GCM under RECORDER_SECRETS_KEY wherever they are written (the recording's options
 * in the database, the job and live change messages in Redis), opened where they are read
 * back. The sealed form says what it is, `enc:v1:<base64 of iv | tag | ciphertext>`, so a
 * value without it is plaintext as written before there was a key (and is read as such). A
 * caller cannot pass a sealed value off as a URL: streams.ts takes only rtmp(s):// and srt://.
 */

export const SEALED_PREFIX = 'enc:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What RECORDER_SECRETS_KEY must be, for its error. */
export const SECRETS_KEY_RULE = `must be ${KEY_BYTES} bytes as base64 (44 characters) or as 64 hex digits`;

/** RECORDER_SECRETS_KEY's text as its 32 bytes; undefined when it is neither form. */
export function parseSecretsKey(text: string): Buffer | undefined {
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(text)) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}

/** The longest sealed form of a text of `chars` UTF-16 units (each at most 3 UTF-8 bytes). */
export function sealedMaxLength(chars: number): number {
  return SEALED_PREFIX.length + 4 * Math.ceil((IV_BYTES + TAG_BYTES + 3 * chars) / 3);
}

/** The plaintext of `raw` (iv | tag | ciphertext) under `key`; undefined when the tag does not hold (another key, or altered). */
function openWith(key: Buffer, raw: Buffer): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

const unreadable = (why: string) => new AppError('SECRET_UNREADABLE', `a stored stream URL cannot be decrypted: ${why}`);

export class StreamSecrets {
  /**
   * `key` undefined: values are written as given (RECORDER_SECRETS_KEY unset). `oldKeys`: keys
   * it replaced, tried after it to open a value (a rotation), never used to seal one.
   */
  constructor(
    private readonly key?: Buffer,
    private readonly oldKeys: readonly Buffer[] = [],
  ) {}

  /** Whether what is written is sealed. */
  get sealing(): boolean {
    return this.key !== undefined;
  }

  seal(plain: string): string {
    if (!this.key) return plain;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The plaintext of `stored`; SECRET_UNREADABLE when it is sealed and this key cannot open it. */
  open(stored: string): string {
    if (!stored.startsWith(SEALED_PREFIX)) return stored;
    const keys = this.key ? [this.key, ...this.oldKeys] : [...this.oldKeys];
    if (!keys.length) throw unreadable('it is encrypted and RECORDER_SECRETS_KEY is not set');
    const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw unreadable('it is truncated');
    for (const key of keys) {
      const opened = openWith(key, raw);
      if (opened !== undefined) return opened;
    }
    throw unreadable('neither RECORDER_SECRETS_KEY nor any of RECORDER_SECRETS_OLD_KEYS is the key it was encrypted with, or it was altered');
  }

  /** `options` with each stream output's URL sealed. */
  sealOptions(options: RecordingOptions): RecordingOptions {
    return options.outputs ? { ...options, outputs: mapStreamUrls(options.outputs, (url) => this.seal(url)) } : options;
  }

  /** `options` with each stream output's URL opened. */
  openOptions(options: RecordingOptions): RecordingOptions {
    return options.outputs ? { ...options, outputs: mapStreamUrls(options.outputs, (url) => this.open(url)) } : options;
  }

  sealJob(job: RecordingJob): RecordingJob {
    return { ...job, options: this.sealOptions(job.options) };
  }

  openJob(job: RecordingJob): RecordingJob {
    return { ...job, options: this.openOptions(job.options) };
  }

}
