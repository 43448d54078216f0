import { AppError } from '../errors';
import type { CallWithParticipants } from './repository';

/** Who is asking: a user (JWT) or a trusted service acting for `userId` (X-User-Id). */
export interface Actor {
  kind: 'user' | 'service';
  /** null only for a service key without X-User-Id, which may create calls and nothing else. */
  userId: string | null;
  /** A user's rooms: its token's `room` / `rooms` claim ('*': any room). Absent: none. */
  rooms?: readonly string[];
  /** A user whose token says `"role": "admin"`: may change layout presets, as a service key may. */
  admin?: boolean;
}

/** Every refusal of a user's create that depends on the room or on what exists: one answer, so it tells nothing. */
const CREATE_REFUSED = 'you may not create this call: your token must name its room (JWT claim "room" or "rooms"), and its room and id must not belong to a call you cannot see';

/**
 * Who may create (claim) a call for a room. A service key: any room, for any host (X-User-Id,
 * when given, must be the host). A user: only a call it hosts, and only for a room its token
 * names, as a call app hands out tokens for the rooms a user may open.
 */
export function authorizeCreate(actor: Actor, call: { roomName: string; hostId: string }): void {
  if (actor.kind === 'service') {
    if (actor.userId !== null && actor.userId !== call.hostId) throw new AppError('FORBIDDEN', 'X-User-Id must be the host');
    return;
  }
  if (actor.userId !== call.hostId) throw new AppError('FORBIDDEN', 'you can only create calls you host');
  const rooms = actor.rooms ?? [];
  if (!rooms.includes('*') && !rooms.includes(call.roomName)) throw new AppError('FORBIDDEN', CREATE_REFUSED);
}

/**
 * The answer to a create that collided with `existing` (the calls holding its id or room).
 * A service key, or a user who may read every one of them, is told CONFLICT; anyone else
 * gets the same refusal as for a room its token does not name, whether or not a call exists.
 */
export function createConflict(conflict: AppError, existing: readonly (CallWithParticipants | null)[], actor: Actor): AppError {
  if (actor.kind === 'service') return conflict;
  const visible = existing.every((c) => !c || roleOf(membersOf(c), actor.userId) !== null);
  return visible ? conflict : new AppError('FORBIDDEN', CREATE_REFUSED);
}

export type Access = 'read' | 'control';

/**
 * Only the host controls a call's recordings (start, stop, delete) and its participant list;
 * host and participants read. Everyone else learns nothing: NOT_FOUND, as for a missing call.
 */
export function authorize(call: CallWithParticipants | null, actor: Actor, access: Access): CallWithParticipants {
  return authorizeMembers(call, call ? membersOf(call) : null, actor, access);
}

/** authorize() for a cached call view: the same rule on its host and participant ids. */
export function authorizeView<T extends { hostId: string; participantIds: readonly string[] }>(view: T | null, actor: Actor, access: Access): T {
  return authorizeMembers(view, view, actor, access);
}

type Members = { hostId: string; participantIds: readonly string[] };

const membersOf = (call: CallWithParticipants): Members => ({ hostId: call.hostId, participantIds: call.participants.map((p) => p.userId) });

function roleOf(members: Members, userId: string | null): 'host' | 'participant' | null {
  if (!userId) return null;
  if (members.hostId === userId) return 'host';
  return members.participantIds.includes(userId) ? 'participant' : null;
}

function authorizeMembers<T>(call: T | null, members: Members | null, actor: Actor, access: Access): T {
  const role = call && members ? roleOf(members, actor.userId) : null;
  if (!call || !role) throw new AppError('NOT_FOUND', 'call not found');
  if (role === 'participant' && access === 'control') throw new AppError('FORBIDDEN', 'only the host can do this');
  return call;
}
