import path from 'node:path';
import { AppError } from '../errors';
import type { RecordingStoragePort, StoredObjectReader, StoredRecordingRef } from '../recordings/ports';
import { localFileReader } from '../recordings/service';
import { hlsPlaylistKey, recordingPrefix } from '../storage/keys';
import type { Storage } from '../storage/types';
import { localPathsOf, type LocalRecordingDirs } from './local-files';
import { deleteRecordingFiles } from './retention';

/**
 * RecordingStoragePort on a Storage: removal of everything a recording left (its objects by
 * key prefix, its local files in `dirs`), downloads.
 */
export class StorageRecordingFiles implements RecordingStoragePort {
  constructor(
    private readonly storage: Storage,
    private readonly prefix: string,
    private readonly signedUrlSeconds: number,
    private readonly dirs?: LocalRecordingDirs,
  ) {}

  async remove(ref: StoredRecordingRef): Promise<void> {
    const localKey = ref.provider === 'local' && ref.key && path.isAbsolute(ref.key) ? ref.key : null;
    if (ref.provider && ref.provider !== this.storage.provider && !localKey) {
      throw new AppError('STORAGE_REJECTED', `the recording is stored in ${ref.provider}, but this server is configured for ${this.storage.provider}`);
    }
    const localPaths = this.dirs ? localPathsOf(this.dirs, { id: ref.recordingId, filePath: ref.filePath }) : ref.filePath ? [ref.filePath] : [];
    if (localKey) localPaths.push(localKey);
    // The prefix even when no upload was recorded: a failed attempt may have stored some objects.
    await deleteRecordingFiles(this.storage, this.prefix, { callId: ref.callId, recordingId: ref.recordingId, localPaths });
    // objects stored under another prefix (an older RECORDING_STORAGE_PREFIX)
    const under = recordingPrefix(this.prefix, ref.callId, ref.recordingId);
    for (const key of [ref.key, ...ref.thumbnails.map((t) => t.key)]) {
      if (key && !key.startsWith(under) && !path.isAbsolute(key)) await this.storage.delete(key);
    }
  }

  signedUrl(key: string): Promise<string> {
    return this.storage.signedUrl(key, this.signedUrlSeconds);
  }

  hlsPlaylistKey(callId: string, recordingId: string): string {
    return hlsPlaylistKey(this.prefix, callId, recordingId);
  }

  async download(ref: StoredRecordingRef): Promise<{ url: string; expiresAt: string } | StoredObjectReader> {
    if (!ref.key) throw new AppError('NOT_FOUND', 'the recording has no stored file');
    if (ref.provider === 'local' && path.isAbsolute(ref.key)) return localFileReader(ref.key);
    if (this.storage.provider !== 'local') {
      const url = await this.storage.signedUrl(ref.key, this.signedUrlSeconds);
      return { url, expiresAt: new Date(Date.now() + this.signedUrlSeconds * 1000).toISOString() };
    }
    const info = await this.storage.head(ref.key);
    if (!info) throw new AppError('NOT_FOUND', 'the stored recording is gone');
    const key = ref.key;
    return {
      size: info.size,
      contentType: info.contentType ?? 'application/octet-stream',
      open: (range) => this.storage.createReadStream(key, range),
    };
  }
}
