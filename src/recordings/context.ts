import { AppError } from '../errors';
import { checkIdentifier } from './identifiers';
import type { RecordingLifecycle } from './lifecycle';
import { authorize, type Actor } from './permissions';
import type { PostprocessQueue } from './postprocess-queue';
import type { PresetAssetStore } from './preset-assets';
import type { LayoutPresetRepository } from './presets';
import type { DispatchPort, RecorderPort, RecordingStoragePort, StoredRecordingRef, ViewCachePort } from './ports';
import type { RecordingRepository, RecordingWithRoom } from './repository';

/**
 * What every use case of the recordings service (calls.ts, start.ts, stop.ts, reads.ts,
 * deletion.ts, retry.ts, restart-recovery.ts) is given: the ports and options, and the checks they
 * share before touching a call or a recording.
 */

export interface RecordingsServiceOptions {
  outputDir: string;
  maxDurationSeconds: number;
  /** Origins allowed for custom layout pages. */
  layoutOrigins?: string[];
  /** Origins allowed for overlay images. */
  assetOrigins?: string[];
  /** Host patterns stream outputs may go to (RECORDER_STREAM_ALLOWED). */
  streamHosts?: string[];
  /** Recovery leaves alone a STARTING row no worker claimed yet if it is younger than this (default 60 s). */
  unclaimedGraceMs?: number;
  /** The spool is stored in object storage (S3, GCS): a worker salvages from it; a process without a recorder leaves recovery to one. */
  spoolStored?: boolean;
  /** Throws DISK_FULL when the recorder's disk is too full to start (checked before anything is written). */
  checkDisk?: () => Promise<void>;
}

export interface RecordingsServiceDeps {
  repo: RecordingRepository;
  lifecycle: RecordingLifecycle;
  dispatcher: DispatchPort;
  /** Present on worker processes: salvage on recovery. */
  recorder?: RecorderPort;
  postprocess?: PostprocessQueue;
  storage?: RecordingStoragePort;
  /** The layout presets a start or a live change may name; without it any named preset is PRESET_NOT_FOUND. */
  presets?: LayoutPresetRepository;
  /** The presets' uploaded assets that overlays may name; without it naming one is OVERLAY_ASSET_NOT_FOUND. */
  presetAssets?: PresetAssetStore;
  /** Called on LiveKit participant_left, so an empty room is noticed early. */
  onParticipantLeft?: (roomName: string) => void;
  /**
   * A shared cache of call and recording views (Redis) for GET of a call and of a recording;
   * the repository must invalidate it on every write (wired in app/dispatch.ts).
   */
  views?: ViewCachePort;
}

export interface RecordingsContext {
  deps: RecordingsServiceDeps;
  opts: RecordingsServiceOptions;
}

/** The call, if `actor` may read or control it (NOT_FOUND and FORBIDDEN as permissions.ts says). */
export async function loadCall(ctx: RecordingsContext, actor: Actor, callId: string, access: 'read' | 'control') {
  checkIdentifier('callId', callId, 'call id');
  return authorize(await ctx.deps.repo.getCall(callId), actor, access);
}

/** The call and one of its recordings that is not deleted; NOT_FOUND otherwise. */
export async function loadRecording(ctx: RecordingsContext, actor: Actor, callId: string, recordingId: string, access: 'read' | 'control') {
  checkIdentifier('recordingId', recordingId, 'recording id');
  const call = await loadCall(ctx, actor, callId, access);
  const rec = await ctx.deps.repo.getRecording(recordingId);
  if (!rec || rec.callId !== call.id || rec.status === 'DELETED') throw new AppError('NOT_FOUND', 'recording not found');
  return { call, rec };
}

/** Where a recording's files are, for the storage port. */
export function storedRef(rec: RecordingWithRoom): StoredRecordingRef {
  return {
    callId: rec.callId,
    recordingId: rec.id,
    provider: rec.storageProvider,
    key: rec.storageKey,
    filePath: rec.filePath,
    thumbnails: rec.thumbnails,
  };
}
