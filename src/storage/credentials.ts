import fs from 'node:fs';
import { AppError } from '../errors';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * RECORDING_STORAGE_CREDENTIALS for provider aws: a JSON object
 * `{"accessKeyId": "...", "secretAccessKey": "...", "sessionToken"?: "..."}` or "key:secret".
 * Undefined means the SDK's default chain (environment, instance role).
 */
export function parseAwsCredentials(raw: string | undefined): AwsCredentials | undefined {
  if (!raw || !raw.trim()) return undefined;
  const s = raw.trim();
  if (s.startsWith('{')) {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(s) as Record<string, unknown>;
    } catch {
      throw new AppError('CONFIG_INVALID', 'RECORDING_STORAGE_CREDENTIALS is not valid JSON');
    }
    const accessKeyId = obj.accessKeyId ?? obj.AccessKeyId ?? obj.aws_access_key_id;
    const secretAccessKey = obj.secretAccessKey ?? obj.SecretAccessKey ?? obj.aws_secret_access_key;
    const sessionToken = obj.sessionToken ?? obj.SessionToken ?? obj.aws_session_token;
    if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string' || !accessKeyId || !secretAccessKey) {
      throw new AppError('CONFIG_INVALID', 'RECORDING_STORAGE_CREDENTIALS for aws needs accessKeyId and secretAccessKey');
    }
    return { accessKeyId, secretAccessKey, ...(typeof sessionToken === 'string' && sessionToken ? { sessionToken } : {}) };
  }
  const i = s.indexOf(':');
  if (i <= 0 || i === s.length - 1) {
    throw new AppError('CONFIG_INVALID', 'RECORDING_STORAGE_CREDENTIALS for aws must be JSON {accessKeyId, secretAccessKey} or "key:secret"');
  }
  return { accessKeyId: s.slice(0, i), secretAccessKey: s.slice(i + 1) };
}

export interface GcpServiceAccount {
  type?: string;
  project_id?: string;
  client_email?: string;
  private_key?: string;
  [k: string]: unknown;
}

/**
 * RECORDING_STORAGE_CREDENTIALS for provider gcp: the JSON of a service-account key, or a
 * path to such a file. Undefined means Application Default Credentials. Against an
 * emulator any well-formed JSON does (a signing key is only needed for signed URLs).
 */
export function parseGcpCredentials(raw: string | undefined): GcpServiceAccount | undefined {
  if (!raw || !raw.trim()) return undefined;
  const s = raw.trim();
  let text = s;
  if (!s.startsWith('{')) {
    try {
      text = fs.readFileSync(s, 'utf8');
    } catch (err) {
      throw new AppError('CONFIG_INVALID', `RECORDING_STORAGE_CREDENTIALS: cannot read service-account file ${s}: ${(err as Error).message}`);
    }
  }
  try {
    const obj = JSON.parse(text) as unknown;
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('not an object');
    return obj as GcpServiceAccount;
  } catch {
    throw new AppError('CONFIG_INVALID', 'RECORDING_STORAGE_CREDENTIALS for gcp is not a service-account JSON (or a path to one)');
  }
}
