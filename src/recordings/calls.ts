import { randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import { loadCall, type RecordingsContext } from './context';
import { checkIdentifier } from './identifiers';
import { authorizeCreate, authorizeView, createConflict, type Actor } from './permissions';
import { viewKeys } from './ports';
import type { CallWithParticipants } from './repository';
import { withFreshCallUrl, type StoredCallView } from './signed-views';
import { callView, type CallView } from './views';

/** Calls and their participants: create, read (through the view cache when there is one), add and remove. */

export async function createCall(ctx: RecordingsContext, actor: Actor, input: { id?: string; roomName: string; hostId: string; participantIds?: string[] }): Promise<CallView> {
  if (input.id !== undefined) checkIdentifier('callId', input.id, 'call id');
  checkIdentifier('roomName', input.roomName, 'roomName');
  checkIdentifier('userId', input.hostId, 'hostId');
  for (const p of input.participantIds ?? []) checkIdentifier('userId', p, 'participant id');
  authorizeCreate(actor, input);
  const id = input.id ?? randomUUID();
  try {
    return callView(await ctx.deps.repo.createCall({ id, roomName: input.roomName, hostId: input.hostId, participantIds: input.participantIds ?? [] }));
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'CONFLICT') throw err;
    const existing = await Promise.all([ctx.deps.repo.getCall(id), ctx.deps.repo.getCallByRoom(input.roomName)]);
    throw createConflict(err, existing, actor);
  }
}

export async function getCall(ctx: RecordingsContext, actor: Actor, callId: string): Promise<CallView> {
  const stored = ctx.deps.views ? await readCallView(ctx, actor, callId) : await storedCallView(ctx, await loadCall(ctx, actor, callId, 'read'));
  return withFreshCallUrl(stored, ctx.deps.storage);
}

/** The call's view through the cache, checked against the actor like load(..., 'read'). */
export async function readCallView(ctx: RecordingsContext, actor: Actor, callId: string): Promise<StoredCallView> {
  checkIdentifier('callId', callId, 'call id');
  const view = await ctx.deps.views!.read(viewKeys.call(callId), async () => {
    const call = await ctx.deps.repo.getCall(callId);
    return call ? storedCallView(ctx, call) : null;
  });
  return authorizeView(view, actor, 'read');
}

/** The call's view with the storage key of the recording behind its recordingUrl, to sign that when read. */
export async function storedCallView(ctx: RecordingsContext, call: CallWithParticipants): Promise<StoredCallView> {
  const done = call.isRecorded ? await ctx.deps.repo.lastCompleted(call.id) : null;
  return { ...callView(call), recordingKey: done?.storageKey ?? null };
}

/** The call as the API shows it after a write: read again, recordingUrl signed now. */
export async function currentCall(ctx: RecordingsContext, callId: string): Promise<CallView> {
  return withFreshCallUrl(await storedCallView(ctx, (await ctx.deps.repo.getCall(callId))!), ctx.deps.storage);
}

export async function addParticipants(ctx: RecordingsContext, actor: Actor, callId: string, userIds: string[]): Promise<CallView> {
  for (const u of userIds) checkIdentifier('userId', u, 'participant id');
  const call = await loadCall(ctx, actor, callId, 'control');
  await ctx.deps.repo.addParticipants(call.id, userIds.filter((u) => u !== call.hostId));
  return currentCall(ctx, call.id);
}

export async function removeParticipant(ctx: RecordingsContext, actor: Actor, callId: string, userId: string): Promise<CallView> {
  checkIdentifier('userId', userId, 'participant id');
  const call = await loadCall(ctx, actor, callId, 'control');
  const removed = await ctx.deps.repo.removeParticipant(call.id, userId);
  if (removed === 0) throw new AppError('NOT_FOUND', 'no such participant');
  return currentCall(ctx, call.id);
}
