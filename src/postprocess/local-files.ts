import path from 'node:path';
import { hlsDirOf } from '../recorder/hls-output';
import { salvagePathOf } from '../recorder/salvage';
import { spoolPathOf } from '../recorder/spool';
import { timelinePathOf } from '../recorder/timeline-log';
import { trackDirOf } from '../recorder/track-spools';
import { jobWorkDir } from './processor';

/** The directories of this machine where a recording leaves files before and while it is stored. */
export interface LocalRecordingDirs {
  /** The recorder's spool (RECORDING_SPOOL_DIR): the raw captured call, `<id>.webm`, and its timeline events, `<id>.timeline.jsonl`. */
  spoolDir: string;
  /** Post-processing scratch space: `<workDir>/<id>/` (converted file, thumbnails, temp files). */
  workDir: string;
}

/**
 * Every local path recording `id` may have left: its spool and timeline events, the recorder's output file and
 * a salvage remux beside it, and its post-processing scratch directory. Stored objects are
 * not here: they are the storage's, under the recording's key prefix.
 */
export function localPathsOf(dirs: LocalRecordingDirs, rec: { id: string; filePath: string | null }): string[] {
  const paths = [spoolPathOf(dirs.spoolDir, rec.id), timelinePathOf(dirs.spoolDir, rec.id), hlsDirOf(dirs.spoolDir, rec.id), trackDirOf(dirs.spoolDir, rec.id), jobWorkDir(dirs.workDir, rec.id)];
  if (rec.filePath) paths.push(rec.filePath, salvagePathOf(rec.filePath));
  return paths.map((p) => path.resolve(p));
}
