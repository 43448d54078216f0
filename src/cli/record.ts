import crypto from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config';
import { AppError } from '../errors';
import { checkLivekit, type LivekitCredentials } from '../livekit/tokens';
import type { Logger } from '../recorder/logger';
import { describeProbe, probe } from '../recorder/probe';
import { Recorder } from '../recorder/recorder';
import { LAYOUTS, OUTPUT_FORMATS, type LayoutName, type LiveRecording, type OutputFormat, type RecordingResult } from '../recordings/contract';
import { checkIdentifier } from '../recordings/identifiers';
import { progressPrinter } from './progress';

export interface RecordCommandOptions {
  room: string;
  output: string;
  duration?: number;
  width: number;
  height: number;
  fps: number;
  format?: string;
  layout: string;
  layoutUrl?: string;
}

export function parseFormat(format: string | undefined, output: string): OutputFormat {
  const chosen = (format ?? path.extname(output).slice(1).toLowerCase()) || 'mp4';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(chosen)) {
    throw new AppError('UNSUPPORTED_OPTION', `output format "${chosen}" is not supported: use ${OUTPUT_FORMATS.join(', ')}`);
  }
  return chosen as OutputFormat;
}

function checkOptions(o: RecordCommandOptions): void {
  const bad = (msg: string) => new AppError('VALIDATION_ERROR', msg);
  if (!Number.isInteger(o.width) || o.width < 16 || o.width > 3840 || o.width % 2) throw bad('--width must be an even integer from 16 to 3840');
  if (!Number.isInteger(o.height) || o.height < 16 || o.height > 2160 || o.height % 2) throw bad('--height must be an even integer from 16 to 2160');
  if (!Number.isFinite(o.fps) || o.fps < 1 || o.fps > 60) throw bad('--fps must be from 1 to 60');
  if (o.duration !== undefined && (!Number.isFinite(o.duration) || o.duration <= 0)) throw bad('--duration must be a positive number of seconds');
  if (!(LAYOUTS as readonly string[]).includes(o.layout)) throw bad(`--layout must be one of ${LAYOUTS.join(', ')}`);
  if (o.layoutUrl !== undefined && !/^https?:\/\/[^/]/.test(o.layoutUrl)) throw bad('--layout-url must be an http(s) URL');
}

/**
 * `recorder record`: records one room to a file until --duration or Ctrl-C, showing
 * progress, then prints where the file is and what ffprobe says of it.
 */
export async function recordCommand(config: Config, livekit: LivekitCredentials, o: RecordCommandOptions, log: Logger): Promise<RecordingResult> {
  checkOptions(o);
  const format = parseFormat(o.format, o.output);
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
  let recorder: Recorder | undefined;
  try {
    recorder = await Recorder.create({ ...config.recorder, warmBrowsers: 1 }, livekit, log);
    if (interrupted) throw new AppError('VALIDATION_ERROR', 'interrupted before the recording started');
    live = await recorder.start({
      id: `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${crypto.randomBytes(3).toString('hex')}`,
      roomName: o.room,
      outputPath: path.resolve(o.output),
      options: { width: o.width, height: o.height, fps: o.fps, format, layout: o.layout as LayoutName, ...(o.layoutUrl ? { customLayoutUrl: o.layoutUrl } : {}) },
      maxDurationSeconds: o.duration,
    });
    if (interrupted) void live.stop();
    const ticker = setInterval(() => printer.update(live!.progress()), 500);
    const result = await live.done.finally(() => {
      clearInterval(ticker);
      printer.done();
    });
    const info = await probe(config.recorder.ffprobePath, result.path, { countFrames: true });
    process.stdout.write(`${result.path}\n${describeProbe(info)}\n`);
    if (result.error) process.stderr.write(`warning: recording ended early [${result.error.code}]: ${result.error.message}\n`);
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await recorder?.close();
  }
}
