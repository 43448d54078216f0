import { addParticipants, createCall, getCall, removeParticipant } from './calls';
import type { RecordingsContext, RecordingsServiceDeps, RecordingsServiceOptions } from './context';
import type { RecordingEndReason } from './contract';
import { deleteExpired, deleteRecording, type RetentionResult } from './deletion';
import type { StartOptions } from './options';
import type { Actor } from './permissions';
import { downloadRecording, getRecording, listRecordings, type RecordingDownload } from './reads';
import { recover, type RecoveryReport } from './restart-recovery';
import type { RecordingWithRoom } from './repository';
import { retryRecording } from './retry';
import { startRecording, type StartResult } from './start';
import { handleLivekitEvent, stopRecording, stopSystem } from './stop';
import type { LiveChange } from './live-change';
import { updateRecording } from './update';
import { addMarker, type MarkerView } from './markers';
import { pauseRecording, resumeRecording } from './pause';
import type { CallView, RecordingView } from './views';

export type { RecordingsServiceDeps, RecordingsServiceOptions } from './context';
export type { RetentionResult } from './deletion';
export { localFileReader, type RecordingDownload } from './reads';
export type { RecoveryReport } from './restart-recovery';
export type { StartResult } from './start';

/**
 * The recordings domain as the API and the processes see it: calls, participants, recordings,
 * LiveKit events, retention and restart recovery. Each use case lives in the file of its
 * concern (calls, start, stop, reads, deletion, retry, recovery); this class only gives
 * them their ports and options.
 */
export class RecordingsService {
  private readonly ctx: RecordingsContext;

  constructor(deps: RecordingsServiceDeps, opts: RecordingsServiceOptions) {
    this.ctx = { deps, opts };
  }

  createCall(actor: Actor, input: { id?: string; roomName: string; hostId: string; participantIds?: string[] }): Promise<CallView> {
    return createCall(this.ctx, actor, input);
  }

  getCall(actor: Actor, callId: string): Promise<CallView> {
    return getCall(this.ctx, actor, callId);
  }

  addParticipants(actor: Actor, callId: string, userIds: string[]): Promise<CallView> {
    return addParticipants(this.ctx, actor, callId, userIds);
  }

  removeParticipant(actor: Actor, callId: string, userId: string): Promise<CallView> {
    return removeParticipant(this.ctx, actor, callId, userId);
  }

  startRecording(actor: Actor, callId: string, input: StartOptions, idempotencyKey?: string): Promise<StartResult> {
    return startRecording(this.ctx, actor, callId, input, idempotencyKey);
  }

  stopRecording(actor: Actor, callId: string, recordingId?: string): Promise<RecordingView> {
    return stopRecording(this.ctx, actor, callId, recordingId);
  }

  stopSystem(recordingId: string, reason: RecordingEndReason): Promise<RecordingWithRoom | null> {
    return stopSystem(this.ctx, recordingId, reason);
  }

  pauseRecording(actor: Actor, callId: string, recordingId?: string): Promise<RecordingView> {
    return pauseRecording(this.ctx, actor, callId, recordingId);
  }

  resumeRecording(actor: Actor, callId: string, recordingId?: string): Promise<RecordingView> {
    return resumeRecording(this.ctx, actor, callId, recordingId);
  }

  addMarker(actor: Actor, callId: string, input: { label: string; at?: string; recordingId?: string }): Promise<MarkerView> {
    return addMarker(this.ctx, actor, callId, input);
  }

  updateRecording(actor: Actor, callId: string, recordingId: string, change: LiveChange): Promise<RecordingView> {
    return updateRecording(this.ctx, actor, callId, recordingId, change);
  }

  getRecording(actor: Actor, callId: string, recordingId: string): Promise<RecordingView> {
    return getRecording(this.ctx, actor, callId, recordingId);
  }

  listRecordings(actor: Actor, callId: string, opts: { limit?: number; includeDeleted?: boolean } = {}): Promise<RecordingView[]> {
    return listRecordings(this.ctx, actor, callId, opts);
  }

  downloadRecording(actor: Actor, callId: string, recordingId: string): Promise<RecordingDownload> {
    return downloadRecording(this.ctx, actor, callId, recordingId);
  }

  deleteRecording(actor: Actor, callId: string, recordingId: string): Promise<RecordingView> {
    return deleteRecording(this.ctx, actor, callId, recordingId);
  }

  deleteExpired(retentionMs: number, now = new Date()): Promise<RetentionResult> {
    return deleteExpired(this.ctx, retentionMs, now);
  }

  retryRecording(actor: Actor, callId: string, recordingId: string): Promise<RecordingView> {
    return retryRecording(this.ctx, actor, callId, recordingId);
  }

  handleLivekitEvent(event: { event: string; roomName?: string }): Promise<void> {
    return handleLivekitEvent(this.ctx, event);
  }

  recover(): Promise<RecoveryReport> {
    return recover(this.ctx);
  }
}
