import { AppError } from '../errors';
import type {
  CallWithParticipants,
  NewCall,
  NewRecording,
  RecordingGuard,
  RecordingRepository,
  RecordingUpdate,
  RecordingWithRoom,
  StoredRecording,
} from '../recordings/repository';
import type { StreamSecrets } from '../recordings/secrets';
import { ACTIVE_STATUSES, assertTransition, stampedColumn, type RecordingStatus } from '../recordings/status';
import { claimLeases } from './leases';
import type { PrismaClient } from './prisma';
import { guardWhere, LAST_COMPLETED_FIRST, lockCall, parsedRow, parsedWithRoom, rowUpdate, syncCallMirror, uniqueViolation, withParticipants, withRoom } from './recording-rows';

type RowGuard = Omit<RecordingGuard, 'status'>;

/** The status's timestamp column, stamped now (status.ts stampedColumn: a resume stamps none). */
function stampOf(from: readonly RecordingStatus[], to: RecordingStatus): Record<string, Date> {
  const column = stampedColumn(from, to);
  return column ? { [column]: new Date() } : {};
}

/** What a write touched; awaited after the write so a shared read cache can drop it. */
export type RepositoryChangeListener = (change: { callId?: string; recordingId?: string }) => Promise<void>;

/**
 * The recordings domain's repository on Prisma. Status changes go through transition(), a
 * conditional update `WHERE id = ? AND status IN (from)` in a transaction that holds the
 * call's row lock and rewrites the call's mirror of its recordings.
 */
export class PrismaRecordingRepository implements RecordingRepository {
  /** Called (and awaited) after every write of a call, its participants or a recording. */
  onChange?: RepositoryChangeListener;

  /** `secrets` seals stream URLs in the options column (recordings/secrets.ts). */
  constructor(
    private readonly prisma: PrismaClient,
    private readonly secrets: StreamSecrets,
  ) {}

  private readonly parsed = (row: Parameters<typeof parsedRow>[0]) => parsedRow(row, this.secrets);
  private readonly parsedWithRoom = (row: Parameters<typeof parsedWithRoom>[0]) => parsedWithRoom(row, this.secrets);

  private async changed(change: { callId?: string; recordingId?: string }): Promise<void> {
    await this.onChange?.(change);
  }

  // ---- calls ------------------------------------------------------------------

  async createCall(data: NewCall): Promise<CallWithParticipants> {
    try {
      return await this.prisma.videoCall.create({
        data: {
          id: data.id,
          roomName: data.roomName,
          hostId: data.hostId,
          participants: { create: [...new Set(data.participantIds)].filter((u) => u !== data.hostId).map((userId) => ({ userId })) },
        },
        include: withParticipants,
      });
    } catch (err) {
      const target = uniqueViolation(err);
      if (target !== undefined) throw new AppError('CONFLICT', target.includes('roomName') ? 'a call with this room name exists' : 'a call with this id exists');
      throw err;
    }
  }

  getCall(id: string): Promise<CallWithParticipants | null> {
    return this.prisma.videoCall.findUnique({ where: { id }, include: withParticipants });
  }

  getCallByRoom(roomName: string): Promise<CallWithParticipants | null> {
    return this.prisma.videoCall.findUnique({ where: { roomName }, include: withParticipants });
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

  async createRecording(data: NewRecording): Promise<StoredRecording | null> {
    try {
      const created = await this.prisma.$transaction(async (tx) => {
        // Serialize starts of one call; the second then meets the partial unique index at once.
        await lockCall(tx, data.callId);
        const rec = await tx.callRecording.create({ data: { ...data, options: this.secrets.sealOptions(data.options), status: 'STARTING' } });
        await syncCallMirror(tx, data.callId);
        return rec;
      });
      await this.changed({ callId: data.callId, recordingId: created.id });
      return this.parsed(created);
    } catch (err) {
      const target = uniqueViolation(err);
      if (target !== undefined) {
        if (data.idempotencyKey && target.includes('idempotencyKey')) return null;
        throw new AppError('RECORDING_ALREADY_ACTIVE', 'this call is already being recorded');
      }
      throw err;
    }
  }

  async getRecording(id: string): Promise<RecordingWithRoom | null> {
    const row = await this.prisma.callRecording.findUnique({ where: { id }, include: withRoom });
    return row ? this.parsedWithRoom(row) : null;
  }

  async findByIdempotencyKey(callId: string, idempotencyKey: string): Promise<StoredRecording | null> {
    const row = await this.prisma.callRecording.findUnique({ where: { callId_idempotencyKey: { callId, idempotencyKey } } });
    return row ? this.parsed(row) : null;
  }

  async listRecordings(callId: string, opts: { limit: number; includeDeleted?: boolean }): Promise<StoredRecording[]> {
    const rows = await this.prisma.callRecording.findMany({
      where: { callId, ...(opts.includeDeleted ? {} : { status: { not: 'DELETED' } }) },
      orderBy: [{ startingAt: 'desc' }, { id: 'desc' }],
      take: opts.limit,
    });
    return rows.map(this.parsed);
  }

  lastCompleted(callId: string): Promise<{ id: string; storageKey: string | null } | null> {
    return this.prisma.callRecording.findFirst({ where: { callId, status: 'COMPLETED' }, orderBy: LAST_COMPLETED_FIRST, select: { id: true, storageKey: true } });
  }

  async findActiveForCall(callId: string): Promise<StoredRecording | null> {
    const row = await this.prisma.callRecording.findFirst({ where: { callId, status: { in: [...ACTIVE_STATUSES] } } });
    return row ? this.parsed(row) : null;
  }

  async findActiveForRoom(roomName: string): Promise<StoredRecording[]> {
    return (await this.prisma.callRecording.findMany({ where: { status: { in: [...ACTIVE_STATUSES] }, call: { roomName } } })).map(this.parsed);
  }

  async findAllActive(): Promise<RecordingWithRoom[]> {
    return (await this.prisma.callRecording.findMany({ where: { status: { in: [...ACTIVE_STATUSES] } }, include: withRoom })).map(this.parsedWithRoom);
  }

  async claimDuePostprocess(now: Date, leaseUntil: Date, limit: number): Promise<RecordingWithRoom[]> {
    const rows = await this.prisma.callRecording.findMany({
      where: { status: { in: ['PROCESSING', 'UPLOADING'] }, nextAttemptAt: { lte: now } },
      include: withRoom,
      orderBy: { nextAttemptAt: 'asc' },
      take: limit,
    });
    return claimLeases(rows.map(this.parsedWithRoom), leaseUntil, (rec, claim) =>
      this.updateIf(rec.id, { status: rec.status, nextAttemptAt: rec.nextAttemptAt, attempts: rec.attempts }, claim),
    );
  }

  async findExpired(cutoff: Date, limit: number): Promise<RecordingWithRoom[]> {
    const rows = await this.prisma.callRecording.findMany({
      where: { OR: [{ status: 'COMPLETED', completedAt: { lt: cutoff } }, { status: 'FAILED', failedAt: { lt: cutoff } }] },
      include: withRoom,
      orderBy: { startingAt: 'asc' },
      take: limit,
    });
    return rows.map(this.parsedWithRoom);
  }

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

  async updateIf(id: string, guard: RecordingGuard, data: RecordingUpdate): Promise<boolean> {
    if ('status' in data) throw new AppError('INTERNAL', 'status changes go through transition()');
    const res = await this.prisma.callRecording.updateMany({ where: guardWhere(id, guard), data: rowUpdate(data, this.secrets) });
    if (res.count === 1) await this.changed({ recordingId: id });
    return res.count === 1;
  }

  async transition(id: string, from: readonly RecordingStatus[], to: RecordingStatus, data: RecordingUpdate = {}, guard: RowGuard = {}): Promise<RecordingWithRoom> {
    for (const f of from) assertTransition(f, to);
    const owner = await this.prisma.callRecording.findUnique({ where: { id }, select: { callId: true } });
    if (!owner) throw new AppError('NOT_FOUND', 'recording not found');
    const rec = await this.prisma.$transaction(async (tx) => {
      // Lock order everywhere: the call first, then its recording. (Updating the recording first
      // deadlocks with a concurrent start, which holds the call and waits on the unique index.)
      await lockCall(tx, owner.callId);
      const res = await tx.callRecording.updateMany({
        where: guardWhere(id, { ...guard, status: from }),
        // a timestamp the caller knows better (the file's time 0 for RECORDING) wins
        data: { status: to, ...stampOf(from, to), ...rowUpdate(data, this.secrets) },
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
    return this.parsedWithRoom(rec);
  }

  async tryTransition(id: string, from: readonly RecordingStatus[], to: RecordingStatus, data: RecordingUpdate = {}, guard: RowGuard = {}): Promise<RecordingWithRoom | null> {
    try {
      return await this.transition(id, from, to, data, guard);
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
