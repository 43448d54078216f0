import { AppError, toAppError } from '../errors';
import type { RecordingProgress } from './contract';
import type { RecordingEventBase, RecordingEventBus } from './events';
import { failureRecord } from './failure-policy';
import type { PostprocessResult, RecordingThumbnail } from './ports';
import type { RecordingRepository, RecordingUpdate, RecordingWithRoom } from './repository';
import type { RecordingStatus } from './status';
import { pausedMsUntil } from './timeline';

/**
 * Every status change of a recording, each a checked transition followed by its event.
 * The runner, the post-processing queue, recovery and the API service all go through here.
 */
export const FAILABLE: readonly RecordingStatus[] = ['STARTING', 'RECORDING', 'PAUSED', 'STOPPING', 'PROCESSING', 'UPLOADING'];

/** What a stop moves to STOPPING: a paused recording stops as it is (its open pause runs to the end). */
const STOPPABLE: readonly RecordingStatus[] = ['STARTING', 'RECORDING', 'PAUSED'];

export class RecordingLifecycle {
  constructor(
    readonly repo: RecordingRepository,
    readonly bus: RecordingEventBus,
  ) {}

  base(rec: RecordingWithRoom): RecordingEventBase {
    return { recordingId: rec.id, callId: rec.callId, roomName: rec.call.roomName, status: rec.status, at: new Date().toISOString() };
  }

  /**
   * STARTING -> RECORDING once media flows, `recordingAt` being the file's time 0; null if
   * it was stopped or failed meanwhile.
   */
  async recording(id: string, recordingAt?: Date): Promise<RecordingWithRoom | null> {
    const rec = await this.repo.tryTransition(id, ['STARTING'], 'RECORDING', recordingAt ? { recordingAt } : {});
    if (rec) this.bus.emit('recordingStarted', { ...this.base(rec), startedAt: rec.recordingAt!.toISOString() });
    return rec;
  }

  /**
   * RECORDING -> PAUSED or back, writing the pauses `data` holds, only while the row is as read
   * (`updatedAt`); null when it is not any more.
   */
  async pauseOrResume(id: string, to: 'PAUSED' | 'RECORDING', data: RecordingUpdate, updatedAt: Date): Promise<RecordingWithRoom | null> {
    const rec = await this.repo.tryTransition(id, [to === 'PAUSED' ? 'RECORDING' : 'PAUSED'], to, data, { updatedAt });
    if (rec) this.bus.emit(to === 'PAUSED' ? 'recordingPaused' : 'recordingResumed', { ...this.base(rec), pausedMs: pausedMsUntil(rec.pauses, new Date()) });
    return rec;
  }

  async stopping(id: string, reason: string, strict = false): Promise<RecordingWithRoom | null> {
    const data = { stopReason: reason };
    const rec = strict
      ? await this.repo.transition(id, STOPPABLE, 'STOPPING', data)
      : await this.repo.tryTransition(id, STOPPABLE, 'STOPPING', data);
    if (rec) this.bus.emit('recordingStopping', { ...this.base(rec), reason });
    return rec;
  }

  /** STOPPING -> PROCESSING with the finished file; the post-processing job becomes due at `leaseUntil`. */
  async processing(id: string, file: { path: string; size: number; durationMs?: number }, leaseUntil: Date, extra: RecordingUpdate = {}): Promise<RecordingWithRoom> {
    const rec = await this.repo.transition(id, ['STOPPING'], 'PROCESSING', {
      ...extra,
      filePath: file.path,
      fileSize: BigInt(file.size),
      durationMs: file.durationMs === undefined ? null : Math.round(file.durationMs),
      attempts: 1,
      nextAttemptAt: leaseUntil,
    });
    this.bus.emit('recordingProcessing', { ...this.base(rec), fileSize: file.size, durationMs: rec.durationMs });
    return rec;
  }

  /** PROCESSING -> UPLOADING; already UPLOADING (a retried job) is fine. */
  async uploading(id: string): Promise<void> {
    const rec = await this.repo.tryTransition(id, ['PROCESSING'], 'UPLOADING');
    if (rec) return;
    const current = await this.repo.getRecording(id);
    if (current?.status === 'UPLOADING') return;
    throw new AppError('INVALID_TRANSITION', `recording is ${current?.status.toLowerCase() ?? 'gone'}, cannot upload`);
  }

  async thumbnails(id: string, thumbnails: RecordingThumbnail[]): Promise<void> {
    const rec = await this.repo.getRecording(id);
    if (!rec || (rec.status !== 'PROCESSING' && rec.status !== 'UPLOADING')) {
      throw new AppError('INVALID_TRANSITION', 'thumbnails only while post-processing');
    }
    await this.repo.updateIf(id, { status: ['PROCESSING', 'UPLOADING'] }, { thumbnails });
    this.bus.emit('thumbnailsGenerated', { ...this.base(rec), thumbnails });
  }

  async completed(id: string, result: PostprocessResult): Promise<RecordingWithRoom> {
    const data: RecordingUpdate = {
      storageProvider: result.storage.provider,
      storageKey: result.storage.key,
      storageUrl: result.storage.url ?? null,
      nextAttemptAt: null,
      lastError: null,
    };
    if (result.fileSize !== undefined) data.fileSize = BigInt(result.fileSize);
    if (result.durationMs !== undefined) data.durationMs = Math.round(result.durationMs);
    if (result.thumbnails) data.thumbnails = result.thumbnails;
    if (result.manifestKey) data.manifestKey = result.manifestKey;
    if (result.sidecars) data.sidecars = result.sidecars;
    if (result.tracks) data.tracks = result.tracks;
    const rec = await this.repo.transition(id, ['PROCESSING', 'UPLOADING'], 'COMPLETED', data);
    const base = this.base(rec);
    if (result.thumbnails?.length) this.bus.emit('thumbnailsGenerated', { ...base, thumbnails: result.thumbnails });
    this.bus.emit('recordingUploaded', { ...base, storage: { provider: result.storage.provider, key: result.storage.key, url: rec.storageUrl } });
    this.bus.emit('recordingCompleted', {
      ...base,
      url: rec.storageUrl,
      durationMs: rec.durationMs,
      fileSize: rec.fileSize === null ? null : Number(rec.fileSize),
    });
    return rec;
  }

  /**
   * -> FAILED with the error's code, message and fault; null when already terminal. Whether a
   * recording fails, and with which error, is decided in failure-policy.ts.
   */
  async failed(id: string, error: unknown, from: readonly RecordingStatus[] = FAILABLE): Promise<RecordingWithRoom | null> {
    const e = toAppError(error);
    const rec = await this.repo.tryTransition(id, from, 'FAILED', { ...failureRecord(e), nextAttemptAt: null });
    if (rec) this.bus.emit('recordingFailed', { ...this.base(rec), error: { code: e.code, message: e.message, fault: e.fault } });
    return rec;
  }

  async deleted(id: string): Promise<RecordingWithRoom> {
    const rec = await this.repo.transition(id, ['COMPLETED', 'FAILED'], 'DELETED', { nextAttemptAt: null });
    this.bus.emit('recordingDeleted', this.base(rec));
    return rec;
  }

  /** FAILED -> PROCESSING: post-processing again (a retry); the job is due at `leaseUntil`. */
  async reprocess(id: string, leaseUntil: Date): Promise<RecordingWithRoom> {
    const rec = await this.repo.transition(id, ['FAILED'], 'PROCESSING', {
      attempts: 1,
      nextAttemptAt: leaseUntil,
      errorCode: null,
      errorMessage: null,
      errorFault: null,
      failedAt: null,
      lastError: null,
    });
    this.bus.emit('recordingProcessing', { ...this.base(rec), fileSize: rec.fileSize === null ? null : Number(rec.fileSize), durationMs: rec.durationMs });
    return rec;
  }

  postprocessProgress(rec: { id: string; callId: string; roomName: string; status: RecordingStatus }, percent: number): void {
    this.bus.emit('recordingProgress', {
      recordingId: rec.id,
      callId: rec.callId,
      roomName: rec.roomName,
      status: rec.status,
      at: new Date().toISOString(),
      phase: 'postprocess',
      percent: Math.max(0, Math.min(100, Math.round(percent))),
    });
  }

  progress(rec: { id: string; callId: string; roomName: string }, p: RecordingProgress): void {
    this.bus.emit('recordingProgress', { recordingId: rec.id, callId: rec.callId, roomName: rec.roomName, status: 'RECORDING', at: new Date().toISOString(), ...p });
  }
}
