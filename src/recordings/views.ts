import type { RecordingOptions } from './options';
import { redactedOutputs } from './outputs';
import type { QualityReport } from './quality';
import type { StreamInfo } from './streams';
import type { CallWithParticipants, StoredRecording } from './repository';
import type { RecordingThumbnail, SidecarName } from './stored-data';
import type { RecordingTrack } from './tracks-option';
import type { RecordingStatus } from './status';
import { pausedMsUntil, toFileMs } from './timeline';

/** What the API shows of calls and recordings (no file paths or job internals). */
export interface CallView {
  id: string;
  roomName: string;
  hostId: string;
  participantIds: string[];
  isRecorded: boolean;
  recordingStatus: RecordingStatus | null;
  recordingUrl: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RecordingView {
  id: string;
  callId: string;
  status: RecordingStatus;
  format: string;
  options: RecordingOptions;
  requestedBy: string;
  startedAt: string;
  recordingAt: string | null;
  /** The latest pause (the status is PAUSED until it is resumed). */
  pausedAt: string | null;
  /** Time paused in total: cut out of the file. */
  pausedMs: number;
  /** The host's markers: each at its instant and its place on the file's clock (chapters of the file). */
  markers: { label: string; at: string; offsetMs: number }[];
  stoppingAt: string | null;
  processingAt: string | null;
  uploadingAt: string | null;
  completedAt: string | null;
  failedAt: string | null;
  deletedAt: string | null;
  stopReason: string | null;
  /** The recorder worker that ran it (its pool id); null until a worker took it. */
  workerId: string | null;
  durationMs: number | null;
  fileSize: number | null;
  /** The video's key in the storage (provider-relative). */
  storageKey: string | null;
  url: string | null;
  thumbnails: RecordingThumbnail[];
  /** manifest.json: the recording's files with keys, sizes and offsets, and the quality report; `url` signed at each read. */
  manifest: { key: string; url: string | null } | null;
  /** The HLS playlist, when the options ask for HLS: from the first segment on during the call, complete after it; `url` signed at each read (signed-views.ts). */
  hls: { playlistKey: string; url: string | null } | null;
  /** Each stream output (rtmp, srt) as Egress's StreamInfo: its URL redacted, status, retries, last error. */
  streams: StreamInfo[];
  /** Files made from the recording's timeline (speakers.vtt, speakers.json, chat.jsonl, chat.vtt), on the file's clock; `url` signed at each read. */
  sidecars: { kind: SidecarName; key: string; url: string | null }[];
  /** Each participant's own tracks (start option `tracks`), `offsetMs` on the file's clock; `url` signed at each read. */
  tracks: (RecordingTrack & { url: string | null })[];
  error: { code: string; message: string; fault: string | null } | null;
  /** The recording stopped because of a fault (`error` says which) but kept what it captured. */
  endedEarly: boolean;
  /** Frame rate, start latency, who was late, and warnings for what fell short (recordings/quality.ts). */
  quality: QualityReport | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function callView(c: CallWithParticipants): CallView {
  return {
    id: c.id,
    roomName: c.roomName,
    hostId: c.hostId,
    participantIds: c.participants.map((p) => p.userId),
    isRecorded: c.isRecorded,
    recordingStatus: c.recordingStatus,
    recordingUrl: c.recordingUrl,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

/** `r` was parsed when read (repository.ts), so its JSON columns are typed here. */
export function recordingView(r: StoredRecording): RecordingView {
  return {
    id: r.id,
    callId: r.callId,
    status: r.status,
    format: r.outputFormat,
    // a stream URL holds its key: the view shows it redacted
    options: r.options.outputs ? { ...r.options, outputs: redactedOutputs(r.options.outputs) } : r.options,
    requestedBy: r.requestedBy,
    startedAt: r.startingAt.toISOString(),
    recordingAt: iso(r.recordingAt),
    pausedAt: iso(r.pausedAt),
    // a pause still open when the recording ended counts up to its end
    pausedMs: pausedMsUntil(r.pauses, r.stoppingAt ?? r.failedAt ?? new Date()),
    markers: r.markers.map((m) => ({ label: m.label, at: m.at.toISOString(), offsetMs: r.recordingAt ? toFileMs(m.at, r.recordingAt, r.pauses) : 0 })),
    stoppingAt: iso(r.stoppingAt),
    processingAt: iso(r.processingAt),
    uploadingAt: iso(r.uploadingAt),
    completedAt: iso(r.completedAt),
    failedAt: iso(r.failedAt),
    deletedAt: iso(r.deletedAt),
    stopReason: r.stopReason,
    workerId: r.workerId,
    durationMs: r.durationMs,
    fileSize: r.fileSize === null ? null : Number(r.fileSize),
    storageKey: r.status === 'DELETED' ? null : r.storageKey,
    url: r.status === 'DELETED' ? null : r.storageUrl,
    thumbnails: r.status === 'DELETED' ? [] : r.thumbnails,
    manifest: r.status === 'DELETED' || !r.manifestKey ? null : { key: r.manifestKey, url: null },
    hls: null,
    streams: r.streams,
    sidecars: r.status === 'DELETED' ? [] : r.sidecars.map((s) => ({ kind: s.kind, key: s.key, url: null })),
    tracks: r.status === 'DELETED' ? [] : (r.tracks ?? []).map((t) => ({ ...t, url: null })),
    error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? '', fault: r.errorFault } : null,
    endedEarly: r.errorCode !== null && r.failedAt === null,
    quality: r.quality,
  };
}
