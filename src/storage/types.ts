import type { Readable } from 'node:stream';

/** The three places a finished recording can live; chosen by `config.storage.provider`. */
export type StorageProvider = 'local' | 'aws' | 'gcp';

export interface UploadProgress {
  /** Bytes sent so far. */
  loaded: number;
  /** Size of the file being sent. */
  total: number;
}
export type ProgressListener = (p: UploadProgress) => void;

export interface PutOptions {
  /** Aborts the upload (multipart parts already sent are discarded by the provider). */
  signal?: AbortSignal;
  /** Extra metadata stored with the object (string values only). */
  metadata?: Record<string, string>;
}

export interface PutResult {
  key: string;
  size: number;
  /** A URL that reads the object; for private buckets a signed URL valid `signedUrlSeconds`. */
  url?: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  contentType?: string;
  lastModified?: Date;
}

/** Inclusive byte range, as in an HTTP Range header; `end` omitted means "to the end". */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface StorageHealth {
  ok: boolean;
  provider: StorageProvider;
  /** Round trip of the check in milliseconds. */
  latencyMs: number;
  detail?: string;
}

/**
 * One interface, three providers. Keys are slash-separated paths relative to the
 * configured prefix's root (callers build them with ./keys.ts, which adds the prefix).
 * Every failure is an AppError: STORAGE_UNAVAILABLE (network, 5xx: retry later),
 * STORAGE_REJECTED (4xx: the destination refuses, retrying will not help), NOT_FOUND.
 */
export interface Storage {
  readonly provider: StorageProvider;
  /** Streams a file from disk into the store (never whole in memory). */
  put(key: string, filePath: string, contentType: string, onProgress?: ProgressListener, options?: PutOptions): Promise<PutResult>;
  /** Stores a small object from memory in one request (a spool segment: no multipart upload). */
  putBytes(key: string, data: Uint8Array, contentType: string): Promise<void>;
  /** Removes one object; a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every object whose key starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Lists objects under a prefix (all pages). */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** A time-limited URL that reads the object without other credentials. */
  signedUrl(key: string, seconds?: number): Promise<string>;
  /** Size and type of one object, or null when it does not exist. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Reads an object (or a byte range of it). NOT_FOUND when missing. */
  createReadStream(key: string, range?: ByteRange): Promise<Readable>;
  /** Reachability and permission check of the destination (bucket or directory). */
  checkHealth(): Promise<StorageHealth>;
  /** Releases sockets; the instance is unusable afterwards. */
  close(): Promise<void>;
}
