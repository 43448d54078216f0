import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { AppError } from '../errors';
import { checkLivekit, type LivekitCredentials } from '../livekit/tokens';
import { deliverFile } from '../postprocess/transcode';
import type { Logger } from '../recorder/logger';
import { describeProbe, probe } from '../recorder/probe';
import { Recorder } from '../recorder/recorder';
import type { LiveRecording, RecordingResult } from '../recordings/contract';
import { containerFormat } from '../recordings/formats';
import { checkIdentifier } from '../recordings/identifiers';
import {
  DEFAULT_RECORDING_OPTIONS, OUTPUT_FORMATS, parseStartOptions, recordingOptionsSchema, resolveRecordingOptions, type OutputFormat, type ResolvedOptions, type StartOptions,
} from '../recordings/options';
import { progressPrinter } from './progress';
import { writeRecordedTracks } from './record-tracks';

export interface RecordCommandOptions {
  room: string;
  output: string;
  duration?: number;
  width: number;
  height: number;
  fps: number;
  format?: string;
  layout: string;
  theme?: string;
  layoutUrl?: string;
  /** "audio" or "audio+video": each participant's tracks into `<output>.tracks/` (record-tracks.ts). */
  tracks?: string;
}

export function parseFormat(format: string | undefined, output: string): OutputFormat {
  const chosen = (format ?? path.extname(output).slice(1).toLowerCase()) || DEFAULT_RECORDING_OPTIONS.format;
  const parsed = recordingOptionsSchema.shape.format.safeParse(chosen);
  if (!parsed.success) throw new AppError('UNSUPPORTED_OPTION', `output format "${chosen}" is not supported: use ${OUTPUT_FORMATS.join(', ')}`);
  return parsed.data;
}

/** The flag of each start option, for messages. */
const FLAGS: Partial<Record<keyof StartOptions, string>> = { maxDurationSeconds: '--duration', customLayoutUrl: '--layout-url' };
const flag = (field: keyof StartOptions) => FLAGS[field] ?? `--${field}`;

/** The flags as a start request, under the same rules as the API's (recordings/options.ts). */
export function resolveFlags(o: RecordCommandOptions, format: OutputFormat, maxDurationSeconds: number): ResolvedOptions {
  const input = parseStartOptions(
    { width: o.width, height: o.height, fps: o.fps, format, layout: o.layout, theme: o.theme, maxDurationSeconds: o.duration, customLayoutUrl: o.layoutUrl, tracks: o.tracks },
    flag,
  );
  // the operator's own command: any layout page it names is allowed
  return resolveRecordingOptions(input, { maxDurationSeconds, layoutOrigins: 'any', assetOrigins: 'any', streamHosts: 'any', name: flag });
}

/**
 * `recorder record`: records one room to a file until --duration or Ctrl-C, showing
 * progress, then prints where the file is and what ffprobe says of it (and, with --tracks,
 * where the participants' track files are).
 */
export async function recordCommand(config: Config, livekit: LivekitCredentials, o: RecordCommandOptions, log: Logger): Promise<RecordingResult> {
  const format = parseFormat(o.format, o.output);
  const { options } = resolveFlags(o, format, config.recordings.maxDurationSeconds);
  // cheap checks first: a bad room or key should not wait for a browser launch
  checkIdentifier('roomName', o.room, '--room');
  await checkLivekit(livekit);
  const printer = progressPrinter();
  let live: LiveRecording | undefined;
  let interrupted = 0;
  const onSignal = () => {
    interrupted++;
    if (interrupted > 1) {
      process.stderr.write('\nforced exit: the spool file holds what was recorded\n');
      process.exit(130);
    }
    process.stderr.write('\nstopping, finishing the file (Ctrl-C again to abort)\n');
    void live?.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const output = path.resolve(o.output);
  // a format the recorder does not write live (webm) is recorded beside the output, then encoded
  const recorded = options.format === format ? output : `${output}.recording.${containerFormat(options.format).ext}`;
  const id = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${crypto.randomBytes(3).toString('hex')}`;
  let recorder: Recorder | undefined;
  try {
    recorder = await Recorder.create({ ...config.recorder, warmBrowsers: 1 }, livekit, log);
    if (interrupted) throw new AppError('VALIDATION_ERROR', 'interrupted before the recording started');
    live = await recorder.start({
      id,
      roomName: o.room,
      outputPath: recorded,
      options,
      // without --duration it records until Ctrl-C
      maxDurationSeconds: o.duration,
    });
    if (interrupted) void live.stop();
    const ticker = setInterval(() => printer.update(live!.progress()), 500);
    let result = await live.done.finally(() => {
      clearInterval(ticker);
      printer.done();
    });
    if (recorded !== output) {
      process.stderr.write(`encoding the ${format} file\n`);
      await deliverFile(recorded, format, output, { ffmpegPath: config.recorder.ffmpegPath, ffprobePath: config.recorder.ffprobePath, videoBitrate: options.videoBitrate }).catch((err: unknown) => {
        process.stderr.write(`the recording is kept in ${recorded}\n`);
        throw err;
      });
      await fs.rm(recorded, { force: true });
      result = { ...result, path: output, format, size: (await fs.stat(output)).size };
    }
    const info = await probe(config.recorder.ffprobePath, result.path, { countFrames: true });
    process.stdout.write(`${result.path}\n${describeProbe(info)}\n`);
    if (options.tracks) {
      const { dir, index } = await writeRecordedTracks(config, id, output);
      process.stdout.write(`${dir}${path.sep}tracks.json: ${index.tracks.length} tracks\n`);
    }
    if (result.error) process.stderr.write(`warning: recording ended early [${result.error.code}]: ${result.error.message}\n`);
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await recorder?.close();
  }
}
