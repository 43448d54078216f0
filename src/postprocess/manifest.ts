import type { QualityReport } from '../recordings/quality';
import type { RecordingFormat } from '../recordings/options';
import { contentTypeOf, type StreamMode } from '../recordings/formats';
import type { SidecarName } from '../recordings/stored-data';
import { toFileMs, type PausedSpan } from '../recordings/timeline';
import type { Chapter } from './chapters';
import type { StoredTrack } from './tracks';

/**
 * manifest.json, uploaded beside a recording once its other files are stored: what an editor
 * or an archive needs to use them without asking the API. Times are on the file's clock (ms
 * from its first frame); `recordingAt` is that first frame's wall-clock time.
 */
export interface RecordingManifest {
  version: 1;
  recordingId: string;
  callId: string;
  roomName: string;
  format: RecordingFormat;
  recordingAt: string | null;
  durationMs: number;
  /** How the picture and sound got into the file ('copy': not re-encoded). */
  conversion: { video: StreamMode; audio: StreamMode };
  files: ManifestFile[];
  /** The file's chapters (chapters.ts; none without a pause or a marker), as the file carries them. */
  chapters: Chapter[];
  /** The spans cut out of the file (wall clock), each with its seam on the file's clock. */
  pauses: { pausedAt: string; resumedAt: string | null; atMs: number }[];
  quality: QualityReport | null;
}

export type ManifestFile =
  | { kind: 'recording'; key: string; size: number; contentType: string; offsetMs: 0; durationMs: number }
  | { kind: 'thumbnail' | 'poster'; key: string; size: number; contentType: string; atMs: number; width: number; height: number }
  /** The HLS playlist (its segments beside it, named by it), stored during the call. */
  | { kind: 'hls-playlist'; key: string; contentType: string; offsetMs: 0; durationMs: number; segments: number; missingSegments: number }
  /** A sidecar (postprocess/sidecars.ts), its kind its name; its times are on the file's clock. */
  | { kind: SidecarName; key: string; size: number; contentType: string }
  /**
   * A participant's own track (start option `tracks`, postprocess/tracks.ts): `offsetMs` is where
   * its first sample lands on the recording's file clock (play it from there to line it up).
   */
  | { kind: 'track'; media: 'audio' | 'video'; identity: string; name: string; source: string; key: string; size: number; contentType: string; codec: string; offsetMs: number; offsetFrom: 'audio' | 'resume-audio' | 'page-clock'; durationMs: number };

/** What the manifest says of the recording itself, beside what post-processing made. */
export interface ManifestContext {
  roomName: string;
  recordingAt?: Date;
  quality: QualityReport | null;
}

interface Stored {
  key: string;
  size: number;
  contentType: string;
}
interface StoredImage extends Stored {
  atMs: number;
  width: number;
  height: number;
}

export function buildManifest(
  r: { recordingId: string; callId: string; format: RecordingFormat; durationMs: number; conversion: { video: StreamMode; audio: StreamMode } },
  context: ManifestContext,
  files: { video: Stored; thumbnails: StoredImage[]; poster: StoredImage | null; sidecars: (Stored & { kind: SidecarName })[]; tracks?: StoredTrack[] },
  clock: { chapters: Chapter[]; pauses: readonly PausedSpan[] },
): RecordingManifest {
  const recordingAt = context.recordingAt;
  const image = (kind: 'thumbnail' | 'poster', i: StoredImage): ManifestFile => ({ kind, key: i.key, size: i.size, contentType: i.contentType, atMs: i.atMs, width: i.width, height: i.height });
  return {
    version: 1,
    recordingId: r.recordingId,
    callId: r.callId,
    roomName: context.roomName,
    format: r.format,
    recordingAt: context.recordingAt ? context.recordingAt.toISOString() : null,
    durationMs: r.durationMs,
    conversion: { video: r.conversion.video, audio: r.conversion.audio },
    files: [
      { kind: 'recording', key: files.video.key, size: files.video.size, contentType: files.video.contentType, offsetMs: 0, durationMs: r.durationMs },
      ...files.thumbnails.map((t) => image('thumbnail', t)),
      ...(files.poster ? [image('poster', files.poster)] : []),
      ...hlsEntry(context.quality),
      ...files.sidecars.map((s) => ({ kind: s.kind, key: s.key, size: s.size, contentType: s.contentType })),
      ...(files.tracks ?? []).map(trackEntry),
    ],
    chapters: clock.chapters,
    pauses: clock.pauses.map((p) => ({
      pausedAt: p.pausedAt.toISOString(),
      resumedAt: p.resumedAt?.toISOString() ?? null,
      atMs: recordingAt ? toFileMs(p.pausedAt, recordingAt, clock.pauses) : 0,
    })),
    quality: context.quality,
  };
}

/** A track's entry, as manifest.json lists it (and `recorder record --tracks` in tracks.json). */
export type TrackManifestEntry = Extract<ManifestFile, { kind: 'track' }>;

export function trackEntry(t: StoredTrack): TrackManifestEntry {
  const { identity, name, media, source } = t.track;
  return { kind: 'track', media, identity, name, source, key: t.key, size: t.size, contentType: t.contentType, codec: t.codec, offsetMs: t.offsetMs, offsetFrom: t.offsetFrom, durationMs: t.durationMs };
}

function hlsEntry(quality: QualityReport | null): ManifestFile[] {
  const hls = quality?.hls;
  if (!hls) return [];
  return [{ kind: 'hls-playlist', key: hls.playlistKey, contentType: contentTypeOf(hls.playlistKey), offsetMs: 0, durationMs: hls.durationMs, segments: hls.segments, missingSegments: hls.missing.length }];
}
