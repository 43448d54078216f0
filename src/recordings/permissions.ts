import { AppError } from '../errors';
import type { CallWithParticipants } from './repository';

/** Who is asking: a user (JWT) or a trusted service acting for `userId` (X-User-Id). */
export interface Actor {
  kind: 'user' | 'service';
  /** null only for a service key without X-User-Id, which may create calls and nothing else. */
  userId: string | null;
}

export type Access = 'read' | 'control';

/**
 * Only the host controls a call's recordings (start, stop, delete) and its participant list;
 * host and participants read. Everyone else learns nothing: NOT_FOUND, as for a missing call.
 */
export function authorize(call: CallWithParticipants | null, actor: Actor, access: Access): CallWithParticipants {
  return authorizeMembers(call, call ? { hostId: call.hostId, participantIds: call.participants.map((p) => p.userId) } : null, actor, access);
}

/** authorize() for a cached call view: the same rule on its host and participant ids. */
export function authorizeView<T extends { hostId: string; participantIds: readonly string[] }>(view: T | null, actor: Actor, access: Access): T {
  return authorizeMembers(view, view, actor, access);
}

function authorizeMembers<T>(call: T | null, members: { hostId: string; participantIds: readonly string[] } | null, actor: Actor, access: Access): T {
  const userId = actor.userId;
  if (!call || !members || !userId) throw new AppError('NOT_FOUND', 'call not found');
  const isHost = members.hostId === userId;
  const isParticipant = members.participantIds.includes(userId);
  if (isHost) return call;
  if (!isParticipant) throw new AppError('NOT_FOUND', 'call not found');
  if (access === 'control') throw new AppError('FORBIDDEN', 'only the host can do this');
  return call;
}
