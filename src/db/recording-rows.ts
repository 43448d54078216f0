import { AppError } from '../errors';
import type { RecordingGuard, RecordingUpdate, RecordingWithRoom, StoredRecording } from '../recordings/repository';
import { parseQuality } from '../recordings/quality';
import { markersJson, pausesJson, storedFormat, storedMarkers, storedOptions, storedPauses, storedSidecars, storedStreams, storedThumbnails } from '../recordings/stored-data';
import type { StreamSecrets } from '../recordings/secrets';
import { storedTracks } from '../recordings/tracks-option';
import { Prisma, type CallRecording } from './prisma';

/**
 * The boundary between the domain's recording types and Prisma's: rows read are parsed with
 * the domain's rules (stored-data.ts, quality.ts), never cast; updates and guards become
 * Prisma inputs. Also the two statements every write of a call's recordings shares: the
 * call's row lock and its mirror of its recordings.
 */

export type Tx = Prisma.TransactionClient;

export const withRoom = { call: { select: { roomName: true } } } as const;
export const withParticipants = { participants: { select: { userId: true }, orderBy: { addedAt: 'asc' } } } as const;
export const LAST_COMPLETED_FIRST = [{ completedAt: 'desc' }, { id: 'desc' }] satisfies Prisma.CallRecordingOrderByWithRelationInput[];

/**
 * A row as the domain reads it: the JSON columns and the format parsed (INTERNAL, naming the
 * recording, when they do not parse), stream URLs opened (SECRET_UNREADABLE under another key).
 */
export function parsedRow(row: CallRecording, secrets: StreamSecrets): StoredRecording {
  return {
    ...row,
    options: secrets.openOptions(storedOptions(row.options, row.id)),
    outputFormat: storedFormat(row.outputFormat, row.id),
    thumbnails: storedThumbnails(row.thumbnails, row.id),
    sidecars: storedSidecars(row.sidecars, row.id),
    tracks: storedTracks(row.tracks, row.id),
    streams: storedStreams(row.streams, row.id),
    quality: parseQuality(row.quality),
    pauses: storedPauses(row.pauses, row.id),
    markers: storedMarkers(row.markers, row.id),
  };
}

export function parsedWithRoom(row: CallRecording & { call: { roomName: string } }, secrets: StreamSecrets): RecordingWithRoom {
  return { ...parsedRow(row, secrets), call: { roomName: row.call.roomName } };
}

/** A domain update as Prisma writes it: a JSON column set to null is SQL NULL; pauses and markers as stored-data.ts stores them; stream URLs sealed. */
export function rowUpdate({ quality, pauses, markers, options, ...rest }: RecordingUpdate, secrets: StreamSecrets): Prisma.CallRecordingUpdateManyMutationInput {
  return {
    ...rest,
    ...(options !== undefined ? { options: secrets.sealOptions(options) } : {}),
    ...(quality !== undefined ? { quality: quality ?? Prisma.DbNull } : {}),
    ...(pauses !== undefined ? { pauses: pausesJson(pauses) } : {}),
    ...(markers !== undefined ? { markers: markersJson(markers) } : {}),
  };
}

/** A guard as a WHERE: each given column equal; a list of statuses is `status IN (...)`. */
export function guardWhere(id: string, { status, ...columns }: RecordingGuard): Prisma.CallRecordingWhereInput {
  return { ...columns, ...(status === undefined ? {} : { status: typeof status === 'string' ? status : { in: [...status] } }), id };
}

/** The call's row lock; every write of a call's recordings takes it first (lock order: the call, then its recording). */
export async function lockCall(tx: Tx, callId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "VideoCall" WHERE "id" = ${callId} FOR NO KEY UPDATE`;
  if (rows.length === 0) throw new AppError('NOT_FOUND', 'call not found');
}

/** VideoCall mirrors its recordings: latest status, whether one completed, and its URL. */
export async function syncCallMirror(tx: Tx, callId: string): Promise<void> {
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

/**
 * For a unique violation (P2002), what it was about: index name and fields as text (their
 * place differs between pg and PGlite); undefined for any other error.
 */
export function uniqueViolation(err: unknown): string | undefined {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') return undefined;
  return `${JSON.stringify(err.meta ?? {})} ${err.message}`;
}
