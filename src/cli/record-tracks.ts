import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { trackEntry, type TrackManifestEntry } from '../postprocess/manifest';
import { prepareTracks } from '../postprocess/tracks';
import { trackDirOf } from '../recorder/track-spools';

/**
 * tracks.json, beside `recorder record --tracks`'s track files: each track as manifest.json lists
 * it (postprocess/manifest.ts), its `key` the file's name in the same directory, `offsetMs` on
 * the composite's file clock.
 */
export interface CliTracksIndex {
  version: 1;
  /** The composite's file name, in the directory above. */
  recording: string;
  tracks: TrackManifestEntry[];
}

/** Where the track files of `output` go. */
export const tracksDirOf = (output: string): string => `${output}.tracks`;

/**
 * Makes recording `id`'s track files from its spools into `<output>.tracks/`, the same remux
 * as post-processing's (postprocess/tracks.ts), writes tracks.json, then removes the spools;
 * on a failure they are kept (the error says where).
 */
export async function writeRecordedTracks(config: Config, id: string, output: string): Promise<{ dir: string; index: CliTracksIndex }> {
  const spools = trackDirOf(config.recorder.spoolDir, id);
  const dir = tracksDirOf(output);
  await fs.mkdir(dir, { recursive: true });
  const tools = { ffmpegPath: config.recorder.ffmpegPath, ffprobePath: config.recorder.ffprobePath };
  const prepared = await prepareTracks({ dir: spools, audioShiftMs: -config.recorder.avOffsetMs }, dir, tools, output).catch((err: unknown) => {
    process.stderr.write(`the tracks' spools are kept in ${spools}\n`);
    throw err;
  });
  const index: CliTracksIndex = { version: 1, recording: path.basename(output), tracks: prepared.map(({ path: file, ...t }) => trackEntry({ ...t, key: path.basename(file) })) };
  await fs.writeFile(path.join(dir, 'tracks.json'), `${JSON.stringify(index, null, 2)}\n`);
  await fs.rm(spools, { recursive: true, force: true });
  return { dir, index };
}
