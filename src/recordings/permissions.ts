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
  const userId = actor.userId;
  if (!call || !userId) throw new AppError('NOT_FOUND', 'call not found');
  const isHost = call.hostId === userId;
  const isParticipant = call.participants.some((p) => p.userId === userId);
  if (isHost) return call;
  if (!isParticipant) throw new AppError('NOT_FOUND', 'call not found');
  if (access === 'control') throw new AppError('FORBIDDEN', 'only the host can do this');
  return call;
}
