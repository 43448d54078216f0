import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';
import { readCallView } from './calls';
import { loadCall, loadRecording, storedRef, type RecordingsContext } from './context';
import { contentTypeOf } from './formats';
import { checkIdentifier } from './identifiers';
import type { Actor } from './permissions';
import { viewKeys, type StoredObjectReader } from './ports';
import { withFreshUrls } from './signed-views';
import { recordingView, type RecordingView } from './views';

/** What hosts and participants read of recordings: one, the list, the file itself. */

/** How a client gets a stored recording (GET .../download). */
export type RecordingDownload = { kind: 'url'; url: string; expiresAt: string } | ({ kind: 'stream'; fileName: string } & StoredObjectReader);

export async function getRecording(ctx: RecordingsContext, actor: Actor, callId: string, recordingId: string): Promise<RecordingView> {
  checkIdentifier('recordingId', recordingId, 'recording id');
  if (ctx.deps.views) {
    const call = await readCallView(ctx, actor, callId);
    const view = await ctx.deps.views.read(viewKeys.recording(recordingId), async () => {
      const rec = await ctx.deps.repo.getRecording(recordingId);
      return rec ? recordingView(rec) : null;
    });
    if (!view || view.callId !== call.id) throw new AppError('NOT_FOUND', 'recording not found');
    return withFreshUrls(view, ctx.deps.storage);
  }
  const call = await loadCall(ctx, actor, callId, 'read');
  const rec = await ctx.deps.repo.getRecording(recordingId);
  if (!rec || rec.callId !== call.id) throw new AppError('NOT_FOUND', 'recording not found');
  return withFreshUrls(recordingView(rec), ctx.deps.storage);
}

export async function listRecordings(ctx: RecordingsContext, actor: Actor, callId: string, opts: { limit?: number; includeDeleted?: boolean } = {}): Promise<RecordingView[]> {
  const call = await loadCall(ctx, actor, callId, 'read');
  const rows = await ctx.deps.repo.listRecordings(call.id, { limit: opts.limit ?? 50, includeDeleted: opts.includeDeleted ?? false });
  return Promise.all(rows.map((r) => withFreshUrls(recordingView(r), ctx.deps.storage)));
}

/** A COMPLETED recording for download (host and participants). */
export async function downloadRecording(ctx: RecordingsContext, actor: Actor, callId: string, recordingId: string): Promise<RecordingDownload> {
  const { rec } = await loadRecording(ctx, actor, callId, recordingId, 'read');
  if (rec.status !== 'COMPLETED' || !rec.storageKey) throw new AppError('RECORDING_NOT_READY', `the recording is ${rec.status.toLowerCase()}, not ready for download`);
  const fileName = `recording-${rec.id}${path.extname(rec.storageKey) || `.${rec.outputFormat}`}`;
  if (ctx.deps.storage?.download) {
    const d = await ctx.deps.storage.download(storedRef(rec));
    return 'url' in d ? { kind: 'url', url: d.url, expiresAt: d.expiresAt } : { kind: 'stream', fileName, ...d };
  }
  // No storage port: the file stayed where the recorder wrote it (KeepLocalFile).
  if (rec.storageProvider !== 'local' || !path.isAbsolute(rec.storageKey)) throw new AppError('NOT_FOUND', 'the stored recording is not reachable from this server');
  return { kind: 'stream', fileName, ...(await localFileReader(rec.storageKey)) };
}

/** A reader of a file on this machine; NOT_FOUND when it is gone. */
export async function localFileReader(filePath: string): Promise<StoredObjectReader> {
  const st = await fs.stat(filePath).catch(() => null);
  if (!st?.isFile()) throw new AppError('NOT_FOUND', 'the stored recording is gone');
  return {
    size: st.size,
    contentType: contentTypeOf(filePath),
    open: async (range) => createReadStream(filePath, range ? { start: range.start, end: range.end } : {}),
  };
}
