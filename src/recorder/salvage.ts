import fs from 'node:fs/promises';
import path from 'node:path';
import type { SalvagedFile } from '../recordings/ports';
import { outputSpecOf, remuxFile, type VideoCodec } from './ffmpeg-sink';
import { probe } from './probe';
import { spoolPathOf } from './spool';
import type { RecordingRequest } from '../recordings/contract';

export interface SalvageSettings {
  ffmpegPath: string;
  ffprobePath: string;
  spoolDir: string;
  /** As in RecorderSettings: how late the browser's audio lands; cancelled at the remux. */
  avOffsetMs?: number;
}

/**
 * After the worker that ran `req` died: remuxes what reached its spool into
 * `req.outputPath` in the recorder's format (the same remux a live recording falls back to
 * when FFmpeg dies; MKV for a WebM delivery, which post-processing then encodes).
 * Returns null when there is no spool, or nothing playable in it. The spool is left in
 * place until post-processing has stored the file, as after a normal recording.
 */
export async function salvageRecording(settings: SalvageSettings, req: RecordingRequest): Promise<SalvagedFile | null> {
  const spool = spoolPathOf(settings.spoolDir, req.id);
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
  try {
    await remuxFile(settings.ffmpegPath, spool, partial, outputSpecOf(req.options, videoCodec, -(settings.avOffsetMs ?? 0)));
    const out = await probe(settings.ffprobePath, partial);
    if (out.size === 0 || (!out.video && !out.audio)) {
      await fs.rm(partial, { force: true });
      return null;
    }
    await fs.rename(partial, req.outputPath);
    return { path: req.outputPath, size: out.size, durationMs: out.durationMs };
  } catch {
    await fs.rm(partial, { force: true }).catch(() => undefined);
    return null;
  }
}

/** Where a salvage remuxes to before the result is renamed to `outputPath`. */
export function salvagePathOf(outputPath: string): string {
  return `${outputPath}.salvage${path.extname(outputPath)}`;
}
