import fs from 'node:fs/promises';
import { toAppError } from '../errors';
import { remuxFile, type FfmpegSink, type OutputSpec } from './ffmpeg-sink';
import type { Logger } from './logger';
import { probe } from './probe';

export interface FinishedFile {
  path: string;
  size: number;
  durationMs: number;
  /** Frames per second in the file (packets counted, nothing decoded), and their number. */
  fps?: number;
  frames?: number;
}

/**
 * The recording's file once its media has stopped: FFmpeg's live output when it survived,
 * otherwise a remux of the spool. With the disk too full for that second copy, the spool
 * itself (a playable WebM of everything captured) is the file: post-processing converts
 * it once the disk has room again.
 */
export async function finishFile(o: {
  ffmpegPath: string;
  ffprobePath: string;
  log: Logger;
  spoolPath: string;
  outputPath: string;
  sink?: FfmpegSink;
  spec: OutputSpec;
}): Promise<FinishedFile> {
  let live = false;
  if (o.sink) {
    try {
      await o.sink.end();
      live = true;
    } catch (err) {
      o.log.warn({ err: (err as Error).message }, 'live FFmpeg failed; remuxing the spool');
    }
  }
  let file = o.outputPath;
  if (!live) {
    try {
      await remuxFile(o.ffmpegPath, o.spoolPath, o.outputPath, o.spec);
    } catch (err) {
      if (toAppError(err).code !== 'DISK_FULL') throw err;
      o.log.warn({ spool: o.spoolPath }, 'disk full: the spool is kept as the recording');
      await fs.rm(o.outputPath, { force: true });
      file = o.spoolPath;
    }
  }
  const info = await probe(o.ffprobePath, file, { countPackets: true });
  return { path: file, size: info.size, durationMs: info.durationMs, fps: info.video?.fps, frames: info.video?.frames };
}
