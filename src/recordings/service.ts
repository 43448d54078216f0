import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError, toAppError } from '../errors';
import type { RecordingEndReason } from './contract';
import { checkIdentifier } from './identifiers';
import { workerLost } from './failure-policy';
import type { RecordingLifecycle } from './lifecycle';
import { resolveRecordingOptions, sameResolvedOptions, type ResolvedOptions, type StartOptions } from './options';
import { authorize, authorizeCreate, authorizeView, createConflict, type Actor } from './permissions';
import type { PostprocessQueue } from './postprocess-queue';
import type {
  DispatchPort, RecorderPort, RecordingJob, RecordingStoragePort, SalvagedFile, StoredObjectReader, StoredRecordingRef, ViewCachePort,
} from './ports';
import { viewKeys } from './ports';
import type { CallWithParticipants, RecordingRepository, RecordingWithRoom, StoredRecording } from './repository';
import { withFreshCallUrl, withFreshUrls, type StoredCallView } from './signed-views';
import { isActive } from './status';
import { callView, recordingView, type CallView, type RecordingView } from './views';

/** The recordings domain as the API sees it: calls, participants, recordings, LiveKit events. */
export interface RecordingsServiceOptions {
  outputDir: string;
  maxDurationSeconds: number;
  /** Origins allowed for custom layout pages. */
  layoutOrigins?: string[];
  /** Recovery leaves alone a STARTING row no worker claimed yet if it is younger than this (default 60 s). */
  unclaimedGraceMs?: number;
  /** Throws DISK_FULL when the recorder's disk is too full to start (checked before anything is written). */
  checkDisk?: () => Promise<void>;
}

/** How a client gets a stored recording (GET .../download). */
export type RecordingDownload = { kind: 'url'; url: string; expiresAt: string } | ({ kind: 'stream'; fileName: string } & StoredObjectReader);

export interface RetentionResult {
  deleted: string[];
  failed: { id: string; code: string; message: string }[];
}

export interface RecordingsServiceDeps {
  repo: RecordingRepository;
  lifecycle: RecordingLifecycle;
  dispatcher: DispatchPort;
  /** Present on worker processes: salvage on recovery. */
  recorder?: RecorderPort;
  postprocess?: PostprocessQueue;
  storage?: RecordingStoragePort;
  /** Called on LiveKit participant_left, so an empty room is noticed early. */
  onParticipantLeft?: (roomName: string) => void;
  /**
   * A shared cache of call and recording views (Redis) for GET of a call and of a recording;
   * the repository must invalidate it on every write (RecordingRepository.onChange).
   */
  views?: ViewCachePort;
}

export interface StartResult {
  recording: RecordingView;
  /** True when an Idempotency-Key matched an earlier start: nothing new was started. */
  replayed: boolean;
}

export interface RecoveryReport {
  failed: string[];
  salvaged: string[];
  skipped: string[];
  /** In how many ms a skipped recording may be a dead worker's: its owner's claim runs out, or its wait for a worker ends. */
  recheckInMs?: number;
}

export class RecordingsService {
  constructor(
    private readonly deps: RecordingsServiceDeps,
    private readonly opts: RecordingsServiceOptions,
  ) {}

  // ---- calls ----------------------------------------------------------------------

  async createCall(actor: Actor, input: { id?: string; roomName: string; hostId: string; participantIds?: string[] }): Promise<CallView> {
    if (input.id !== undefined) checkIdentifier('callId', input.id, 'call id');
    checkIdentifier('roomName', input.roomName, 'roomName');
    checkIdentifier('userId', input.hostId, 'hostId');
    for (const p of input.participantIds ?? []) checkIdentifier('userId', p, 'participant id');
    authorizeCreate(actor, input);
    const id = input.id ?? randomUUID();
    try {
      return callView(await this.deps.repo.createCall({ id, roomName: input.roomName, hostId: input.hostId, participantIds: input.participantIds ?? [] }));
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'CONFLICT') throw err;
      const existing = await Promise.all([this.deps.repo.getCall(id), this.deps.repo.getCallByRoom(input.roomName)]);
      throw createConflict(err, existing, actor);
    }
  }

  async getCall(actor: Actor, callId: string): Promise<CallView> {
    const stored = this.deps.views ? await this.readCallView(actor, callId) : await this.storedCallView(await this.load(actor, callId, 'read'));
    return withFreshCallUrl(stored, this.deps.storage);
  }

  /** The call's view through the cache, checked against the actor like load(..., 'read'). */
  private async readCallView(actor: Actor, callId: string): Promise<StoredCallView> {
    checkIdentifier('callId', callId, 'call id');
    const view = await this.deps.views!.read(viewKeys.call(callId), async () => {
      const call = await this.deps.repo.getCall(callId);
      return call ? this.storedCallView(call) : null;
    });
    return authorizeView(view, actor, 'read');
  }

  /** The call's view with the storage key of the recording behind its recordingUrl, to sign that when read. */
  private async storedCallView(call: CallWithParticipants): Promise<StoredCallView> {
    const done = call.isRecorded ? await this.deps.repo.lastCompleted(call.id) : null;
    return { ...callView(call), recordingKey: done?.storageKey ?? null };
  }

  /** The call as the API shows it after a write: read again, recordingUrl signed now. */
  private async currentCall(callId: string): Promise<CallView> {
    return withFreshCallUrl(await this.storedCallView((await this.deps.repo.getCall(callId))!), this.deps.storage);
  }

  async addParticipants(actor: Actor, callId: string, userIds: string[]): Promise<CallView> {
    for (const u of userIds) checkIdentifier('userId', u, 'participant id');
    const call = await this.load(actor, callId, 'control');
    await this.deps.repo.addParticipants(call.id, userIds.filter((u) => u !== call.hostId));
    return this.currentCall(call.id);
  }

  async removeParticipant(actor: Actor, callId: string, userId: string): Promise<CallView> {
    checkIdentifier('userId', userId, 'participant id');
    const call = await this.load(actor, callId, 'control');
    const removed = await this.deps.repo.removeParticipant(call.id, userId);
    if (removed === 0) throw new AppError('NOT_FOUND', 'no such participant');
    return this.currentCall(call.id);
  }

  // ---- recordings ---------------------------------------------------------------------

  async startRecording(actor: Actor, callId: string, input: StartOptions, idempotencyKey?: string): Promise<StartResult> {
    if (idempotencyKey !== undefined) checkIdentifier('idempotencyKey', idempotencyKey, 'Idempotency-Key');
    const call = await this.load(actor, callId, 'control');
    const resolved = resolveRecordingOptions(input, { maxDurationSeconds: this.opts.maxDurationSeconds, layoutOrigins: this.opts.layoutOrigins ?? [] });

    if (idempotencyKey) {
      const earlier = await this.deps.repo.findByIdempotencyKey(call.id, idempotencyKey);
      if (earlier) return { recording: this.replay(earlier, resolved), replayed: true };
    }
    await this.opts.checkDisk?.();
    const id = randomUUID();
    const outputPath = path.join(this.opts.outputDir, `${id}.${resolved.options.format}`);
    const rec = await this.deps.repo.createRecording({
      id,
      callId: call.id,
      requestedBy: actor.userId!,
      options: resolved.options,
      outputFormat: resolved.outputFormat,
      maxDurationSeconds: resolved.maxDurationSeconds,
      filePath: outputPath,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    if (!rec) {
      // The same key raced us and won.
      const earlier = await this.deps.repo.findByIdempotencyKey(call.id, idempotencyKey!);
      return { recording: this.replay(earlier!, resolved), replayed: true };
    }
    const job: RecordingJob = {
      id,
      callId: call.id,
      roomName: call.roomName,
      outputPath,
      options: resolved.options,
      maxDurationSeconds: resolved.maxDurationSeconds,
      requestedAt: rec.startingAt.getTime(),
    };
    try {
      await this.deps.dispatcher.dispatch(job);
    } catch (err) {
      await this.deps.lifecycle.failed(id, err, ['STARTING']);
      throw err;
    }
    return { recording: recordingView(rec), replayed: false };
  }

  private replay(earlier: StoredRecording, resolved: ResolvedOptions): RecordingView {
    const before: ResolvedOptions = {
      options: earlier.options,
      outputFormat: earlier.outputFormat,
      maxDurationSeconds: earlier.maxDurationSeconds ?? 0,
    };
    if (!sameResolvedOptions(before, resolved)) {
      throw new AppError('CONFLICT', 'Idempotency-Key was already used for a different request');
    }
    return recordingView(earlier);
  }

  /** Stops the given (or else the active) recording of a call: 409 RECORDING_NOT_ACTIVE if none. */
  async stopRecording(actor: Actor, callId: string, recordingId?: string): Promise<RecordingView> {
    if (recordingId !== undefined) checkIdentifier('recordingId', recordingId, 'recording id');
    const call = await this.load(actor, callId, 'control');
    const target = recordingId ? await this.deps.repo.getRecording(recordingId) : await this.deps.repo.findActiveForCall(call.id);
    if (recordingId && (!target || target.callId !== call.id)) throw new AppError('NOT_FOUND', 'recording not found');
    if (!target || (target.status !== 'STARTING' && target.status !== 'RECORDING')) {
      throw new AppError('RECORDING_NOT_ACTIVE', target?.status === 'STOPPING' ? 'the recording is already stopping' : 'no recording is in progress');
    }
    const rec = await this.stopSystem(target.id, 'stopped');
    if (!rec) throw new AppError('RECORDING_NOT_ACTIVE', 'the recording ended meanwhile');
    return recordingView(rec);
  }

  /** STOPPING in the database first, then the owning worker is asked to stop. */
  async stopSystem(recordingId: string, reason: RecordingEndReason): Promise<RecordingWithRoom | null> {
    const rec = await this.deps.lifecycle.stopping(recordingId, reason);
    if (rec) await this.deps.dispatcher.requestStop(recordingId, reason);
    return rec;
  }

  async getRecording(actor: Actor, callId: string, recordingId: string): Promise<RecordingView> {
    checkIdentifier('recordingId', recordingId, 'recording id');
    if (this.deps.views) {
      const call = await this.readCallView(actor, callId);
      const view = await this.deps.views.read(viewKeys.recording(recordingId), async () => {
        const rec = await this.deps.repo.getRecording(recordingId);
        return rec ? recordingView(rec) : null;
      });
      if (!view || view.callId !== call.id) throw new AppError('NOT_FOUND', 'recording not found');
      return withFreshUrls(view, this.deps.storage);
    }
    const call = await this.load(actor, callId, 'read');
    const rec = await this.deps.repo.getRecording(recordingId);
    if (!rec || rec.callId !== call.id) throw new AppError('NOT_FOUND', 'recording not found');
    return withFreshUrls(recordingView(rec), this.deps.storage);
  }

  async listRecordings(actor: Actor, callId: string, opts: { limit?: number; includeDeleted?: boolean } = {}): Promise<RecordingView[]> {
    const call = await this.load(actor, callId, 'read');
    const rows = await this.deps.repo.listRecordings(call.id, { limit: opts.limit ?? 50, includeDeleted: opts.includeDeleted ?? false });
    return Promise.all(rows.map((r) => withFreshUrls(recordingView(r), this.deps.storage)));
  }

  /** Removes the stored file and thumbnails, then marks DELETED. Active recordings must be stopped first. */
  async deleteRecording(actor: Actor, callId: string, recordingId: string): Promise<RecordingView> {
    checkIdentifier('recordingId', recordingId, 'recording id');
    const call = await this.load(actor, callId, 'control');
    const rec = await this.deps.repo.getRecording(recordingId);
    if (!rec || rec.callId !== call.id || rec.status === 'DELETED') throw new AppError('NOT_FOUND', 'recording not found');
    if (isActive(rec.status)) throw new AppError('RECORDING_ALREADY_ACTIVE', 'stop the recording before deleting it');
    if (rec.status !== 'COMPLETED' && rec.status !== 'FAILED') throw new AppError('CONFLICT', 'the recording is being processed; delete it when it is done');
    return recordingView(await this.deleteSystem(rec));
  }

  /** Removes every stored object and local file of a finished recording, then marks it DELETED. */
  private async deleteSystem(rec: RecordingWithRoom): Promise<RecordingWithRoom> {
    const ref = storedRef(rec);
    if (this.deps.storage) {
      await this.deps.storage.remove(ref);
    } else {
      if (rec.filePath) await fs.rm(rec.filePath, { force: true });
      if (rec.storageProvider === 'local' && rec.storageKey && path.isAbsolute(rec.storageKey)) await fs.rm(rec.storageKey, { force: true });
    }
    return this.deps.lifecycle.deleted(rec.id);
  }

  /**
   * Retention: deletes (objects removed, status DELETED) every recording that finished more
   * than `retentionMs` ago. One failure does not stop the others.
   */
  async deleteExpired(retentionMs: number, now = new Date()): Promise<RetentionResult> {
    const cutoff = new Date(now.getTime() - retentionMs);
    const result: RetentionResult = { deleted: [], failed: [] };
    const seen = new Set<string>();
    for (;;) {
      const batch = (await this.deps.repo.findExpired(cutoff, 100)).filter((r) => !seen.has(r.id));
      if (batch.length === 0) return result;
      for (const rec of batch) {
        seen.add(rec.id);
        try {
          await this.deleteSystem(rec);
          result.deleted.push(rec.id);
        } catch (err) {
          const e = toAppError(err);
          result.failed.push({ id: rec.id, code: e.code, message: e.message });
        }
      }
    }
  }

  /** Post-processing again for a FAILED recording whose local file still exists (host only). */
  async retryRecording(actor: Actor, callId: string, recordingId: string): Promise<RecordingView> {
    checkIdentifier('recordingId', recordingId, 'recording id');
    const call = await this.load(actor, callId, 'control');
    const rec = await this.deps.repo.getRecording(recordingId);
    if (!rec || rec.callId !== call.id || rec.status === 'DELETED') throw new AppError('NOT_FOUND', 'recording not found');
    if (rec.status !== 'FAILED') throw new AppError('RECORDING_NOT_RETRYABLE', `only a failed recording can be retried; this one is ${rec.status.toLowerCase()}`);
    if (!this.deps.postprocess) throw new AppError('RECORDING_NOT_RETRYABLE', 'post-processing is not available on this server');
    const st = rec.filePath ? await fs.stat(rec.filePath).catch(() => null) : null;
    if (!st || !st.isFile() || st.size === 0) {
      throw new AppError('RECORDING_FILE_MISSING', 'the recorded file is no longer on the recorder; the recording cannot be processed again');
    }
    let moved: RecordingWithRoom;
    try {
      moved = await this.deps.lifecycle.reprocess(rec.id, this.deps.postprocess.leaseUntil());
    } catch (err) {
      if (err instanceof AppError && err.code === 'INVALID_TRANSITION') throw new AppError('RECORDING_NOT_RETRYABLE', 'the recording changed meanwhile');
      throw err;
    }
    await this.deps.postprocess.handOff(moved);
    return recordingView((await this.deps.repo.getRecording(rec.id)) ?? moved);
  }

  /** A COMPLETED recording for download (host and participants). */
  async downloadRecording(actor: Actor, callId: string, recordingId: string): Promise<RecordingDownload> {
    checkIdentifier('recordingId', recordingId, 'recording id');
    const call = await this.load(actor, callId, 'read');
    const rec = await this.deps.repo.getRecording(recordingId);
    if (!rec || rec.callId !== call.id || rec.status === 'DELETED') throw new AppError('NOT_FOUND', 'recording not found');
    if (rec.status !== 'COMPLETED' || !rec.storageKey) throw new AppError('RECORDING_NOT_READY', `the recording is ${rec.status.toLowerCase()}, not ready for download`);
    const fileName = `recording-${rec.id}${path.extname(rec.storageKey) || `.${rec.outputFormat}`}`;
    if (this.deps.storage?.download) {
      const d = await this.deps.storage.download(storedRef(rec));
      return 'url' in d ? { kind: 'url', url: d.url, expiresAt: d.expiresAt } : { kind: 'stream', fileName, ...d };
    }
    // No storage port: the file stayed where the recorder wrote it (KeepLocalFile).
    if (rec.storageProvider !== 'local' || !path.isAbsolute(rec.storageKey)) throw new AppError('NOT_FOUND', 'the stored recording is not reachable from this server');
    return { kind: 'stream', fileName, ...(await localFileReader(rec.storageKey)) };
  }

  // ---- LiveKit ------------------------------------------------------------------------

  /** A verified LiveKit webhook event. */
  async handleLivekitEvent(event: { event: string; roomName?: string }): Promise<void> {
    if (!event.roomName) return;
    if (event.event === 'room_finished') {
      for (const rec of await this.deps.repo.findActiveForRoom(event.roomName)) {
        await this.stopSystem(rec.id, 'room_ended');
      }
    } else if (event.event === 'participant_left') {
      this.deps.onParticipantLeft?.(event.roomName);
    }
  }

  // ---- restart recovery ---------------------------------------------------------------------

  /**
   * Gives recordings left STARTING/RECORDING/STOPPING by a dead worker a true status: handed
   * to post-processing when their media survived (salvaged by the recorder, or the output
   * file exists), else FAILED with WORKER_LOST.
   */
  async recover(): Promise<RecoveryReport> {
    const report: RecoveryReport = { failed: [], salvaged: [], skipped: [] };
    const grace = this.opts.unclaimedGraceMs ?? 60_000;
    const skip = (id: string, forMs: number) => {
      report.skipped.push(id);
      if (Number.isFinite(forMs)) report.recheckInMs = Math.min(report.recheckInMs ?? Infinity, forMs);
    };
    for (const rec of await this.deps.repo.findAllActive()) {
      const lease = await this.deps.dispatcher.ownerLeaseMs(rec.id, rec.workerId);
      if (lease > 0) {
        skip(rec.id, lease);
        continue;
      }
      const waited = Date.now() - rec.startingAt.getTime();
      if (rec.workerId === null && rec.status === 'STARTING' && waited < grace) {
        skip(rec.id, grace - waited); // still waiting in the dispatch queue
        continue;
      }
      const file = await this.salvage(rec);
      if (file && this.deps.postprocess) {
        await this.deps.lifecycle.stopping(rec.id, 'worker_lost');
        const moved = await this.deps.lifecycle
          .processing(rec.id, file, this.deps.postprocess.leaseUntil(), workerLost.kept())
          .catch(() => null);
        if (moved) {
          report.salvaged.push(rec.id);
          await this.deps.postprocess.handOff(moved);
          continue;
        }
      }
      const failed = await this.deps.lifecycle.failed(rec.id, workerLost.nothing(), ['STARTING', 'RECORDING', 'STOPPING']);
      if (failed) report.failed.push(rec.id);
    }
    return report;
  }

  private async salvage(rec: RecordingWithRoom): Promise<SalvagedFile | null> {
    const outputPath = rec.filePath;
    if (!outputPath) return null;
    try {
      if (this.deps.recorder?.salvage) {
        return await this.deps.recorder.salvage({
          id: rec.id,
          roomName: rec.call.roomName,
          outputPath,
          options: rec.options,
          ...(rec.maxDurationSeconds ? { maxDurationSeconds: rec.maxDurationSeconds } : {}),
        });
      }
      const st = await fs.stat(outputPath);
      return st.isFile() && st.size > 0 ? { path: outputPath, size: st.size } : null;
    } catch {
      return null;
    }
  }

  // ---- helpers --------------------------------------------------------------------------

  private async load(actor: Actor, callId: string, access: 'read' | 'control') {
    checkIdentifier('callId', callId, 'call id');
    return authorize(await this.deps.repo.getCall(callId), actor, access);
  }
}

function storedRef(rec: RecordingWithRoom): StoredRecordingRef {
  return {
    callId: rec.callId,
    recordingId: rec.id,
    provider: rec.storageProvider,
    key: rec.storageKey,
    filePath: rec.filePath,
    thumbnails: rec.thumbnails,
  };
}

const CONTENT_TYPES: Record<string, string> = { '.mp4': 'video/mp4', '.webm': 'video/webm', '.mkv': 'video/x-matroska', '.m4a': 'audio/mp4', '.ogg': 'audio/ogg' };

/** A reader of a file on this machine; NOT_FOUND when it is gone. */
export async function localFileReader(filePath: string): Promise<StoredObjectReader> {
  const st = await fs.stat(filePath).catch(() => null);
  if (!st?.isFile()) throw new AppError('NOT_FOUND', 'the stored recording is gone');
  return {
    size: st.size,
    contentType: CONTENT_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream',
    open: async (range) => createReadStream(filePath, range ? { start: range.start, end: range.end } : {}),
  };
}
