import { AppError } from '../errors';
import { Prisma, type CallRecording, type PrismaClient, type VideoCall } from '../db/prisma';
import type { RecordingFormat, RecordingOptions } from './options';
import { parseQuality, type QualityReport } from './quality';
import { ACTIVE_STATUSES, assertTransition, STATUS_TIMESTAMP, type RecordingStatus } from './status';
import { storedFormat, storedOptions, storedThumbnails, type RecordingThumbnail } from './stored-data';

/**
 * All database access of the recordings domain. Status changes go through transition(),
 * a conditional update `WHERE id = ? AND status IN (from)`: a transition the table forbids
 * throws before any write, and one whose `from` is stale (a concurrent change won) writes
 * nothing and throws INVALID_TRANSITION. The VideoCall mirror is rewritten in the same
 * transaction.
 */

export type CallWithParticipants = VideoCall & { participants: { userId: string }[] };
type Tx = Prisma.TransactionClient;
export type RecordingUpdate = Prisma.CallRecordingUpdateManyMutationInput;
/** The columns of a recording with rules beyond their SQL type, parsed when a row is read (stored-data.ts, quality.ts). */
type ParsedColumns = { options: RecordingOptions; outputFormat: RecordingFormat; thumbnails: RecordingThumbnail[]; quality: QualityReport | null };
type Parsed<T extends CallRecording> = Omit<T, keyof ParsedColumns> & ParsedColumns;
/** A recording as the domain reads it. */
export type StoredRecording = Parsed<CallRecording>;
export type RecordingWithRoom = StoredRecording & { call: { roomName: string } };
const withRoom = { call: { select: { roomName: true } } } as const;

function parsed<T extends CallRecording>(row: T): Parsed<T> {
  return {
    ...row,
    options: storedOptions(row.options, row.id),
    outputFormat: storedFormat(row.outputFormat, row.id),
    thumbnails: storedThumbnails(row.thumbnails, row.id),
    quality: parseQuality(row.quality),
  };
}
const parsedOrNull = <T extends CallRecording>(row: T | null): Parsed<T> | null => (row ? parsed(row) : null);

export interface NewRecording {
  id: string;
  callId: string;
  requestedBy: string;
  options: RecordingOptions;
  outputFormat: RecordingFormat;
  maxDurationSeconds: number;
  filePath: string;
  idempotencyKey?: string;
}

/** What a write touched; awaited after the write so a shared read cache can drop it. */
export type RepositoryChangeListener = (change: { callId?: string; recordingId?: string }) => Promise<void>;

export class RecordingRepository {
  /** Called (and awaited) after every write of a call, its participants or a recording. */
  onChange?: RepositoryChangeListener;

  constructor(readonly prisma: PrismaClient) {}

  private async changed(change: { callId?: string; recordingId?: string }): Promise<void> {
    await this.onChange?.(change);
  }

  // ---- calls ------------------------------------------------------------------

  async createCall(data: { id: string; roomName: string; hostId: string; participantIds: string[] }): Promise<CallWithParticipants> {
    try {
      return await this.prisma.videoCall.create({
        data: {
          id: data.id,
          roomName: data.roomName,
          hostId: data.hostId,
          participants: { create: [...new Set(data.participantIds)].filter((u) => u !== data.hostId).map((userId) => ({ userId })) },
        },
        include: { participants: { select: { userId: true }, orderBy: { addedAt: 'asc' } } },
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        const roomTaken = uniqueTarget(err).includes('roomName');
        throw new AppError('CONFLICT', roomTaken ? 'a call with this room name exists' : 'a call with this id exists');
      }
      throw err;
    }
  }

  getCall(id: string): Promise<CallWithParticipants | null> {
    return this.prisma.videoCall.findUnique({
      where: { id },
      include: { participants: { select: { userId: true }, orderBy: { addedAt: 'asc' } } },
    });
  }

  getCallByRoom(roomName: string): Promise<CallWithParticipants | null> {
    return this.prisma.videoCall.findUnique({
      where: { roomName },
      include: { participants: { select: { userId: true }, orderBy: { addedAt: 'asc' } } },
    });
  }

  async addParticipants(callId: string, userIds: string[]): Promise<void> {
    await this.prisma.callParticipant.createMany({ data: userIds.map((userId) => ({ callId, userId })), skipDuplicates: true });
    await this.changed({ callId });
  }

  async removeParticipant(callId: string, userId: string): Promise<number> {
    const count = (await this.prisma.callParticipant.deleteMany({ where: { callId, userId } })).count;
    if (count) await this.changed({ callId });
    return count;
  }

  // ---- recordings ---------------------------------------------------------------

  /** Inserts a STARTING recording. Throws RECORDING_ALREADY_ACTIVE or, for a reused key, returns null. */
  async createRecording(data: NewRecording): Promise<StoredRecording | null> {
    try {
      const created = await this.prisma.$transaction(async (tx) => {
        // Serialize starts of one call; the second then meets the partial unique index at once.
        await lockCall(tx, data.callId);
        const rec = await tx.callRecording.create({ data: { ...data, status: 'STARTING' } });
        await syncCallMirror(tx, data.callId);
        return rec;
      });
      await this.changed({ callId: data.callId, recordingId: created.id });
      return parsed(created);
    } catch (err) {
      if (isUniqueViolation(err)) {
        const target = uniqueTarget(err);
        if (data.idempotencyKey && target.includes('idempotencyKey')) return null;
        throw new AppError('RECORDING_ALREADY_ACTIVE', 'this call is already being recorded');
      }
      throw err;
    }
  }

  async getRecording(id: string): Promise<RecordingWithRoom | null> {
    return parsedOrNull(await this.prisma.callRecording.findUnique({ where: { id }, include: withRoom }));
  }

  async findByIdempotencyKey(callId: string, idempotencyKey: string): Promise<StoredRecording | null> {
    return parsedOrNull(await this.prisma.callRecording.findUnique({ where: { callId_idempotencyKey: { callId, idempotencyKey } } }));
  }

  async listRecordings(callId: string, opts: { limit: number; includeDeleted?: boolean }): Promise<StoredRecording[]> {
    const rows = await this.prisma.callRecording.findMany({
      where: { callId, ...(opts.includeDeleted ? {} : { status: { not: 'DELETED' } }) },
      orderBy: [{ startingAt: 'desc' }, { id: 'desc' }],
      take: opts.limit,
    });
    return rows.map(parsed);
  }

  /** The call's last COMPLETED recording: the one its recordingUrl shows. */
  lastCompleted(callId: string): Promise<{ id: string; storageKey: string | null } | null> {
    return this.prisma.callRecording.findFirst({ where: { callId, status: 'COMPLETED' }, orderBy: LAST_COMPLETED_FIRST, select: { id: true, storageKey: true } });
  }

  async findActiveForCall(callId: string): Promise<StoredRecording | null> {
    return parsedOrNull(await this.prisma.callRecording.findFirst({ where: { callId, status: { in: [...ACTIVE_STATUSES] } } }));
  }

  async findActiveForRoom(roomName: string): Promise<StoredRecording[]> {
    return (await this.prisma.callRecording.findMany({ where: { status: { in: [...ACTIVE_STATUSES] }, call: { roomName } } })).map(parsed);
  }

  async findAllActive(): Promise<RecordingWithRoom[]> {
    return (await this.prisma.callRecording.findMany({ where: { status: { in: [...ACTIVE_STATUSES] } }, include: withRoom })).map(parsed);
  }

  /** Post-processing jobs whose lease has run out or whose retry time has come. */
  async findDuePostprocess(now: Date, limit: number): Promise<RecordingWithRoom[]> {
    const rows = await this.prisma.callRecording.findMany({
      where: { status: { in: ['PROCESSING', 'UPLOADING'] }, nextAttemptAt: { lte: now } },
      include: withRoom,
      orderBy: { nextAttemptAt: 'asc' },
      take: limit,
    });
    return rows.map(parsed);
  }

  /** Finished recordings (COMPLETED or FAILED) that ended before `cutoff`, oldest first. */
  async findExpired(cutoff: Date, limit: number): Promise<RecordingWithRoom[]> {
    const rows = await this.prisma.callRecording.findMany({
      where: { OR: [{ status: 'COMPLETED', completedAt: { lt: cutoff } }, { status: 'FAILED', failedAt: { lt: cutoff } }] },
      include: withRoom,
      orderBy: { startingAt: 'asc' },
      take: limit,
    });
    return rows.map(parsed);
  }

  /** Ids of recordings whose local files are still in use (live or being post-processed). */
  async liveIds(): Promise<string[]> {
    const rows = await this.prisma.callRecording.findMany({
      where: { status: { in: [...ACTIVE_STATUSES, 'PROCESSING', 'UPLOADING'] } },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  async roomNameOf(callId: string): Promise<string> {
    const call = await this.prisma.videoCall.findUnique({ where: { id: callId }, select: { roomName: true } });
    return call?.roomName ?? '';
  }

  /**
   * A guarded update of non-status fields: writes only when the row still matches `where`
   * (optimistic concurrency, e.g. claiming a job). Returns whether it wrote.
   */
  async updateIf(id: string, where: Prisma.CallRecordingWhereInput, data: RecordingUpdate): Promise<boolean> {
    if ('status' in data) throw new AppError('INTERNAL', 'status changes go through transition()');
    const res = await this.prisma.callRecording.updateMany({ where: { ...where, id }, data });
    if (res.count === 1) await this.changed({ recordingId: id });
    return res.count === 1;
  }

  /** Moves a recording from one of `from` to `to`, stamping the status's timestamp column. */
  async transition(id: string, from: readonly RecordingStatus[], to: RecordingStatus, data: RecordingUpdate = {}): Promise<RecordingWithRoom> {
    for (const f of from) assertTransition(f, to);
    const owner = await this.prisma.callRecording.findUnique({ where: { id }, select: { callId: true } });
    if (!owner) throw new AppError('NOT_FOUND', 'recording not found');
    const rec = await this.prisma.$transaction(async (tx) => {
      // Lock order everywhere: the call first, then its recording. (Updating the recording first
      // deadlocks with a concurrent start, which holds the call and waits on the unique index.)
      await lockCall(tx, owner.callId);
      const res = await tx.callRecording.updateMany({
        where: { id, status: { in: [...from] } },
        // a timestamp the caller knows better (the file's time 0 for RECORDING) wins
        data: { status: to, [STATUS_TIMESTAMP[to]]: new Date(), ...data },
      });
      if (res.count === 0) {
        const current = await tx.callRecording.findUnique({ where: { id }, select: { status: true } });
        if (!current) throw new AppError('NOT_FOUND', 'recording not found');
        assertTransition(current.status, to);
        // Allowed by the table, but the row is not in an expected `from` status any more.
        throw new AppError('INVALID_TRANSITION', `recording is ${current.status.toLowerCase()}, expected ${from.join(' or ').toLowerCase()}`, {
          details: { from: current.status, to },
        });
      }
      const rec = await tx.callRecording.findUniqueOrThrow({ where: { id }, include: withRoom });
      await syncCallMirror(tx, rec.callId);
      return rec;
    });
    await this.changed({ callId: rec.callId, recordingId: rec.id });
    return parsed(rec);
  }

  /** transition(), or null when the recording is no longer in a `from` status. */
  async tryTransition(id: string, from: readonly RecordingStatus[], to: RecordingStatus, data: RecordingUpdate = {}): Promise<RecordingWithRoom | null> {
    try {
      return await this.transition(id, from, to, data);
    } catch (err) {
      if (err instanceof AppError && (err.code === 'INVALID_TRANSITION' || err.code === 'NOT_FOUND')) return null;
      throw err;
    }
  }

  async statusCounts(): Promise<Record<string, number>> {
    const rows = await this.prisma.callRecording.groupBy({ by: ['status'], _count: { _all: true } });
    return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
  }
}

async function lockCall(tx: Tx, callId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "VideoCall" WHERE "id" = ${callId} FOR NO KEY UPDATE`;
  if (rows.length === 0) throw new AppError('NOT_FOUND', 'call not found');
}

const LAST_COMPLETED_FIRST = [{ completedAt: 'desc' }, { id: 'desc' }] satisfies Prisma.CallRecordingOrderByWithRelationInput[];

/** VideoCall mirrors its recordings: latest status, whether one completed, and its URL. */
async function syncCallMirror(tx: Tx, callId: string): Promise<void> {
  await lockCall(tx, callId);
  const latest = await tx.callRecording.findFirst({
    where: { callId, status: { not: 'DELETED' } },
    orderBy: [{ startingAt: 'desc' }, { id: 'desc' }],
    select: { status: true },
  });
  const lastDone = await tx.callRecording.findFirst({
    where: { callId, status: 'COMPLETED' },
    orderBy: LAST_COMPLETED_FIRST,
    select: { storageUrl: true },
  });
  await tx.videoCall.update({
    where: { id: callId },
    data: { recordingStatus: latest?.status ?? null, isRecorded: lastDone !== null, recordingUrl: lastDone?.storageUrl ?? null },
  });
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

/** What a P2002 was about: index name and fields as text (their place differs between pg and PGlite). */
function uniqueTarget(err: unknown): string {
  const e = err as Prisma.PrismaClientKnownRequestError;
  return `${JSON.stringify(e.meta ?? {})} ${e.message}`;
}
