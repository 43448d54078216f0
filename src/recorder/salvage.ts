import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError, isAppError } from '../errors';
import type { SalvagedFile } from '../recordings/ports';
import { outputSpecOf, remuxFile, type VideoCodec } from './ffmpeg-sink';
import { completeHls } from './hls-salvage';
import type { Logger } from './logger';
import { probe } from './probe';
import { spoolPathOf } from './spool';
import { MEDIA_SPOOL, storesSpool, TIMELINE_SPOOL, type SpoolStore } from './stored-spool';
import { fetchStoredTracks } from './stored-tracks';
import { copyRun, storedRun } from './stored-spool-read';
import { timelinePathOf } from './timeline-log';
import type { HlsReport, RecordingRequest } from '../recordings/contract';

export interface SalvageSettings {
  ffmpegPath: string;
  ffprobePath: string;
  spoolDir: string;
  /** As in RecorderSettings: how late the browser's audio lands; cancelled at the remux. */
  avOffsetMs?: number;
  log?: Logger;
}

/**
 * After the worker that ran `req` died: remuxes what reached its spool into
 * `req.outputPath` in the recorder's format (the same remux a live recording falls back to
 * when FFmpeg dies; MKV for a WebM delivery, which post-processing then encodes).
 * Returns null when there is no spool, or nothing playable in it. The spool is left in
 * place until post-processing has stored the file, as after a normal recording.
 * With `store` (S3 or GCS), the spool stored during the call is brought here first when it
 * holds more than this machine has (the worker that ran it was another machine); a store
 * that fails then throws its STORAGE_UNAVAILABLE, for recovery to try again later.
 */
export async function salvageRecording(settings: SalvageSettings, req: RecordingRequest, store?: SpoolStore): Promise<SalvagedFile | null> {
  const spool = spoolPathOf(settings.spoolDir, req.id);
  if (storesSpool(store) && req.callId) {
    const at = { callId: req.callId, recordingId: req.id };
    await fetchStoredSpool(settings.spoolDir, at, store);
    if (req.options.tracks) await fetchStoredTracks(settings.spoolDir, at, store).catch((err: unknown) => storeError(err, req.id));
  }
  const st = await fs.stat(spool).catch(() => null);
  if (!st?.isFile() || st.size === 0) return null;

  let videoCodec: VideoCodec = 'unknown';
  try {
    const { video, audio } = await probe(settings.ffprobePath, spool);
    if (!video && !audio) return null;
    if (video && (video.codec === 'h264' || video.codec === 'vp8' || video.codec === 'vp9')) videoCodec = video.codec;
  } catch {
    return null; // not even a WebM header made it to disk
  }

  await fs.mkdir(path.dirname(req.outputPath), { recursive: true });
  const partial = salvagePathOf(req.outputPath);
  const spec = outputSpecOf(req.options, videoCodec, -(settings.avOffsetMs ?? 0));
  // a live HLS output is left unended by the lost worker: ended here, with what only the spool has
  const hls = store && (await completeHlsOf(settings, req, spool, spec, store));
  try {
    await remuxFile(settings.ffmpegPath, spool, partial, spec);
    const out = await probe(settings.ffprobePath, partial);
    if (out.size === 0 || (!out.video && !out.audio)) {
      await fs.rm(partial, { force: true });
      return null;
    }
    await fs.rename(partial, req.outputPath);
    return { path: req.outputPath, size: out.size, durationMs: out.durationMs, ...(hls ? { hls } : {}) };
  } catch {
    await fs.rm(partial, { force: true }).catch(() => undefined);
    return null;
  }
}

/**
 * Post-processing of a recording whose worker was lost after it made the file (on that
 * machine's disk): the file made again here from the stored spool, when the spool is stored
 * and the file is not here. True when it was.
 */
export async function fileFromStoredSpool(
  settings: SalvageSettings,
  job: { recordingId: string; callId: string; roomName: string; filePath: string; options: RecordingRequest['options'] },
  store: SpoolStore,
): Promise<boolean> {
  if (!storesSpool(store) || (await fs.stat(job.filePath).then(() => true, () => false))) return false;
  const req = { id: job.recordingId, callId: job.callId, roomName: job.roomName, outputPath: job.filePath, options: job.options };
  return (await salvageRecording(settings, req, store)) !== null;
}

/** completeHls, whose failure is the HLS output's, not the file's: only a store that does not answer (STORAGE_UNAVAILABLE) is thrown, to be tried again. */
async function completeHlsOf(settings: SalvageSettings, req: RecordingRequest, spool: string, spec: Parameters<typeof completeHls>[3], store: SpoolStore): Promise<HlsReport | undefined> {
  try {
    return await completeHls(settings, req, spool, spec, store, 'worker_lost');
  } catch (err) {
    if (isAppError(err) && err.code === 'STORAGE_UNAVAILABLE') throw err;
    settings.log?.warn({ recordingId: req.id, err: (err as Error).message }, 'HLS output of a lost worker not completed');
    return undefined;
  }
}

/** Where a salvage remuxes to before the result is renamed to `outputPath`. */
export function salvagePathOf(outputPath: string): string {
  return `${outputPath}.salvage${path.extname(outputPath)}`;
}

/** Copies the stored spool (and timeline log, when this machine has none) into `spoolDir` when it is longer than the local one. */
async function fetchStoredSpool(spoolDir: string, at: { callId: string; recordingId: string }, store: SpoolStore): Promise<void> {
  const spool = spoolPathOf(spoolDir, at.recordingId);
  const local = (await fs.stat(spool).catch(() => null))?.size ?? 0;
  const media = await storedRun(store, { ...at, name: MEDIA_SPOOL });
  if (media.bytes <= local) return;
  await fs.mkdir(spoolDir, { recursive: true });
  await copyRun(store, media, spool).catch((err: unknown) => storeError(err, at.recordingId));
  const timeline = timelinePathOf(spoolDir, at.recordingId);
  if (await fs.stat(timeline).then(() => true, () => false)) return;
  const lines = await storedRun(store, { ...at, name: TIMELINE_SPOOL });
  if (lines.keys.length) await copyRun(store, lines, timeline);
}

/** A store that failed while a lost machine's spool was read: recovery tries again later. */
function storeError(err: unknown, recordingId: string): never {
  throw isAppError(err) ? err : new AppError('STORAGE_UNAVAILABLE', `stored spool of ${recordingId} not read: ${(err as Error).message}`, { cause: err });
}
