import { hlsOutputOf } from './outputs';
import type { RecordingStoragePort } from './ports';
import type { CallView, RecordingView } from './views';

/**
 * Signed URLs expire: every view is given URLs signed when it is read, never the ones
 * stored at completion (those are only a fallback, for a store that cannot sign).
 */

/** A call's view as built (and cached): with the storage key of the recording its recordingUrl shows. */
export type StoredCallView = CallView & { recordingKey?: string | null };

type Signer = RecordingStoragePort['signedUrl'];

function signerOf(storage: RecordingStoragePort | undefined): Signer {
  return storage?.signedUrl?.bind(storage);
}

export async function withFreshUrls(stored: RecordingView, storage: RecordingStoragePort | undefined): Promise<RecordingView> {
  const view = await withHls(stored, storage);
  const sign = signerOf(storage);
  if (!sign || view.status !== 'COMPLETED' || !view.storageKey) return view;
  try {
    const manifest = view.manifest;
    const [url, manifestUrl, thumbs, sidecars, tracks] = await Promise.all([
      sign(view.storageKey),
      manifest ? sign(manifest.key) : null,
      Promise.all(view.thumbnails.map((t) => sign(t.key))),
      Promise.all(view.sidecars.map((s) => sign(s.key))),
      Promise.all(view.tracks.map((t) => sign(t.key))),
    ]);
    return {
      ...view,
      url,
      thumbnails: view.thumbnails.map((t, i) => ({ ...t, url: thumbs[i] })),
      manifest: manifest ? { key: manifest.key, url: manifestUrl } : null,
      sidecars: view.sidecars.map((s, i) => ({ ...s, url: sidecars[i] })),
      tracks: view.tracks.map((t, i) => ({ ...t, url: tracks[i] })),
    };
  } catch {
    // a store that cannot sign (GCS without a service-account key) must not break reads
    return view;
  }
}

/**
 * The HLS playlist of a recording whose options ask for HLS, once it records: its key (the
 * storage names it) and a URL signed now. The playlist names its segments relative to itself.
 */
async function withHls(view: RecordingView, storage: RecordingStoragePort | undefined): Promise<RecordingView> {
  if (!hlsOutputOf(view.options.outputs) || !storage?.hlsPlaylistKey || !view.recordingAt || view.status === 'DELETED') return view;
  const playlistKey = storage.hlsPlaylistKey(view.callId, view.id);
  const url = await signerOf(storage)?.(playlistKey).catch(() => null);
  return { ...view, hls: { playlistKey, url: url ?? null } };
}

/** The call's view as the API shows it: recordingUrl signed now, the storage key left out. */
export async function withFreshCallUrl(stored: StoredCallView, storage: RecordingStoragePort | undefined): Promise<CallView> {
  const { recordingKey, ...view } = stored;
  const sign = signerOf(storage);
  if (!sign || !recordingKey) return view;
  try {
    return { ...view, recordingUrl: await sign(recordingKey) };
  } catch {
    return view;
  }
}
