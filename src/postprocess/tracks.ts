import fsp from 'node:fs/promises';
import path from 'node:path';
import { AppError, isAppError } from '../errors';
import { probe } from '../recorder/probe';
import { readTrackIndex, trackSpoolPathOf, type TrackLine } from '../recorder/track-spools';
import { contentTypeOf } from '../recordings/formats';
import { assertSafeKey, recordingPrefix } from '../storage/keys';
import { runOwned, stderrTail } from './child';
import { alignTrack, loudness } from './track-alignment';
import { cutAtSeam } from './track-cuts';

/**
 * The per-participant track files (start option `tracks`): each track segment the recorder
 * spooled (recorder/track-spools.ts) remuxed without re-encoding into a file of its own, Opus
 * audio in .ogg (Ogg is Opus's own container: a copy; .m4a would have meant an AAC encode), a
 * camera as H.264 in .mp4 or VP8 in .webm, stored under the recording's `tracks/` prefix and
 * listed in manifest.json with its offset: where the file's first sample lands on the
 * composite's file clock. A segment ends at a pause and the next begins at the seam
 * (recorder-page/src/track-recorders.ts), so one offset holds for a whole file.
 */

export interface TrackSource {
  /** The recording's tracks directory (track-spools.ts trackDirOf). */
  dir: string;
  /** How far the recorder moved the composite's audio (ms, negative: earlier; -RECORDER_AV_OFFSET_MS): an audio track, from the same mix graph, moves with it. */
  audioShiftMs: number;
  /** The composite's seams (ms on its file clock, one per resume): no segment holds media past one (track-cuts.ts). */
  cutsMs?: readonly number[];
}

export interface PreparedTrack {
  track: TrackLine;
  /** Its name under the recording's tracks/ prefix. */
  name: string;
  path: string;
  size: number;
  contentType: string;
  codec: string;
  durationMs: number;
  offsetMs: number;
  /**
   * How offsetMs was found: an audio track's sound lined up with the composite's
   * (track-alignment.ts); the page's clock corrected by what that showed of it for the other
   * audio tracks begun after the same resume ('resume-audio'); or the page's clock alone.
   */
  offsetFrom: 'audio' | 'resume-audio' | 'page-clock';
}

export interface StoredTrack extends Omit<PreparedTrack, 'path'> {
  key: string;
}

interface Tools {
  ffmpegPath?: string;
  ffprobePath?: string;
  signal?: AbortSignal;
}

/**
 * Makes every track's file into `dir` (the job's scratch space); a track whose spool is empty
 * or unreadable is left out. An audio track's offset is measured against `composite`'s sound.
 */
export async function prepareTracks(source: TrackSource, dir: string, tools: Tools, composite: string): Promise<PreparedTrack[]> {
  const ffprobe = tools.ffprobePath ?? 'ffprobe';
  const ffmpeg = tools.ffmpegPath ?? 'ffmpeg';
  const prepared: (PreparedTrack & { estimateMs: number })[] = [];
  let compositeLoudness: Promise<Float32Array | undefined> | undefined;
  // a sound that cannot be decoded leaves the page's estimate; an aborted job stays aborted
  const orEstimate = (err: unknown): undefined => {
    if (isAppError(err) && err.code === 'JOB_ABORTED') throw err;
    return undefined;
  };
  const alignAudio = async (file: string, estimateMs: number): Promise<number | undefined> => {
    compositeLoudness ??= loudness(ffmpeg, composite, tools.signal).catch(orEstimate);
    const whole = await compositeLoudness;
    if (!whole) return undefined;
    const own = await loudness(ffmpeg, file, tools.signal).catch(orEstimate);
    return own && alignTrack(whole, own, estimateMs);
  };
  for (const track of await readTrackIndex(source.dir)) {
    const spool = trackSpoolPathOf(source.dir, track.track);
    const size = await fsp.stat(spool).then((s) => s.size, () => 0);
    if (size === 0) continue; // left before its first chunk
    const info = await probe(ffprobe, spool, { signal: tools.signal }).catch(() => undefined);
    const codec = (track.media === 'audio' ? info?.audio : info?.video)?.codec;
    if (!info || !codec) continue;
    const ext = track.media === 'audio' ? 'ogg' : codec === 'h264' ? 'mp4' : 'webm';
    const name = `${track.track}-${track.media}-${safeName(track.identity)}.${ext}`;
    await fsp.mkdir(dir, { recursive: true });
    const out = path.join(dir, name);
    const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-i', spool, '-map', track.media === 'audio' ? '0:a:0' : '0:v:0', '-c', 'copy', ...(ext === 'mp4' ? ['-movflags', '+faststart'] : []), out];
    const r = await runOwned(ffmpeg, args, { signal: tools.signal, background: true });
    if (r.code !== 0) throw new AppError('FFMPEG_FAILED', `remuxing track ${track.track} failed: ${stderrTail(r.stderr)}`);
    const made = await probe(ffprobe, out, { signal: tools.signal });
    const estimateMs = trackOffsetMs(track, info.startMs ?? 0, source.audioShiftMs);
    const measuredMs = track.media === 'audio' ? await alignAudio(out, estimateMs) : undefined;
    prepared.push({
      track,
      name,
      path: out,
      size: made.size,
      contentType: contentTypeOf(name),
      codec,
      durationMs: made.durationMs,
      offsetMs: Math.round(measuredMs ?? estimateMs),
      offsetFrom: measuredMs === undefined ? 'page-clock' : 'audio',
      estimateMs,
    });
  }
  const placed = correctAfterResumes(prepared).map(({ estimateMs: _, ...t }) => t);
  const cutsMs = source.cutsMs ?? [];
  if (!cutsMs.length) return placed;
  const cutTools = { ffmpeg, ffprobe, signal: tools.signal };
  const cut: PreparedTrack[] = [];
  for (const t of placed) cut.push(await cutAtSeam(t, cutsMs, cutTools));
  return cut;
}

/**
 * The page places a segment begun after a resume by its count of the time paused, which on a
 * loaded page differs from where the composite's encoder cut the pause by the same amount for
 * every such segment (seen: 100 to 520 ms). Segments begun between the same two pauses are those
 * with the same instant less file time (`at - fileMs`: the page's time 0 plus its paused
 * total); where the sound placed some of them, the other audio tracks (silent or steady ones)
 * are moved by the median of what it corrected, and so is one the sound placed far from that
 * median when at least three were placed (a wrong match: one was seen 276 ms off while the two
 * others of its stretch agreed within 4 ms). A camera is not: its recorder starts at its
 * first frame and its end was seen short of the composite's, so what the sound showed of the
 * audio does not hold for it. Before the first pause each recorder's own start is all the
 * error, shared by none.
 */
/** The sound moved tracks begun after the same resume by corrections a few ms apart; one this far from their median is a wrong match. */
const ASTRAY_MS = 100;

export function correctAfterResumes(tracks: (PreparedTrack & { estimateMs: number })[]): (PreparedTrack & { estimateMs: number })[] {
  const stretchOf = (t: PreparedTrack) => Math.round(t.track.at - t.track.fileMs);
  const first = Math.min(...tracks.map(stretchOf));
  const corrections = new Map<number, number[]>();
  for (const t of tracks) {
    const stretch = stretchOf(t);
    if (t.offsetFrom !== 'audio' || Math.abs(stretch - first) <= 1) continue;
    corrections.set(stretch, [...(corrections.get(stretch) ?? []), t.offsetMs - t.estimateMs]);
  }
  return tracks.map((t) => {
    const found = t.track.media === 'audio' ? [...corrections].find(([stretch]) => Math.abs(stretch - stretchOf(t)) <= 1)?.[1] : undefined;
    if (!found) return t;
    const median = [...found].sort((a, b) => a - b)[found.length >> 1];
    const astray = t.offsetFrom === 'audio' && found.length >= 3 && Math.abs(t.offsetMs - t.estimateMs - median) > ASTRAY_MS;
    if (t.offsetFrom !== 'page-clock' && !astray) return t;
    return { ...t, offsetMs: Math.round(t.estimateMs + median), offsetFrom: 'resume-audio' };
  });
}

/**
 * Where a track file's first sample lands on the composite's file clock: its MediaRecorder's
 * start there (as the page measured it), plus the spool's first packet after that start (the
 * remux starts the file at that packet), an audio track moved as the composite's audio was. It
 * may be below 0 (by at most the audio's move): that much of the track is before time 0.
 */
export function trackOffsetMs(track: Pick<TrackLine, 'fileMs' | 'media'>, firstPacketMs: number, audioShiftMs: number): number {
  return Math.round(track.fileMs + firstPacketMs + (track.media === 'audio' ? audioShiftMs : 0));
}

/** Uploads the prepared tracks with the job's `put` under the recording's tracks/ prefix. */
export async function storeTracks(
  prepared: readonly PreparedTrack[],
  put: (key: string, file: string, contentType: string) => Promise<{ key: string; size: number }>,
  at: { prefix: string; callId: string; recordingId: string },
): Promise<StoredTrack[]> {
  const stored: StoredTrack[] = [];
  for (const { path: file, ...t } of prepared) {
    const up = await put(trackKey(at.prefix, at.callId, at.recordingId, t.name), file, t.contentType);
    stored.push({ ...t, key: up.key, size: up.size });
  }
  return stored;
}

export function trackKey(prefix: string, callId: string, recordingId: string, name: string): string {
  return assertSafeKey(`${recordingPrefix(prefix, callId, recordingId)}tracks/${name}`);
}

/** An identity as part of a file name: letters, digits, - and _ (others become _), at most 64. */
function safeName(identity: string): string {
  return identity.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'participant';
}
