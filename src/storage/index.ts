import type { Config } from '../config';
import { AppError } from '../errors';
import { GcsStorage, type GcsStorageOptions } from './gcs';
import { LocalStorage, type LocalStorageOptions } from './local';
import { S3Storage, type S3StorageOptions } from './s3';
import type { Storage } from './types';

export * from './types';
export * from './keys';
export { LocalStorage } from './local';
export type { LocalStorageOptions } from './local';
export { S3Storage, S3_MIN_PART_SIZE } from './s3';
export type { S3StorageOptions } from './s3';
export { GcsStorage } from './gcs';
export type { GcsStorageOptions } from './gcs';
export { parseAwsCredentials, parseGcpCredentials } from './credentials';
export type { AwsCredentials, GcpServiceAccount } from './credentials';
export { toStorageError } from './errors';

export type StorageConfig = Config['storage'];

/** Provider-specific knobs that are not part of the service configuration (tests, benchmarks). */
export interface StorageTuning {
  local?: Partial<Omit<LocalStorageOptions, 'dir'>>;
  s3?: Partial<Omit<S3StorageOptions, 'bucket' | 'region' | 'credentials' | 'endpoint'>>;
  gcs?: Partial<Omit<GcsStorageOptions, 'bucket' | 'credentials' | 'endpoint'>>;
}

/** The storage chosen by configuration (`config.storage`). */
export function createStorage(cfg: StorageConfig, tuning: StorageTuning = {}): Storage {
  switch (cfg.provider) {
    case 'local':
      return new LocalStorage({
        dir: cfg.localDir,
        signedUrlSeconds: cfg.signedUrlSeconds,
        ...(cfg.urlSigningSecret ? { signingSecret: cfg.urlSigningSecret } : {}),
        ...tuning.local,
      });
    case 'aws':
      if (!cfg.bucket) throw new AppError('CONFIG_INVALID', 'RECORDING_STORAGE_BUCKET is required for provider aws');
      return new S3Storage({
        bucket: cfg.bucket,
        region: cfg.region,
        credentials: cfg.credentials,
        endpoint: cfg.endpoint,
        signedUrlSeconds: cfg.signedUrlSeconds,
        ...tuning.s3,
      });
    case 'gcp':
      if (!cfg.bucket) throw new AppError('CONFIG_INVALID', 'RECORDING_STORAGE_BUCKET is required for provider gcp');
      return new GcsStorage({
        bucket: cfg.bucket,
        credentials: cfg.credentials,
        endpoint: cfg.endpoint,
        signedUrlSeconds: cfg.signedUrlSeconds,
        ...tuning.gcs,
      });
    default:
      throw new AppError('CONFIG_INVALID', `unknown storage provider ${String((cfg as { provider: unknown }).provider)}`);
  }
}
