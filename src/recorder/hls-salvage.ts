import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError, isAppError, toAppError } from '../errors';
import type { HlsInterruption, HlsReport, RecordingRequest } from '../recordings/contract';
import { hlsOutputOf } from '../recordings/outputs';
import { hlsPrefix, HLS_PLAYLIST_NAME } from '../storage/keys';
import type { Storage } from '../storage/types';
import { segmentFile, type OutputSpec } from './ffmpeg-sink';
import { hlsDirOf, type HlsOutputTarget, type HlsSession } from './hls-output';
import { parsePlaylist, renderPlaylist, type LocalPlaylist } from './hls-playlist';
import { HLS_LOCAL_PLAYLIST, HlsUploader } from './hls-uploader';
import { silentLogger, type Logger } from './logger';

/** A stored segment this much longer or shorter than the one cut again from the spool means the two cuts differ. */
const SAME_CUT_SEC = 0.1;

/**
 * A live HLS output that stopped before its recording ended: its worker died (salvage.ts),
 * or its FFmpeg died while the worker went on (finishHls below). The playlist in the storage
 * then lists the segments uploaded until then, without EXT-X-ENDLIST, and the media recorded
 * after the last of them is only in the spool. The spool is cut again into segments exactly
 * as the live FFmpeg cut it (same input bytes, same options: the same cuts and names), the
 * segments the storage lacks are uploaded, those it has are left as they are (a viewer may
 * have fetched them), and the playlist is stored listing all of them, ended; the report says
 * why it was completed. Nothing to do when the recording has no HLS output or its playlist
 * was ended. STORAGE_UNAVAILABLE when the stored playlist cannot be read (recovery tries
 * again later); segment uploads that fail are left out as in a live recording (the report's
 * `missing`).
 */
export async function completeHls(
  deps: { ffmpegPath: string; spoolDir: string; log?: Logger },
  req: RecordingRequest,
  spoolPath: string,
  spec: OutputSpec,
  target: HlsOutputTarget,
  reason: HlsInterruption,
): Promise<HlsReport | undefined> {
  const output = hlsOutputOf(req.options.outputs);
  if (!output || !req.callId) return undefined;
  const log = (deps.log ?? silentLogger).child({ output: 'hls', completedFromSpool: reason });
  const keyPrefix = hlsPrefix(target.prefix, req.callId, req.id);
  const stored = await storedPlaylist(target.storage, `${keyPrefix}${HLS_PLAYLIST_NAME}`);
  if (stored?.ended) return undefined;

  const dir = hlsDirOf(deps.spoolDir, req.id);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  try {
    await segmentFile(deps.ffmpegPath, spoolPath, spec, { dir, segmentSeconds: output.segmentSeconds });
    const cut = parsePlaylist(await fs.readFile(path.join(dir, HLS_LOCAL_PLAYLIST), 'utf8'));
    const merged = mergeCuts(stored, cut, log);
    // the uploader reads FFmpeg's playlist from the directory: the merged one takes its place
    await fs.writeFile(path.join(dir, HLS_LOCAL_PLAYLIST), renderPlaylist(merged));
    const uploader = new HlsUploader({
      storage: target.storage,
      keyPrefix,
      dir,
      live: false,
      log,
      stored: { map: Boolean(stored?.mapUri), segments: stored?.segments.map((s) => s.uri) ?? [] },
    });
    const live = stored?.segments ?? [];
    const report: HlsReport = {
      ...(await uploader.finish(undefined)),
      completedFromSpool: { reason, liveSegments: live.length, liveDurationMs: Math.round(live.reduce((sum, s) => sum + s.durationSec, 0) * 1000) },
    };
    log.warn({ recordingId: req.id, stored: live.length, segments: report.segments, missing: report.missing.length, durationMs: report.durationMs }, 'HLS playlist completed from the spool');
    return report;
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The HLS output of a live recording once its FFmpeg has exited. When FFmpeg died during the
 * call (the file is then a remux of the spool: final-file.ts), the segments stop where it died
 * and no playlist it wrote is ended: the live uploads stop there and the playlist is completed
 * from the spool (completeHls). Should that fail, it ends with what was stored live.
 */
export async function finishHls(
  deps: { ffmpegPath: string; spoolDir: string; log: Logger },
  req: RecordingRequest,
  hls: HlsSession,
  end: { recordingAt?: Date; liveFailed: boolean; spoolPath: string; spec: OutputSpec },
): Promise<HlsReport> {
  if (!end.liveFailed) return hls.uploader.finish(end.recordingAt);
  await hls.uploader.halt();
  try {
    const report = await completeHls(deps, req, end.spoolPath, end.spec, hls.target, 'live_output_failed');
    if (report) return report;
  } catch (err) {
    deps.log.warn({ output: 'hls', err: (err as Error).message }, 'HLS output not completed from the spool: its playlist ends where the live output stopped');
  }
  return hls.uploader.finish(end.recordingAt);
}

/** The playlist a viewer reads now; null when none was stored. */
async function storedPlaylist(storage: Storage, key: string): Promise<LocalPlaylist | null> {
  try {
    const chunks: Buffer[] = [];
    for await (const c of await storage.createReadStream(key)) chunks.push(c as Buffer);
    return parsePlaylist(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    const error = toAppError(err);
    if (error.code === 'NOT_FOUND') return null;
    throw isAppError(err) && err.code === 'STORAGE_UNAVAILABLE' ? err : new AppError('STORAGE_UNAVAILABLE', `HLS playlist ${key} not read: ${error.message}`, { cause: err });
  }
}

/**
 * The stored segments, as stored, then every segment of the new cut the storage lacks (a
 * gap the live uploader gave up on, and all after the last stored one), in name order (the
 * names are numbered in time order). A stored segment beyond the new cut (the spool here is
 * shorter than what the dead worker had) stays listed.
 */
export function mergeCuts(stored: LocalPlaylist | null, cut: LocalPlaylist, log: Logger): LocalPlaylist {
  const have = new Map((stored?.segments ?? []).map((s) => [s.uri, s]));
  const differ = cut.segments.filter((s) => have.has(s.uri) && Math.abs(have.get(s.uri)!.durationSec - s.durationSec) > SAME_CUT_SEC);
  // the last stored one may be cut shorter here when the spool ends inside it
  if (differ.some((s) => s.uri !== stored?.segments.at(-1)?.uri)) log.warn({ differ: differ.map((s) => s.uri) }, 'HLS cut again from the spool differs from the stored segments');
  const segments = [...have.values(), ...cut.segments.filter((s) => !have.has(s.uri))].sort((a, b) => a.uri.localeCompare(b.uri));
  const mapUri = stored?.mapUri ?? cut.mapUri;
  return { targetDurationSec: Math.max(stored?.targetDurationSec ?? 0, cut.targetDurationSec), ...(mapUri ? { mapUri } : {}), segments, ended: true };
}
